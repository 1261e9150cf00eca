//! Series keys in and out of their parts.
//!
//! The engine stores canonical keys: built by `tsmdb_lineproto::series_key` from the unescaped
//! measurement and tags, so that a series id from the index maps back to exactly one key.

use std::borrow::Cow;

use tsmdb_lineproto::{split_composite_key, unescape_measurement, unescape_tag};

/// A series key's unescaped measurement and tags (in key order).
pub type SeriesParts<'a> = (Cow<'a, [u8]>, Vec<(Cow<'a, [u8]>, Cow<'a, [u8]>)>);

/// Splits an escaped series key into its unescaped measurement and tags. `None` when a tag has no
/// unescaped `=` (a key no writer of ours produces; foreign files may hold such keys).
pub fn parse_series_key(key: &[u8]) -> Option<SeriesParts<'_>> {
    let mut parts = split_unescaped(key, b',');
    let measurement = unescape_measurement(parts.next()?);
    let mut tags = Vec::new();
    for tag in parts {
        let eq = find_unescaped(tag, b'=')?;
        tags.push((unescape_tag(&tag[..eq]), unescape_tag(&tag[eq + 1..])));
    }
    Some((measurement, tags))
}

/// Splits a composite key (`series key#!~#field`) into the series key and the field.
pub fn split_key(key: &[u8]) -> (&[u8], &[u8]) {
    split_composite_key(key)
}

fn find_unescaped(s: &[u8], needle: u8) -> Option<usize> {
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            // Only `\` before a byte of the escape set is an escape; any other backslash is a
            // literal byte (the rule `unescape_tag` applies).
            b'\\' if matches!(s.get(i + 1), Some(b',' | b' ' | b'=' | b'"')) => i += 2,
            c if c == needle => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn split_unescaped(s: &[u8], sep: u8) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let cur = rest?;
        match find_unescaped(cur, sep) {
            Some(i) => {
                rest = Some(&cur[i + 1..]);
                Some(&cur[..i])
            }
            None => {
                rest = None;
                Some(cur)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escaped_separators_stay_inside_their_part() {
        let (m, tags) = parse_series_key(br"c\ p\,u,h\=x=a\,b\ c,z=1").unwrap();
        assert_eq!(&*m, b"c p,u");
        assert_eq!(tags.len(), 2);
        assert_eq!((&*tags[0].0, &*tags[0].1), (&b"h=x"[..], &b"a,b c"[..]));
        assert_eq!((&*tags[1].0, &*tags[1].1), (&b"z"[..], &b"1"[..]));
        assert!(parse_series_key(b"cpu,novalue").is_none());
    }

    proptest! {
        #[test]
        fn built_keys_parse_back_to_their_parts(
            // InfluxDB's key format is itself ambiguous for a part ending in a backslash and for a
            // measurement holding `\=` (escaping keeps it, unescaping removes the backslash).
            m in "[a-z ,=]{0,7}[a-z]",
            tags in proptest::collection::btree_map("[a-z ,=]{1,6}", "[a-z ,=\\\\]{0,5}[a-z]", 0..4),
        ) {
            let mut pairs: Vec<(&[u8], &[u8])> =
                tags.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes())).collect();
            let key = tsmdb_lineproto::series_key(m.as_bytes(), &mut pairs);
            let (pm, ptags) = parse_series_key(&key).unwrap();
            prop_assert_eq!(&*pm, m.as_bytes());
            let got: Vec<(Vec<u8>, Vec<u8>)> =
                ptags.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
            let want: Vec<(Vec<u8>, Vec<u8>)> =
                pairs.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
            prop_assert_eq!(got, want);
        }
    }
}
