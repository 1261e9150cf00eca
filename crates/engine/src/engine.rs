//! The [`Engine`]: a data directory of databases, opened by one process at a time.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, RwLock};
use tsmdb_compactor::{Compactor, CompactorConfig, Planner, PlannerConfig};
use tsmdb_index_grid::Expr;
use tsmdb_lineproto::{ParseOptions, Parser, Precision};

use crate::batch::{Batch, WriteSummary};
use crate::database::Database;
use crate::error::{Error, Result, io};
use crate::ingest::{PointSink, add_line_point, add_typed_point};
use crate::layout::{database_dir, validate_database_name};
use crate::lock::DirLock;
use crate::options::Options;
use crate::point::Point;
use crate::shard::ShardReport;
use crate::stats::{Counters, Stats};

/// What [`Engine::open`] found: per-shard reports and the shards it could not open.
#[derive(Debug, Clone, Default)]
pub struct OpenReport {
    /// One report per opened shard.
    pub shards: Vec<ShardReport>,
    /// Shards that could not be opened, with the reason; the rest of the engine is usable.
    pub failed_shards: Vec<(PathBuf, String)>,
    /// Wall time of the open.
    pub elapsed: Duration,
}

pub(crate) struct Inner {
    pub root: PathBuf,
    pub options: Options,
    pub databases: RwLock<BTreeMap<String, Arc<Database>>>,
    pub counters: Counters,
    pub compactor: Compactor,
    pub planner: Planner,
    shutdown: AtomicBool,
    wake: Condvar,
    wake_lock: Mutex<bool>,
    /// Notified after every snapshot and released reservation, for writers waiting for cache
    /// memory.
    freed: Condvar,
    /// Cache bytes reserved by writes admitted but not yet applied (see [`Inner::admit`]).
    freed_lock: Mutex<u64>,
    _lock: DirLock,
}

/// An open tsmdb data directory. Cheap to share: clone it, or share it behind an `Arc`.
///
/// Dropping the last handle stops the background thread and closes every shard (the same as
/// [`Engine::close`], with errors ignored): every acknowledged write is already in the WAL, so
/// nothing is lost even when the process is killed instead.
pub struct Engine {
    inner: Arc<Inner>,
    background: Mutex<Option<JoinHandle<()>>>,
    report: OpenReport,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("root", &self.inner.root)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens (creating if needed) the data directory `path`. Fails with [`Error::Locked`] when
    /// another process has it open (a lock held for less than half a second, as by a child
    /// process between fork and exec, is waited for).
    pub fn open(path: impl AsRef<Path>, options: Options) -> Result<Engine> {
        let started = Instant::now();
        let root = path.as_ref().to_path_buf();
        fs::create_dir_all(&root).map_err(io("creating data directory", &root))?;
        let lock = DirLock::acquire(&root)?;
        let mut report = OpenReport::default();
        let mut databases = BTreeMap::new();
        let mut names = Vec::new();
        for entry in fs::read_dir(&root).map_err(io("listing", &root))? {
            let entry = entry.map_err(io("listing", &root))?;
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_dir && validate_database_name(&name).is_ok() {
                names.push(name);
            }
        }
        names.sort();
        for name in names {
            let dir = database_dir(&root, &name);
            let db = Database::open(
                &dir,
                &name,
                &options,
                &mut report.shards,
                &mut report.failed_shards,
            )?;
            databases.insert(name, Arc::new(db));
        }
        let compactor = Compactor::new(CompactorConfig {
            max_points_per_block: options.max_points_per_block,
            ..CompactorConfig::default()
        });
        let planner = Planner::new(PlannerConfig {
            max_points_per_block: options.max_points_per_block,
            ..PlannerConfig::default()
        });
        let inner = Arc::new(Inner {
            root,
            options,
            databases: RwLock::new(databases),
            counters: Counters::default(),
            compactor,
            planner,
            shutdown: AtomicBool::new(false),
            wake: Condvar::new(),
            wake_lock: Mutex::new(false),
            freed: Condvar::new(),
            freed_lock: Mutex::new(0),
            _lock: lock,
        });
        report.elapsed = started.elapsed();
        let background = inner.options.background.then(|| {
            let inner = Arc::clone(&inner);
            std::thread::Builder::new()
                .name("tsmdb-background".into())
                .spawn(move || crate::background::run(&inner))
        });
        let background = match background {
            Some(Ok(h)) => Some(h),
            Some(Err(e)) => return Err(io("starting the background thread for", &inner.root)(e)),
            None => None,
        };
        Ok(Engine {
            inner,
            background: Mutex::new(background),
            report,
        })
    }

