//! libbpf through its C API (libbpf.h, btf.h, bpf.h of libbpf 1.1 and later), with owners
//! that free what they hold: an object closes, a link detaches, a TC filter is removed and
//! the qdisc it needed too, a ring buffer is freed, each when dropped.
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_uint, c_void};
use std::ptr::{self, NonNull};
use std::{fmt, io, marker, slice};

/// libbpf's opaque types: only ever behind pointers.
#[repr(C)]
pub struct RawObject(c_void);
#[repr(C)]
pub struct RawProgram(c_void);
#[repr(C)]
pub struct RawMap(c_void);
#[repr(C)]
pub struct RawLink(c_void);
#[repr(C)]
pub struct RawBtf(c_void);
#[repr(C)]
struct RawRingBuffer(c_void);

/// struct bpf_tc_hook and struct bpf_tc_opts, field for field. Their tail padding is a
/// field here: libbpf refuses options whose bytes past the last field it knows are not 0.
#[repr(C)]
struct TcHookOpts {
    sz: usize,
    ifindex: c_int,
    attach_point: c_uint,
    parent: u32,
    padding: u32,
}
#[repr(C)]
struct TcOpts {
    sz: usize,
    prog_fd: c_int,
    flags: u32,
    prog_id: u32,
    handle: u32,
    priority: u32,
    padding: u32,
}

const BPF_TC_INGRESS: c_uint = 1;
const BPF_TC_EGRESS: c_uint = 2;
const PROG_TYPE_SCHED_CLS: c_uint = 3;
const PROG_TYPE_XDP: c_uint = 6;
const MAP_TYPES_PER_CPU: [c_uint; 4] = [5, 6, 10, 21]; // percpu hash, array, lru hash, cgroup
const EEXIST: c_int = 17;

type SampleFn = extern "C" fn(*mut c_void, *mut c_void, usize) -> c_int;
/// A va_list as a parameter: a pointer on x86-64 and arm64 (an array type there, a
/// structure passed by reference here), which is all the log callback hands on.
type VaList = *mut c_void;
type PrintFn = extern "C" fn(c_int, *const c_char, VaList) -> c_int;
const LIBBPF_WARN: c_int = 0;

extern "C" {
    static stderr: *mut c_void;
    fn vfprintf(stream: *mut c_void, format: *const c_char, args: VaList) -> c_int;
}

#[link(name = "bpf")]
extern "C" {
    fn bpf_object__open_mem(buf: *const c_void, size: usize, opts: *const c_void)
        -> *mut RawObject;
    fn bpf_object__load(obj: *mut RawObject) -> c_int;
    fn bpf_object__close(obj: *mut RawObject);
    fn bpf_object__btf(obj: *const RawObject) -> *const RawBtf;
    fn bpf_object__next_program(obj: *const RawObject, prev: *mut RawProgram) -> *mut RawProgram;
    fn bpf_object__find_map_by_name(obj: *const RawObject, name: *const c_char) -> *mut RawMap;
    fn bpf_program__name(prog: *const RawProgram) -> *const c_char;
    fn bpf_program__type(prog: *const RawProgram) -> c_uint;
    fn bpf_program__fd(prog: *const RawProgram) -> c_int;
    fn bpf_program__attach(prog: *const RawProgram) -> *mut RawLink;
    fn bpf_program__attach_xdp(prog: *const RawProgram, ifindex: c_int) -> *mut RawLink;
    fn bpf_link__destroy(link: *mut RawLink) -> c_int;
    fn bpf_map__fd(map: *const RawMap) -> c_int;
    fn bpf_map__type(map: *const RawMap) -> c_uint;
    fn bpf_map__key_size(map: *const RawMap) -> u32;
    fn bpf_map__value_size(map: *const RawMap) -> u32;
    fn bpf_map__btf_key_type_id(map: *const RawMap) -> u32;
    fn bpf_map__btf_value_type_id(map: *const RawMap) -> u32;
    fn bpf_map__initial_value(map: *mut RawMap, size: *mut usize) -> *const c_void;
    fn bpf_map_get_next_key(fd: c_int, key: *const c_void, next: *mut c_void) -> c_int;
    fn bpf_map_lookup_elem(fd: c_int, key: *const c_void, value: *mut c_void) -> c_int;
    fn bpf_tc_hook_create(hook: *mut TcHookOpts) -> c_int;
    fn bpf_tc_hook_destroy(hook: *mut TcHookOpts) -> c_int;
    fn bpf_tc_attach(hook: *const TcHookOpts, opts: *mut TcOpts) -> c_int;
    fn bpf_tc_detach(hook: *const TcHookOpts, opts: *const TcOpts) -> c_int;
    fn ring_buffer__new(
        fd: c_int,
        cb: SampleFn,
        ctx: *mut c_void,
        opts: *const c_void,
    ) -> *mut RawRingBuffer;
    fn ring_buffer__poll(rb: *mut RawRingBuffer, timeout_ms: c_int) -> c_int;
    fn ring_buffer__free(rb: *mut RawRingBuffer);
    fn libbpf_num_possible_cpus() -> c_int;
    fn libbpf_set_print(print: PrintFn) -> *const c_void;
    pub fn btf__type_by_id(btf: *const RawBtf, id: u32) -> *const c_void;
    pub fn btf__name_by_offset(btf: *const RawBtf, offset: u32) -> *const c_char;
    pub fn btf__find_by_name_kind(btf: *const RawBtf, name: *const c_char, kind: u32) -> i32;
}

