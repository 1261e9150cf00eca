//! Helpers shared by the integration tests: fixture paths, hex, and the fixtures' value text.
#![allow(dead_code)]

use std::path::PathBuf;

/// The InfluxDB 1.6.7 fixture directory in the repository.
pub fn fixtures() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/influxdb-1.6.7"
    ))
}

pub fn from_hex(s: &str) -> Vec<u8> {
    let s = s.trim();
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

pub fn to_hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// A float as the fixtures write it: Go's shortest form (`+Inf`, `-0`, `1e+10`) or `bits:0x...`.
pub fn parse_float(s: &str) -> f64 {
    if let Some(hex) = s.strip_prefix("bits:0x") {
        return f64::from_bits(u64::from_str_radix(hex, 16).expect("bits"));
    }
    match s {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        _ => s.parse().unwrap_or_else(|_| panic!("float {s:?}")),
    }
}

pub fn parse_bool(s: &str) -> bool {
    match s {
        "true" => true,
        "false" => false,
        _ => panic!("boolean {s:?}"),
    }
}

/// Undoes Go's `strconv.Quote` (what the fixtures use for strings): the raw bytes.
pub fn go_unquote(s: &str) -> Vec<u8> {
    let inner = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or_else(|| panic!("not a quoted string: {s:?}"));
    let b = inner.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let hex = |digits: &[u8]| -> u32 {
        u32::from_str_radix(std::str::from_utf8(digits).unwrap(), 16).expect("hex escape")
    };
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = b[i + 1];
        i += 2;
        match c {
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'\\' => out.push(b'\\'),
            b'"' => out.push(b'"'),
            b'\'' => out.push(b'\''),
            b'x' => {
                out.push(hex(&b[i..i + 2]) as u8);
                i += 2;
            }
            b'u' | b'U' => {
                let n = if c == b'u' { 4 } else { 8 };
                let ch = char::from_u32(hex(&b[i..i + n])).expect("code point");
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                i += n;
            }
            b'0'..=b'7' => {
                let v = u32::from_str_radix(std::str::from_utf8(&b[i - 1..i + 2]).unwrap(), 8)
                    .expect("octal escape");
                out.push(v as u8);
                i += 2;
            }
            other => panic!("unknown escape \\{}", other as char),
        }
    }
    out
}