    /// What opening found (damaged files set aside, rebuilt indexes, WAL damage, timings).
    pub fn open_report(&self) -> &OpenReport {
        &self.report
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        &self.inner.root
    }

    /// The options the engine runs with.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// Creates a database (no-op when it exists; its retention is then updated when given).
    pub fn create_database(&self, name: &str, retention: Option<Duration>) -> Result<()> {
        validate_database_name(name)?;
        let mut dbs = self.inner.databases.write();
        if let Some(db) = dbs.get(name) {
            if retention.is_some() {
                *db.retention.lock() = retention;
                db.save_meta()?;
            }
            return Ok(());
        }
        let db = Database::create(&database_dir(&self.inner.root, name), name, retention)?;
        dbs.insert(name.to_string(), Arc::new(db));
        Ok(())
    }

    /// Sets (or with `None` clears) a database's retention: shards entirely older than
    /// `now - retention` are removed by the background thread (or [`Engine::enforce_retention`]).
    pub fn set_retention(&self, name: &str, retention: Option<Duration>) -> Result<()> {
        let db = self.inner.database(name)?;
        *db.retention.lock() = retention;
        db.save_meta()
    }

    /// Names of every database, sorted.
    pub fn databases(&self) -> Vec<String> {
        self.inner.databases.read().keys().cloned().collect()
    }

    /// Removes a database and all its data.
    pub fn drop_database(&self, name: &str) -> Result<bool> {
        let Some(db) = self.inner.databases.write().remove(name) else {
            return Ok(false);
        };
        for s in db.all_shards() {
            let _ = s.close();
        }
        fs::remove_dir_all(&db.dir).map_err(io("removing database", &db.dir))?;
        Ok(true)
    }

    /// Writes line protocol. Lines that are refused (parse errors, `time` tags, field type
    /// conflicts) are listed in the summary with their line number and InfluxDB's reason; every
    /// other point is durable when this returns `Ok`.
    pub fn write_lp(
        &self,
        database: &str,
        input: &[u8],
        precision: Precision,
    ) -> Result<WriteSummary> {
        let db = self.inner.database(database)?;
        let opts = self.parse_options(precision);
        let mut parser = Parser::new(opts);
        let mut sink = PointSink::new(&db, &self.inner.options);
        parser.parse(input, |r| match r {
            Ok(p) => add_line_point(&mut sink, &p),
            Err(e) => sink.reject(e.line, e.to_string()),
        });
        self.commit(&db, &mut sink.finish())
    }

    /// Writes line protocol read from `reader` (a file larger than memory is fine), committing a
    /// batch every `batch_points` lines. `progress` sees each committed batch's summary, in
    /// input order. Returns the totals. Rejected lines carry their line number in the whole
    /// input. On an error, the batches already committed stay written and no later one is
    /// started (one already durable when the error happened is applied, as the WAL holds it).
    ///
    /// The calling thread reads and cuts the input; two workers parse alternate batches and
    /// commit them strictly in order (see `write_stream.rs`), so parsing one batch overlaps
    /// logging and applying the previous one. A batch is shown to `progress` only once durable.
    pub fn write_reader<R: std::io::Read>(
        &self,
        database: &str,
        reader: R,
        precision: Precision,
        batch_points: usize,
        progress: impl FnMut(&WriteSummary),
    ) -> Result<WriteSummary> {
        let db = self.inner.database(database)?;
        let opts = self.parse_options(precision);
        let max_line = tsmdb_lineproto::StreamOptions::default().max_line;
        crate::write_stream::write_stream(
            self,
            &db,
            reader,
            &opts,
            batch_points,
            max_line,
            progress,
        )
    }

    /// Writes typed points (same rules as [`Engine::write_lp`]; a rejection's `line` is the
    /// 1-based index of the point).
    pub fn write_points(&self, database: &str, points: &[Point]) -> Result<WriteSummary> {
        let db = self.inner.database(database)?;
        let mut sink = PointSink::new(&db, &self.inner.options);
        for (i, p) in points.iter().enumerate() {
            add_typed_point(&mut sink, i as u64 + 1, p);
        }
        self.commit(&db, &mut sink.finish())
    }

    fn parse_options(&self, precision: Precision) -> ParseOptions {
        ParseOptions {
            precision,
            unsigned: self.inner.options.unsigned,
            // A line without a timestamp gets the time of the write, as InfluxDB gives it the
            // server's time.
            default_time: now_ns(),
            ..ParseOptions::default()
        }
    }

