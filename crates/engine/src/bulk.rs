//! Bulk load: typed values straight into new TSM files of a shard, bypassing the WAL and the
//! cache (what `influxd generate` does), for loading data sets far larger than the cache.
//!
//! ## Protocol (crash safety)
//! 1. Values are written with the tsm-file writer into a staging directory
//!    `SHARD/bulk-PID-N.tmp/` (one per shard touched), each file fsynced when finished.
//! 2. At [`BulkLoad::commit`], per shard: the cache is snapshotted (see ordering below); then,
//!    under the shard's maintenance lock (no snapshot, compaction or delete runs meanwhile), the
//!    next unused generation `G` is taken and the staged files are renamed to
//!    `G-SEQ.tsm.tmp` in the shard directory.
//! 3. **Commit point**: a compaction journal (`G-000000001.compaction`, no inputs, the files as
//!    outputs) is written, fsynced, renamed into place and the directory fsynced.
//! 4. The files are renamed to `G-SEQ.tsm`, the directory fsynced, the journal removed; the
//!    files join the shard's file list; their series go into the index, which is synced.
//!
//! A crash before step 3 leaves only `*.tmp` names, which the engine's open path removes (the
//! compactor's `cleanup_dir`): nothing of the load is visible. A crash after it is rolled
//! forward at open by the same code that finishes interrupted compactions: all of the load is
//! visible. Series missing from the index after a crash in step 4 are added at open from the
//! TSM keys, as for any file. A load that is dropped or fails before step 3 removes its files.
//!
//! A commit is atomic per shard. A load whose times span several shards commits them one after
//! the other (oldest first): a crash in between leaves the earlier shards loaded and the later
//! ones empty, and [`BulkLoad::commit`] returning `Ok` means every shard is loaded.
//!
//! ## Ordering against the WAL and cache (newest wins)
//! Readers merge files by generation (a newer generation wins on equal timestamps) and the
//! cache wins over every file. Step 2 snapshots the cache before the generation is taken, so:
//! bulk values win over every value written (through the WAL) *before* `commit` was called,
//! and lose to every value written *after* `commit` returned; for values written while a
//! commit runs either may win. Two bulk loads into one shard order by their commits. Deletes
//! that ran while a load was being staged do not apply to it (its values are newer).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tsmdb_compactor::{JOURNAL_EXT, JournalContents, encode_journal};
use tsmdb_encoding::{ColumnRef, FieldType};
use tsmdb_lineproto::{MAX_TIME, MIN_TIME, append_composite_key, append_series_key};
use tsmdb_tsm_file::{FileId, TsmReader, TsmWriter, ValuesWrite, WriterOptions, tmp_path};

use crate::database::Database;
use crate::engine::Engine;
use crate::error::{Error, Result, io};
use crate::keys::{parse_series_key, split_key};
use crate::shard::Shard;

/// Separator of composite keys; no part of a key may contain it.
const SEPARATOR: &[u8] = b"#!~#";

/// Points of [`BulkLoad::commit`] at which a test can stop it as a crash would (nothing cleaned
/// up afterwards). See [`BulkLoad::set_failpoint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkStep {
    /// Every file is finished and renamed to its staged `G-SEQ.tsm.tmp` name; no journal yet.
    Staged,
    /// The journal is durable (the commit point); no file renamed to `.tsm` yet.
    Committed,
    /// Every file is live on disk; the index does not have the new series yet.
    Installed,
}

/// A test hook: returning true at a step stops the commit there with an error.
pub type BulkFailpoint = fn(BulkStep) -> bool;

/// What a bulk load wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkSummary {
    /// Values written.
    pub values: u64,
    /// Distinct composite keys written (per shard: a key spanning two shards counts twice).
    pub keys: u64,
    /// Series added to shard indexes.
    pub series_created: u64,
    /// Shards that received files.
    pub shards: u64,
    /// TSM files installed.
    pub files: u64,
    /// Bytes of those files.
    pub bytes: u64,
}

