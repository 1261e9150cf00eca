//! Reading a segment's bytes entry by entry, and telling a torn tail from corruption.
//!
//! The format has no checksum, so strict validation is the integrity check: type byte 1–3, a
//! length that fits in the file, a snappy block that decodes, and a payload that decodes
//! completely. A bad entry is a *torn tail* (what a crash leaves) only when it is in the last
//! segment and nothing follows it but its own bytes or zeros; anything else is *corruption*.

use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::entry::{DecodeError, Entry, HEADER_LEN};
use crate::error::WalError;

/// How replay treats corruption (a bad entry that is not a torn tail).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecoveryPolicy {
    /// Stop: opening fails with [`WalError::Corrupt`] naming the segment and offset.
    #[default]
    Strict,
    /// Skip and report: keep a copy as `<segment>.corrupt`, skip to the next offset where a whole
    /// entry validates, report each skipped byte range as [`Damage`], and go on.
    Salvage,
}

/// What kind of damage replay found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DamageKind {
    /// A partial entry at the end of the last segment: the expected result of a crash.
    TornTail,
    /// A bad entry with more data after it, or in a segment that is not the last.
    Corrupt,
}

/// One damaged byte range of a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The segment file.
    pub segment: PathBuf,
    /// The bytes that were not replayed.
    pub bytes: Range<u64>,
    /// Torn tail or corruption.
    pub kind: DamageKind,
    /// What is wrong with the entry at `bytes.start`.
    pub reason: String,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            DamageKind::TornTail => "torn tail",
            DamageKind::Corrupt => "corrupt entry",
        };
        write!(
            f,
            "{kind} in {} at offset {} ({} bytes not replayed): {}",
            self.segment.display(),
            self.bytes.start,
            self.bytes.end - self.bytes.start,
            self.reason
        )
    }
}

/// Where an entry is: segment, byte offset of its header and its number in replay order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryPosition {
    /// The segment's ID.
    pub segment: u64,
    /// Byte offset of the entry's header in the segment.
    pub offset: u64,
    /// Entry number, counting from 0 over everything replayed in this call.
    pub index: u64,
}

/// Why the frame at some offset is not a valid entry.
#[derive(Debug)]
enum FrameError {
    /// The header or the block runs past the end of the data.
    Incomplete(&'static str),
    /// The frame is complete (ending at `end`) but does not decode.
    Invalid { end: usize, error: DecodeError },
}

impl FrameError {
    fn reason(&self) -> String {
        match self {
            FrameError::Incomplete(r) => (*r).to_string(),
            FrameError::Invalid { error, .. } => error.to_string(),
        }
    }
}

/// Decodes the frame at `offset` into `entry`; returns the offset after it.
fn read_frame(data: &[u8], offset: usize, entry: &mut Entry) -> Result<usize, FrameError> {
    let header = data
        .get(offset..offset + HEADER_LEN)
        .ok_or(FrameError::Incomplete("partial entry header"))?;
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    let start = offset + HEADER_LEN;
    // The length is checked against the data before anything is sized by it.
    let block = data
        .get(start..start.saturating_add(len))
        .ok_or(FrameError::Incomplete(
            "entry length runs past the end of the segment",
        ))?;
    let end = start + len;
    entry
        .decode(header[0], block)
        .map_err(|error| FrameError::Invalid { end, error })?;
    Ok(end)
}

/// The result of scanning one segment.
#[derive(Debug, Default)]
pub struct SegmentScan {
    /// Entries delivered to the visitor.
    pub entries: u64,
    /// Byte ranges holding whole valid entries, in order.
    pub good: Vec<Range<u64>>,
    /// Damaged ranges, in order.
    pub damage: Vec<Damage>,
    /// Offset of a torn tail, if the segment ends in one.
    pub torn_tail_at: Option<u64>,
    /// True when scanning stopped at corruption (strict policy) without reading the rest.
    pub stopped: bool,
}

impl SegmentScan {
    /// The first corruption (not a torn tail), if any.
    pub fn first_corruption(&self) -> Option<&Damage> {
        self.damage.iter().find(|d| d.kind == DamageKind::Corrupt)
    }
}

/// One segment's bytes and where they came from.
#[derive(Debug, Clone, Copy)]
pub struct ScanInput<'a> {
    /// The whole segment.
    pub data: &'a [u8],
    /// Its path (for damage reports).
    pub path: &'a Path,
    /// Its ID.
    pub id: u64,
    /// True for the last non-empty segment, the only place a torn tail can be.
    pub is_last: bool,
}