    /// Logs and applies a batch, shard by shard in time order. The batch keeps its buffers (for
    /// reuse); its summary is returned.
    pub(crate) fn commit(&self, db: &Database, batch: &mut Batch) -> Result<WriteSummary> {
        self.commit_ordered(db, batch, || {}, || {})
    }

    /// [`Engine::commit`] in three phases, for writers that must keep several batches in order
    /// while overlapping them: every part is logged (index, WAL entry queued), then `logged` is
    /// called (the next batch may log now: its WAL entries come after these); every part is
    /// made durable (group commit may sync several batches at once); `before_apply` is called
    /// (wait here for earlier batches' cache applies); then the cache is applied.
    pub(crate) fn commit_ordered(
        &self,
        db: &Database,
        batch: &mut Batch,
        logged: impl FnOnce(),
        before_apply: impl FnOnce(),
    ) -> Result<WriteSummary> {
        let counters = &self.inner.counters;
        let fail = |e: Error| {
            counters.write_errors.fetch_add(1, Ordering::Relaxed);
            Err(e)
        };
        let mut summary = std::mem::take(&mut batch.summary);
        let active = batch.active_parts().to_vec();
        let mut bytes = 0;
        for &i in &active {
            let p = batch.part_mut(i);
            p.seal();
            bytes += p.cache_bytes();
        }
        let reservation = match self.inner.admit(bytes) {
            Ok(r) => r,
            Err(e) => return fail(e),
        };
        let mut shards = Vec::with_capacity(active.len());
        for &i in &active {
            let Some(range) = batch.part(i).range else {
                continue;
            };
            match db.shard_for(range.start, &self.inner.options) {
                Ok(shard) => shards.push((i, shard)),
                Err(e) => return fail(e),
            }
        }
        let mut logs = Vec::with_capacity(shards.len());
        let mut log_error = None;
        for (i, shard) in &shards {
            match shard.log(batch.part_mut(*i)) {
                Ok(l) => logs.push(l),
                Err(e) => {
                    log_error = Some(e);
                    break;
                }
            }
        }
        logged();
        // Parts already logged are finished even when a later part failed: their WAL entries
        // will be replayed, so the cache must hold them too. That holds for every part whose
        // fsync succeeded, even when another shard's failed: only parts not durable are
        // left out (their WAL cut them off, see `Shard::recover_wal`).
        let mut durable = Vec::with_capacity(logs.len());
        for ((_, shard), l) in shards.iter().zip(&logs) {
            match shard.wait_durable(l) {
                Ok(()) => durable.push(true),
                Err(e) => {
                    durable.push(false);
                    log_error.get_or_insert(e);
                }
            }
        }
        before_apply();
        let mut needs_snapshot = false;
        // A part that fails to apply does not stop the others: every durable part will be
        // replayed at the next open, so each one that can be applied must be, now.
        let mut apply_error = None;
        for (((i, shard), l), ok) in shards.iter().zip(logs).zip(durable) {
            if !ok {
                continue;
            }
            summary.series_created += l.created;
            match shard.apply(l, batch.part(*i)) {
                Ok(()) => needs_snapshot |= shard.cache.needs_snapshot(),
                Err(e) => {
                    apply_error.get_or_insert(e);
                }
            }
        }
        if needs_snapshot {
            self.inner.wake_background();
        }
        if let Some(e) = log_error.or(apply_error) {
            return fail(e);
        }
        drop(reservation);
        counters
            .points_written
            .fetch_add(summary.points, Ordering::Relaxed);
        counters
            .values_written
            .fetch_add(summary.values, Ordering::Relaxed);
        counters
            .points_rejected
            .fetch_add(summary.rejected.len() as u64, Ordering::Relaxed);
        Ok(summary)
    }

