//! Field extraction the way InfluxDB's field iterator does it, for the rare lines where that
//! differs from what the validating scan saw.
//!
//! InfluxDB validates the field section with one set of escape rules (`scanFields`: a
//! backslash skips the next byte) and later reads keys and values with others (`scanTo`: an
//! `=` preceded by a backslash is escaped; `scanFieldValue`: only `\"` and `\\` are skipped).
//! They disagree only on odd input such as a field key ending in `\\`, a segment without `=`
//! (`a=1,b,c="x"=2`) or a backslash after a string's closing quote. For those lines the stored
//! fields are the iterator's, so we re-extract them here. Values the iterator would then fail
//! to convert are reported with InfluxDB's deferred conversion messages.

use crate::error::ErrorKind;
use crate::number::parse_float;
use crate::point::{RawField, RawValue};

fn go_quote(text: &[u8]) -> String {
    let mut out = String::new();
    crate::goquote::go_quote(text, &mut out);
    out
}

fn conversion(what: &str, func: &str, text: &[u8], reason: &str) -> ErrorKind {
    let q = go_quote(text);
    ErrorKind::FieldConversion(format!(
        "unable to parse {what} value {q}: strconv.{func}: parsing {q}: {reason}"
    ))
}

fn parse_u64(d: &[u8]) -> Option<Result<u64, ()>> {
    if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut acc: u64 = 0;
    for &b in d {
        match acc
            .checked_mul(10)
            .and_then(|a| a.checked_add(u64::from(b - b'0')))
        {
            Some(a) => acc = a,
            None => return Some(Err(())),
        }
    }
    Some(Ok(acc))
}

fn parse_i64(text: &[u8]) -> Result<i64, &'static str> {
    let (neg, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, text),
    };
    match parse_u64(digits) {
        None => Err("invalid syntax"),
        Some(Err(())) => Err("value out of range"),
        Some(Ok(m)) if neg && m <= 1u64 << 63 => Ok((m as i64).wrapping_neg()),
        Some(Ok(m)) if !neg && m <= i64::MAX as u64 => Ok(m as i64),
        Some(Ok(_)) => Err("value out of range"),
    }
}

/// Start of a key inside the field section, from its base-relative span.
fn pos_key_start(key: (usize, usize), base: usize, start: usize) -> usize {
    key.0 - base - start
}

/// Re-extracts the fields of `buf[start..end]` (a validated field section) as InfluxDB's
/// iterator reads them. Offsets pushed are `base`-relative like the rest of the parser's.
pub(crate) fn extract_fields_like_iterator(
    buf: &[u8],
    base: usize,
    start: usize,
    end: usize,
    _unsigned: bool,
    out: &mut Vec<RawField>,
) -> Result<(), (ErrorKind, usize)> {
    let f = &buf[start..end];
    let n = f.len();
    let mut pos = 0;
    while pos < n {
        let mut i = pos;
        while i < n && !(f[i] == b'=' && (i == 0 || f[i - 1] != b'\\')) {
            i += 1;
        }
        let key = (base + start + pos, base + start + i);
        let vs = (i + 1).min(n);
        let mut j = vs;
        let mut quoted = false;
        while j < n {
            if f[j] == b'\\' && j + 1 < n && (f[j + 1] == b'"' || f[j + 1] == b'\\') {
                j += 2;
                continue;
            }
            if f[j] == b'"' {
                quoted = !quoted;
                j += 1;
                continue;
            }
            if f[j] == b',' && !quoted {
                break;
            }
            j += 1;
        }
        let j = j.min(n);
        let v = &f[vs..j];
        let at = start + vs;
        pos = j + 1;
        let Some(&first) = v.first() else {
            // InfluxDB's iterator reports a field without a value as an invalid value of the
            // whole line (its "empty" field type), naming the key as written.
            let raw_key = &f[pos_key_start(key, base, start)..i];
            return Err((
                ErrorKind::FieldConversion(format!(
                    "invalid value: field-key={}",
                    String::from_utf8_lossy(raw_key)
                )),
                at,
            ));
        };
        let value = if first == b'"' {
            if v.len() >= 2 {
                RawValue::String(base + at + 1, base + at + v.len() - 1)
            } else {
                RawValue::String(base + at + 1, base + at + 1)
            }
        } else if b"0123456789-.nNiIu".contains(&first) {
            match v[v.len() - 1] {
                b'i' => {
                    let t = &v[..v.len() - 1];
                    RawValue::Integer(
                        parse_i64(t).map_err(|r| (conversion("integer", "ParseInt", t, r), at))?,
                    )
                }
                b'u' => {
                    let t = &v[..v.len() - 1];
                    match parse_u64(t) {
                        Some(Ok(u)) => RawValue::Unsigned(u),
                        Some(Err(())) => {
                            return Err((
                                conversion("unsigned", "ParseUint", t, "value out of range"),
                                at,
                            ));
                        }
                        None => {
                            return Err((
                                conversion("unsigned", "ParseUint", t, "invalid syntax"),
                                at,
                            ));
                        }
                    }
                }
                _ => match parse_float(v) {
                    Some(x) => RawValue::Float(x),
                    None => {
                        return Err((
                            conversion("floating point", "ParseFloat", v, "invalid syntax"),
                            at,
                        ));
                    }
                },
            }
        } else {
            match v {
                b"1" | b"t" | b"T" | b"true" | b"True" | b"TRUE" => RawValue::Boolean(true),
                b"0" | b"f" | b"F" | b"false" | b"False" | b"FALSE" => RawValue::Boolean(false),
                _ => {
                    return Err((conversion("bool", "ParseBool", v, "invalid syntax"), at));
                }
            }
        };
        out.push(RawField { key, value });
    }
    Ok(())
}
