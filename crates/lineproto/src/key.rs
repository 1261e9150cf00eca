//! Series keys and composite TSM keys (spec §2).

use std::borrow::Cow;

use crate::escape::{escape_measurement, escape_tag};

/// The 4 bytes between a series key and a field key in a composite key.
pub const FIELD_SEPARATOR: &[u8; 4] = b"#!~#";

/// Unescapes `\,` and `\ ` only: what InfluxDB's `MakeKey` does to a measurement before
/// escaping it, so that an already-escaped name is not escaped twice.
fn unescape_for_key(name: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(b'\\', name).is_none() {
        return Cow::Borrowed(name);
    }
    let mut out = Vec::with_capacity(name.len());
    let mut i = 0;
    while i < name.len() {
        if name[i] == b'\\' && matches!(name.get(i + 1), Some(b',' | b' ')) {
            out.push(name[i + 1]);
            i += 2;
        } else {
            out.push(name[i]);
            i += 1;
        }
    }
    Cow::Owned(out)
}

/// Appends the series key built from unescaped parts, as InfluxDB's `MakeKey` does: the
/// escaped measurement, then `,key=value` for every tag in ascending byte order of the
/// (unescaped) key, escaped. Tags with an empty value are left out. `tags` is sorted in place.
pub fn append_series_key(out: &mut Vec<u8>, measurement: &[u8], tags: &mut [(&[u8], &[u8])]) {
    escape_measurement(out, &unescape_for_key(measurement));
    tags.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for (k, v) in tags.iter() {
        if v.is_empty() {
            continue;
        }
        out.push(b',');
        escape_tag(out, k);
        out.push(b'=');
        escape_tag(out, v);
    }
}

/// The series key built from unescaped parts (see [`append_series_key`]).
pub fn series_key(measurement: &[u8], tags: &mut [(&[u8], &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    append_series_key(&mut out, measurement, tags);
    out
}

/// Appends `series_key` + `#!~#` + `field` (the field key unescaped).
pub fn append_composite_key(out: &mut Vec<u8>, series_key: &[u8], field: &[u8]) {
    out.reserve(series_key.len() + 4 + field.len());
    out.extend_from_slice(series_key);
    out.extend_from_slice(FIELD_SEPARATOR);
    out.extend_from_slice(field);
}

/// `series_key` + `#!~#` + `field`.
pub fn composite_key(series_key: &[u8], field: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    append_composite_key(&mut out, series_key, field);
    out
}

/// Splits a composite key at the **first** `#!~#` into (series key, field key). Without a
/// separator the whole key is the series key and the field is empty (as InfluxDB does).
pub fn split_composite_key(key: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memmem::find(key, FIELD_SEPARATOR) {
        Some(i) => (&key[..i], &key[i + 4..]),
        None => (key, &[]),
    }
}

/// The measurement part of a series key, still escaped: everything up to the first `,` not
/// preceded by a backslash.
pub fn series_key_measurement(series_key: &[u8]) -> &[u8] {
    let mut from = 0;
    while let Some(p) = memchr::memchr(b',', &series_key[from..]) {
        let p = from + p;
        if p == 0 || series_key[p - 1] != b'\\' {
            return &series_key[..p];
        }
        from = p + 1;
    }
    series_key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_keys_like_make_key() {
        let mut tags: Vec<(&[u8], &[u8])> = vec![
            (b"region", b"us west"),
            (b"host", b"a,b"),
            (b"empty", b""),
            (b"k=1", b"v=2"),
        ];
        assert_eq!(
            series_key(b"cpu load", &mut tags),
            br"cpu\ load,host=a\,b,k\=1=v\=2,region=us\ west".to_vec()
        );
        // already escaped measurement is not escaped twice
        assert_eq!(series_key(br"cpu\ load", &mut []), br"cpu\ load".to_vec());
        // `=` in a measurement is not escaped
        assert_eq!(series_key(b"a=b", &mut []), b"a=b".to_vec());
    }

    #[test]
    fn composite_keys_split_at_first_separator() {
        let k = composite_key(br"cpu,host=a\ b", b"value x");
        assert_eq!(k, br"cpu,host=a\ b#!~#value x".to_vec());
        assert_eq!(
            split_composite_key(&k),
            (&br"cpu,host=a\ b"[..], &b"value x"[..])
        );
        assert_eq!(
            split_composite_key(b"a#!~#b#!~#c"),
            (&b"a"[..], &b"b#!~#c"[..])
        );
        assert_eq!(split_composite_key(b"cpu"), (&b"cpu"[..], &b""[..]));
    }

    #[test]
    fn measurement_of_series_key() {
        assert_eq!(series_key_measurement(br"a\,b,t=1"), br"a\,b");
        assert_eq!(series_key_measurement(b"cpu"), b"cpu");
    }
}
