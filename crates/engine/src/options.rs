//! Engine options, with InfluxDB 1.x's defaults (tsm-format.md §11).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tsmdb_wal::{Entry, EntryPosition, Recovery, Wal, WalError, WalOptions};

/// How an [`crate::Engine`] is configured. Build one with [`Options::default`] and the setters.
#[derive(Debug, Clone)]
pub struct Options {
    /// Time span of one shard (7 days by default). Shards already on disk keep their own span.
    pub shard_duration: Duration,
    /// Cache size above which a shard is snapshotted to a TSM file (25 MiB).
    pub cache_snapshot_size: u64,
    /// Cache size above which writes are refused (1 GiB; 0 = no limit). Summed over all shards.
    pub cache_max_size: u64,
    /// How long a write waits for a snapshot to free cache memory before it is refused.
    pub cache_full_wait: Duration,
    /// A shard whose cache has not been written for this long is snapshotted (10 min).
    pub cache_snapshot_cold: Duration,
    /// WAL segment size (10 MiB).
    pub wal_segment_size: u64,
    /// How long the WAL's sync leader waits for more writers (0: sync at once).
    pub wal_fsync_delay: Duration,
    /// Values per TSM block (1000).
    pub max_points_per_block: usize,
    /// Whether background threads snapshot, compact and enforce retention. Tests that want to
    /// drive every step by hand turn this off.
    pub background: bool,
    /// How often the background thread looks for work.
    pub background_interval: Duration,
    /// Accept unsigned (`u`) integers in line protocol (InfluxDB 1.6 builds refused them).
    pub unsigned: bool,
    /// After a shard's WAL failed and reopening it failed too, writes to that shard fail at once
    /// for this long before the next write tries again; the wait doubles with each further
    /// failed reopen, up to 64 times this (50 ms by default).
    pub wal_reopen_backoff: Duration,
    /// Test hook: how shards open their WAL (`None`: [`Wal::open`] on the real file system).
    #[doc(hidden)]
    pub wal_opener: Option<WalOpener>,
}

/// The signature of [`Options::wal_opener`]: [`Wal::open`]'s, with the visitor as a trait
/// object.
#[doc(hidden)]
pub type WalOpenFn = dyn Fn(
        &Path,
        WalOptions,
        &mut dyn FnMut(EntryPosition, &Entry),
    ) -> Result<(Wal, Recovery), WalError>
    + Send
    + Sync;

/// Test hook that opens shards' WALs on another storage (a model of a disk that fails fsyncs).
#[doc(hidden)]
#[derive(Clone)]
pub struct WalOpener(pub Arc<WalOpenFn>);

impl std::fmt::Debug for WalOpener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WalOpener(..)")
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            shard_duration: Duration::from_secs(7 * 24 * 3600),
            cache_snapshot_size: 25 * 1024 * 1024,
            cache_max_size: 1024 * 1024 * 1024,
            cache_full_wait: Duration::from_millis(500),
            cache_snapshot_cold: Duration::from_secs(600),
            wal_segment_size: 10 * 1024 * 1024,
            wal_fsync_delay: Duration::ZERO,
            max_points_per_block: 1000,
            background: true,
            background_interval: Duration::from_secs(1),
            unsigned: true,
            wal_reopen_backoff: Duration::from_millis(50),
            wal_opener: None,
        }
    }
}

impl Options {
    /// Sets [`Options::shard_duration`].
    pub fn shard_duration(mut self, d: Duration) -> Self {
        self.shard_duration = d;
        self
    }
    /// Sets [`Options::cache_snapshot_size`].
    pub fn cache_snapshot_size(mut self, bytes: u64) -> Self {
        self.cache_snapshot_size = bytes;
        self
    }
    /// Sets [`Options::cache_max_size`].
    pub fn cache_max_size(mut self, bytes: u64) -> Self {
        self.cache_max_size = bytes;
        self
    }
    /// Sets [`Options::cache_snapshot_cold`].
    pub fn cache_snapshot_cold(mut self, d: Duration) -> Self {
        self.cache_snapshot_cold = d;
        self
    }
    /// Sets [`Options::wal_segment_size`].
    pub fn wal_segment_size(mut self, bytes: u64) -> Self {
        self.wal_segment_size = bytes;
        self
    }
    /// Sets [`Options::wal_fsync_delay`].
    pub fn wal_fsync_delay(mut self, d: Duration) -> Self {
        self.wal_fsync_delay = d;
        self
    }
    /// Sets [`Options::wal_reopen_backoff`].
    pub fn wal_reopen_backoff(mut self, d: Duration) -> Self {
        self.wal_reopen_backoff = d;
        self
    }
    /// Sets [`Options::max_points_per_block`].
    pub fn max_points_per_block(mut self, n: usize) -> Self {
        self.max_points_per_block = n.max(1);
        self
    }
    /// Sets [`Options::background`].
    pub fn background(mut self, on: bool) -> Self {
        self.background = on;
        self
    }

    pub(crate) fn shard_duration_ns(&self) -> i64 {
        i64::try_from(self.shard_duration.as_nanos())
            .unwrap_or(i64::MAX)
            .max(1)
    }
}
