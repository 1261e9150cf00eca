//! The compactor: runs plans and cache snapshots, holding leases, slots and the throttle.

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, MutexGuard};
use tsmdb_cache::Snapshot;
use tsmdb_encoding::{Column, FieldType};
use tsmdb_tsm_file::{
    DEFAULT_MAX_FILE_SIZE, DEFAULT_MAX_VALUES_PER_BLOCK, FileId, ReadOptions, TsmReader,
    WriterOptions, tombstone_path,
};

use crate::columns::gather;
use crate::error::{Error, Result, show_key};
use crate::files::FileInfo;
use crate::files::{FileInfoCache, tsm_paths};
#[cfg(doc)]
use crate::install::cleanup_dir;
use crate::install::{Failpoint, Step, hit, install};
use crate::limits::{InUse, Slots, Throttle};
use crate::merge::{MergeStats, merge};
use crate::output::{Outputs, StagedFile, remove_staged};
use crate::planner::{Plan, PlanKind, Planner};

/// Compactor settings; the defaults are InfluxDB's.
#[derive(Clone)]
pub struct CompactorConfig {
    /// Values per block written (1000).
    pub max_points_per_block: usize,
    /// Output files are cut before this size (2 GiB).
    pub max_file_size: u64,
    /// Compactions running at once, across all callers (default max(1, cores / 2)).
    pub max_concurrent: usize,
    /// Bytes per second all compactions together may write; 0 = unlimited (48 MiB/s).
    pub throughput: u64,
    /// Bytes that may be written at once before the throughput limit applies (48 MiB).
    pub burst: u64,
    /// Verify every block's CRC-32 while reading inputs (true).
    pub verify_checksums: bool,
    /// Crash-test hook, see [`Failpoint`]; `None` in production.
    pub failpoint: Option<Failpoint>,
}

impl std::fmt::Debug for CompactorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompactorConfig")
            .field("max_points_per_block", &self.max_points_per_block)
            .field("max_file_size", &self.max_file_size)
            .field("max_concurrent", &self.max_concurrent)
            .field("throughput", &self.throughput)
            .field("burst", &self.burst)
            .field("verify_checksums", &self.verify_checksums)
            .field("failpoint", &self.failpoint.is_some())
            .finish()
    }
}

impl Default for CompactorConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        CompactorConfig {
            max_points_per_block: DEFAULT_MAX_VALUES_PER_BLOCK,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            max_concurrent: (cores / 2).max(1),
            throughput: 48 << 20,
            burst: 48 << 20,
            verify_checksums: true,
            failpoint: None,
        }
    }
}

/// What one compaction or snapshot did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactionReport {
    /// The plan kind (`None` for a cache snapshot).
    pub kind: Option<PlanKind>,
    /// Input files (removed).
    pub inputs: Vec<PathBuf>,
    /// Output files (live).
    pub outputs: Vec<PathBuf>,
    /// Bytes of the inputs.
    pub bytes_in: u64,
    /// Bytes of the outputs.
    pub bytes_out: u64,
    /// What the merge did.
    pub merge: MergeStats,
    /// Wall time.
    pub elapsed: Duration,
}

/// Totals of [`Compactor::compact_dir`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirReport {
    /// Compactions run.
    pub compactions: usize,
    /// Input files consumed.
    pub files_in: usize,
    /// Output files produced (some may have been consumed again by later rounds).
    pub files_out: usize,
    /// Input bytes read.
    pub bytes_in: u64,
    /// Bytes written.
    pub bytes_out: u64,
    /// TSM files in the directory at the end.
    pub files_after: usize,
    /// Their bytes.
    pub bytes_after: u64,
}

/// Runs compactions and snapshots. Share it (`&Compactor` is `Sync`) between the threads that
/// start compactions; the in-use set, the concurrency limit and the throttle are global to it.
pub struct Compactor {
    config: CompactorConfig,
    in_use: Arc<InUse>,
    slots: Slots,
    throttle: Throttle,
    deletes: Mutex<()>,
    known: FileInfoCache,
}

impl std::fmt::Debug for Compactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compactor")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Default for Compactor {
    fn default() -> Self {
        Compactor::new(CompactorConfig::default())
    }
}

/// A tombstone file's identity, to notice a delete that lands during a compaction.
fn tombstone_fingerprint(tsm: &Path) -> Result<Option<(u64, u32)>> {
    let path = tombstone_path(tsm);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some((bytes.len() as u64, crc32fast::hash(&bytes)))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io { path, source }),
    }
}