/// libbpf's warnings go to stderr; its informational chatter does not.
extern "C" fn log_warnings(level: c_int, format: *const c_char, args: VaList) -> c_int {
    if level == LIBBPF_WARN {
        unsafe { vfprintf(stderr, format, args) }
    } else {
        0
    }
}

/// What went wrong, said in one line.
#[derive(Debug)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `what: <errno text>`, from libbpf's negative error code (or errno when it gives none).
fn failed(what: &str, code: c_int) -> Error {
    let os = if code < 0 {
        io::Error::from_raw_os_error(-code)
    } else {
        io::Error::last_os_error()
    };
    Error(format!("{what}: {os}"))
}

/// A C string libbpf owns, as text.
pub fn text(chars: *const c_char) -> String {
    if chars.is_null() {
        return String::new();
    }
    unsafe { CStr::from_ptr(chars) }
        .to_string_lossy()
        .into_owned()
}

/// An opened eBPF object: its programs and maps, created in the kernel by `load`.
pub struct Object {
    raw: NonNull<RawObject>,
}

impl Object {
    /// Reads the object from memory (libbpf copies it): programs, maps, BTF, relocations.
    pub fn open(bytes: &[u8]) -> Result<Object, Error> {
        unsafe { libbpf_set_print(log_warnings) };
        let raw = unsafe { bpf_object__open_mem(bytes.as_ptr().cast(), bytes.len(), ptr::null()) };
        NonNull::new(raw)
            .map(|raw| Object { raw })
            .ok_or_else(|| failed("cannot open the eBPF object", 0))
    }

    /// Creates the maps and programs in the kernel (the verifier runs here).
    pub fn load(&self) -> Result<(), Error> {
        match unsafe { bpf_object__load(self.raw.as_ptr()) } {
            0 => Ok(()),
            code => Err(failed("cannot load the eBPF object (are you root?)", code)),
        }
    }

    pub fn btf(&self) -> Result<*const RawBtf, Error> {
        let btf = unsafe { bpf_object__btf(self.raw.as_ptr()) };
        if btf.is_null() {
            return Err(Error(
                "the eBPF object has no BTF: build it with `ebpf-hub build`".into(),
            ));
        }
        Ok(btf)
    }

    pub fn programs(&self) -> Vec<Program<'_>> {
        let mut found = Vec::new();
        let mut prog = ptr::null_mut();
        loop {
            prog = unsafe { bpf_object__next_program(self.raw.as_ptr(), prog) };
            match NonNull::new(prog) {
                Some(raw) => found.push(Program {
                    raw,
                    _object: marker::PhantomData,
                }),
                None => return found,
            }
        }
    }

    /// The map `name`: a map of the object, or `.rodata`, `.bss`, `.data` for its globals.
    pub fn map(&self, name: &str) -> Option<Map<'_>> {
        let name = CString::new(name).ok()?;
        let raw = unsafe { bpf_object__find_map_by_name(self.raw.as_ptr(), name.as_ptr()) };
        NonNull::new(raw).map(|raw| Map {
            raw,
            _object: marker::PhantomData,
        })
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        unsafe { bpf_object__close(self.raw.as_ptr()) }
    }
}

