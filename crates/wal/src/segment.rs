//! Segment file names and directory housekeeping.

use std::path::{Path, PathBuf};

use crate::error::WalError;
use crate::io::{RealStorage, Storage};

/// A segment file on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    /// The numeric ID from the name (`_00042.wal` is 42).
    pub id: u64,
    /// Full path.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
}

/// The file name of segment `id`: `_` + at least five digits + `.wal`.
pub fn segment_file_name(id: u64) -> String {
    format!("_{id:05}.wal")
}

/// The ID of a segment file name, or `None` when the name is not `_<digits>.wal`.
pub fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix('_')?.strip_suffix(".wal")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Every segment in `dir`, sorted by numeric ID (not by name: `_100000.wal` comes after
/// `_99999.wal`).
pub fn list_segments(dir: &Path) -> Result<Vec<SegmentInfo>, WalError> {
    list_segments_in(&RealStorage, dir)
}

pub(crate) fn list_segments_in(
    storage: &dyn Storage,
    dir: &Path,
) -> Result<Vec<SegmentInfo>, WalError> {
    let names = storage
        .list(dir)
        .map_err(|e| WalError::io("listing", dir, e))?;
    let mut segments: Vec<SegmentInfo> = names
        .into_iter()
        .filter_map(|(name, size)| {
            let id = parse_segment_file_name(&name)?;
            Some(SegmentInfo {
                id,
                path: dir.join(name),
                size,
            })
        })
        .collect();
    segments.sort_by_key(|s| s.id);
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn names_round_trip_and_sort_numerically() {
        assert_eq!(segment_file_name(1), "_00001.wal");
        assert_eq!(segment_file_name(123456), "_123456.wal");
        for id in [0, 1, 99999, 100000, u64::MAX] {
            assert_eq!(parse_segment_file_name(&segment_file_name(id)), Some(id));
        }
        for bad in [
            "00001.wal",
            "_.wal",
            "_0001a.wal",
            "_00001.wal.tmp",
            "_00001.wal.corrupt",
        ] {
            assert_eq!(parse_segment_file_name(bad), None, "{bad}");
        }
        let dir = tempfile::tempdir().unwrap();
        for id in [100000, 99999, 2] {
            fs::write(dir.path().join(segment_file_name(id)), b"x").unwrap();
        }
        fs::write(dir.path().join("_00003.wal.corrupt"), b"x").unwrap();
        let ids: Vec<u64> = list_segments(dir.path())
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(ids, [2, 99999, 100000]);
    }
}
