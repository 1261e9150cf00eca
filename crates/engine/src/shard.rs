//! One shard: the TSM files, WAL, cache and series index of one time range of one database.
//!
//! Ordering rules that make acknowledged writes durable and deleted data stay deleted
//! (tsm-format.md §12.1):
//! * write: types checked (by the database schema) → series in the index → WAL append + fsync →
//!   cache. The cache no longer refuses anything at that point (types were reserved in the schema
//!   and the memory limit is enforced by the engine before the WAL), so nothing logged is lost
//!   and nothing refused is logged.
//! * snapshot: under the write gate, the WAL rolls to a new segment and the cache freezes its
//!   contents, so every value in the closed segments is in the snapshot. The snapshot is written
//!   as TSM files, the index synced, the snapshot dropped, and only then the closed segments
//!   removed.
//! * delete: WAL delete-range entry (fsync) → tombstones in every file → cache. Deletes,
//!   snapshots and compactions of one shard are serialized by `maintenance`, so a snapshot or a
//!   compaction can never resurrect values deleted while it ran.
//! * WAL failure: a failed WAL write or fsync poisons the WAL (a retried fsync proves nothing).
//!   Every writer of the failed group gets the error and nothing of it reaches the cache; the
//!   next write (or delete, or snapshot) reopens the WAL in place under the write gate, once per
//!   failure (see [`Shard::recover_wal`]).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock, RwLockReadGuard};
use tsmdb_cache::{Cache, CacheConfig};
use tsmdb_compactor::{Compactor, Planner, cleanup_dir};
use tsmdb_encoding::Column;
use tsmdb_index_grid::{Index, Policy};
use tsmdb_tsm_file::{FileId, TSM_EXT, TimeRange, TsmReader, bad_path};
use tsmdb_wal::{Entry, EntryPosition, Recovery, RecoveryPolicy, Wal, WalError, WalOptions};

use crate::batch::ShardBatch;
use crate::error::{Error, Result, io};
use crate::keys::{parse_series_key, split_key};
use crate::layout::{ShardRange, WAL_DIR};
use crate::merge::merge_into;
use crate::options::{Options, WalOpener};
use crate::read::Edge;
use crate::replay::Replayer;
use crate::schema::Schema;

/// What opening a shard found and did. Nothing here stopped the shard from opening.
#[derive(Debug, Clone, Default)]
pub struct ShardReport {
    /// The shard's directory.
    pub dir: PathBuf,
    /// TSM files that could not be opened, renamed to `.tsm.bad`, with the reason.
    pub bad_files: Vec<(PathBuf, String)>,
    /// Why the index was rebuilt from the TSM keys and the WAL, if it was.
    pub index_rebuilt: Option<String>,
    /// WAL damage found during replay (torn tails are expected after a crash).
    pub wal_damage: Vec<String>,
    /// WAL entries replayed.
    pub wal_entries: u64,
    /// Replayed values dropped because their type conflicted with the key's type.
    pub replay_dropped: u64,
    /// Committed compactions finished and temporary files removed at open.
    pub cleanup: String,
}

/// The TSM files of a shard, oldest first.
type Files = Vec<Arc<TsmReader>>;

pub(crate) struct Shard {
    pub range: ShardRange,
    pub dir: PathBuf,
    pub index: Index,
    /// The WAL. Replaced (by [`Shard::recover_wal`]) only under the exclusive write gate, so a
    /// logged batch always waits on the WAL it was appended to.
    wal: RwLock<Arc<Wal>>,
    wal_options: WalOptions,
    wal_opener: Option<WalOpener>,
    wal_reopen_backoff: Duration,
    /// Set when a WAL operation reported that the WAL is poisoned; cleared by a reopen.
    wal_failed: AtomicBool,
    wal_health: Mutex<WalHealth>,
    /// Successful in-place reopens of the WAL after a failure.
    pub wal_recoveries: AtomicU64,
    /// Reopens of a failed WAL that failed too.
    pub wal_reopen_failures: AtomicU64,
    pub cache: Cache,
    files: RwLock<Files>,
    /// Writers hold it shared from WAL append to cache apply; a snapshot holds it exclusively
    /// while it rolls the WAL and freezes the cache.
    gate: RwLock<()>,
    /// Serializes snapshots, compactions and deletes of this shard.
    maintenance: Mutex<()>,
    last_write: Mutex<Instant>,
    last_file_change: Mutex<Instant>,
    pub snapshots: AtomicU64,
    pub compactions: AtomicU64,
    /// Files changed since the last compaction pass (a snapshot or a delete happened).
    dirty: AtomicBool,
    /// A full compaction ran and no file changed since.
    fully_compacted: AtomicBool,
    /// Which index a batch's "already indexed" mark refers to: unique per opened shard, and
    /// bumped whenever series may leave the index (deletes, dropped measurements), so that
    /// writers insert their series again.
    index_epoch: AtomicU64,
}