pub struct Program<'a> {
    raw: NonNull<RawProgram>,
    _object: marker::PhantomData<&'a Object>,
}

impl Program<'_> {
    pub fn name(&self) -> String {
        text(unsafe { bpf_program__name(self.raw.as_ptr()) })
    }

    /// Whether it attaches to a network interface (XDP, TC) rather than by its section.
    pub fn needs_iface(&self) -> bool {
        let kind = unsafe { bpf_program__type(self.raw.as_ptr()) };
        kind == PROG_TYPE_XDP || kind == PROG_TYPE_SCHED_CLS
    }

    /// Attaches it: XDP and TC programs to interface `ifindex`, others where their section
    /// says (a tracepoint, a BTF tracepoint, a function of a library...).
    pub fn attach(&self, ifindex: u32) -> Result<Attachment, Error> {
        let prog = self.raw.as_ptr();
        let what = || format!("cannot attach {}", self.name());
        match unsafe { bpf_program__type(prog) } {
            PROG_TYPE_SCHED_CLS => TcFilter::attach(unsafe { bpf_program__fd(prog) }, ifindex)
                .map(|filter| Attachment::Tc { _filter: filter })
                .map_err(|err| Error(format!("{}: {}", what(), err))),
            kind => {
                let link = if kind == PROG_TYPE_XDP {
                    unsafe { bpf_program__attach_xdp(prog, ifindex as c_int) }
                } else {
                    unsafe { bpf_program__attach(prog) }
                };
                NonNull::new(link)
                    .map(Attachment::Link)
                    .ok_or_else(|| failed(&what(), 0))
            }
        }
    }
}

/// An attached program; dropping it detaches it.
pub enum Attachment {
    Link(NonNull<RawLink>),
    Tc { _filter: TcFilter }, // removed by its own drop
}

impl Drop for Attachment {
    fn drop(&mut self) {
        if let Attachment::Link(link) = self {
            unsafe { bpf_link__destroy(link.as_ptr()) };
        }
    }
}

/// A TC ingress filter, and the clsact qdisc if we created it: both outlive the process
/// unless removed, so dropping removes them.
pub struct TcFilter {
    hook: TcHookOpts,
    handle: u32, // what names the filter, chosen by the kernel
    priority: u32,
    created: bool,
}

impl TcFilter {
    fn attach(prog_fd: c_int, ifindex: u32) -> Result<TcFilter, Error> {
        let mut hook = TcHookOpts {
            sz: std::mem::size_of::<TcHookOpts>(),
            ifindex: ifindex as c_int,
            attach_point: BPF_TC_INGRESS,
            parent: 0,
            padding: 0,
        };
        let code = unsafe { bpf_tc_hook_create(&mut hook) };
        if code != 0 && code != -EEXIST {
            return Err(failed("cannot create the clsact qdisc", code));
        }
        let mut filter = TcFilter {
            hook,
            handle: 0,
            priority: 0,
            created: code == 0,
        };
        let mut opts = TcOpts {
            prog_fd,
            ..tc_opts(0, 0)
        };
        match unsafe { bpf_tc_attach(&filter.hook, &mut opts) } {
            0 => {
                (filter.handle, filter.priority) = (opts.handle, opts.priority);
                Ok(filter)
            }
            code => Err(failed("cannot add the TC filter", code)), // drops the qdisc we made
        }
    }
}

fn tc_opts(handle: u32, priority: u32) -> TcOpts {
    TcOpts {
        sz: std::mem::size_of::<TcOpts>(),
        prog_fd: 0,
        flags: 0,
        prog_id: 0,
        handle,
        priority,
        padding: 0,
    }
}

impl Drop for TcFilter {
    fn drop(&mut self) {
        if self.handle != 0 {
            unsafe { bpf_tc_detach(&self.hook, &tc_opts(self.handle, self.priority)) };
        }
        if self.created {
            self.hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS; // names the qdisc itself
            unsafe { bpf_tc_hook_destroy(&mut self.hook) };
        }
    }
}

/// A map entry's key, and its value: one, or one per possible CPU for a per-CPU map.
pub type Entry = (Vec<u8>, Vec<Vec<u8>>);

pub struct Map<'a> {
    raw: NonNull<RawMap>,
    _object: marker::PhantomData<&'a Object>,
}

