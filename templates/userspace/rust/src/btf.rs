//! The object's BTF, read through libbpf: the type EBPF_HUB_EVENT() names, the types of the
//! maps' keys and values, where each parameter lies in `.rodata`. A type becomes a `Layout`
//! once, following ebpf_hub.h's output convention: char arrays are strings,
//! `ipv4_addr_t`/`ipv6_addr_t` are addresses, typedefs and qualifiers are looked through.
use crate::libbpf::{btf__find_by_name_kind, btf__name_by_offset, btf__type_by_id, text};
use crate::libbpf::{Error, Object, RawBtf};
use std::ffi::CString;
use std::marker::PhantomData;

// BTF kinds (linux/btf.h).
const INT: u32 = 1;
const PTR: u32 = 2;
const ARRAY: u32 = 3;
const STRUCT: u32 = 4;
const UNION: u32 = 5;
const ENUM: u32 = 6;
const TYPEDEF: u32 = 8;
const VOLATILE: u32 = 9;
const CONST: u32 = 10;
const RESTRICT: u32 = 11;
const DATASEC: u32 = 15;
const FLOAT: u32 = 16;
const TYPE_TAG: u32 = 18;
const ENUM64: u32 = 19;
const MAX_DEPTH: u32 = 64;

/// How the bytes of one value are read.
#[derive(Debug)]
pub enum Layout {
    Int {
        size: usize,
        signed: bool,
    },
    Bool {
        size: usize,
    },
    Char,
    String {
        len: usize,
    },
    Enum {
        size: usize,
        signed: bool,
        names: Vec<(i128, String)>,
    },
    Struct {
        fields: Vec<Field>,
    },
    Union {
        fields: Vec<Field>,
    },
    Array {
        len: usize,
        stride: usize,
        element: Box<Layout>,
    },
    Ipv4,
    Ipv6,
    Float {
        size: usize,
    },
}

/// A member at byte `offset`; a bitfield also has `bits` and its `bit_offset` from there.
#[derive(Debug)]
pub struct Field {
    pub name: String,
    pub offset: usize,
    pub bit_offset: u32,
    pub bits: u32,
    pub layout: Layout,
}

/// One type's header in the BTF blob (struct btf_type); what follows it depends on its kind.
#[repr(C)]
struct Header {
    name_off: u32,
    info: u32,
    size_or_type: u32,
}

struct Type {
    at: *const Header,
    kind: u32,
    vlen: usize,
    kind_flag: bool,
    name: String,
    size_or_type: u32,
}

impl Type {
    /// The `i`-th u32 after the header (members, enumerators, array info...).
    fn word(&self, i: usize) -> u32 {
        unsafe { (self.at.add(1) as *const u32).add(i).read_unaligned() }
    }
}

/// The BTF of an open object, which owns it.
pub struct Btf<'a> {
    raw: *const RawBtf,
    _object: PhantomData<&'a Object>,
}

