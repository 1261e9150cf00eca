//! Tombstone files (spec §4): read versions 1 to 4, write version 4.
//!
//! Unlike InfluxDB, adding deletes to a v1/v2/v3 file keeps every earlier entry (spec §12.1 D6):
//! the old entries are converted into the first gzip member of a new v4 file. Every length read from
//! a file is checked against the key-length limit before anything is allocated.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::bufread::MultiGzDecoder;
use flate2::write::GzEncoder;

use crate::error::{Error, IoContext, Result};
use crate::format::{MAX_KEY_LEN, TimeRange};
use crate::fsutil::commit_rename;
use crate::naming::tmp_path;

/// Header of a v2 tombstone file.
pub const V2_HEADER: u32 = 0x0000_1502;
/// Header of a v3 tombstone file.
pub const V3_HEADER: u32 = 0x0000_1503;
/// Header of a v4 tombstone file.
pub const V4_HEADER: u32 = 0x0000_1504;

/// One delete: the values of `key` with times in `range`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tombstone {
    /// The composite key.
    pub key: Vec<u8>,
    /// Deleted times, inclusive.
    pub range: TimeRange,
}

/// The on-disk version of a tombstone file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TombstoneVersion {
    /// Text, one key per line, each deleted entirely.
    V1,
    /// Raw records.
    V2,
    /// One gzip stream of records.
    V3,
    /// One or more gzip members of records.
    V4,
}

/// Reads every tombstone of a file; a missing file has none.
pub fn read_tombstones(path: impl AsRef<Path>) -> Result<Vec<Tombstone>> {
    let path = path.as_ref();
    match std::fs::read(path) {
        Ok(bytes) => parse_tombstones(path, &bytes).map(|(_, t)| t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::Io {
            path: path.to_path_buf(),
            error: e,
        }),
    }
}

/// Parses the bytes of a tombstone file (`path` is only used in errors).
pub fn parse_tombstones(path: &Path, bytes: &[u8]) -> Result<(TombstoneVersion, Vec<Tombstone>)> {
    let corrupt = |what: String| Error::CorruptTombstone {
        path: path.to_path_buf(),
        what,
    };
    let header = bytes.first_chunk::<4>().map(|h| u32::from_be_bytes(*h));
    let body = bytes.get(4..).unwrap_or_default();
    match header {
        Some(V2_HEADER) => {
            let mut out = Vec::new();
            read_records(&mut &body[..], 4, &mut out).map_err(corrupt)?;
            Ok((TombstoneVersion::V2, out))
        }
        Some(V3_HEADER) | Some(V4_HEADER) => {
            let version = if header == Some(V3_HEADER) {
                TombstoneVersion::V3
            } else {
                TombstoneVersion::V4
            };
            let mut out = Vec::new();
            if !body.is_empty() {
                let mut gz = MultiGzDecoder::new(body);
                read_records(&mut gz, 4, &mut out)
                    .map_err(|e| corrupt(format!("in gzip data: {e}")))?;
            }
            Ok((version, out))
        }
        _ => Ok((TombstoneVersion::V1, parse_v1(bytes))),
    }
}

/// v1: one key per line, each deleted over all time; blank lines ignored.
fn parse_v1(bytes: &[u8]) -> Vec<Tombstone> {
    bytes
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| Tombstone {
            key: line.to_vec(),
            range: TimeRange::ALL,
        })
        .collect()
}

/// Reads `keyLen u32 | key | min i64 | max i64` records until a clean end of input.
/// `base` is the offset of the first byte (for error messages on raw v2 data).
fn read_records(
    r: &mut impl Read,
    base: u64,
    out: &mut Vec<Tombstone>,
) -> std::result::Result<(), String> {
    let mut pos = base;
    loop {
        let mut len = [0u8; 4];
        match read_full(r, &mut len).map_err(|e| e.to_string())? {
            0 => return Ok(()),
            4 => {}
            n => {
                return Err(format!(
                    "record at offset {pos}: key length cut short after {n} bytes"
                ));
            }
        }
        let key_len = u32::from_be_bytes(len) as usize;
        if key_len > MAX_KEY_LEN {
            return Err(format!(
                "record at offset {pos}: key length {key_len} exceeds 65535"
            ));
        }
        let mut key = vec![0u8; key_len];
        let mut times = [0u8; 16];
        if read_full(r, &mut key).map_err(|e| e.to_string())? != key_len
            || read_full(r, &mut times).map_err(|e| e.to_string())? != 16
        {
            return Err(format!("record at offset {pos}: truncated"));
        }
        let (min, max) = times.split_at(8);
        let range = TimeRange::new(
            i64::from_be_bytes(min.try_into().unwrap_or_default()),
            i64::from_be_bytes(max.try_into().unwrap_or_default()),
        );
        out.push(Tombstone { key, range });
        pos += 4 + key_len as u64 + 16;
    }
}

