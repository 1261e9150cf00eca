//! Where things live in a data directory (see `docs/engine.md`):
//!
//! ```text
//! DIR/LOCK                                  exclusive lock of the process that has DIR open
//! DIR/<database>/database.meta              retention (text, `retention_ns=N`)
//! DIR/<database>/shard_<start>_<end>/       one shard: values with start <= time < end
//!     GGGGGGGGG-SSSSSSSSS.tsm               TSM files (InfluxDB 1.x format)
//!     GGGGGGGGG-SSSSSSSSS.tombstone         their tombstones
//!     wal/_NNNNN.wal                        WAL segments (InfluxDB 1.x format)
//!     index.grid, index.log                 the grid index (snapshot + change log)
//! ```

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Per-database metadata file.
pub const DATABASE_META: &str = "database.meta";
/// WAL directory inside a shard.
pub const WAL_DIR: &str = "wal";

/// The time range `[start, end)` a shard holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShardRange {
    /// First nanosecond in the shard.
    pub start: i64,
    /// First nanosecond after the shard.
    pub end: i64,
}

impl ShardRange {
    /// The shard of `duration` nanoseconds (aligned to the epoch) holding `time`.
    pub fn containing(time: i64, duration: i64) -> ShardRange {
        let start = time.div_euclid(duration).saturating_mul(duration);
        ShardRange {
            start,
            end: start.saturating_add(duration),
        }
    }

    /// True when `time` is in the shard.
    pub fn contains(&self, time: i64) -> bool {
        self.start <= time && time < self.end
    }

    /// True when the shard holds any time in `[min, max]`.
    pub fn overlaps(&self, min: i64, max: i64) -> bool {
        self.start <= max && min < self.end
    }

    /// The shard's directory name.
    pub fn dir_name(&self) -> String {
        format!("shard_{}_{}", self.start, self.end)
    }

    /// Parses a directory name made by [`ShardRange::dir_name`].
    pub fn parse_dir_name(name: &str) -> Option<ShardRange> {
        let rest = name.strip_prefix("shard_")?;
        // Start may be negative, so split at the last '_'.
        let (start, end) = rest.rsplit_once('_')?;
        let range = ShardRange {
            start: start.parse().ok()?,
            end: end.parse().ok()?,
        };
        (range.start < range.end).then_some(range)
    }
}

/// Checks that a database name is usable as a directory name.
pub fn validate_database_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.len() > 255 {
        Some("it is longer than 255 bytes")
    } else if name == "." || name == ".." {
        Some("it is a path component")
    } else if name.contains(['/', '\\', '\0']) {
        Some("it contains '/', '\\' or NUL")
    } else if name.starts_with('.') {
        Some("it starts with '.'")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidDatabaseName {
            name: name.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

/// The directory of a database.
pub fn database_dir(root: &Path, name: &str) -> PathBuf {
    root.join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_ranges_align_to_the_epoch_and_round_trip_their_names() {
        let week = 7 * 24 * 3600 * 1_000_000_000i64;
        let r = ShardRange::containing(week + 5, week);
        assert_eq!(
            r,
            ShardRange {
                start: week,
                end: 2 * week
            }
        );
        let neg = ShardRange::containing(-1, week);
        assert_eq!(
            neg,
            ShardRange {
                start: -week,
                end: 0
            }
        );
        assert!(neg.contains(-1) && !neg.contains(0));
        for r in [r, neg] {
            assert_eq!(ShardRange::parse_dir_name(&r.dir_name()), Some(r));
        }
        assert_eq!(ShardRange::parse_dir_name("shard_5_5"), None);
        assert_eq!(ShardRange::parse_dir_name("x"), None);
        let last = ShardRange::containing(i64::MAX - 1, week);
        assert!(last.contains(i64::MAX - 1));
    }

    #[test]
    fn database_names_that_are_not_plain_directory_names_are_refused() {
        for bad in ["", ".", "..", "a/b", ".hidden", "a\\b"] {
            assert!(validate_database_name(bad).is_err(), "{bad:?}");
        }
        validate_database_name("telegraf").unwrap();
    }
}
