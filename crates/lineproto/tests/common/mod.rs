//! Rendering parsed points the way the fixtures' `parsed.tsv` files do (Go formatting).

#![allow(dead_code)]

use tsmdb_lineproto::{FieldValue, LineError, Point};

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`.
pub fn go_float(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let e = format!("{:e}", f.abs());
    let (mant, exp) = e.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent number");
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let nd = digits.len() as i32;
    let dp = exp + 1;
    let mut out = String::new();
    if f < 0.0 {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if nd > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    } else if dp <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-dp) as usize));
        out.push_str(&digits);
    } else if dp >= nd {
        out.push_str(&digits);
        out.push_str(&"0".repeat((dp - nd) as usize));
    } else {
        out.push_str(&digits[..dp as usize]);
        out.push('.');
        out.push_str(&digits[dp as usize..]);
    }
    out
}

/// Go's `strconv.Quote` (close enough for the fixtures: ASCII, CJK, emoji, invalid UTF-8).
pub fn go_quote(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\x07' => out.push_str("\\a"),
                '\x08' => out.push_str("\\b"),
                '\x0c' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\x0b' => out.push_str("\\v"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The `parsed.tsv` rows of one point.
pub fn tsv_rows(p: &Point<'_, '_>, out: &mut Vec<String>) {
    let tags: Vec<String> = p
        .tags()
        .map(|t| format!("{}={}", lossy(&t.key()), lossy(&t.value())))
        .collect();
    let measurement = lossy(&p.measurement());
    for f in p.fields() {
        let (ty, value) = match f.value {
            FieldValue::Float(v) => ("float", go_float(v)),
            FieldValue::Integer(v) => ("integer", v.to_string()),
            FieldValue::Unsigned(v) => ("unsigned", v.to_string()),
            FieldValue::Boolean(v) => ("boolean", v.to_string()),
            FieldValue::String(s) => ("string", go_quote(&s.unescape())),
        };
        let mut key = Vec::new();
        p.composite_key(&f, &mut key);
        out.push(format!(
            "{measurement}\t{}\t{}\t{ty}\t{value}\t{}\t{}",
            tags.join(","),
            lossy(&f.key()),
            p.time(),
            lossy(&key)
        ));
    }
}

/// The `parsed.tsv` row of a rejected line.
pub fn tsv_error(e: &LineError) -> String {
    let msg = lossy(&e.message_bytes())
        .replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\t', "\\t");
    format!("ERROR\t{msg}")
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../tests/fixtures/influxdb-1.6.7/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