impl Map<'_> {
    pub fn key_type_id(&self) -> u32 {
        unsafe { bpf_map__btf_key_type_id(self.raw.as_ptr()) }
    }

    pub fn value_type_id(&self) -> u32 {
        unsafe { bpf_map__btf_value_type_id(self.raw.as_ptr()) }
    }

    /// The initial contents of a global-variable map (`.rodata`...), writable until load.
    pub fn initial_value(&mut self) -> Option<&mut [u8]> {
        let mut size = 0;
        let data = unsafe { bpf_map__initial_value(self.raw.as_ptr(), &mut size) };
        (!data.is_null()).then(|| unsafe { slice::from_raw_parts_mut(data as *mut u8, size) })
    }

    /// Every (key, values) pair: one value, or one per possible CPU for a per-CPU map.
    pub fn entries(&self) -> Result<Vec<Entry>, Error> {
        let raw = self.raw.as_ptr();
        let (fd, kind) = unsafe { (bpf_map__fd(raw), bpf_map__type(raw)) };
        let key_size = unsafe { bpf_map__key_size(raw) } as usize;
        let value_size = unsafe { bpf_map__value_size(raw) } as usize;
        let (copies, stride) = if MAP_TYPES_PER_CPU.contains(&kind) {
            (
                unsafe { libbpf_num_possible_cpus() }.max(1) as usize,
                (value_size + 7) / 8 * 8,
            )
        } else {
            (1, value_size)
        };
        let mut found = Vec::new();
        let mut key = vec![0u8; key_size];
        let mut next = vec![0u8; key_size];
        let mut first = true;
        loop {
            let prev = if first {
                ptr::null()
            } else {
                key.as_ptr().cast()
            };
            if unsafe { bpf_map_get_next_key(fd, prev, next.as_mut_ptr().cast()) } != 0 {
                return Ok(found); // no more keys
            }
            first = false;
            std::mem::swap(&mut key, &mut next);
            let mut value = vec![0u8; copies * stride];
            if unsafe { bpf_map_lookup_elem(fd, key.as_ptr().cast(), value.as_mut_ptr().cast()) }
                != 0
            {
                continue; // deleted meanwhile
            }
            let values = value
                .chunks(stride)
                .map(|v| v[..value_size].to_vec())
                .collect();
            found.push((key.clone(), values));
        }
    }
}

/// What a ring buffer hands each record to.
type Handler<'a> = Box<dyn FnMut(&[u8]) + 'a>;

/// A ring buffer map's reader, which hands every record to its handler.
pub struct RingBuffer<'a> {
    raw: NonNull<RawRingBuffer>,
    _handler: Box<Handler<'a>>, // boxed twice: libbpf keeps a thin pointer to it
}

extern "C" fn deliver(ctx: *mut c_void, data: *mut c_void, size: usize) -> c_int {
    let handler = unsafe { &mut *(ctx as *mut Handler) };
    handler(unsafe { slice::from_raw_parts(data as *const u8, size) });
    0
}

impl<'a> RingBuffer<'a> {
    pub fn new(map: &Map<'a>, handler: impl FnMut(&[u8]) + 'a) -> Result<RingBuffer<'a>, Error> {
        let mut handler: Box<Handler<'a>> = Box::new(Box::new(handler));
        let ctx = &mut *handler as *mut Handler<'a> as *mut c_void;
        let fd = unsafe { bpf_map__fd(map.raw.as_ptr()) };
        let raw = unsafe { ring_buffer__new(fd, deliver, ctx, ptr::null()) };
        let raw = NonNull::new(raw).ok_or_else(|| failed("cannot read the ring buffer", 0))?;
        Ok(RingBuffer {
            raw,
            _handler: handler,
        })
    }

    /// Delivers what arrived within `timeout_ms`; a signal only cuts the wait short.
    pub fn poll(&mut self, timeout_ms: i32) -> Result<(), Error> {
        match unsafe { ring_buffer__poll(self.raw.as_ptr(), timeout_ms) } {
            code if code >= 0 || code == -4 => Ok(()), // -EINTR: Ctrl-C or SIGTERM
            code => Err(failed("reading events", code)),
        }
    }
}

impl Drop for RingBuffer<'_> {
    fn drop(&mut self) {
        unsafe { ring_buffer__free(self.raw.as_ptr()) }
    }
}