/// Fills `buf` as far as the input goes; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Appends `records` in the on-disk record layout.
fn encode_records(records: &[Tombstone], out: &mut Vec<u8>) {
    for t in records {
        out.extend_from_slice(&(t.key.len() as u32).to_be_bytes());
        out.extend_from_slice(&t.key);
        out.extend_from_slice(&t.range.min.to_be_bytes());
        out.extend_from_slice(&t.range.max.to_be_bytes());
    }
}

/// One gzip member holding `records`.
fn gzip_member(records: &[Tombstone]) -> std::io::Result<Vec<u8>> {
    let mut raw = Vec::new();
    encode_records(records, &mut raw);
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&raw)?;
    gz.finish()
}

/// Adds `records` to the tombstone file at `path` (created if missing), atomically.
///
/// A v4 file is copied unchanged and one gzip member appended; a v1/v2/v3 file is converted to v4
/// with all its entries kept. Written to `path.tmp` (which must not exist), fsynced, renamed over
/// `path`, directory fsynced. Keys longer than 65,535 bytes are rejected.
pub fn append_tombstones(path: impl AsRef<Path>, records: &[Tombstone]) -> Result<()> {
    let path = path.as_ref();
    if let Some(t) = records.iter().find(|t| t.key.len() > MAX_KEY_LEN) {
        return Err(Error::KeyTooLong { len: t.key.len() });
    }
    let existing = match std::fs::read(path) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(Error::Io {
                path: path.to_path_buf(),
                error: e,
            });
        }
    };
    let mut content = Vec::new();
    match existing {
        Some(bytes) if bytes.first_chunk::<4>() == Some(&V4_HEADER.to_be_bytes()) => {
            // Validate before copying, so a corrupt file is reported rather than extended.
            parse_tombstones(path, &bytes)?;
            content = bytes;
        }
        Some(bytes) => {
            let (_, old) = parse_tombstones(path, &bytes)?;
            content.extend_from_slice(&V4_HEADER.to_be_bytes());
            if !old.is_empty() {
                content.extend(gzip_member(&old).at(path)?);
            }
        }
        None => content.extend_from_slice(&V4_HEADER.to_be_bytes()),
    }
    if !records.is_empty() {
        content.extend(gzip_member(records).at(path)?);
    }
    write_atomically(path, &content)
}