/// An open bulk load into one database: feed it with [`BulkLoad::write`], make it visible with
/// [`BulkLoad::commit`]. Dropping it uncommitted removes everything it wrote.
///
/// ```
/// use tsmdb_engine::{Engine, Options, Select};
/// use tsmdb_encoding::ColumnRef;
///
/// let dir = tempfile::tempdir()?;
/// let engine = Engine::open(dir.path(), Options::default().background(false))?;
/// engine.create_database("db", None)?;
/// let mut load = engine.bulk_load("db")?;
/// load.write(b"cpu,host=a", b"usage", &[10, 20], ColumnRef::Float(&[0.5, 0.7]))?;
/// load.write(b"cpu,host=b", b"usage", &[10], ColumnRef::Float(&[0.9]))?;
/// let summary = load.commit()?;
/// assert_eq!((summary.values, summary.series_created), (3, 2));
/// let series = engine.select("db", &Select::all("cpu").fields(["usage"]))?;
/// assert_eq!(series[0].timestamps, vec![10, 20]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct BulkLoad<'e> {
    engine: &'e Engine,
    db: Arc<Database>,
    /// One writer per shard touched, by shard start time.
    shards: BTreeMap<i64, ShardLoad>,
    /// The last series key given and its canonical form and measurement (keys arrive grouped,
    /// so parsing happens once per series).
    given_series: Vec<u8>,
    series: Vec<u8>,
    measurement: Vec<u8>,
    composite: Vec<u8>,
    values: u64,
    failpoint: Option<BulkFailpoint>,
}

impl std::fmt::Debug for BulkLoad<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkLoad")
            .field("database", &self.db.name)
            .field("values", &self.values)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Starts a bulk load into `database`: values go straight into new TSM files, not through
    /// the WAL and cache, and become visible all at once at [`BulkLoad::commit`]. See the
    /// [`BulkLoad`] docs for crash safety and how bulk values order against other writes.
    pub fn bulk_load(&self, database: &str) -> Result<BulkLoad<'_>> {
        Ok(BulkLoad {
            engine: self,
            db: self.inner().database(database)?,
            shards: BTreeMap::new(),
            given_series: Vec::new(),
            series: Vec::new(),
            measurement: Vec::new(),
            composite: Vec::new(),
            values: 0,
            failpoint: None,
        })
    }
}

