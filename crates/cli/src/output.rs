//! Output formats shared by every command.

use clap::ValueEnum;

/// A byte count for people: `512 B`, `3.5 MiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// How a command prints its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Readable text for people.
    #[default]
    Text,
    /// One JSON object per line, for other tools (a stable contract).
    Jsonl,
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)` (also what `%v` prints, and how InfluxDB's tools and
/// the fixtures print floats): shortest round-trip digits, in exponent form when the decimal
/// exponent is below -4 or at least 6 (`1e+06`, `1e-05`), `+Inf`/`-Inf`, `NaN`, `-0`.
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // Rust's `{:e}` prints the shortest round-trip digits, e.g. "-1.049e6".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if f < 0.0 { "-" } else { "" };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{dot}{rest}e{esign}{:02}", exp.unsigned_abs());
    }
    let point = exp + 1; // digits before the decimal point
    if point <= 0 {
        format!(
            "{sign}0.{}{digits}",
            "0".repeat(point.unsigned_abs() as usize)
        )
    } else if point as usize >= digits.len() {
        format!(
            "{sign}{digits}{}",
            "0".repeat(point as usize - digits.len())
        )
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{sign}{int}.{frac}")
    }
}

pub use tsmdb_lineproto::go_quote;

/// A float as exact JSON: finite floats as numbers (serde_json prints the shortest round-trip
/// form), the Go spelling as a string otherwise (`"+Inf"`, `"-Inf"`, `"NaN"`: JSON has none).
pub fn json_float(f: f64) -> serde_json::Value {
    serde_json::Number::from_f64(f).map_or_else(
        || serde_json::Value::String(go_float(f)),
        serde_json::Value::Number,
    )
}

/// Value `i` of `column` as exact JSON: integers as integers, floats as [`json_float`], booleans,
/// strings unescaped (invalid UTF-8 as U+FFFD). Past the end: the type's default.
pub fn value_json(column: &tsmdb_encoding::Column, i: usize) -> serde_json::Value {
    use serde_json::Value;
    use tsmdb_encoding::Column;
    match column {
        Column::Float(v) => json_float(v.get(i).copied().unwrap_or_default()),
        Column::Integer(v) => Value::from(v.get(i).copied().unwrap_or_default()),
        Column::Unsigned(v) => Value::from(v.get(i).copied().unwrap_or_default()),
        Column::Boolean(v) => Value::from(v.get(i).copied().unwrap_or_default()),
        Column::String(v) => {
            Value::String(String::from_utf8_lossy(v.get(i).unwrap_or_default()).into_owned())
        }
    }
}

/// Lower-case hex of `bytes`, two digits per byte (how `value_hex` and raw sections are printed).
pub fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_go_does() {
        for (f, s) in [
            (0.64, "0.64"),
            (1e10, "1e+10"),
            (-0.0, "-0"),
            (0.0, "0"),
            (93.5, "93.5"),
            (100000.0, "100000"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-0.0035, "-0.0035"),
            (-2.5, "-2.5"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(go_float(f), s, "{f:e}");
        }
    }

    #[test]
    fn strings_quote_as_go_does() {
        let q = |b: &[u8]| {
            let mut s = String::new();
            go_quote(b, &mut s);
            s
        };
        assert_eq!(q(b"say \"hi\"\n"), r#""say \"hi\"\n""#);
        assert_eq!(q(b"a\"b\\c\n\t"), r#""a\"b\\c\n\t""#);
        assert_eq!(q(b"\xff\x01"), r#""\xff\x01""#);
        assert_eq!(q("日本語 🚀".as_bytes()), "\"日本語 🚀\"");
        assert_eq!(q("\u{a0}\u{200b}".as_bytes()), r#""\u00a0\u200b""#);
        assert_eq!(q("\u{f0000}".as_bytes()), r#""\U000f0000""#);
    }

    #[test]
    fn json_floats_are_exact_or_go_spelled() {
        assert_eq!(json_float(0.1).to_string(), "0.1");
        assert_eq!(json_float(f64::INFINITY), serde_json::json!("+Inf"));
        assert_eq!(json_float(f64::NAN), serde_json::json!("NaN"));
    }

    #[test]
    fn hex_is_two_lower_case_digits_per_byte() {
        assert_eq!(to_hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
        assert_eq!(to_hex(&[]), "");
    }
}