impl Compactor {
    /// A compactor with these settings.
    pub fn new(config: CompactorConfig) -> Compactor {
        Compactor {
            slots: Slots::new(config.max_concurrent),
            throttle: Throttle::new(config.throughput, config.burst),
            config,
            in_use: Arc::new(InUse::default()),
            deletes: Mutex::new(()),
            known: FileInfoCache::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &CompactorConfig {
        &self.config
    }

    /// Descriptors of the TSM files of `dir` for the planner; each file is described once in its
    /// life (TSM files never change), only its tombstone flag is looked up on every call.
    pub fn scan_dir(&self, dir: &Path) -> Result<Vec<FileInfo>> {
        self.known.scan(dir, self.config.max_points_per_block)
    }

    /// Files held by running compactions.
    pub fn in_use(&self) -> &Arc<InUse> {
        &self.in_use
    }

    /// Ids of the files of `dir` held by running compactions (what the planner must skip).
    pub fn in_use_ids(&self, dir: &Path) -> HashSet<FileId> {
        self.in_use
            .paths()
            .into_iter()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| FileId::parse(&p).ok())
            .collect()
    }

    /// The lock a deleter must hold while it writes tombstones to TSM files of a directory this
    /// compactor works on. Installation holds it from the tombstone check to the last rename, so a
    /// delete either lands before (and the compaction is discarded and re-planned) or after (and
    /// goes to the new files).
    pub fn lock_deletes(&self) -> MutexGuard<'_, ()> {
        self.deletes.lock()
    }

    fn writer_options(&self) -> WriterOptions {
        WriterOptions {
            max_values_per_block: self.config.max_points_per_block,
            max_file_size: self.config.max_file_size,
            ..WriterOptions::default()
        }
    }

    /// Runs `plan`: merges its files into the next generation and installs the outputs.
    pub fn compact(&self, plan: &Plan) -> Result<CompactionReport> {
        self.compact_with(plan, |_| {})
    }

