//! The engine's error type.

use std::path::PathBuf;

/// Everything the engine can fail with. Messages say what failed and where.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another process holds the data directory.
    #[error("data directory {dir} is in use by another process (lock file {lock}); stop it first")]
    Locked {
        /// The data directory.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
    },
    /// A file-system operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`creating`, `reading`, ...).
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The named database does not exist.
    #[error("database not found: {0:?}")]
    DatabaseNotFound(String),
    /// A database name that cannot be a directory name.
    #[error("invalid database name {name:?}: {reason}")]
    InvalidDatabaseName {
        /// The name given.
        name: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The write cache is full and no snapshot freed memory in time.
    #[error(
        "cache is full ({size} bytes, limit {limit}): writes are refused until a snapshot frees memory; retry later"
    )]
    CacheFull {
        /// Bytes in the cache.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The WAL failed; nothing of the batch was applied.
    #[error("{0}")]
    Wal(#[from] tsmdb_wal::WalError),
    /// A shard's WAL failed earlier and could not be reopened; writes to the shard are refused
    /// until a reopen succeeds (the next write after a short backoff tries again). Reads are
    /// not affected.
    #[error("shard {}: WAL unavailable: {cause}", shard.display())]
    WalUnavailable {
        /// The shard's directory.
        shard: PathBuf,
        /// Why the WAL failed, and why reopening it failed.
        cause: String,
    },
    /// A TSM file failed.
    #[error("tsm: {0}")]
    Tsm(#[from] tsmdb_tsm_file::Error),
    /// The series index failed.
    #[error("index: {0}")]
    Index(#[from] tsmdb_index_grid::Error),
    /// The cache refused an operation.
    #[error("cache: {0}")]
    Cache(#[from] tsmdb_cache::CacheError),
    /// A snapshot or compaction failed.
    #[error("compaction: {0}")]
    Compaction(#[from] tsmdb_compactor::Error),
    /// A block could not be encoded or decoded.
    #[error("encoding: {0}")]
    Encoding(#[from] tsmdb_encoding::Error),
    /// A bulk load was given values it cannot write (nothing of that call was written).
    #[error("bulk load: {key}: {what}")]
    InvalidBulk {
        /// The series key given.
        key: String,
        /// What is wrong.
        what: String,
    },
    /// A query asked for something impossible.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
}

/// Result with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Wraps an I/O error with the action and path.
pub(crate) fn io(
    action: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io {
        action,
        path,
        source,
    }
}
