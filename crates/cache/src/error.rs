//! The cache's error type.

use tsmdb_encoding::FieldType;

/// Why the cache refused an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// A value's type differs from its key's type; the whole batch was rejected.
    #[error(
        "field type conflict: key {key:?} holds {existing} values, the batch writes {attempted}"
    )]
    FieldTypeConflict {
        /// The composite key, lossily decoded.
        key: String,
        /// The type the key already has (in the cache, its snapshot or earlier in the batch).
        existing: FieldType,
        /// The type the batch tried to write.
        attempted: FieldType,
    },
    /// The batch would take the cache over its hard limit; the whole batch was rejected.
    #[error("cache-max-memory-size exceeded: ({would_be}/{limit})")]
    MemoryLimit {
        /// The size the cache would have had.
        would_be: u64,
        /// The limit.
        limit: u64,
    },
    /// A record has a different number of timestamps and values.
    #[error("record for key {key:?} has {timestamps} timestamps but {values} values")]
    LengthMismatch {
        /// The key, lossily decoded.
        key: String,
        /// Number of timestamps.
        timestamps: usize,
        /// Number of values.
        values: usize,
    },
    /// A snapshot is outstanding; commit or roll it back first.
    #[error("snapshot in progress")]
    SnapshotInProgress,
    /// The snapshot passed to commit or rollback is not the cache's outstanding snapshot.
    #[error("not the cache's outstanding snapshot")]
    UnknownSnapshot,
}
