//! Every way an index operation can fail.

use std::path::PathBuf;

/// Errors of the grid index (spec §5.12).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The same tag key appears twice in one tag set.
    #[error("duplicate tag key {0:?}")]
    DuplicateTagKey(String),
    /// A tag key of length 0.
    #[error("empty tag key")]
    EmptyTagKey,
    /// A name, key or value the index refuses (`#!~#` inside, series key too long).
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// A planned grid would have more points than the policy allows (or than u64 holds).
    #[error("capacity overflow: a grid of {0} points exceeds the limit")]
    CapacityOverflow(String),
    /// The index-wide id allocator would overflow u64.
    #[error("series id space exhausted")]
    IdSpaceExhausted,
    /// A lookup named a measurement the index has never seen.
    #[error("unknown measurement {0:?}")]
    UnknownMeasurement(String),
    /// A lookup named a series id that is not live.
    #[error("unknown series id {0}")]
    UnknownSeries(u64),
    /// A regular expression failed to compile.
    #[error("invalid regex: {0}")]
    InvalidRegex(String),
    /// A persisted file is damaged: where and what.
    #[error("{}: corrupt at byte offset {offset}: {reason}", file.display())]
    Corrupt {
        /// The damaged file (`<memory>` when reading a buffer).
        file: PathBuf,
        /// Byte offset of the damaged structure.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A persisted file of a version this build does not read.
    #[error("{}: unsupported index file version {version}", file.display())]
    UnsupportedVersion {
        /// The file.
        file: PathBuf,
        /// The version found in its header.
        version: u16,
    },
    /// An I/O failure, with the file involved.
    #[error("{}: {source}", file.display())]
    Io {
        /// The file or directory.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