    /// Snapshots every shard's cache to TSM files now. Returns the number of snapshots written.
    pub fn snapshot_all(&self) -> Result<usize> {
        let mut n = 0;
        for db in self.inner.all_databases() {
            for s in db.all_shards() {
                if s.snapshot(&self.inner.compactor)? {
                    n += 1;
                    self.inner
                        .counters
                        .snapshots
                        .fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        self.inner.notify_freed();
        Ok(n)
    }

    /// Runs compactions on every shard now (`full`: full compactions, as for cold shards).
    /// Returns the number of compactions run.
    pub fn compact_all(&self, full: bool) -> Result<usize> {
        let mut n = 0;
        for db in self.inner.all_databases() {
            for s in db.all_shards() {
                n += s.compact(&self.inner.compactor, &self.inner.planner, full)?;
            }
        }
        self.inner
            .counters
            .compactions
            .fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    /// Removes shards older than each database's retention now. Returns shards removed.
    pub fn enforce_retention(&self) -> Result<usize> {
        self.inner.enforce_retention(now_ns())
    }

    /// Deletes the values of the series of `measurement` matching `condition` in
    /// `[min_time, max_time]`. Series whose every value is deleted leave the index when the range
    /// covers their whole shard. Returns the number of series touched. Series that do not exist
    /// cost nothing.
    pub fn delete(
        &self,
        database: &str,
        measurement: &[u8],
        condition: &Expr,
        min_time: i64,
        max_time: i64,
    ) -> Result<u64> {
        let db = self.inner.database(database)?;
        let fields: Vec<Vec<u8>> = db
            .schema
            .fields(measurement)
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        let mut touched = 0;
        for shard in db.shards_overlapping(min_time, max_time) {
            let ids = shard.index.query(measurement, condition);
            if ids.is_empty() {
                continue;
            }
            let mut keys = Vec::new();
            let whole_shard = min_time <= shard.range.start && max_time >= shard.range.end - 1;
            for id in ids.iter() {
                let Some(sk) = shard.index.tags_of(id) else {
                    continue;
                };
                let series = crate::read::series_key_of(&sk);
                for f in &fields {
                    keys.push(tsmdb_lineproto::composite_key(&series, f));
                }
                touched += 1;
            }
            let forget: Vec<_> = if whole_shard {
                ids.iter().collect()
            } else {
                Vec::new()
            };
            shard.delete_range(&keys, min_time, max_time, &forget)?;
            if whole_shard {
                // Drop the WAL segments that still hold the dropped series' writes, so a
                // restart's replay cannot bring them (or their field types) back.
                shard.snapshot(&self.inner.compactor)?;
            }
        }
        Ok(touched)
    }

    /// Drops the series of `measurement` matching `condition` (all their values, every shard).
    pub fn drop_series(&self, database: &str, measurement: &[u8], condition: &Expr) -> Result<u64> {
        self.delete(database, measurement, condition, i64::MIN, i64::MAX)
    }

    /// Drops a measurement: all its series and values, and its field types.
    pub fn drop_measurement(&self, database: &str, measurement: &[u8]) -> Result<u64> {
        let n = self.drop_series(database, measurement, &Expr::all())?;
        let db = self.inner.database(database)?;
        for s in db.all_shards() {
            s.drop_measurement(measurement)?;
        }
        db.schema.forget_measurement(measurement);
        Ok(n)
    }

    /// Counters and gauges of the engine.
    pub fn stats(&self) -> Stats {
        self.inner.stats()
    }

    /// Stops background work and closes every shard. Every acknowledged write was already
    /// durable; this syncs the index logs and refuses further WAL writes.
    pub fn close(&self) -> Result<()> {
        self.inner.shutdown.store(true, Ordering::Release);
        self.inner.wake_background();
        if let Some(h) = self.background.lock().take() {
            let _ = h.join();
        }
        let mut first_error = None;
        for db in self.inner.all_databases() {
            for s in db.all_shards() {
                if let Err(e) = s.close() {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

impl Inner {
    pub(crate) fn database(&self, name: &str) -> Result<Arc<Database>> {
        self.databases
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::DatabaseNotFound(name.to_string()))
    }

    pub(crate) fn all_databases(&self) -> Vec<Arc<Database>> {
        self.databases.read().values().cloned().collect()
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    pub(crate) fn wake_background(&self) {
        let mut woken = self.wake_lock.lock();
        *woken = true;
        self.wake.notify_all();
    }

    /// Sleeps until woken or `timeout` passes.
    pub(crate) fn wait_for_work(&self, timeout: Duration) {
        let mut woken = self.wake_lock.lock();
        if !*woken && !self.is_shutting_down() {
            self.wake.wait_for(&mut woken, timeout);
        }
        *woken = false;
    }

    pub(crate) fn notify_freed(&self) {
        let _g = self.freed_lock.lock();
        self.freed.notify_all();
    }

    pub(crate) fn cache_bytes(&self) -> u64 {
        self.all_databases()
            .iter()
            .flat_map(|d| d.all_shards())
            .map(|s| s.cache.size())
            .sum()
    }

    /// Admission control for `bytes` more cache memory: waits (up to the configured time) for a
    /// snapshot to free memory, then refuses. Done before anything is logged, so a refused write
    /// leaves no trace.
    ///
    /// Admission is a reservation: the bytes count against the limit from here until the
    /// returned guard is dropped (after the cache apply), so concurrent writers cannot all pass
    /// the check and overshoot together. Reservations are taken and released under one lock,
    /// and the cache grows only while its reservation is held, so cache size plus reservations
    /// never undercounts.
    fn admit(&self, bytes: u64) -> Result<Reservation<'_>> {
        let limit = self.options.cache_max_size;
        if limit == 0 {
            return Ok(Reservation {
                inner: self,
                bytes: 0,
            });
        }
        let deadline = Instant::now() + self.options.cache_full_wait;
        let mut reserved = self.freed_lock.lock();
        loop {
            let size = self.cache_bytes() + *reserved;
            if size.saturating_add(bytes) <= limit {
                *reserved += bytes;
                return Ok(Reservation { inner: self, bytes });
            }
            self.wake_background();
            if self.freed.wait_until(&mut reserved, deadline).timed_out() {
                let size = self.cache_bytes() + *reserved;
                if size.saturating_add(bytes) <= limit {
                    *reserved += bytes;
                    return Ok(Reservation { inner: self, bytes });
                }
                return Err(Error::CacheFull { size, limit });
            }
        }
    }

    pub(crate) fn enforce_retention(&self, now: i64) -> Result<usize> {
        let mut removed = 0;
        for db in self.all_databases() {
            let Some(retention) = *db.retention.lock() else {
                continue;
            };
            let cutoff = now.saturating_sub(retention.as_nanos().min(i64::MAX as u128) as i64);
            removed += db.drop_shards_before(cutoff)?;
        }
        Ok(removed)
    }

    pub(crate) fn stats(&self) -> Stats {
        let c = &self.counters;
        let mut s = Stats {
            points_written: c.points_written.load(Ordering::Relaxed),
            values_written: c.values_written.load(Ordering::Relaxed),
            points_rejected: c.points_rejected.load(Ordering::Relaxed),
            write_errors: c.write_errors.load(Ordering::Relaxed),
            snapshots: c.snapshots.load(Ordering::Relaxed),
            compactions: c.compactions.load(Ordering::Relaxed),
            background_errors: c.background_errors.load(Ordering::Relaxed),
            last_background_error: c.last_background_error.lock().clone(),
            ..Stats::default()
        };
        let mut last_wal_failure: Option<(Instant, String)> = None;
        for db in self.all_databases() {
            s.databases += 1;
            for shard in db.all_shards() {
                s.shards += 1;
                s.wal_recoveries += shard.wal_recoveries.load(Ordering::Relaxed);
                s.wal_reopen_failures += shard.wal_reopen_failures.load(Ordering::Relaxed);
                if let Some((at, why)) = shard.last_wal_failure()
                    && last_wal_failure.as_ref().is_none_or(|(t, _)| at > *t)
                {
                    last_wal_failure = Some((at, format!("{}: {why}", shard.dir.display())));
                }
                s.series += shard.index.len();
                s.cache_bytes += shard.cache.size();
                s.tsm_files += shard.file_count() as u64;
                s.tsm_bytes += shard.tsm_bytes();
                s.wal_bytes += shard.wal_bytes();
            }
        }
        s.last_wal_failure = last_wal_failure.map(|(_, why)| why);
        s
    }
}

/// Cache bytes admitted by [`Inner::admit`], released when dropped.
struct Reservation<'a> {
    inner: &'a Inner,
    bytes: u64,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.bytes > 0 {
            let mut reserved = self.inner.freed_lock.lock();
            *reserved = reserved.saturating_sub(self.bytes);
            self.inner.freed.notify_all();
        }
    }
}

/// Nanoseconds since the Unix epoch, now.
pub(crate) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos().min(i64::MAX as u128) as i64)
}

/// Counter bumped when a background pass fails, and the message kept.
pub(crate) fn record_background_error(inner: &Inner, message: String) {
    inner
        .counters
        .background_errors
        .fetch_add(1, Ordering::Relaxed);
    *inner.counters.last_background_error.lock() = Some(message);
}

/// The engine's count of snapshots, bumped by the background thread too.
pub(crate) fn count_snapshot(inner: &Inner) {
    inner.counters.snapshots.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn count_compactions(inner: &Inner, n: usize) {
    inner
        .counters
        .compactions
        .fetch_add(n as u64, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_and_sync() {
        fn is<T: Send + Sync>() {}
        is::<Engine>();
    }
}
