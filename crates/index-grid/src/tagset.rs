//! Canonical tag sets (spec §5.2): sorted by key, keys unique and non-empty, empty values dropped.

use crate::error::{Error, Result, lossy};

/// The separator InfluxDB puts between a series key and a field name; forbidden in names.
const FIELD_SEPARATOR: &[u8] = b"#!~#";
/// InfluxDB's limit on the length of a series key.
const MAX_SERIES_KEY: usize = 65535;

/// A tag set borrowed from the caller, in canonical form.
pub(crate) type Tags<'a> = Vec<(&'a [u8], &'a [u8])>;

/// Validates and canonicalises `(measurement, tags)`; the result is sorted by key.
pub(crate) fn canonical<'a>(measurement: &[u8], tags: &[(&'a [u8], &'a [u8])]) -> Result<Tags<'a>> {
    check_name(measurement, "measurement")?;
    for &(k, v) in tags {
        if k.is_empty() {
            return Err(Error::EmptyTagKey);
        }
        check_name(k, "tag key")?;
        check_name(v, "tag value")?;
    }
    let out = sorted(tags)?;
    check_length(measurement, &out)?;
    Ok(out)
}

/// The structural half of [`canonical`]: keys non-empty and unique, empty values dropped, sorted
/// by key — without the checks of names and length, which [`validate`] does. An insert runs
/// `validate` only for a series it has not found: a stored series passed it when it was
/// created, and its bytes are the input's. (Keys of dropped tags are checked here: they are
/// not part of any stored series.)
pub(crate) fn sorted<'a>(tags: &[(&'a [u8], &'a [u8])]) -> Result<Tags<'a>> {
    let mut out: Tags<'a> = Vec::with_capacity(tags.len());
    for &(k, v) in tags {
        if k.is_empty() {
            return Err(Error::EmptyTagKey);
        }
        if v.is_empty() {
            check_name(k, "tag key")?;
        } else {
            out.push((k, v));
        }
    }
    if !out.windows(2).all(|w| w[0].0 < w[1].0) {
        out.sort_by(|a, b| a.0.cmp(b.0));
        if let Some(w) = out.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(Error::DuplicateTagKey(lossy(w[0].0)));
        }
    }
    // A duplicate key whose second value was empty is still a duplicate key.
    if tags.len() != out.len() {
        let mut keys: Vec<&[u8]> = tags.iter().map(|t| t.0).collect();
        keys.sort_unstable();
        if let Some(w) = keys.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::DuplicateTagKey(lossy(w[0])));
        }
    }
    Ok(out)
}

/// Names and length of a [`sorted`] tag set (the rest of [`canonical`]).
pub(crate) fn validate(measurement: &[u8], tags: &[(&[u8], &[u8])]) -> Result<()> {
    check_name(measurement, "measurement")?;
    for &(k, v) in tags {
        check_name(k, "tag key")?;
        check_name(v, "tag value")?;
    }
    check_length(measurement, tags)
}

/// InfluxDB's limit on the series key length.
fn check_length(measurement: &[u8], out: &[(&[u8], &[u8])]) -> Result<()> {
    // escaping at most doubles a name: count escapes only when that could pass the limit
    let raw = measurement.len()
        + out
            .iter()
            .map(|(k, v)| 2 + k.len() + v.len())
            .sum::<usize>();
    if raw.saturating_mul(2) <= MAX_SERIES_KEY {
        return Ok(());
    }
    let len = escaped_len(measurement, b", ")
        + out
            .iter()
            .map(|(k, v)| 2 + escaped_len(k, b", =") + escaped_len(v, b", ="))
            .sum::<usize>();
    if len > MAX_SERIES_KEY {
        return Err(Error::InvalidKey(format!(
            "series key of {len} bytes exceeds {MAX_SERIES_KEY}"
        )));
    }
    Ok(())
}

fn check_name(b: &[u8], what: &str) -> Result<()> {
    // the separator starts with '#': a byte search rules out nearly every name
    if !has_byte(b, FIELD_SEPARATOR[0]) {
        return Ok(());
    }
    if b.windows(FIELD_SEPARATOR.len())
        .any(|w| w == FIELD_SEPARATOR)
    {
        return Err(Error::InvalidKey(format!(
            "{what} {:?} contains \"#!~#\"",
            lossy(b)
        )));
    }
    Ok(())
}

/// Whether `b` contains `needle`, eight bytes at a time. Names are short: `memchr`'s setup
/// cost more than the search (a tenth of an insert's instructions, callgrind).
fn has_byte(b: &[u8], needle: u8) -> bool {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let pattern = LOW * u64::from(needle);
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        // a zero byte of x is a byte equal to the needle (the classic has-zero-byte test)
        let x = u64::from_le_bytes(word) ^ pattern;
        if x.wrapping_sub(LOW) & !x & HIGH != 0 {
            return true;
        }
    }
    words.remainder().contains(&needle)
}

/// Length of `b` in a series key, where each byte of `special` is escaped with a backslash.
fn escaped_len(b: &[u8], special: &[u8]) -> usize {
    b.len() + b.iter().filter(|c| special.contains(c)).count()
}

/// Fingerprint of one byte string (dictionary keys); stable across runs and machines.
pub(crate) fn fingerprint(b: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_search_agrees_with_contains() {
        for len in 0..40 {
            for at in 0..=len {
                let mut b: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                if at < len {
                    b[at] = b'#';
                }
                assert_eq!(has_byte(&b, b'#'), b.contains(&b'#'), "{len} {at}");
                // neighbours of the needle and high bytes are not false positives
                let other: Vec<u8> = b
                    .iter()
                    .map(|&c| if c == b'#' { 0xa3 } else { 0x22 })
                    .collect();
                assert!(!has_byte(&other, b'#'));
            }
        }
    }

    #[test]
    fn sorts_drops_empty_and_rejects_bad_keys() {
        let t = canonical(b"m", &[(b"b", b"2"), (b"a", b"1"), (b"c", b"")]).unwrap();
        assert_eq!(t, vec![(&b"a"[..], &b"1"[..]), (&b"b"[..], &b"2"[..])]);
        assert!(matches!(
            canonical(b"m", &[(b"a", b"1"), (b"a", b"2")]),
            Err(Error::DuplicateTagKey(_))
        ));
        assert!(matches!(
            canonical(b"m", &[(b"a", b"1"), (b"a", b"")]),
            Err(Error::DuplicateTagKey(_))
        ));
        assert!(matches!(
            canonical(b"m", &[(b"", b"1")]),
            Err(Error::EmptyTagKey)
        ));
        assert!(matches!(
            canonical(b"m#!~#x", &[]),
            Err(Error::InvalidKey(_))
        ));
        assert!(matches!(
            canonical(b"m", &[(b"k", b"v#!~#")]),
            Err(Error::InvalidKey(_))
        ));
        let long = vec![b'x'; 70000];
        assert!(matches!(canonical(&long, &[]), Err(Error::InvalidKey(_))));
        // escapes count: 33,000 commas are 66,000 bytes in a series key, 32,000 are 64,000
        assert!(matches!(
            canonical(&vec![b','; 33_000], &[]),
            Err(Error::InvalidKey(_))
        ));
        assert!(canonical(&vec![b','; 32_000], &[]).is_ok());
        assert!(matches!(
            canonical(b"m", &[(b"k", &vec![b'='; 33_000])]),
            Err(Error::InvalidKey(_))
        ));
        assert!(canonical(b"m", &[]).unwrap().is_empty());
    }
}
