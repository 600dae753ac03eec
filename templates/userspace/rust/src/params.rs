//! Parameters: `const volatile` globals in `.rodata`, written between open and load.
use crate::btf::{Btf, Layout};
use crate::libbpf::{Error, Object};

/// Sets parameter `name` to `value` (an integer, true/false, or an enumerator's name).
pub fn set(object: &Object, btf: &Btf, name: &str, value: &str) -> Result<(), Error> {
    let (offset, size, type_id) = match btf.parameter(name)? {
        Some(found) => found,
        None => {
            let known = btf.parameter_names()?;
            let known = if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            };
            return Err(Error(format!(
                "-p {name}: no such parameter; the object has: {known}"
            )));
        }
    };
    let bytes = encode(&btf.layout(type_id)?, value).ok_or_else(|| {
        Error(format!(
            "-p {name}={value}: not a value of its type ({size} bytes)"
        ))
    })?;
    let mut rodata = object
        .map(".rodata")
        .ok_or_else(|| Error("the object has no .rodata".into()))?;
    let data = rodata
        .initial_value()
        .ok_or_else(|| Error("cannot write .rodata".into()))?;
    data.get_mut(offset..offset + size)
        .filter(|slot| slot.len() == bytes.len())
        .ok_or_else(|| Error(format!("-p {name}: lies outside .rodata")))?
        .copy_from_slice(&bytes);
    Ok(())
}

/// The little-endian bytes of `value` as a `layout`, if it is one.
fn encode(layout: &Layout, value: &str) -> Option<Vec<u8>> {
    let (number, size, signed) = match layout {
        Layout::Int { size, signed } => (value.parse::<i128>().ok()?, *size, *signed),
        Layout::Bool { size } => match value {
            "true" | "1" => (1, *size, false),
            "false" | "0" => (0, *size, false),
            _ => return None,
        },
        Layout::Enum {
            size,
            signed,
            names,
        } => {
            let known = names.iter().find(|(_, n)| n == value).map(|(v, _)| *v);
            (known.or_else(|| value.parse().ok())?, *size, *signed)
        }
        _ => return None,
    };
    let bits = 8 * size as u32;
    let fits = if signed {
        bits >= 128 || (-(1i128 << (bits - 1))..(1i128 << (bits - 1))).contains(&number)
    } else {
        number >= 0 && (bits >= 128 || number < 1i128 << bits)
    };
    fits.then(|| number.to_le_bytes()[..size].to_vec())
}