/// Why a shard's WAL failed and how reopening it went.
#[derive(Debug, Default)]
struct WalHealth {
    /// When the WAL last failed, and the error that poisoned it (kept for the stats).
    last_failure: Option<(Instant, String)>,
    /// Reopens failed since the last successful one.
    failed_reopens: u32,
    /// No reopen is tried before this (backoff after a failed reopen).
    retry_at: Option<Instant>,
    /// The error of the last failed reopen.
    reopen_error: Option<String>,
}

/// A batch logged to a shard's WAL and not yet applied to its cache (see [`Shard::log`]).
pub(crate) struct Logged<'a> {
    _gate: RwLockReadGuard<'a, ()>,
    /// The WAL the entry was queued in (the gate keeps it from being replaced meanwhile).
    wal: Arc<Wal>,
    ticket: u64,
    /// Series the batch created in the index.
    pub created: u64,
}

/// Hands out index epochs that no two opened shards share.
static NEXT_INDEX_EPOCH: AtomicU64 = AtomicU64::new(1);

fn new_index_epoch() -> u64 {
    NEXT_INDEX_EPOCH.fetch_add(1, Ordering::Relaxed)
}

impl std::fmt::Debug for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shard")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Shard {
    /// Opens (or creates) the shard in `dir`: finishes or undoes interrupted compactions, opens
    /// the TSM files (a damaged one is set aside as `.tsm.bad` and reported), opens the index
    /// (rebuilding it when it is damaged), and replays the WAL into the cache.
    pub(crate) fn open(
        dir: &Path,
        range: ShardRange,
        opts: &Options,
        schema: &Schema,
    ) -> Result<(Shard, ShardReport)> {
        crate::durable_dir::create_dir_durably(dir)?;
        let mut report = ShardReport {
            dir: dir.to_path_buf(),
            ..ShardReport::default()
        };
        report.cleanup = format!("{:?}", cleanup_dir(dir)?);
        let files = open_files(dir, Some(&mut report))?;
        for f in &files {
            learn_schema(f, schema);
        }

        let (index, rebuilt) = open_index(dir, &files)?;
        report.index_rebuilt = rebuilt;

        let cache = Cache::new(CacheConfig {
            snapshot_size: opts.cache_snapshot_size,
            // The engine enforces the memory limit before logging (see the module docs).
            max_size: 0,
            ..CacheConfig::default()
        });
        let wal_options = WalOptions {
            segment_size: opts.wal_segment_size,
            fsync_delay: opts.wal_fsync_delay,
            recovery: RecoveryPolicy::Strict,
        };
        let mut replayer = Replayer::new(&index, schema, &cache);
        let mut replay_error = None;
        let mut replay = |_: EntryPosition, entry: &Entry| {
            if replay_error.is_none()
                && let Err(e) = replayer.apply(entry)
            {
                replay_error = Some(e);
            }
        };
        let (wal, recovery) = open_wal(
            opts.wal_opener.as_ref(),
            &dir.join(WAL_DIR),
            wal_options.clone(),
            &mut replay,
        )?;
        if let Some(e) = replay_error {
            return Err(e);
        }
        report.wal_entries = recovery.entries;
        report.wal_damage = recovery.damage.iter().map(|d| format!("{d:?}")).collect();
        report.replay_dropped = replayer.dropped;
        let now = Instant::now();
        Ok((
            Shard {
                range,
                dir: dir.to_path_buf(),
                index,
                wal: RwLock::new(Arc::new(wal)),
                wal_options,
                wal_opener: opts.wal_opener.clone(),
                wal_reopen_backoff: opts.wal_reopen_backoff,
                wal_failed: AtomicBool::new(false),
                wal_health: Mutex::new(WalHealth::default()),
                wal_recoveries: AtomicU64::new(0),
                wal_reopen_failures: AtomicU64::new(0),
                cache,
                files: RwLock::new(files),
                gate: RwLock::new(()),
                maintenance: Mutex::new(()),
                last_write: Mutex::new(now),
                last_file_change: Mutex::new(now),
                snapshots: AtomicU64::new(0),
                compactions: AtomicU64::new(0),
                dirty: AtomicBool::new(true),
                fully_compacted: AtomicBool::new(false),
                index_epoch: AtomicU64::new(new_index_epoch()),
            },
            report,
        ))
    }

    /// First half of a write: inserts the batch's series into the index and queues its WAL
    /// entry (its place in the log is fixed when this returns). The returned guard holds the
    /// write gate shared until [`Shard::apply`], so a delete or snapshot (which take it
    /// exclusively) never falls between the log and the cache.
    pub(crate) fn log(&self, batch: &mut ShardBatch) -> Result<Logged<'_>> {
        self.ensure_wal()?;
        let gate = self.gate.read();
        let wal = Arc::clone(&self.wal.read());
        let epoch = self.index_epoch.load(Ordering::Acquire);
        let mut created = 0;
        let mut inserted = Vec::new();
        for (series, measurement, tags) in batch.series_to_index(epoch) {
            let (_, how) = self.index.insert(measurement, &tags)?;
            if how == tsmdb_index_grid::Inserted::Inserted {
                created += 1;
            }
            inserted.push(series);
        }
        batch.mark_indexed(&inserted, epoch);
        let records: Vec<tsmdb_wal::Record<'_>> = batch
            .records()
            .map(|(key, timestamps, values)| tsmdb_wal::Record {
                key,
                timestamps,
                values,
            })
            .collect();
        let ticket = wal.append_write(&records).map_err(|e| self.wal_error(e))?;
        Ok(Logged {
            _gate: gate,
            wal,
            ticket,
            created,
        })
    }

    /// Waits until a logged batch is on stable storage.
    pub(crate) fn wait_durable(&self, logged: &Logged<'_>) -> Result<()> {
        logged
            .wal
            .wait_durable(logged.ticket)
            .map_err(|e| self.wal_error(e))
    }

    /// Second half of a write, once durable: applies the batch to the cache.
    pub(crate) fn apply(&self, logged: Logged<'_>, batch: &ShardBatch) -> Result<()> {
        let records: Vec<tsmdb_cache::Record<'_>> = batch
            .records()
            .map(|(key, timestamps, values)| tsmdb_cache::Record {
                key,
                timestamps,
                values,
            })
            .collect();
        let hashes: Vec<u64> = batch.record_hashes().collect();
        let mut handles: Vec<tsmdb_cache::KeyHandle> = batch.record_handles().collect();
        self.cache.write_handles(&records, &hashes, &mut handles)?;
        batch.keep_handles(&handles);
        *self.last_write.lock() = Instant::now();
        drop(logged);
        Ok(())
    }

    /// Writes the cache to a new generation of TSM files and drops the WAL segments it covered.
    /// Returns false when there was nothing to write.
    pub(crate) fn snapshot(&self, compactor: &Compactor) -> Result<bool> {
        let _m = self.maintenance.lock();
        let (closed_segment, snap) = {
            let _g = self.gate.write();
            self.recover_wal()?;
            let seg = self.wal().roll().map_err(|e| self.wal_error(e))?;
            (seg, self.cache.snapshot()?)
        };
        if snap.is_empty() {
            self.cache.commit(&snap)?;
            if let Some(seg) = closed_segment {
                self.wal().remove_segments_up_to(seg)?;
            }
            return Ok(false);
        }
        let generation = self.next_generation();
        let report = match compactor.write_snapshot(&self.dir, generation, &snap) {
            Ok(r) => r,
            Err(e) => {
                self.cache.rollback(&snap)?;
                return Err(e.into());
            }
        };
        let mut new_files = Vec::new();
        for path in &report.outputs {
            match TsmReader::open(path) {
                Ok(r) => new_files.push(Arc::new(r)),
                Err(e) => {
                    self.cache.rollback(&snap)?;
                    return Err(e.into());
                }
            }
        }
        {
            let mut files = self.files.write();
            files.extend(new_files);
            sort_files(&mut files);
        }
        // Series created since the last sync must survive the WAL segments that named them: if
        // the index cannot be synced, the segments stay (replay re-creates the series), but the
        // snapshot is committed either way, since its values are safely in the new files.
        let synced = self.index.sync();
        self.cache.commit(&snap)?;
        // The current WAL, not the one rolled: a reopen meanwhile replaced it, and the new one
        // lists the same closed segments.
        if let (Some(seg), Ok(())) = (closed_segment, &synced) {
            self.wal().remove_segments_up_to(seg)?;
        }
        synced?;
        self.files_changed();
        self.snapshots.fetch_add(1, Ordering::Relaxed);
        Ok(true)
    }

    /// Makes bulk-loaded files live (`bulk.rs`): under the maintenance lock, `install` gets the
    /// next unused generation and returns the paths it made live; they join the file list.
    pub(crate) fn install_files(
        &self,
        install: impl FnOnce(u32) -> Result<Vec<PathBuf>>,
    ) -> Result<Vec<Arc<TsmReader>>> {
        let _m = self.maintenance.lock();
        let paths = install(self.next_generation())?;
        let readers = paths
            .iter()
            .map(|p| TsmReader::open(p).map(Arc::new))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut files = self.files.write();
        files.extend(readers.iter().cloned());
        sort_files(&mut files);
        drop(files);
        self.files_changed();
        Ok(readers)
    }

    fn files_changed(&self) {
        *self.last_file_change.lock() = Instant::now();
        self.dirty.store(true, Ordering::Release);
        self.fully_compacted.store(false, Ordering::Release);
    }

    /// [`Shard::compact`], skipped when no file changed since the last pass (and, for `full`,
    /// since the last full compaction): planning reads every file's metadata.
    pub(crate) fn compact_if_changed(
        &self,
        compactor: &Compactor,
        planner: &Planner,
        full: bool,
    ) -> Result<usize> {
        let wanted = self.dirty.swap(false, Ordering::AcqRel)
            || (full && !self.fully_compacted.load(Ordering::Acquire));
        if !wanted {
            return Ok(0);
        }
        let n = self.compact(compactor, planner, full);
        if n.is_err() {
            self.dirty.store(true, Ordering::Release);
        }
        n
    }

    /// Runs the compaction planner on this shard until it has nothing left (`full`: full plans,
    /// as for a cold shard), then reopens the file list. Returns the compactions run.
    pub(crate) fn compact(
        &self,
        compactor: &Compactor,
        planner: &Planner,
        full: bool,
    ) -> Result<usize> {
        let _m = self.maintenance.lock();
        let report = compactor.compact_dir(&self.dir, planner, full, |_| {})?;
        if report.compactions > 0 {
            self.reload_files()?;
            *self.last_file_change.lock() = Instant::now();
            self.compactions
                .fetch_add(report.compactions as u64, Ordering::Relaxed);
        }
        if full {
            self.fully_compacted.store(true, Ordering::Release);
        }
        Ok(report.compactions)
    }

    /// True when the shard saw no write and no file change for `cold`.
    pub(crate) fn is_cold(&self, cold: std::time::Duration) -> bool {
        self.last_write.lock().elapsed() >= cold && self.last_file_change.lock().elapsed() >= cold
    }

    /// True when the shard saw no write for `cold`.
    pub(crate) fn write_cold(&self, cold: std::time::Duration) -> bool {
        self.last_write.lock().elapsed() >= cold
    }

    fn reload_files(&self) -> Result<()> {
        let files = open_files(&self.dir, None)?;
        *self.files.write() = files;
        Ok(())
    }

    fn next_generation(&self) -> u32 {
        let from_files = self
            .files
            .read()
            .iter()
            .filter_map(|f| FileId::parse(f.path()).ok())
            .map(|id| id.generation)
            .max();
        // Compactions keep the highest input generation, so max + 1 is always unused.
        from_files.unwrap_or(0) + 1
    }

    /// The values of `key` with `min <= t <= max`, merged from every file and the cache.
    /// `scratch` holds decoded blocks; reusing it across keys saves allocations.
    pub(crate) fn read(
        &self,
        key: &[u8],
        min: i64,
        max: i64,
        scratch: &mut tsmdb_tsm_file::Values,
        ts: &mut Vec<i64>,
        values: &mut Column,
    ) -> Result<()> {
        ts.clear();
        values.clear();
        // The cache before the file list: a snapshot adds its files before it drops its data
        // from the cache, so reading in this order can see a value twice (merged away) but
        // never miss it. The list stays read-locked for this key only (a snapshot or a
        // compaction swapping it waits that long).
        let cached = self.cache.read(key, min, max);
        let files = self.files.read();
        let range = TimeRange { min, max };
        for f in files
            .iter()
            .filter(|f| f.min_time() <= max && f.max_time() >= min)
        {
            if f.read_values(key, range, scratch)? {
                merge_into(ts, values, &scratch.timestamps, &scratch.values, key)?;
            }
        }
        drop(files);
        if let Some(cached) = cached {
            merge_into(ts, values, &cached.timestamps, &cached.values, key)?;
        }
        Ok(())
    }

    /// The first or last value of `key` in `range` (at most one point in `ts` and
    /// `values`), reading only the blocks that can hold it: the TSM index's per-block min/max
    /// times rule out the others. Equal timestamps resolve as in [`Shard::read`] (the cache beats
    /// files, a newer file beats an older one).
    pub(crate) fn read_edge(
        &self,
        key: &[u8],
        range: TimeRange,
        edge: Edge,
        scratch: &mut tsmdb_tsm_file::Values,
        ts: &mut Vec<i64>,
        values: &mut Column,
    ) -> Result<()> {
        let TimeRange { min, max } = range;
        ts.clear();
        values.clear();
        // Same order as `read`: the cache before the file list.
        let cached = self.cache.read(key, min, max);
        let files = self.files.read();
        let mut best: Option<i64> = None;
        if let Some(c) = &cached {
            let i = match edge {
                Edge::First => 0,
                Edge::Last => c.timestamps.len().wrapping_sub(1),
            };
            if let Some(&t) = c.timestamps.get(i) {
                best = Some(t);
                ts.push(t);
                values.reset(c.values.field_type());
                push_value(values, &c.values, i);
            }
        }
        let times = &mut scratch.timestamps;
        let col = &mut scratch.values;
        // Newest file first: on a tie the source already held wins.
        for f in files.iter().rev() {
            let (lo, hi) = match best {
                // Only a strictly better time can replace the held one.
                Some(b) => match edge {
                    Edge::First => (min, b.saturating_sub(1)),
                    Edge::Last => (b.saturating_add(1), max),
                },
                None => (min, max),
            };
            if lo > hi || f.min_time() > hi || f.max_time() < lo {
                continue;
            }
            let Some(k) = f.key(key) else { continue };
            let n = k.len();
            for j in 0..n {
                let at = match edge {
                    Edge::First => j,
                    Edge::Last => n - 1 - j,
                };
                let Some(entry) = k.get(at).filter(|e| e.overlaps(lo, hi)) else {
                    continue;
                };
                // Tombstones may empty a block; then the next one in time order is tried.
                let narrowed = TimeRange { min: lo, max: hi };
                f.read_block_values(&k, &entry, narrowed, times, col)?;
                let i = match edge {
                    Edge::First => 0,
                    Edge::Last => times.len().wrapping_sub(1),
                };
                let Some(&t) = times.get(i) else { continue };
                if !ts.is_empty() && values.field_type() != col.field_type() {
                    return Err(crate::error::Error::InvalidQuery(format!(
                        "key {} holds {} values in one file and {} in another",
                        String::from_utf8_lossy(key),
                        values.field_type(),
                        col.field_type()
                    )));
                }
                best = Some(t);
                ts.clear();
                ts.push(t);
                values.reset(col.field_type());
                push_value(values, col, i);
                break;
            }
        }
        Ok(())
    }

    /// True when `key` has a value in `range`. A block whose first or last time falls in the
    /// range proves it from the TSM index alone (when the key has no tombstones in that file);
    /// only blocks that merely span the range, or carry deletes, are decoded.
    pub(crate) fn has_value(
        &self,
        key: &[u8],
        range: TimeRange,
        scratch: &mut tsmdb_tsm_file::Values,
    ) -> Result<bool> {
        let TimeRange { min, max } = range;
        if self
            .cache
            .read(key, min, max)
            .is_some_and(|c| !c.timestamps.is_empty())
        {
            return Ok(true);
        }
        let files = self.files.read();
        for f in files
            .iter()
            .filter(|f| f.min_time() <= max && f.max_time() >= min)
        {
            let Some(k) = f.key(key) else { continue };
            let clean = f.with_deleted_ranges(k.position, <[TimeRange]>::is_empty);
            for entry in k.overlapping(min, max) {
                let edge_inside = range.contains(entry.min_time) || range.contains(entry.max_time);
                if clean && edge_inside {
                    return Ok(true);
                }
                f.read_block_values(
                    &k,
                    &entry,
                    range,
                    &mut scratch.timestamps,
                    &mut scratch.values,
                )?;
                if !scratch.timestamps.is_empty() {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Deletes the values of `keys` in `[min, max]`: WAL first, then tombstones, then the cache,
    /// then (for series whose every value is gone) the index. Holds the write gate exclusively,
    /// so no write is half-applied around it.
    pub(crate) fn delete_range(
        &self,
        keys: &[Vec<u8>],
        min: i64,
        max: i64,
        forget: &[tsmdb_index_grid::SeriesId],
    ) -> Result<()> {
        if keys.is_empty() && forget.is_empty() {
            return Ok(());
        }
        let _m = self.maintenance.lock();
        let _g = self.gate.write();
        let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        if !refs.is_empty() {
            self.recover_wal()?;
            self.wal()
                .delete_range(&refs, min, max)
                .map_err(|e| self.wal_error(e))?;
            // The delete is durable now, and a restart's replay applies it to the cache: apply
            // it to the cache at once, so a tombstone that fails below cannot leave the running
            // shard showing values a restart would not.
            self.cache.delete_range(&refs, min, max);
            let range = TimeRange { min, max };
            let mut first_failure = None;
            for f in self
                .files
                .read()
                .iter()
                .filter(|f| f.min_time() <= max && f.max_time() >= min)
            {
                let present: Vec<&[u8]> = refs.iter().copied().filter(|k| f.contains(k)).collect();
                if present.is_empty() {
                    continue;
                }
                // Carry on past a failed tombstone: the other files still take the delete, and
                // the caller's retry only has to redo the file that failed.
                if let Err(e) = f.delete_range(&present, range) {
                    first_failure.get_or_insert(e);
                }
            }
            if let Some(e) = first_failure {
                // Series stay in the index: their values are still in the file that failed.
                self.files_changed();
                return Err(e.into());
            }
        }
        if !forget.is_empty() {
            self.index_epoch.store(new_index_epoch(), Ordering::Release);
        }
        for id in forget {
            self.index.delete(*id)?;
        }
        if !forget.is_empty() {
            self.index.sync()?;
        }
        self.files_changed();
        Ok(())
    }

    /// Removes a measurement's series from the index.
    pub(crate) fn drop_measurement(&self, measurement: &[u8]) -> Result<()> {
        let _g = self.gate.write();
        self.index_epoch.store(new_index_epoch(), Ordering::Release);
        self.index.drop_measurement(measurement)?;
        Ok(())
    }

    /// Number of TSM files.
    pub(crate) fn file_count(&self) -> usize {
        self.files.read().len()
    }

    /// Bytes of the TSM files.
    pub(crate) fn tsm_bytes(&self) -> u64 {
        self.files.read().iter().map(|f| f.file_size()).sum()
    }

    /// Bytes of the WAL segments.
    pub(crate) fn wal_bytes(&self) -> u64 {
        dir_bytes(&self.dir.join(WAL_DIR))
    }

    /// Flushes what a clean shutdown must flush: the index log. The WAL already holds every
    /// acknowledged write, so the cache need not be snapshotted.
    pub(crate) fn close(&self) -> Result<()> {
        self.index.sync()?;
        self.wal().close()?;
        Ok(())
    }

    /// The current WAL.
    fn wal(&self) -> Arc<Wal> {
        Arc::clone(&self.wal.read())
    }

    /// Notes a WAL error: `Failed`, and I/O errors of appends, fsyncs and rolls, mean the WAL
    /// poisoned itself, so the next write must reopen it.
    fn wal_error(&self, e: WalError) -> Error {
        if matches!(e, WalError::Failed(_) | WalError::Io { .. }) {
            let mut health = self.wal_health.lock();
            if !self.wal_failed.swap(true, Ordering::AcqRel) {
                health.last_failure = Some((Instant::now(), e.to_string()));
            }
        }
        Error::Wal(e)
    }

    /// Reopens the WAL if it failed, before a write takes the gate.
    fn ensure_wal(&self) -> Result<()> {
        if !self.wal_failed.load(Ordering::Acquire) {
            return Ok(());
        }
        let _g = self.gate.write();
        self.recover_wal()
    }

    /// Reopens a failed WAL in place. The caller holds the write gate exclusively, so no batch
    /// is between its WAL append and its cache apply, and no other thread uses the WAL.
    ///
    /// What the reopen replays is already applied: the failed WAL cut its segment back to the
    /// last synced byte, so only acknowledged entries remain, and every acknowledged entry was
    /// applied to the cache before its writer let go of the gate (or, for segments a snapshot
    /// had closed, is in TSM files). Replaying them into the cache again would only duplicate
    /// them, so the visitor ignores them. The reopen still does what a reopen after a crash
    /// does: it rewrites and syncs the last segment (pages a failed writeback marked clean get
    /// written for real) and starts a fresh segment.
    ///
    /// Runs at most once per failure: the first writer to get here reopens and clears the flag.
    /// If the reopen fails, writes are refused with [`Error::WalUnavailable`] until the backoff
    /// ends, and then the next write tries again.
    fn recover_wal(&self) -> Result<()> {
        if !self.wal_failed.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut health = self.wal_health.lock();
        let cause = health
            .last_failure
            .as_ref()
            .map_or_else(|| "unknown error".to_string(), |(_, why)| why.clone());
        if health.retry_at.is_some_and(|at| Instant::now() < at) {
            return Err(Error::WalUnavailable {
                shard: self.dir.clone(),
                cause: format!(
                    "{cause}; reopening it failed: {}",
                    health.reopen_error.as_deref().unwrap_or("unknown error")
                ),
            });
        }
        let old = self.wal();
        // Waits for a sync still running; later appends to the old WAL are refused anyway.
        let _ = old.close();
        let mut ignore = |_: EntryPosition, _: &Entry| {};
        let opened = open_wal(
            self.wal_opener.as_ref(),
            &self.dir.join(WAL_DIR),
            self.wal_options.clone(),
            &mut ignore,
        );
        match opened {
            Ok((wal, _)) => {
                *self.wal.write() = Arc::new(wal);
                self.wal_failed.store(false, Ordering::Release);
                health.failed_reopens = 0;
                health.retry_at = None;
                health.reopen_error = None;
                self.wal_recoveries.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                self.wal_reopen_failures.fetch_add(1, Ordering::Relaxed);
                let shift = health.failed_reopens.min(6);
                health.failed_reopens = health.failed_reopens.saturating_add(1);
                health.retry_at = Some(Instant::now() + self.wal_reopen_backoff * (1u32 << shift));
                health.reopen_error = Some(e.to_string());
                Err(Error::WalUnavailable {
                    shard: self.dir.clone(),
                    cause: format!("{cause}; reopening it failed: {e}"),
                })
            }
        }
    }

    /// When the WAL last failed and why (for the stats).
    pub(crate) fn last_wal_failure(&self) -> Option<(Instant, String)> {
        self.wal_health.lock().last_failure.clone()
    }
}

/// Opens a shard's WAL with the test hook, if one is set, or on the real file system.
fn open_wal(
    opener: Option<&WalOpener>,
    dir: &Path,
    options: WalOptions,
    visit: &mut dyn FnMut(EntryPosition, &Entry),
) -> std::result::Result<(Wal, Recovery), WalError> {
    match opener {
        Some(open) => (open.0)(dir, options, visit),
        None => Wal::open(dir, options, visit),
    }
}

/// Appends `src[i]` to `dst` (same type: checked by the caller).
fn push_value(dst: &mut Column, src: &Column, i: usize) {
    match (dst, src) {
        (Column::Float(d), Column::Float(s)) => d.extend(s.get(i)),
        (Column::Integer(d), Column::Integer(s)) => d.extend(s.get(i)),
        (Column::Unsigned(d), Column::Unsigned(s)) => d.extend(s.get(i)),
        (Column::Boolean(d), Column::Boolean(s)) => d.extend(s.get(i)),
        (Column::String(d), Column::String(s)) => {
            if let Some(v) = s.get(i) {
                d.push(v);
            }
        }
        _ => {}
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn sort_files(files: &mut Files) {
    files.sort_by_key(|f| FileId::parse(f.path()).ok());
}

/// Opens every `*.tsm` file of `dir`, oldest first. At open (`report` given) a file that fails
/// to open is renamed to `.tsm.bad` and reported, and the others still open; afterwards (no
/// report) any failure is an error, because it may be transient (no file descriptors, memory)
/// and must never set good data aside.
fn open_files(dir: &Path, mut report: Option<&mut ShardReport>) -> Result<Files> {
    let mut files = Vec::new();
    let entries = fs::read_dir(dir).map_err(io("listing", dir))?;
    for entry in entries {
        let path = entry.map_err(io("listing", dir))?.path();
        if path.extension().is_none_or(|e| e != TSM_EXT) {
            continue;
        }
        match (TsmReader::open(&path), report.as_deref_mut()) {
            (Ok(r), _) => files.push(Arc::new(r)),
            (Err(e), Some(report)) => {
                let bad = bad_path(&path);
                let _ = fs::rename(&path, &bad);
                report.bad_files.push((path, e.to_string()));
            }
            (Err(e), None) => return Err(e.into()),
        }
    }
    sort_files(&mut files);
    Ok(files)
}

fn learn_schema(file: &TsmReader, schema: &Schema) {
    for k in file.keys() {
        let (series, field) = split_key(k.key);
        let m =
            tsmdb_lineproto::unescape_measurement(tsmdb_lineproto::series_key_measurement(series));
        let _ = schema.learn(&m, field, k.field_type);
    }
}

/// Opens the index; when it is damaged, rebuilds it from the TSM keys (the WAL replay adds the
/// series that are only in the WAL).
fn open_index(dir: &Path, files: &Files) -> Result<(Index, Option<String>)> {
    match Index::open(dir, Policy::default()) {
        Ok((index, _)) => {
            // A crash can lose index log records that were never synced while their data
            // reached TSM files; make sure every series of the files is present.
            add_file_series(&index, files)?;
            Ok((index, None))
        }
        Err(e) => {
            let reason = e.to_string();
            for name in [tsmdb_index_grid::INDEX_FILE, tsmdb_index_grid::LOG_FILE] {
                let p = dir.join(name);
                if p.exists() {
                    let _ = fs::rename(&p, p.with_extension("damaged"));
                }
            }
            let (index, _) = Index::open(dir, Policy::default())?;
            add_file_series(&index, files)?;
            Ok((index, Some(reason)))
        }
    }
}

fn add_file_series(index: &Index, files: &Files) -> Result<()> {
    for f in files {
        let mut last: &[u8] = &[];
        for k in f.keys() {
            let (series, _) = split_key(k.key);
            if series == last {
                continue;
            }
            last = series;
            if let Some((m, tags)) = parse_series_key(series) {
                let tags: Vec<(&[u8], &[u8])> = tags.iter().map(|(k, v)| (&**k, &**v)).collect();
                index.insert(&m, &tags)?;
            }
        }
    }
    Ok(())
}
