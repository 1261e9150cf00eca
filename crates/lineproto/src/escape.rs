//! Backslash escapes, as InfluxDB 1.x applies them to each part of a line.
//!
//! Unescaping is a single left-to-right pass: `\X` becomes `X` when `X` is in the part's set,
//! every other byte (including a `\` not followed by such an `X`) is kept. That is exactly what
//! InfluxDB's repeated `bytes.Replace` calls produce, because no two escapes can overlap.
//! Every function returns the input borrowed when it contains no backslash.

use std::borrow::Cow;

/// Escapes honoured in measurement names and field keys (Go's `escape.Unescape`).
const NAME_SET: &[u8] = b", =\"";
/// Escapes honoured in tag keys and values.
const TAG_SET: &[u8] = b", =";
/// Escapes honoured inside string field values.
const STRING_SET: &[u8] = b"\"\\";

fn unescape_with<'a>(raw: &'a [u8], set: &[u8]) -> Cow<'a, [u8]> {
    let Some(first) = memchr::memchr(b'\\', raw) else {
        return Cow::Borrowed(raw);
    };
    let mut out = Vec::with_capacity(raw.len());
    out.extend_from_slice(&raw[..first]);
    let mut i = first;
    while i < raw.len() {
        let b = raw[i];
        if b == b'\\'
            && let Some(&next) = raw.get(i + 1)
            && set.contains(&next)
        {
            out.push(next);
            i += 2;
            continue;
        }
        out.push(b);
        i += 1;
    }
    Cow::Owned(out)
}

/// Unescapes a measurement name as stored in a key (`\,` `\ ` `\=` `\"`), the way InfluxDB's
/// `Point.Name()` does.
pub fn unescape_measurement(raw: &[u8]) -> Cow<'_, [u8]> {
    unescape_with(raw, NAME_SET)
}

/// Unescapes a tag key or tag value (`\,` `\ ` `\=`; other backslashes are kept).
pub fn unescape_tag(raw: &[u8]) -> Cow<'_, [u8]> {
    unescape_with(raw, TAG_SET)
}

/// Unescapes a field key (`\,` `\ ` `\=` `\"`; `\a` stays `\a`).
pub fn unescape_field_key(raw: &[u8]) -> Cow<'_, [u8]> {
    unescape_with(raw, NAME_SET)
}

/// Unescapes the inside of a string field value (`\"` and `\\`; every other backslash is kept).
pub fn unescape_string(raw: &[u8]) -> Cow<'_, [u8]> {
    unescape_with(raw, STRING_SET)
}

/// Appends `part` with a backslash before every byte of `set`, as InfluxDB's escapers do.
/// Backslashes already in `part` are not doubled, so a name containing `\,` (or ending in `\`)
/// does not survive a round trip; [`crate::writer`] refuses such names.
fn escape_into(out: &mut Vec<u8>, part: &[u8], set: &[u8]) {
    for &b in part {
        if set.contains(&b) {
            out.push(b'\\');
        }
        out.push(b);
    }
}

/// Appends a measurement name escaped for a series key or a line (`,` and space).
pub fn escape_measurement(out: &mut Vec<u8>, name: &[u8]) {
    escape_into(out, name, b", ");
}

/// Appends a tag key or value escaped for a series key or a line (`,`, space and `=`).
pub fn escape_tag(out: &mut Vec<u8>, part: &[u8]) {
    escape_into(out, part, TAG_SET);
}

/// Appends a field key escaped for a line (`,`, space, `=` and `"`, like Go's `escape.String`).
pub fn escape_field_key(out: &mut Vec<u8>, key: &[u8]) {
    escape_into(out, key, NAME_SET);
}

/// Appends the inside of a string field value escaped (`"` and `\`).
pub fn escape_string(out: &mut Vec<u8>, value: &[u8]) {
    for &b in value {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_borrows_without_backslash() {
        assert!(matches!(unescape_tag(b"plain"), Cow::Borrowed(_)));
        assert!(matches!(unescape_string(b"a b"), Cow::Borrowed(_)));
    }

    #[test]
    fn unescape_sets() {
        assert_eq!(&*unescape_tag(br#"a\,b\ c\=d\"e\\f"#), br#"a,b c=d\"e\\f"#);
        assert_eq!(
            &*unescape_measurement(br#"a\,b\ c\=d\"e\\f"#),
            br#"a,b c=d"e\\f"#
        );
        assert_eq!(&*unescape_field_key(br"f\ k\a"), br"f k\a");
        assert_eq!(
            &*unescape_string(br#"say \"hi\" \\ \, \n"#),
            br#"say "hi" \ \, \n"#
        );
        // `\\,` is a kept backslash then an escaped comma.
        assert_eq!(&*unescape_tag(br"a\\,b"), br"a\,b");
        // a lone trailing backslash is kept
        assert_eq!(&*unescape_tag(br"a\"), br"a\");
    }

    #[test]
    fn escape_then_unescape_round_trips() {
        let cases: &[&[u8]] = &[b"a,b c=d", br"back\slash", b"q\"x", b"=x="];
        for &c in cases {
            let mut m = Vec::new();
            escape_measurement(&mut m, c);
            assert_eq!(&*unescape_measurement(&m), c, "measurement {m:?}");
            let mut t = Vec::new();
            escape_tag(&mut t, c);
            assert_eq!(&*unescape_tag(&t), c, "tag {t:?}");
            let mut s = Vec::new();
            escape_string(&mut s, c);
            assert_eq!(&*unescape_string(&s), c, "string {s:?}");
        }
    }
}