fn invalid(key: &[u8], what: impl Into<String>) -> Error {
    Error::InvalidBulk {
        key: String::from_utf8_lossy(key).into_owned(),
        what: what.into(),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

impl BulkLoad<'_> {
    /// Installs a test hook that can stop [`BulkLoad::commit`] at a [`BulkStep`] as a crash
    /// would.
    #[doc(hidden)]
    pub fn set_failpoint(&mut self, failpoint: BulkFailpoint) {
        self.failpoint = Some(failpoint);
    }

    /// Adds values of one field of one series: `series_key` in line-protocol form
    /// (`cpu,host=a`, escaped as line protocol escapes; tags are put in canonical order),
    /// `field` unescaped, `timestamps` strictly increasing, as many values as timestamps.
    ///
    /// Each call's values are cut into blocks of the engine's `max_points_per_block` on their
    /// own (blocks are not joined across calls), so pass a block's worth or more at a time.
    /// Keys are best given in order (by series key, then field) and each key's values in time
    /// order across calls: anything else still loads correctly, but starts a new file. The
    /// field's type is recorded in the database schema here; a type that conflicts with the
    /// schema, a non-finite float, a time outside InfluxDB's range or a malformed key is an
    /// error and writes nothing of this call.
    pub fn write(
        &mut self,
        series_key: &[u8],
        field: &[u8],
        timestamps: &[i64],
        values: ColumnRef<'_>,
    ) -> Result<()> {
        if timestamps.len() != values.len() {
            return Err(invalid(
                series_key,
                format!(
                    "{} timestamps but {} values",
                    timestamps.len(),
                    values.len()
                ),
            ));
        }
        let (Some(&first), Some(&last)) = (timestamps.first(), timestamps.last()) else {
            return Ok(());
        };
        if series_key != self.given_series {
            self.set_series(series_key)?;
        }
        self.check_values(field, timestamps, first, last, values)?;
        if let Err(c) = self.db.schema.check_and_record(
            &self.measurement,
            std::iter::once((field, values.field_type())),
        ) {
            return Err(invalid(
                series_key,
                format!(
                    "field type conflict: input field \"{}\" on measurement \"{}\" is type {}, already exists as type {}",
                    String::from_utf8_lossy(&c.field),
                    String::from_utf8_lossy(&self.measurement),
                    c.new,
                    c.existing
                ),
            ));
        }
        self.composite.clear();
        append_composite_key(&mut self.composite, &self.series, field);

        // Split at shard boundaries: each piece goes to the shard holding its times.
        let options = &self.engine.inner().options;
        let mut start = 0;
        while let Some(&t) = timestamps.get(start) {
            let shard = self.db.shard_for(t, options)?;
            let end = start
                + timestamps[start..]
                    .partition_point(|&x| x < shard.range.end.max(t.saturating_add(1)));
            let load = match self.shards.entry(shard.range.start) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(ShardLoad::new(shard, options.max_points_per_block)?)
                }
            };
            load.write(
                &self.composite,
                &timestamps[start..end],
                values.slice(start..end),
            )?;
            start = end;
        }
        self.values += timestamps.len() as u64;
        Ok(())
    }

    /// Parses and canonicalises a new series key.
    fn set_series(&mut self, series_key: &[u8]) -> Result<()> {
        let Some((measurement, tags)) = parse_series_key(series_key) else {
            return Err(invalid(series_key, "a tag has no unescaped '='"));
        };
        if measurement.is_empty() {
            return Err(invalid(series_key, "missing measurement"));
        }
        if contains(&measurement, SEPARATOR)
            || tags
                .iter()
                .any(|(k, v)| contains(k, SEPARATOR) || contains(v, SEPARATOR))
        {
            return Err(invalid(series_key, "contains \"#!~#\""));
        }
        let mut pairs: Vec<(&[u8], &[u8])> = tags.iter().map(|(k, v)| (&**k, &**v)).collect();
        if pairs.iter().any(|(k, _)| *k == b"time") {
            return Err(invalid(series_key, "invalid tag key \"time\""));
        }
        pairs.sort();
        if pairs.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(invalid(series_key, "duplicate tag key"));
        }
        self.series.clear();
        append_series_key(&mut self.series, &measurement, &mut pairs);
        self.measurement.clear();
        self.measurement.extend_from_slice(&measurement);
        self.given_series.clear();
        self.given_series.extend_from_slice(series_key);
        Ok(())
    }

    fn check_values(
        &self,
        field: &[u8],
        timestamps: &[i64],
        first: i64,
        last: i64,
        values: ColumnRef<'_>,
    ) -> Result<()> {
        let key = &self.given_series;
        if field.is_empty() || field == b"time" || contains(field, SEPARATOR) {
            return Err(invalid(
                key,
                format!("invalid field name {:?}", String::from_utf8_lossy(field)),
            ));
        }
        if let Some(w) = timestamps.windows(2).find(|w| w[1] <= w[0]) {
            return Err(invalid(
                key,
                format!("timestamps not increasing: {} after {}", w[1], w[0]),
            ));
        }
        if first < MIN_TIME || last > MAX_TIME {
            return Err(invalid(
                key,
                format!("time outside range {MIN_TIME} - {MAX_TIME}"),
            ));
        }
        if let ColumnRef::Float(f) = values
            && let Some(i) = f.iter().position(|v| !v.is_finite())
        {
            return Err(invalid(
                key,
                format!(
                    "unsupported value: field \"{}\" is NaN or infinite at time {}",
                    String::from_utf8_lossy(field),
                    timestamps.get(i).copied().unwrap_or_default()
                ),
            ));
        }
        Ok(())
    }

    /// Makes the load visible, shard by shard (see the module docs for the protocol). On an
    /// error, shards already committed stay committed; a shard whose journal was written is
    /// completed at the next open.
    pub fn commit(mut self) -> Result<BulkSummary> {
        let mut summary = BulkSummary {
            values: self.values,
            ..BulkSummary::default()
        };
        let inner = self.engine.inner();
        let shards = std::mem::take(&mut self.shards);
        for (_, mut load) in shards {
            load.finish_file()?;
            if load.staged.is_empty() {
                continue;
            }
            summary.keys += load.keys;
            // Values written before this commit must lose to the load: flush them to a file
            // of an older generation than the load's.
            if load.shard.snapshot(&inner.compactor)? {
                crate::engine::count_snapshot(inner);
            }
            let failpoint = self.failpoint;
            let dir = load.shard.dir.clone();
            let staged = std::mem::take(&mut load.staged);
            let readers = load
                .shard
                .install_files(|generation| install(&dir, generation, &staged, failpoint))?;
            hit(failpoint, BulkStep::Installed)?;
            summary.shards += 1;
            summary.files += readers.len() as u64;
            summary.bytes += readers.iter().map(|r| r.file_size()).sum::<u64>();
            summary.series_created += add_series(&load.shard, &readers)?;
            load.remove_staging();
            inner
                .counters
                .values_written
                .fetch_add(load.values, Ordering::Relaxed);
        }
        Ok(summary)
    }
}

