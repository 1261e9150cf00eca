//! File names (spec §3.5): `GGGGGGGGG-SSSSSSSSS.tsm`, its temporary, tombstone and corrupt names.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Extension of a live TSM file.
pub const TSM_EXT: &str = "tsm";
/// Extension of a tombstone file.
pub const TOMBSTONE_EXT: &str = "tombstone";
/// Suffix of files being written.
pub const TMP_SUFFIX: &str = ".tmp";

/// The generation and sequence in a TSM file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId {
    /// Generation (a cache snapshot starts a new one; compaction keeps the highest input's).
    pub generation: u32,
    /// Sequence within the generation.
    pub sequence: u32,
}

impl FileId {
    /// A file id.
    pub const fn new(generation: u32, sequence: u32) -> FileId {
        FileId {
            generation,
            sequence,
        }
    }

    /// Parses a file name or path: the text before the first `.` of the file name, split at the
    /// first `-`, both base-10 u32 (as upstream does).
    pub fn parse(path: impl AsRef<Path>) -> Result<FileId> {
        let path = path.as_ref();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        let bad = || Error::BadName {
            name: path.display().to_string(),
        };
        let stem = name.split('.').next().unwrap_or_default();
        let (generation, sequence) = stem.split_once('-').ok_or_else(bad)?;
        let digits = |s: &str| {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse::<u32>().map_err(|_| bad())
        };
        Ok(FileId {
            generation: digits(generation)?,
            sequence: digits(sequence)?,
        })
    }

    /// The TSM file name, e.g. `000000001-000000002.tsm`.
    pub fn tsm_name(&self) -> String {
        format!("{self}.{TSM_EXT}")
    }

    /// The tombstone file name, e.g. `000000001-000000002.tombstone`.
    pub fn tombstone_name(&self) -> String {
        format!("{self}.{TOMBSTONE_EXT}")
    }
}

/// Formats as `%09d-%09d` (wider when a number needs more digits).
impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:09}-{:09}", self.generation, self.sequence)
    }
}

/// `path` with `.tmp` appended (`X.tsm` -> `X.tsm.tmp`).
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(TMP_SUFFIX);
    PathBuf::from(s)
}

/// The tombstone file of a TSM file: its extension replaced by `tombstone`.
pub fn tombstone_path(tsm_path: &Path) -> PathBuf {
    tsm_path.with_extension(TOMBSTONE_EXT)
}

/// Where a corrupt TSM file is moved aside: `X.tsm.bad`.
pub fn bad_path(tsm_path: &Path) -> PathBuf {
    let mut s = tsm_path.as_os_str().to_owned();
    s.push(".bad");
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_names() {
        let id = FileId::new(1, 2);
        assert_eq!(id.tsm_name(), "000000001-000000002.tsm");
        assert_eq!(id.tombstone_name(), "000000001-000000002.tombstone");
        assert_eq!(FileId::parse("/x/000000001-000000002.tsm").unwrap(), id);
        assert_eq!(FileId::parse("000000001-000000002.tsm.tmp").unwrap(), id);
        let big = FileId::new(u32::MAX, 1_000_000_000);
        assert_eq!(big.to_string(), "4294967295-1000000000");
        assert_eq!(FileId::parse(big.tsm_name()).unwrap(), big);
    }

    #[test]
    fn rejects_bad_names() {
        for name in [
            "",
            "x.tsm",
            "1.tsm",
            "-1.tsm",
            "1-.tsm",
            "a-1.tsm",
            "1-2-3.tsm",
            "4294967296-1.tsm",
            "+1-2.tsm",
        ] {
            let err = FileId::parse(name).unwrap_err();
            assert!(
                err.to_string().contains("named incorrectly"),
                "{name}: {err}"
            );
        }
    }

    #[test]
    fn sorts_numerically_not_by_string() {
        let mut ids = vec![FileId::new(10, 1), FileId::new(9, 2), FileId::new(9, 10)];
        ids.sort();
        assert_eq!(
            ids,
            vec![FileId::new(9, 2), FileId::new(9, 10), FileId::new(10, 1)]
        );
    }

    #[test]
    fn derived_paths() {
        let p = Path::new("/d/000000001-000000002.tsm");
        assert_eq!(tmp_path(p), Path::new("/d/000000001-000000002.tsm.tmp"));
        assert_eq!(
            tombstone_path(p),
            Path::new("/d/000000001-000000002.tombstone")
        );
        assert_eq!(bad_path(p), Path::new("/d/000000001-000000002.tsm.bad"));
    }
}
