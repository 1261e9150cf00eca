//! One database: its shards (one per time range), its field schema and its retention.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};

use crate::error::{Error, Result, io};
use crate::layout::{DATABASE_META, ShardRange};
use crate::options::Options;
use crate::schema::Schema;
use crate::shard::{Shard, ShardReport};

pub(crate) struct Database {
    pub name: String,
    pub dir: PathBuf,
    pub schema: Schema,
    /// Open shards by start time.
    pub shards: RwLock<BTreeMap<i64, Arc<Shard>>>,
    /// Shards that could not be opened: their time ranges refuse writes until repaired.
    pub failed: RwLock<HashMap<ShardRange, String>>,
    pub retention: Mutex<Option<Duration>>,
    /// Serializes shard creation.
    create_lock: Mutex<()>,
}

impl Database {
    /// Creates the directory and metadata of a new database.
    pub(crate) fn create(dir: &Path, name: &str, retention: Option<Duration>) -> Result<Database> {
        crate::durable_dir::create_dir_durably(dir)?;
        let db = Database::empty(dir, name, retention);
        db.save_meta()?;
        Ok(db)
    }

    fn empty(dir: &Path, name: &str, retention: Option<Duration>) -> Database {
        Database {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            schema: Schema::default(),
            shards: RwLock::new(BTreeMap::new()),
            failed: RwLock::new(HashMap::new()),
            retention: Mutex::new(retention),
            create_lock: Mutex::new(()),
        }
    }

    /// Opens an existing database directory and every shard in it. A shard that cannot be opened
    /// is reported and set aside; the others open.
    pub(crate) fn open(
        dir: &Path,
        name: &str,
        opts: &Options,
        reports: &mut Vec<ShardReport>,
        failures: &mut Vec<(PathBuf, String)>,
    ) -> Result<Database> {
        let retention = read_meta(dir)?;
        let db = Database::empty(dir, name, retention);
        let mut ranges = Vec::new();
        for entry in fs::read_dir(dir).map_err(io("listing", dir))? {
            let entry = entry.map_err(io("listing", dir))?;
            if let Some(range) = entry
                .file_name()
                .to_str()
                .and_then(ShardRange::parse_dir_name)
            {
                ranges.push((range, entry.path()));
            }
        }
        ranges.sort();
        for (range, path) in ranges {
            match Shard::open(&path, range, opts, &db.schema) {
                Ok((shard, report)) => {
                    reports.push(report);
                    db.shards.write().insert(range.start, Arc::new(shard));
                }
                Err(e) => {
                    failures.push((path, e.to_string()));
                    db.failed.write().insert(range, e.to_string());
                }
            }
        }
        Ok(db)
    }

    pub(crate) fn save_meta(&self) -> Result<()> {
        let path = self.dir.join(DATABASE_META);
        let tmp = self.dir.join(format!("{DATABASE_META}.tmp"));
        let retention = self
            .retention
            .lock()
            .map_or(0, |d| d.as_nanos().min(i64::MAX as u128) as i64);
        let text = format!("# tsmdb database metadata\nretention_ns={retention}\n");
        fs::write(&tmp, text).map_err(io("writing", &tmp))?;
        fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(io("syncing", &tmp))?;
        fs::rename(&tmp, &path).map_err(io("renaming", &tmp))?;
        fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io("syncing", &self.dir))?;
        Ok(())
    }

    /// The shard holding `time`, opening or creating it.
    pub(crate) fn shard_for(&self, time: i64, opts: &Options) -> Result<Arc<Shard>> {
        if let Some(s) = self.find_shard(time) {
            return Ok(s);
        }
        let _g = self.create_lock.lock();
        if let Some(s) = self.find_shard(time) {
            return Ok(s);
        }
        let mut range = ShardRange::containing(time, opts.shard_duration_ns());
        // Shards made with another duration keep their ranges; a new one must not overlap them.
        {
            let shards = self.shards.read();
            if let Some((_, prev)) = shards.range(..=time).next_back() {
                range.start = range.start.max(prev.range.end);
            }
            if let Some((_, next)) = shards.range(time + 1..).next() {
                range.end = range.end.min(next.range.start);
            }
        }
        if let Some(reason) = self
            .failed
            .read()
            .iter()
            .find(|(r, _)| r.overlaps(range.start, range.end - 1))
            .map(|(_, e)| e.clone())
        {
            return Err(Error::InvalidQuery(format!(
                "the shard for time {time} of database {:?} could not be opened ({reason}); repair it before writing to it",
                self.name
            )));
        }
        let dir = self.dir.join(range.dir_name());
        let (shard, _) = Shard::open(&dir, range, opts, &self.schema)?;
        let shard = Arc::new(shard);
        self.shards.write().insert(range.start, Arc::clone(&shard));
        Ok(shard)
    }

    fn find_shard(&self, time: i64) -> Option<Arc<Shard>> {
        let shards = self.shards.read();
        let (_, s) = shards.range(..=time).next_back()?;
        s.range.contains(time).then(|| Arc::clone(s))
    }

    /// Shards holding any time in `[min, max]`, oldest first.
    pub(crate) fn shards_overlapping(&self, min: i64, max: i64) -> Vec<Arc<Shard>> {
        self.shards
            .read()
            .values()
            .filter(|s| s.range.overlaps(min, max))
            .cloned()
            .collect()
    }

    /// Every shard, oldest first.
    pub(crate) fn all_shards(&self) -> Vec<Arc<Shard>> {
        self.shards.read().values().cloned().collect()
    }

    /// Removes shards that ended before `cutoff`; returns how many.
    pub(crate) fn drop_shards_before(&self, cutoff: i64) -> Result<usize> {
        let expired: Vec<Arc<Shard>> = self
            .shards
            .read()
            .values()
            .filter(|s| s.range.end <= cutoff)
            .cloned()
            .collect();
        for s in &expired {
            self.shards.write().remove(&s.range.start);
            let _ = s.close();
            fs::remove_dir_all(&s.dir).map_err(io("removing expired shard", &s.dir))?;
        }
        Ok(expired.len())
    }
}

fn read_meta(dir: &Path) -> Result<Option<Duration>> {
    let path = dir.join(DATABASE_META);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("reading", &path)(e)),
    };
    for line in text.lines() {
        if let Some(v) = line.trim().strip_prefix("retention_ns=") {
            let ns: u64 = v.trim().parse().map_err(|_| {
                Error::InvalidQuery(format!("{}: bad retention_ns value {v:?}", path.display()))
            })?;
            return Ok((ns > 0).then(|| Duration::from_nanos(ns)));
        }
    }
    Ok(None)
}
