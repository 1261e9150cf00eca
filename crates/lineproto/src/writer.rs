//! Rendering points as line protocol.

use crate::error::{MAX_KEY_LEN, MAX_TIME, MIN_TIME};
use crate::escape::{escape_field_key, escape_measurement, escape_string, escape_tag};
use crate::value::Value;

/// Why a point cannot be written as line protocol that parses back to the same point.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// The measurement is empty.
    #[error("measurement is empty")]
    EmptyMeasurement,
    /// The measurement starts with `#` (a comment), a tab or a NUL byte (skipped as whitespace).
    #[error("measurement cannot start with byte 0x{0:02x}")]
    BadMeasurementStart(u8),
    /// A name cannot be expressed: it contains a newline, ends in a backslash, or has a
    /// backslash before a byte that line protocol would take as an escape.
    #[error("{part} {name:?} cannot be written in line protocol ({why})")]
    Unrepresentable {
        /// Which part: measurement, tag key, tag value or field key.
        part: &'static str,
        /// The name, lossily decoded.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A tag key is empty.
    #[error("tag key is empty")]
    EmptyTagKey,
    /// Two tags have the same key.
    #[error("duplicate tag key {0:?}")]
    DuplicateTag(String),
    /// No fields.
    #[error("point without fields is unsupported")]
    NoFields,
    /// A field key is empty.
    #[error("all fields must have non-empty names")]
    EmptyFieldKey,
    /// A float field is NaN or infinite.
    #[error("{0} is an unsupported value for field {1}")]
    UnsupportedFloat(&'static str, String),
    /// The timestamp is outside the valid range.
    #[error("time outside range {MIN_TIME} - {MAX_TIME}")]
    TimeOutOfRange,
    /// The series key or a composite key would be longer than 65535 bytes.
    #[error("max key length exceeded: {0} > {MAX_KEY_LEN}")]
    KeyTooLong(usize),
}

fn check_name(part: &'static str, name: &[u8]) -> Result<(), WriteError> {
    let bad = |why| {
        Err(WriteError::Unrepresentable {
            part,
            name: String::from_utf8_lossy(name).into_owned(),
            why,
        })
    };
    if memchr::memchr(b'\n', name).is_some() {
        return bad("newline");
    }
    if name.last() == Some(&b'\\') {
        return bad("ends in a backslash");
    }
    for w in name.windows(2) {
        if w[0] == b'\\' && matches!(w[1], b',' | b' ' | b'=' | b'"') {
            return bad("backslash before an escapable byte");
        }
    }
    Ok(())
}

/// Appends one line (with its `\n`) for a point given by unescaped parts. Tags with an empty
/// value are left out (as InfluxDB's `MakeKey` does); tags are written sorted by their escaped
/// key, so the line's key is already the canonical series key. `time` `None` writes no
/// timestamp. On error nothing is appended.
///
/// For every point this accepts, parsing the line gives back the same measurement, tags,
/// fields (in order) and time.
pub fn write_line(
    out: &mut Vec<u8>,
    measurement: &[u8],
    tags: &[(&[u8], &[u8])],
    fields: &[(&[u8], Value<'_>)],
    time: Option<i64>,
) -> Result<(), WriteError> {
    match measurement.first() {
        None => return Err(WriteError::EmptyMeasurement),
        Some(&b) if b == b'#' || b == b'\t' || b == 0 => {
            return Err(WriteError::BadMeasurementStart(b));
        }
        Some(_) => {}
    }
    check_name("measurement", measurement)?;
    if fields.is_empty() {
        return Err(WriteError::NoFields);
    }
    if let Some(t) = time
        && !(MIN_TIME..=MAX_TIME).contains(&t)
    {
        return Err(WriteError::TimeOutOfRange);
    }
    let mut escaped_tags: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(tags.len());
    for (k, v) in tags {
        if k.is_empty() {
            return Err(WriteError::EmptyTagKey);
        }
        check_name("tag key", k)?;
        if v.is_empty() {
            continue;
        }
        check_name("tag value", v)?;
        let mut ek = Vec::with_capacity(k.len());
        escape_tag(&mut ek, k);
        let mut ev = Vec::with_capacity(v.len());
        escape_tag(&mut ev, v);
        escaped_tags.push((ek, ev));
    }
    escaped_tags.sort_by(|a, b| a.0.cmp(&b.0));
    for w in escaped_tags.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(WriteError::DuplicateTag(
                String::from_utf8_lossy(&w[0].0).into_owned(),
            ));
        }
    }
    for (k, v) in fields {
        if k.is_empty() {
            return Err(WriteError::EmptyFieldKey);
        }
        if k[0] == b'\t' || k[0] == 0 {
            return Err(WriteError::Unrepresentable {
                part: "field key",
                name: String::from_utf8_lossy(k).into_owned(),
                why: "starts with whitespace that is skipped",
            });
        }
        check_name("field key", k)?;
        if let Value::Float(f) = v
            && !f.is_finite()
        {
            let what = if f.is_nan() { "NaN" } else { "+/-Inf" };
            return Err(WriteError::UnsupportedFloat(
                what,
                String::from_utf8_lossy(k).into_owned(),
            ));
        }
    }

    let start = out.len();
    escape_measurement(out, measurement);
    for (k, v) in &escaped_tags {
        out.push(b',');
        out.extend_from_slice(k);
        out.push(b'=');
        out.extend_from_slice(v);
    }
    let key_len = out.len() - start;
    if key_len > MAX_KEY_LEN {
        out.truncate(start);
        return Err(WriteError::KeyTooLong(key_len));
    }
    out.push(b' ');
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let key_start = out.len();
        escape_field_key(out, k);
        let size = key_len + 4 + (out.len() - key_start);
        if size > MAX_KEY_LEN {
            out.truncate(start);
            return Err(WriteError::KeyTooLong(size));
        }
        out.push(b'=');
        write_value(out, v);
    }
    if let Some(t) = time {
        out.push(b' ');
        out.extend_from_slice(t.to_string().as_bytes());
    }
    out.push(b'\n');
    Ok(())
}