    /// Like [`Compactor::compact`]; `on_installed` runs once the outputs are live, before the
    /// inputs are removed, while deletes are locked out: the engine swaps its file set there.
    pub fn compact_with(
        &self,
        plan: &Plan,
        on_installed: impl FnOnce(&CompactionReport),
    ) -> Result<CompactionReport> {
        let started = Instant::now();
        let (dir, inputs) = plan_inputs(plan)?;
        let _lease = self
            .in_use
            .try_acquire(inputs.clone())
            .ok_or_else(|| Error::InUse {
                files: inputs.iter().map(|p| p.display().to_string()).collect(),
            })?;
        let _slot = self.slots.acquire();

        let fingerprints = inputs
            .iter()
            .map(|p| tombstone_fingerprint(p))
            .collect::<Result<Vec<_>>>()?;
        let options = ReadOptions {
            verify_checksums: self.config.verify_checksums,
            apply_tombstones: true,
        };
        let readers = inputs
            .iter()
            .map(|p| TsmReader::open_with(p, options.clone()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let first = next_output_id(&dir, plan)?;
        let mut stats = MergeStats::default();
        let mut outputs = Outputs::new(&dir, first, self.writer_options(), &self.throttle);
        let refs: Vec<&TsmReader> = readers.iter().collect();
        merge(
            &refs,
            &mut outputs,
            self.config.max_points_per_block,
            &mut stats,
        )?;
        let staged = outputs.finish()?;
        let mut report = CompactionReport {
            kind: Some(plan.kind),
            inputs: inputs.clone(),
            outputs: staged.iter().map(|s| s.path.clone()).collect(),
            bytes_in: readers.iter().map(TsmReader::file_size).sum(),
            bytes_out: staged.iter().map(|s| s.size).sum(),
            merge: stats,
            elapsed: Duration::ZERO,
        };
        hit(self.config.failpoint.as_ref(), Step::Staged)?;

        let guard = self.deletes.lock();
        for (path, before) in inputs.iter().zip(&fingerprints) {
            if tombstone_fingerprint(path)? != *before {
                remove_staged(&staged);
                return Err(Error::TombstonesChanged { path: path.clone() });
            }
        }
        let ids = plan.ids();
        self.install_staged(&dir, first, &ids, &staged)?;
        on_installed(&report);
        drop(guard);
        drop(readers);
        report.elapsed = started.elapsed();
        Ok(report)
    }

    /// Installs staged outputs; before the commit point a failure removes them.
    fn install_staged(
        &self,
        dir: &Path,
        first: FileId,
        inputs: &[FileId],
        staged: &[StagedFile],
    ) -> Result<()> {
        let result = install(dir, first, inputs, staged, self.config.failpoint.as_ref());
        if let Err(e) = &result {
            let journal = dir.join(format!("{first}.{}", crate::install::JOURNAL_EXT));
            if !matches!(e, Error::Injected(_)) && !journal.exists() {
                remove_staged(staged);
            }
        }
        result
    }

    /// Runs independent plans on up to [`CompactorConfig::max_concurrent`] threads (the limit is
    /// shared with every other caller). Results are in plan order.
    pub fn run(&self, plans: Vec<Plan>) -> Vec<Result<CompactionReport>> {
        let count = plans.len();
        let queue = Mutex::new(plans.into_iter().enumerate().collect::<VecDeque<_>>());
        let results = Mutex::new((0..count).map(|_| None).collect::<Vec<_>>());
        let workers = self.slots.limit().min(count);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let Some((i, plan)) = queue.lock().pop_front() else {
                            break;
                        };
                        let result = self.compact(&plan);
                        if let Some(slot) = results.lock().get_mut(i) {
                            *slot = Some(result);
                        }
                    }
                });
            }
        });
        results
            .into_inner()
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::InvalidPlan("plan was not run".into()))))
            .collect()
    }

    /// Writes a cache snapshot as generation `generation` (sequence 1, 2, … when it fills files)
    /// of `dir`, and installs it. Keys are written in sorted order, blocks of at most
    /// [`CompactorConfig::max_points_per_block`] values.
    pub fn write_snapshot(
        &self,
        dir: &Path,
        generation: u32,
        snapshot: &Snapshot,
    ) -> Result<CompactionReport> {
        let started = Instant::now();
        let first = FileId::new(generation, 1);
        let mut outputs = Outputs::new(dir, first, self.writer_options(), &self.throttle);
        let mut stats = MergeStats::default();
        let block_size = self.config.max_points_per_block.max(1);
        let mut encoded = Vec::new();
        let mut fixed: Option<(Vec<i64>, Column)> = None;
        for key in snapshot.sorted_keys() {
            let written = snapshot.with_values(&key, |field_type, times, values| {
                let (times, values) = sorted_unique(times, values, &mut fixed);
                write_chunks(
                    &key,
                    field_type,
                    times,
                    values,
                    block_size,
                    &mut outputs,
                    &mut encoded,
                    &mut stats,
                )
            });
            if written.transpose()?.is_some_and(|n| n > 0) {
                stats.keys += 1;
            }
        }
        let staged = outputs.finish()?;
        let report = CompactionReport {
            kind: None,
            inputs: Vec::new(),
            outputs: staged.iter().map(|s| s.path.clone()).collect(),
            bytes_in: 0,
            bytes_out: staged.iter().map(|s| s.size).sum(),
            merge: stats,
            elapsed: started.elapsed(),
        };
        if staged.is_empty() {
            return Ok(report);
        }
        hit(self.config.failpoint.as_ref(), Step::Staged)?;
        self.install_staged(dir, first, &[], &staged)?;
        Ok(report)
    }

    /// Compacts one shard directory now: plans and runs compactions round after round until the
    /// planner has nothing left (`full`: full plans only, as if the shard were cold). `progress`
    /// sees every finished compaction. Run [`cleanup_dir`] first when the directory was not
    /// opened since a possible crash (it is not done here: it would delete the temporary files of
    /// a snapshot running at the same time).
    pub fn compact_dir(
        &self,
        dir: &Path,
        planner: &Planner,
        full: bool,
        mut progress: impl FnMut(&CompactionReport),
    ) -> Result<DirReport> {
        let mut report = DirReport::default();
        let max_points = self.config.max_points_per_block;
        // Every round removes generations or tombstones; the bound only guards against a planner bug.
        for _ in 0..1024 {
            let files = self.known.scan(dir, max_points)?;
            let in_use = self.in_use_ids(dir);
            let plans = if full {
                planner.plan_full(&files, &in_use).into_iter().collect()
            } else {
                let mut plans = Vec::new();
                for level in 1..=3 {
                    plans.extend(planner.plan_level(&files, level, &in_use));
                }
                let level4 = planner.plan_level4(&files, &in_use);
                plans.extend(if level4.is_empty() {
                    planner.plan_optimize(&files, &in_use)
                } else {
                    level4
                });
                plans
            };
            if plans.is_empty() {
                break;
            }
            for result in self.run(plans) {
                let r = result?;
                report.compactions += 1;
                report.files_in += r.inputs.len();
                report.files_out += r.outputs.len();
                report.bytes_in += r.bytes_in;
                report.bytes_out += r.bytes_out;
                progress(&r);
            }
        }
        for (_, path) in tsm_paths(dir)? {
            report.files_after += 1;
            report.bytes_after += std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        }
        Ok(report)
    }
}