/// Scans a segment's bytes, calling `visit` for every valid entry.
///
/// With [`RecoveryPolicy::Strict`] the scan stops at the first corruption; with
/// [`RecoveryPolicy::Salvage`] it skips to the next offset where a whole entry validates.
pub fn scan_segment_bytes(
    input: ScanInput<'_>,
    policy: RecoveryPolicy,
    first_index: u64,
    entry: &mut Entry,
    visit: &mut dyn FnMut(EntryPosition, &Entry),
) -> SegmentScan {
    let ScanInput {
        data,
        path: segment,
        id: segment_id,
        is_last,
    } = input;
    let mut scan = SegmentScan::default();
    let mut offset = 0usize;
    let total = data.len() as u64;
    while offset < data.len() {
        match read_frame(data, offset, entry) {
            Ok(next) => {
                visit(
                    EntryPosition {
                        segment: segment_id,
                        offset: offset as u64,
                        index: first_index + scan.entries,
                    },
                    entry,
                );
                scan.entries += 1;
                push_range(&mut scan.good, offset as u64..next as u64);
                offset = next;
            }
            Err(err) => {
                let tail_shaped = match &err {
                    FrameError::Incomplete(_) => true,
                    FrameError::Invalid { end, .. } => {
                        *end == data.len() || data[offset..].iter().all(|&b| b == 0)
                    }
                };
                let mut damage = Damage {
                    segment: segment.to_path_buf(),
                    bytes: offset as u64..total,
                    kind: DamageKind::TornTail,
                    reason: err.reason(),
                };
                if is_last && tail_shaped {
                    scan.torn_tail_at = Some(offset as u64);
                    scan.damage.push(damage);
                    break;
                }
                damage.kind = DamageKind::Corrupt;
                if policy == RecoveryPolicy::Strict {
                    scan.damage.push(damage);
                    scan.stopped = true;
                    break;
                }
                match next_valid_offset(data, offset + 1) {
                    Some(resume) => {
                        damage.bytes.end = resume as u64;
                        scan.damage.push(damage);
                        offset = resume;
                    }
                    None => {
                        scan.damage.push(damage);
                        break;
                    }
                }
            }
        }
    }
    scan
}

/// The first offset at or after `from` where a whole entry validates.
fn next_valid_offset(data: &[u8], from: usize) -> Option<usize> {
    let mut scratch = Entry::new();
    (from..data.len()).find(|&o| {
        matches!(data[o], 1..=3) && o + HEADER_LEN <= data.len() && {
            read_frame(data, o, &mut scratch).is_ok()
        }
    })
}

fn push_range(ranges: &mut Vec<Range<u64>>, r: Range<u64>) {
    match ranges.last_mut() {
        Some(last) if last.end == r.start => last.end = r.end,
        _ => ranges.push(r),
    }
}

/// Reads a whole file into `buf` (cleared first).
pub(crate) fn read_file(path: &Path, buf: &mut Vec<u8>) -> Result<(), WalError> {
    buf.clear();
    File::open(path)
        .and_then(|mut f| f.read_to_end(buf))
        .map_err(|e| WalError::io("reading", path, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{EntryKind, encode_frame, encode_write_payload};
    use crate::record::Record;
    use tsmdb_encoding::ColumnRef;

    fn frames(n: usize) -> (Vec<u8>, Vec<usize>) {
        let mut out = Vec::new();
        let mut ends = Vec::new();
        let mut enc = snap::raw::Encoder::new();
        for i in 0..n {
            let mut p = Vec::new();
            let v = [i as f64; 3];
            encode_write_payload(
                &[Record {
                    key: format!("cpu#!~#f{i}").as_bytes(),
                    timestamps: &[1, 2, 3],
                    values: ColumnRef::Float(&v),
                }],
                &mut p,
            )
            .unwrap();
            encode_frame(EntryKind::Write, &p, &mut enc, &mut out).unwrap();
            ends.push(out.len());
        }
        (out, ends)
    }

    fn scan(data: &[u8], is_last: bool, policy: RecoveryPolicy) -> SegmentScan {
        let mut e = Entry::new();
        let input = ScanInput {
            data,
            path: Path::new("_00001.wal"),
            id: 1,
            is_last,
        };
        scan_segment_bytes(input, policy, 0, &mut e, &mut |_, _| {})
    }

    #[test]
    fn zero_filled_tail_is_torn_but_zeros_mid_file_are_corrupt() {
        let (mut data, ends) = frames(3);
        data.extend_from_slice(&[0; 100]);
        let s = scan(&data, true, RecoveryPolicy::Strict);
        assert_eq!(s.entries, 3);
        assert_eq!(s.torn_tail_at, Some(ends[2] as u64));
        let s = scan(&data, false, RecoveryPolicy::Strict);
        assert_eq!(s.first_corruption().unwrap().bytes.start, ends[2] as u64);
    }

    #[test]
    fn salvage_skips_a_damaged_entry_and_reports_the_range() {
        let (mut data, ends) = frames(4);
        data[ends[0]] = 9; // entry 1's type byte
        let s = scan(&data, true, RecoveryPolicy::Salvage);
        assert_eq!(s.entries, 3);
        assert_eq!(s.damage.len(), 1);
        assert_eq!(s.damage[0].bytes, ends[0] as u64..ends[1] as u64);
        assert_eq!(
            s.good,
            vec![0..ends[0] as u64, ends[1] as u64..ends[3] as u64]
        );
        let s = scan(&data, true, RecoveryPolicy::Strict);
        assert!(s.stopped);
        assert_eq!(s.entries, 1);
        assert!(s.damage[0].reason.contains("unknown wal entry type: 9"));
    }
}