fn write_value(out: &mut Vec<u8>, v: &Value<'_>) {
    use std::io::Write;
    // Writing into a Vec cannot fail.
    let _ = match v {
        // `{:?}` is the shortest text that reads back to the same f64 ("1.0", "1e300").
        Value::Float(f) => write!(out, "{f:?}"),
        Value::Integer(i) => write!(out, "{i}i"),
        Value::Unsigned(u) => write!(out, "{u}u"),
        Value::Boolean(b) => write!(out, "{b}"),
        Value::String(s) => {
            out.push(b'"');
            escape_string(out, s);
            out.push(b'"');
            Ok(())
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn writes_sorted_escaped_line() {
        let mut out = Vec::new();
        write_line(
            &mut out,
            b"cpu load",
            &[(b"z", b"1"), (b"a b", b"x,y"), (b"e", b"")],
            &[
                (b"f k", Value::Float(1.0)),
                (b"i", Value::Integer(-3)),
                (b"u", Value::Unsigned(7)),
                (b"b", Value::Boolean(true)),
                (b"s", Value::String(Cow::Borrowed(b"say \"hi\" \\"))),
            ],
            Some(5),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "cpu\\ load,a\\ b=x\\,y,z=1 f\\ k=1.0,i=-3i,u=7u,b=true,s=\"say \\\"hi\\\" \\\\\" 5\n"
        );
    }

    #[test]
    fn refuses_unrepresentable_points() {
        let mut out = Vec::new();
        let f: &[(&[u8], Value<'_>)] = &[(b"v", Value::Float(1.0))];
        assert_eq!(
            write_line(&mut out, b"", &[], f, None),
            Err(WriteError::EmptyMeasurement)
        );
        assert!(write_line(&mut out, b"#x", &[], f, None).is_err());
        assert!(write_line(&mut out, b"a\\", &[], f, None).is_err());
        assert!(write_line(&mut out, b"a\\=", &[], f, None).is_err());
        assert!(write_line(&mut out, b"m", &[(b"k", b"v\n")], f, None).is_err());
        assert!(write_line(&mut out, b"m", &[(b"k", b"1"), (b"k", b"2")], f, None).is_err());
        assert!(write_line(&mut out, b"m", &[], &[], None).is_err());
        assert!(write_line(&mut out, b"m", &[], &[(b"v", Value::Float(f64::NAN))], None).is_err());
        assert!(write_line(&mut out, b"m", &[], f, Some(i64::MAX)).is_err());
        assert!(out.is_empty());
    }
}
