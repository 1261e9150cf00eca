//! Engine statistics: monotonically increasing counters and point-in-time gauges (no rates).

use std::sync::atomic::AtomicU64;

use parking_lot::Mutex;

/// A point-in-time view of the engine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Points written since open.
    pub points_written: u64,
    /// Field values written since open.
    pub values_written: u64,
    /// Points refused since open (parse errors, type conflicts, ...).
    pub points_rejected: u64,
    /// Writes that failed as a whole (cache full, WAL error).
    pub write_errors: u64,
    /// Cache snapshots written since open.
    pub snapshots: u64,
    /// Compactions run since open.
    pub compactions: u64,
    /// Background passes that failed since open.
    pub background_errors: u64,
    /// The last background error, if any.
    pub last_background_error: Option<String>,
    /// Databases.
    pub databases: u64,
    /// Open shards.
    pub shards: u64,
    /// Series in all shard indexes (a series in two shards counts twice).
    pub series: u64,
    /// Bytes in the caches (live and snapshots being written).
    pub cache_bytes: u64,
    /// TSM files.
    pub tsm_files: u64,
    /// Bytes of TSM files.
    pub tsm_bytes: u64,
    /// Bytes of WAL segments.
    pub wal_bytes: u64,
    /// Times a shard reopened its WAL in place after a failed write or fsync had poisoned it.
    pub wal_recoveries: u64,
    /// Reopens of a failed WAL that failed too (writes to that shard are refused until one
    /// succeeds).
    pub wal_reopen_failures: u64,
    /// The most recent WAL failure: the shard's directory and the error that poisoned its WAL.
    pub last_wal_failure: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub points_written: AtomicU64,
    pub values_written: AtomicU64,
    pub points_rejected: AtomicU64,
    pub write_errors: AtomicU64,
    pub snapshots: AtomicU64,
    pub compactions: AtomicU64,
    pub background_errors: AtomicU64,
    pub last_background_error: Mutex<Option<String>>,
}