/// Checks a plan and returns its directory and input paths (oldest first).
fn plan_inputs(plan: &Plan) -> Result<(PathBuf, Vec<PathBuf>)> {
    let Some(first) = plan.files.first() else {
        return Err(Error::InvalidPlan("no input files".into()));
    };
    let dir = first
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut files = plan.files.clone();
    files.sort_by_key(|f| f.id);
    if files.windows(2).any(|w| w[0].id == w[1].id) {
        return Err(Error::InvalidPlan("a file is named twice".into()));
    }
    for f in &files {
        if f.path.parent() != Some(dir.as_path()) {
            return Err(Error::InvalidPlan(format!(
                "{} is not in {}",
                f.path.display(),
                dir.display()
            )));
        }
        if FileId::parse(&f.path).ok() != Some(f.id) {
            return Err(Error::InvalidPlan(format!(
                "{} is not named {}",
                f.path.display(),
                f.id
            )));
        }
    }
    Ok((dir, files.into_iter().map(|f| f.path).collect()))
}

/// The first output id: the highest input generation, after the highest sequence it has in `dir`.
fn next_output_id(dir: &Path, plan: &Plan) -> Result<FileId> {
    let generation = plan
        .files
        .iter()
        .map(|f| f.id.generation)
        .max()
        .unwrap_or(0);
    let on_disk = tsm_paths(dir)?
        .into_iter()
        .map(|(id, _)| id)
        .chain(plan.files.iter().map(|f| f.id))
        .filter(|id| id.generation == generation)
        .map(|id| id.sequence)
        .max()
        .unwrap_or(0);
    let sequence = on_disk.checked_add(1).ok_or_else(|| {
        Error::InvalidPlan(format!(
            "sequence numbers of generation {generation} exhausted"
        ))
    })?;
    Ok(FileId::new(generation, sequence))
}

/// The snapshot's values sorted by time with unique timestamps (last write wins). The cache hands
/// them over deduplicated already; this only guards the file against a cache bug.
fn sorted_unique<'a>(
    times: &'a [i64],
    values: &'a Column,
    fixed: &'a mut Option<(Vec<i64>, Column)>,
) -> (&'a [i64], &'a Column) {
    if times.windows(2).all(|w| w[0] < w[1]) {
        return (times, values);
    }
    let mut order: Vec<u32> = (0..times.len() as u32).collect();
    order.sort_by_key(|&i| times.get(i as usize).copied().unwrap_or_default());
    let mut keep: Vec<u32> = Vec::with_capacity(order.len());
    for (n, &i) in order.iter().enumerate() {
        let t = times.get(i as usize);
        let next = order.get(n + 1).and_then(|&j| times.get(j as usize));
        if next != t {
            keep.push(i);
        }
    }
    let mut column = Column::empty(values.field_type());
    gather(&mut column, values, &keep);
    let sorted = keep
        .iter()
        .filter_map(|&i| times.get(i as usize).copied())
        .collect();
    let (t, v) = fixed.insert((sorted, column));
    (t, v)
}

#[allow(clippy::too_many_arguments)]
fn write_chunks(
    key: &[u8],
    field_type: FieldType,
    times: &[i64],
    values: &Column,
    block_size: usize,
    out: &mut Outputs<'_>,
    encoded: &mut Vec<u8>,
    stats: &mut MergeStats,
) -> Result<usize> {
    let mut start = 0;
    while start < times.len() {
        let end = (start + block_size).min(times.len());
        let chunk = times.get(start..end).unwrap_or_default();
        let (Some(&min), Some(&max)) = (chunk.first(), chunk.last()) else {
            break;
        };
        encoded.clear();
        tsmdb_encoding::encode_block(chunk, values.as_ref().slice(start..end), encoded).map_err(
            |source| Error::Encoding {
                key: show_key(key),
                source,
            },
        )?;
        out.write_block(key, field_type, min, max, encoded)?;
        stats.blocks_out += 1;
        stats.values_out += (end - start) as u64;
        start = end;
    }
    Ok(times.len())
}
