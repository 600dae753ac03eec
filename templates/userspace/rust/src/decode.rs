//! A value's bytes as JSON, by its `Layout`: structs become objects, arrays lists, strings
//! and addresses text, enums their enumerator's name. Integers are little-endian, as on
//! every BPF target the hub supports.
use crate::btf::{Field, Layout};
use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The bytes a value of `layout` takes.
pub fn size(layout: &Layout) -> usize {
    match layout {
        Layout::Int { size, .. } | Layout::Bool { size } | Layout::Float { size } => *size,
        Layout::Enum { size, .. } => *size,
        Layout::Char => 1,
        Layout::String { len } => *len,
        Layout::Array { len, stride, .. } => len * stride,
        Layout::Ipv4 => 4,
        Layout::Ipv6 => 16,
        Layout::Struct { fields } | Layout::Union { fields } => fields
            .iter()
            .map(|f| f.offset + size(&f.layout).max((f.bit_offset + f.bits + 7) as usize / 8))
            .max()
            .unwrap_or(0),
    }
}

/// `bytes` (at least `size(layout)` of them: a ring buffer record may be longer) as JSON.
pub fn to_json(layout: &Layout, bytes: &[u8]) -> Result<String, String> {
    let needs = size(layout);
    if bytes.len() < needs {
        return Err(format!(
            "a record of {} bytes, the type needs {needs}",
            bytes.len()
        ));
    }
    let mut out = String::new();
    write_value(&mut out, layout, bytes);
    Ok(out)
}

fn write_value(out: &mut String, layout: &Layout, bytes: &[u8]) {
    match layout {
        Layout::Int { size, signed } => write_int(out, integer(&bytes[..*size], *signed)),
        Layout::Bool { size } => out.push_str(if integer(&bytes[..*size], false) != 0 {
            "true"
        } else {
            "false"
        }),
        Layout::Char => write_string(out, &bytes[..1]),
        Layout::String { len } => write_string(out, &bytes[..*len]),
        Layout::Enum {
            size,
            signed,
            names,
        } => write_enum(out, names, integer(&bytes[..*size], *signed)),
        Layout::Float { size } => write_float(out, &bytes[..*size]),
        Layout::Ipv4 => write_text(
            out,
            &Ipv4Addr::from([bytes[0], bytes[1], bytes[2], bytes[3]]).to_string(),
        ),
        Layout::Ipv6 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&bytes[..16]);
            write_text(out, &Ipv6Addr::from(octets).to_string());
        }
        Layout::Array {
            len,
            stride,
            element,
        } => {
            out.push('[');
            for i in 0..*len {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, element, &bytes[i * stride..]);
            }
            out.push(']');
        }
        Layout::Struct { fields } | Layout::Union { fields } => {
            out.push('{');
            write_fields(out, fields, bytes, &mut true);
            out.push('}');
        }
    }
}

/// The fields as `"name": value` pairs; an anonymous struct or union's fields join ours.
fn write_fields(out: &mut String, fields: &[Field], bytes: &[u8], first: &mut bool) {
    for field in fields {
        let at = &bytes[field.offset..];
        if field.name.is_empty() {
            if let Layout::Struct { fields } | Layout::Union { fields } = &field.layout {
                write_fields(out, fields, at, first);
            }
            continue;
        }
        if !std::mem::take(first) {
            out.push_str(", ");
        }
        write_text(out, &field.name);
        out.push_str(": ");
        if field.bits > 0 {
            write_bitfield(out, field, at);
        } else {
            write_value(out, &field.layout, at);
        }
    }
}

fn write_bitfield(out: &mut String, field: &Field, at: &[u8]) {
    let span = ((field.bit_offset + field.bits + 7) / 8) as usize;
    let raw = integer(&at[..span.min(16)], false) as u128 >> field.bit_offset;
    let mask = if field.bits >= 128 {
        u128::MAX
    } else {
        (1u128 << field.bits) - 1
    };
    let mut value = (raw & mask) as i128;
    let signed = matches!(
        field.layout,
        Layout::Int { signed: true, .. } | Layout::Enum { signed: true, .. }
    );
    if signed && field.bits < 128 && value >> (field.bits - 1) & 1 == 1 {
        value -= 1i128 << field.bits;
    }
    match &field.layout {
        Layout::Bool { .. } => out.push_str(if value != 0 { "true" } else { "false" }),
        Layout::Enum { names, .. } => write_enum(out, names, value),
        _ => write_int(out, value),
    }
}

/// Little-endian bytes (up to 16) as a number.
fn integer(bytes: &[u8], signed: bool) -> i128 {
    let mut value: u128 = 0;
    for (i, byte) in bytes.iter().enumerate() {
        value |= (*byte as u128) << (8 * i);
    }
    let bits = 8 * bytes.len() as u32;
    if signed && bits < 128 && value >> (bits - 1) & 1 == 1 {
        return value as i128 - (1i128 << bits);
    }
    value as i128
}

fn write_int(out: &mut String, value: i128) {
    let _ = write!(out, "{value}");
}

fn write_enum(out: &mut String, names: &[(i128, String)], value: i128) {
    match names.iter().find(|(v, _)| *v == value) {
        Some((_, name)) => write_text(out, name),
        None => write_int(out, value),
    }
}

fn write_float(out: &mut String, bytes: &[u8]) {
    let value = match bytes.len() {
        4 => f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as f64,
        8 => f64::from_le_bytes([
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
        ]),
        _ => f64::NAN,
    };
    if value.is_finite() {
        let _ = write!(out, "{value:?}");
    } else {
        out.push_str("null"); // JSON has no NaN or infinity
    }
}

/// A C string: up to the first NUL, invalid UTF-8 replaced.
fn write_string(out: &mut String, bytes: &[u8]) {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    write_text(out, &String::from_utf8_lossy(&bytes[..end]));
}

/// A JSON string, with quotes, backslashes and control characters escaped.
pub fn write_text(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
