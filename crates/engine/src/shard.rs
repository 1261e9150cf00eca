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

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::{Mutex, RwLock};
use tsmdb_cache::{Cache, CacheConfig};
use tsmdb_compactor::{Compactor, Planner, cleanup_dir};
use tsmdb_encoding::Column;
use tsmdb_index_grid::{Index, Policy};
use tsmdb_tsm_file::{FileId, TSM_EXT, TimeRange, TsmReader, bad_path};
use tsmdb_wal::{EntryKind, RecoveryPolicy, Wal, WalOptions};

use crate::batch::ShardBatch;
use crate::error::{Result, io};
use crate::keys::{parse_series_key, split_key};
use crate::layout::{ShardRange, WAL_DIR};
use crate::merge::merge_into;
use crate::options::Options;
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
    wal: Wal,
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
        fs::create_dir_all(dir).map_err(io("creating shard directory", dir))?;
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
        let mut replay_error = None;
        let mut dropped = 0u64;
        let (wal, recovery) = Wal::open(dir.join(WAL_DIR), wal_options, |_, entry| {
            if replay_error.is_some() {
                return;
            }
            match entry.kind() {
                EntryKind::Write => {
                    for rec in entry.records() {
                        let (series, field) = split_key(rec.key);
                        if let Some((m, tags)) = parse_series_key(series) {
                            let tags: Vec<(&[u8], &[u8])> =
                                tags.iter().map(|(k, v)| (&**k, &**v)).collect();
                            if let Err(e) = index.insert(&m, &tags) {
                                replay_error = Some(e.into());
                                return;
                            }
                            let t = rec.values.field_type();
                            if schema.learn(&m, field, t).is_err() {
                                dropped += rec.values.len() as u64;
                                continue;
                            }
                        }
                        let one = [tsmdb_cache::Record {
                            key: rec.key,
                            timestamps: rec.timestamps,
                            values: rec.values,
                        }];
                        if cache.write(&one).is_err() {
                            dropped += rec.values.len() as u64;
                        }
                    }
                }
                EntryKind::Delete => {
                    let keys: Vec<&[u8]> = entry.keys().collect();
                    cache.delete(&keys);
                }
                EntryKind::DeleteRange => {
                    let keys: Vec<&[u8]> = entry.keys().collect();
                    if let Some((min, max)) = entry.time_range() {
                        cache.delete_range(&keys, min, max);
                    }
                }
            }
        })?;
        if let Some(e) = replay_error {
            return Err(e);
        }
        report.wal_entries = recovery.entries;
        report.wal_damage = recovery.damage.iter().map(|d| format!("{d:?}")).collect();
        report.replay_dropped = dropped;
        let now = Instant::now();
        Ok((
            Shard {
                range,
                dir: dir.to_path_buf(),
                index,
                wal,
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
            },
            report,
        ))
    }

    /// Logs and applies one shard's part of a write batch. Returns the number of series created.
    pub(crate) fn write(&self, batch: &ShardBatch) -> Result<u64> {
        // Shared from the index insert to the cache apply, so a delete (which holds it
        // exclusively) never falls between them.
        let _gate = self.gate.read();
        let mut created = 0;
        for s in batch.series.values() {
            let tags: Vec<(&[u8], &[u8])> = s
                .tags
                .iter()
                .map(|(k, v)| (k.as_slice(), v.as_slice()))
                .collect();
            let (_, how) = self.index.insert(&s.measurement, &tags)?;
            if how == tsmdb_index_grid::Inserted::Inserted {
                created += 1;
            }
        }
        let wal_records: Vec<tsmdb_wal::Record<'_>> = batch
            .keys
            .iter()
            .map(|(k, v)| tsmdb_wal::Record {
                key: k,
                timestamps: &v.timestamps,
                values: v.values.as_ref(),
            })
            .collect();
        let cache_records: Vec<tsmdb_cache::Record<'_>> = batch
            .keys
            .iter()
            .map(|(k, v)| tsmdb_cache::Record {
                key: k,
                timestamps: &v.timestamps,
                values: v.values.as_ref(),
            })
            .collect();
        self.wal.write(&wal_records)?;
        self.cache.write(&cache_records)?;
        *self.last_write.lock() = Instant::now();
        Ok(created)
    }

    /// Writes the cache to a new generation of TSM files and drops the WAL segments it covered.
    /// Returns false when there was nothing to write.
    pub(crate) fn snapshot(&self, compactor: &Compactor) -> Result<bool> {
        let _m = self.maintenance.lock();
        let (closed_segment, snap) = {
            let _g = self.gate.write();
            let seg = self.wal.roll()?;
            (seg, self.cache.snapshot()?)
        };
        if snap.is_empty() {
            self.cache.commit(&snap)?;
            if let Some(seg) = closed_segment {
                self.wal.remove_segments_up_to(seg)?;
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
        if let (Some(seg), Ok(())) = (closed_segment, &synced) {
            self.wal.remove_segments_up_to(seg)?;
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
    pub(crate) fn read(
        &self,
        key: &[u8],
        min: i64,
        max: i64,
        ts: &mut Vec<i64>,
        values: &mut Column,
    ) -> Result<()> {
        ts.clear();
        values.clear();
        // The cache before the file list: a snapshot adds its files before it drops its data
        // from the cache, so reading in this order can see a value twice (merged away) but
        // never miss it.
        let cached = self.cache.read(key, min, max);
        let files = self.files.read().clone();
        let mut buf = tsmdb_tsm_file::Values::new();
        let range = TimeRange { min, max };
        for f in files
            .iter()
            .filter(|f| f.min_time() <= max && f.max_time() >= min)
        {
            if f.read_values(key, range, &mut buf)? {
                merge_into(ts, values, &buf.timestamps, &buf.values, key)?;
            }
        }
        if let Some(cached) = cached {
            merge_into(ts, values, &cached.timestamps, &cached.values, key)?;
        }
        Ok(())
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
            self.wal.delete_range(&refs, min, max)?;
            let range = TimeRange { min, max };
            for f in self
                .files
                .read()
                .iter()
                .filter(|f| f.min_time() <= max && f.max_time() >= min)
            {
                let present: Vec<&[u8]> = refs.iter().copied().filter(|k| f.contains(k)).collect();
                if !present.is_empty() {
                    f.delete_range(&present, range)?;
                }
            }
            self.cache.delete_range(&refs, min, max);
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
        self.wal.close()?;
        Ok(())
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