fn write_atomically(path: &Path, content: &[u8]) -> Result<()> {
    let tmp: PathBuf = tmp_path(path);
    let mut file: File = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .at(&tmp)?;
    let result = file
        .write_all(content)
        .and_then(|()| file.sync_all())
        .at(&tmp);
    drop(file);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    commit_rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(key: &str, min: i64, max: i64) -> Tombstone {
        Tombstone {
            key: key.as_bytes().to_vec(),
            range: TimeRange::new(min, max),
        }
    }

    #[test]
    fn spec_v4_example_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("000000001-000000001.tombstone");
        append_tombstones(&path, &[t("a", 1, 2)]).unwrap();
        append_tombstones(&path, &[t("b", 3, 4)]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..4], &[0, 0, 0x15, 0x04]);
        // two gzip members follow the header
        let members = bytes
            .windows(3)
            .filter(|w| w == &[0x1f, 0x8b, 0x08])
            .count();
        assert!(members >= 2);
        assert_eq!(
            read_tombstones(&path).unwrap(),
            vec![t("a", 1, 2), t("b", 3, 4)]
        );
        assert!(!tmp_path(&path).exists());
    }

    #[test]
    fn reads_every_version_and_keeps_old_entries_on_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        // v1
        let p1 = dir.path().join("v1.tombstone");
        std::fs::write(&p1, b"cpu#!~#a\n\nmem#!~#b\n").unwrap();
        assert_eq!(
            read_tombstones(&p1).unwrap(),
            vec![
                t("cpu#!~#a", i64::MIN, i64::MAX),
                t("mem#!~#b", i64::MIN, i64::MAX)
            ]
        );
        // v2
        let p2 = dir.path().join("v2.tombstone");
        let mut b = V2_HEADER.to_be_bytes().to_vec();
        encode_records(&[t("x", -1, 5)], &mut b);
        std::fs::write(&p2, &b).unwrap();
        assert_eq!(read_tombstones(&p2).unwrap(), vec![t("x", -1, 5)]);
        // v3
        let p3 = dir.path().join("v3.tombstone");
        let mut b = V3_HEADER.to_be_bytes().to_vec();
        b.extend(gzip_member(&[t("y", 7, 8), t("z", 9, 9)]).unwrap());
        std::fs::write(&p3, &b).unwrap();
        assert_eq!(
            read_tombstones(&p3).unwrap(),
            vec![t("y", 7, 8), t("z", 9, 9)]
        );
        // upgrading keeps the old entries (InfluxDB drops them)
        for (p, old) in [
            (
                &p1,
                vec![
                    t("cpu#!~#a", i64::MIN, i64::MAX),
                    t("mem#!~#b", i64::MIN, i64::MAX),
                ],
            ),
            (&p2, vec![t("x", -1, 5)]),
            (&p3, vec![t("y", 7, 8), t("z", 9, 9)]),
        ] {
            append_tombstones(p, &[t("new", 1, 1)]).unwrap();
            let bytes = std::fs::read(p).unwrap();
            assert_eq!(&bytes[..4], &V4_HEADER.to_be_bytes());
            let mut want = old;
            want.push(t("new", 1, 1));
            assert_eq!(read_tombstones(p).unwrap(), want);
        }
    }

    #[test]
    fn empty_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.tombstone");
        assert!(read_tombstones(&p).unwrap().is_empty());
        std::fs::write(&p, b"").unwrap();
        assert!(read_tombstones(&p).unwrap().is_empty());
        std::fs::write(&p, V4_HEADER.to_be_bytes()).unwrap();
        assert!(read_tombstones(&p).unwrap().is_empty());
        // a 0-byte v1 file gains a header on upgrade
        std::fs::write(&p, b"").unwrap();
        append_tombstones(&p, &[t("k", 1, 2)]).unwrap();
        assert_eq!(read_tombstones(&p).unwrap(), vec![t("k", 1, 2)]);
    }

    #[test]
    fn corrupt_files_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.tombstone");
        let mut b = V2_HEADER.to_be_bytes().to_vec();
        b.extend_from_slice(&u32::MAX.to_be_bytes());
        std::fs::write(&p, &b).unwrap();
        let e = read_tombstones(&p).unwrap_err().to_string();
        assert!(
            e.contains("exceeds 65535") && e.contains("x.tombstone"),
            "{e}"
        );
        let mut b = V2_HEADER.to_be_bytes().to_vec();
        encode_records(&[t("abc", 1, 2)], &mut b);
        b.pop();
        std::fs::write(&p, &b).unwrap();
        assert!(
            read_tombstones(&p)
                .unwrap_err()
                .to_string()
                .contains("truncated")
        );
        let mut b = V4_HEADER.to_be_bytes().to_vec();
        b.extend_from_slice(b"not gzip at all");
        std::fs::write(&p, &b).unwrap();
        assert!(read_tombstones(&p).is_err());
        // a corrupt v4 file is not extended
        assert!(append_tombstones(&p, &[t("k", 1, 2)]).is_err());
    }

    #[test]
    fn a_stale_temp_file_blocks_the_write() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.tombstone");
        std::fs::write(tmp_path(&p), b"").unwrap();
        assert!(append_tombstones(&p, &[t("k", 1, 2)]).is_err());
    }

    proptest::proptest! {
        // Appends fsync twice each: keep the case count modest.
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 32, failure_persistence: None, ..Default::default() })]
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), header in 0u8..6) {
            let mut b = vec![0, 0, 0x15, header];
            b.extend_from_slice(&bytes);
            let _ = parse_tombstones(Path::new("x"), &b);
            let _ = parse_tombstones(Path::new("x"), &bytes);
        }

        #[test]
        fn appended_records_read_back_in_order(
            batches in proptest::collection::vec(
                proptest::collection::vec((proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40), proptest::prelude::any::<i64>(), proptest::prelude::any::<i64>()), 0..5),
                1..4),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("x.tombstone");
            let mut want = Vec::new();
            for batch in &batches {
                let records: Vec<Tombstone> = batch
                    .iter()
                    .map(|(k, a, b)| Tombstone { key: k.clone(), range: TimeRange::new(*a, *b) })
                    .collect();
                append_tombstones(&p, &records).unwrap();
                want.extend(records);
            }
            proptest::prop_assert_eq!(read_tombstones(&p).unwrap(), want);
        }
    }
}