fn hit(failpoint: Option<BulkFailpoint>, step: BulkStep) -> Result<()> {
    match failpoint {
        Some(f) if f(step) => Err(Error::InvalidBulk {
            key: String::new(),
            what: format!("failpoint at {step:?}"),
        }),
        _ => Ok(()),
    }
}

/// Steps 2–4 of the protocol for one shard, under its maintenance lock. Returns the live paths.
fn install(
    dir: &Path,
    generation: u32,
    staged: &[PathBuf],
    failpoint: Option<BulkFailpoint>,
) -> Result<Vec<PathBuf>> {
    let ids: Vec<FileId> = (1..=staged.len() as u32)
        .map(|seq| FileId::new(generation, seq))
        .collect();
    let staged_paths: Vec<PathBuf> = ids
        .iter()
        .map(|id| tmp_path(&dir.join(id.tsm_name())))
        .collect();
    let journal = dir.join(format!("{}.{JOURNAL_EXT}", ids[0]));
    let journal_tmp = tmp_path(&journal);
    let stage = || -> Result<()> {
        for (from, to) in staged.iter().zip(&staged_paths) {
            fs::rename(from, to).map_err(io("staging bulk-loaded file", to))?;
        }
        sync_dir(dir)
    };
    let commit = || -> Result<()> {
        let text = encode_journal(&JournalContents {
            inputs: Vec::new(),
            outputs: ids.clone(),
        });
        write_synced(&journal_tmp, text.as_bytes())?;
        fs::rename(&journal_tmp, &journal).map_err(io("committing bulk-load journal", &journal))
    };
    let undo = || {
        // Before the commit point nothing is visible: remove what was staged rather than
        // leave it for the next open.
        for p in staged_paths.iter().chain([&journal_tmp]) {
            let _ = fs::remove_file(p);
        }
    };
    if let Err(e) = stage() {
        undo();
        return Err(e);
    }
    hit(failpoint, BulkStep::Staged)?;
    if let Err(e) = commit() {
        undo();
        return Err(e);
    }
    // From here on the journal exists: the staged files must stay for the roll-forward, even
    // if this sync fails.
    sync_dir(dir)?;
    hit(failpoint, BulkStep::Committed)?;

    let mut live = Vec::with_capacity(ids.len());
    for id in &ids {
        let path = dir.join(id.tsm_name());
        fs::rename(tmp_path(&path), &path).map_err(io("installing bulk-loaded file", &path))?;
        live.push(path);
    }
    sync_dir(dir)?;
    // A journal that survives a crash here is rolled forward again at open, finding it done.
    fs::remove_file(&journal).map_err(io("removing bulk-load journal", &journal))?;
    Ok(live)
}

/// Puts the series of freshly installed files into the shard's index and syncs it.
fn add_series(shard: &Shard, readers: &[Arc<TsmReader>]) -> Result<u64> {
    let mut created = 0;
    for r in readers {
        let mut last: &[u8] = &[];
        for k in r.keys() {
            let (series, _) = split_key(k.key);
            if series == last {
                continue;
            }
            last = series;
            if let Some((m, tags)) = parse_series_key(series) {
                let tags: Vec<(&[u8], &[u8])> = tags.iter().map(|(k, v)| (&**k, &**v)).collect();
                let (_, how) = shard.index.insert(&m, &tags)?;
                created += u64::from(how == tsmdb_index_grid::Inserted::Inserted);
            }
        }
    }
    shard.index.sync()?;
    Ok(created)
}

fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("syncing directory", dir))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io("creating", path))?;
    f.write_all(bytes).map_err(io("writing", path))?;
    f.sync_all().map_err(io("syncing", path))
}

/// Distinguishes the staging directories of loads running at the same time in one process.
static STAGING_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The files one bulk load writes into one shard.
struct ShardLoad {
    shard: Arc<Shard>,
    /// Blocks of the engine's `max_points_per_block` values, like its snapshots.
    options: WriterOptions,
    staging: PathBuf,
    writer: Option<TsmWriter>,
    /// Finished files in the staging directory, in write order (later files win on equal keys
    /// and times, as later writes would).
    staged: Vec<PathBuf>,
    /// The key last written and its last timestamp: a key that does not sort after it, or
    /// that goes back in time, starts a new file.
    key: Vec<u8>,
    last_time: i64,
    field_type: Option<FieldType>,
    keys: u64,
    values: u64,
}

impl ShardLoad {
    fn new(shard: Arc<Shard>, block_size: usize) -> Result<ShardLoad> {
        let n = STAGING_COUNTER.fetch_add(1, Ordering::Relaxed);
        let staging = shard
            .dir
            .join(format!("bulk-{}-{n}.tmp", std::process::id()));
        fs::create_dir(&staging).map_err(io("creating bulk-load staging directory", &staging))?;
        Ok(ShardLoad {
            shard,
            options: WriterOptions {
                max_values_per_block: block_size.max(1),
                ..WriterOptions::default()
            },
            staging,
            writer: None,
            staged: Vec::new(),
            key: Vec::new(),
            last_time: i64::MIN,
            field_type: None,
            keys: 0,
            values: 0,
        })
    }

    fn write(&mut self, key: &[u8], timestamps: &[i64], values: ColumnRef<'_>) -> Result<()> {
        let (Some(&first), Some(&last)) = (timestamps.first(), timestamps.last()) else {
            return Ok(());
        };
        let same_key = key == self.key.as_slice();
        let in_order = match key.cmp(&self.key) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => {
                first > self.last_time && self.field_type == Some(values.field_type())
            }
            std::cmp::Ordering::Less => false,
        };
        if !in_order && self.writer.is_some() {
            self.finish_file()?;
        }
        if !same_key {
            self.keys += 1;
        }
        let mut done = 0;
        while done < timestamps.len() {
            let writer = match &mut self.writer {
                Some(w) => w,
                None => {
                    let path = self
                        .staging
                        .join(format!("{:09}.tsm", self.staged.len() + 1));
                    self.writer
                        .insert(TsmWriter::with_options(&path, self.options.clone())?)
                }
            };
            match writer.write_values(key, &timestamps[done..], values.slice(done..values.len()))? {
                ValuesWrite::All => break,
                ValuesWrite::Partial { written, .. } => {
                    done += written;
                    self.finish_file()?;
                }
            }
        }
        self.values += timestamps.len() as u64;
        self.key.clear();
        self.key.extend_from_slice(key);
        self.last_time = last;
        self.field_type = Some(values.field_type());
        Ok(())
    }

    fn finish_file(&mut self) -> Result<()> {
        if let Some(w) = self.writer.take() {
            if w.block_count() == 0 {
                return Ok(()); // dropping it removes its empty temporary file
            }
            let summary = w.finish()?;
            self.staged.push(summary.path);
        }
        Ok(())
    }

    fn remove_staging(&mut self) {
        let _ = fs::remove_dir_all(&self.staging);
    }
}

impl Drop for ShardLoad {
    fn drop(&mut self) {
        // Uncommitted (or failed): leave nothing behind. Errors are ignored: the engine's open
        // path removes `*.tmp` directories anyway.
        self.writer = None;
        self.remove_staging();
    }
}