impl<'a> Btf<'a> {
    pub fn of(object: &'a Object) -> Result<Btf<'a>, Error> {
        Ok(Btf {
            raw: object.btf()?,
            _object: PhantomData,
        })
    }

    fn get(&self, id: u32) -> Result<Type, Error> {
        let at = unsafe { btf__type_by_id(self.raw, id) } as *const Header;
        if at.is_null() {
            return Err(Error(format!("BTF type {id} does not exist")));
        }
        let header = unsafe { at.read_unaligned() };
        Ok(Type {
            at,
            kind: header.info >> 24 & 0x1f,
            vlen: (header.info & 0xffff) as usize,
            kind_flag: header.info >> 31 == 1,
            name: text(unsafe { btf__name_by_offset(self.raw, header.name_off) }),
            size_or_type: header.size_or_type,
        })
    }

    fn find(&self, name: &str, kind: u32) -> Option<u32> {
        let name = CString::new(name).ok()?;
        let id = unsafe { btf__find_by_name_kind(self.raw, name.as_ptr(), kind) };
        (id > 0).then_some(id as u32)
    }

    /// (variable name, type id, offset, size) of each variable of a data section.
    fn section_vars(&self, section: &str) -> Result<Vec<(String, u32, usize, usize)>, Error> {
        let id = match self.find(section, DATASEC) {
            Some(id) => id,
            None => return Ok(Vec::new()),
        };
        let datasec = self.get(id)?;
        (0..datasec.vlen)
            .map(|i| {
                let var = self.get(datasec.word(3 * i))?;
                let (offset, size) = (datasec.word(3 * i + 1), datasec.word(3 * i + 2));
                Ok((var.name, var.size_or_type, offset as usize, size as usize))
            })
            .collect()
    }

    /// The type named with EBPF_HUB_EVENT(type): the pointer variable `__ebpf_hub_event`.
    pub fn event_type(&self) -> Result<Option<u32>, Error> {
        for (name, type_id, _, _) in self.section_vars(".ebpf_hub")? {
            if name == "__ebpf_hub_event" {
                let pointer = self.get(self.skip_qualifiers(type_id)?)?;
                if pointer.kind != PTR {
                    return Err(Error(
                        "__ebpf_hub_event is not a pointer: use EBPF_HUB_EVENT(type)".into(),
                    ));
                }
                return Ok(Some(pointer.size_or_type));
            }
        }
        Ok(None)
    }

    /// Where parameter `name` lies in `.rodata`: (offset, size, type id).
    pub fn parameter(&self, name: &str) -> Result<Option<(usize, usize, u32)>, Error> {
        let found = self
            .section_vars(".rodata")?
            .into_iter()
            .find(|v| v.0 == name);
        Ok(found.map(|(_, type_id, offset, size)| (offset, size, type_id)))
    }

    /// The names of every parameter (`const volatile` global), for error messages.
    pub fn parameter_names(&self) -> Result<Vec<String>, Error> {
        Ok(self
            .section_vars(".rodata")?
            .into_iter()
            .map(|v| v.0)
            .collect())
    }

    fn skip_qualifiers(&self, mut id: u32) -> Result<u32, Error> {
        loop {
            let found = self.get(id)?;
            match found.kind {
                VOLATILE | CONST | RESTRICT | TYPE_TAG => id = found.size_or_type,
                _ => return Ok(id),
            }
        }
    }

    /// How to read values of type `id`.
    pub fn layout(&self, id: u32) -> Result<Layout, Error> {
        self.layout_at(id, 0)
    }

    fn layout_at(&self, id: u32, depth: u32) -> Result<Layout, Error> {
        if depth > MAX_DEPTH {
            return Err(Error(format!("BTF type {id} nests too deeply (a loop?)")));
        }
        let found = self.get(self.skip_qualifiers(id)?)?;
        let size = found.size_or_type as usize;
        Ok(match found.kind {
            TYPEDEF if found.name == "ipv4_addr_t" => Layout::Ipv4,
            TYPEDEF if found.name == "ipv6_addr_t" => Layout::Ipv6,
            TYPEDEF => self.layout_at(found.size_or_type, depth + 1)?,
            INT => {
                let encoding = found.word(0) >> 24;
                if encoding & 4 != 0 {
                    Layout::Bool { size }
                } else if encoding & 2 != 0 || found.name == "char" {
                    Layout::Char // clang never sets the CHAR bit: plain char goes by its name
                } else {
                    Layout::Int {
                        size,
                        signed: encoding & 1 != 0,
                    }
                }
            }
            PTR => Layout::Int {
                size: 8,
                signed: false,
            },
            FLOAT => Layout::Float { size },
            ENUM | ENUM64 => Layout::Enum {
                size,
                signed: found.kind_flag,
                names: self.enumerators(&found),
            },
            STRUCT | UNION => {
                let fields = self.fields(&found, depth)?;
                if found.kind == STRUCT {
                    Layout::Struct { fields }
                } else {
                    Layout::Union { fields }
                }
            }
            ARRAY => {
                let len = found.word(2) as usize;
                match self.layout_at(found.word(0), depth + 1)? {
                    Layout::Char => Layout::String { len },
                    element => Layout::Array {
                        len,
                        stride: self.size_of(found.word(0))?,
                        element: Box::new(element),
                    },
                }
            }
            kind => {
                return Err(Error(format!(
                    "type {:?} (BTF kind {kind}) holds no data",
                    found.name
                )))
            }
        })
    }

    fn enumerators(&self, found: &Type) -> Vec<(i128, String)> {
        let wide = found.kind == ENUM64;
        let step = if wide { 3 } else { 2 };
        (0..found.vlen)
            .map(|i| {
                let name = text(unsafe { btf__name_by_offset(self.raw, found.word(step * i)) });
                let low = found.word(step * i + 1);
                let value = match (wide, found.kind_flag) {
                    (true, _) => (found.word(step * i + 2) as u64) << 32 | low as u64,
                    (false, true) => low as i32 as i64 as u64,
                    (false, false) => low as u64,
                };
                let value = if found.kind_flag {
                    value as i64 as i128
                } else {
                    value as i128
                };
                (value, name)
            })
            .collect()
    }

    fn fields(&self, found: &Type, depth: u32) -> Result<Vec<Field>, Error> {
        let mut fields = Vec::new();
        for i in 0..found.vlen {
            let name = text(unsafe { btf__name_by_offset(self.raw, found.word(3 * i)) });
            let layout = self.layout_at(found.word(3 * i + 1), depth + 1)?;
            let word = found.word(3 * i + 2);
            let (mut position, mut bits) = if found.kind_flag {
                (word & 0xff_ffff, word >> 24)
            } else {
                (word, 0)
            };
            if bits == 0 {
                if let Some((offset, width)) = self.int_bitfield(found.word(3 * i + 1))? {
                    position += offset; // BTF from before kind_flag: the int type says it
                    bits = width;
                }
            }
            if name.is_empty() && !matches!(layout, Layout::Struct { .. } | Layout::Union { .. }) {
                continue; // an unnamed bitfield is padding
            }
            if bits == 0 && position % 8 != 0 {
                return Err(Error(format!(
                    "member {name:?} of {:?} is not byte-aligned",
                    found.name
                )));
            }
            fields.push(Field {
                name,
                offset: (position / 8) as usize,
                bit_offset: position % 8,
                bits,
                layout,
            });
        }
        Ok(fields)
    }

    /// (bit offset, bits) of a member's int type that is itself a bitfield (BTF written
    /// before kind_flag), or None for a whole int or any other type.
    fn int_bitfield(&self, id: u32) -> Result<Option<(u32, u32)>, Error> {
        let found = self.get(self.skip_typedefs(id)?)?;
        if found.kind != INT {
            return Ok(None);
        }
        let (offset, bits) = (found.word(0) >> 16 & 0xff, found.word(0) & 0xff);
        Ok((bits != 8 * found.size_or_type || offset != 0).then_some((offset, bits)))
    }

    fn skip_typedefs(&self, mut id: u32) -> Result<u32, Error> {
        for _ in 0..MAX_DEPTH {
            let found = self.get(self.skip_qualifiers(id)?)?;
            if found.kind != TYPEDEF {
                return self.skip_qualifiers(id);
            }
            id = found.size_or_type;
        }
        Err(Error(format!("BTF type {id} nests too deeply (a loop?)")))
    }

    /// The size in bytes of a value of type `id`.
    fn size_of(&self, id: u32) -> Result<usize, Error> {
        let found = self.get(self.skip_typedefs(id)?)?;
        match found.kind {
            PTR => Ok(8),
            ARRAY => Ok(found.word(2) as usize * self.size_of(found.word(0))?),
            _ => Ok(found.size_or_type as usize),
        }
    }
}
