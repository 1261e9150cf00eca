//! Persistence: the `index.grid` snapshot plus the `index.grid.log` change log in a shard
//! directory, written atomically (tmp file, fsync, rename, fsync directory).

pub(crate) mod bytes;
pub(crate) mod log;
pub(crate) mod snapshot;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;

use self::bytes::{corrupt, io_err};
use self::log::{LOG_HEADER, LOG_MAGIC, LogWriter, header};
use crate::error::{Error, Result};
use crate::index::Index;
use crate::policy::Policy;

/// Name of the snapshot file in a shard directory.
pub const INDEX_FILE: &str = "index.grid";
/// Name of the change log next to it.
pub const LOG_FILE: &str = "index.grid.log";

/// Log records after which an insert triggers a new snapshot (and at least a quarter of the
/// live series, so that large indexes are not rewritten too often).
const CHECKPOINT_RECORDS: u64 = 1 << 16;

/// What [`Index::open`] found on disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// A snapshot was loaded.
    pub snapshot_loaded: bool,
    /// Log records replayed on top of it.
    pub log_records: u64,
    /// Offset in the log of an incomplete final record that was cut off (a crash mid-append).
    pub torn_tail: Option<u64>,
    /// The log belonged to an older snapshot (a crash between snapshot and log reset) and was
    /// discarded: the snapshot already holds its changes.
    pub stale_log_discarded: bool,
}

impl Index {
    /// Serialises the index to the `index.grid` format.
    pub fn to_bytes(&self) -> Vec<u8> {
        snapshot::encode(self)
    }

    /// Parses an `index.grid` image (an in-memory index, no log attached).
    pub fn from_bytes(buf: &[u8]) -> Result<Index> {
        snapshot::decode(buf, Path::new("<memory>"))
    }

    /// Reads an `index.grid` file alone (no log), e.g. for inspection.
    pub fn read_snapshot(path: &Path) -> Result<Index> {
        let buf = fs::read(path).map_err(io_err(path))?;
        snapshot::decode(&buf, path)
    }

    /// Opens (or creates) the persistent index of a shard directory: loads `index.grid`, replays
    /// `index.grid.log`, and keeps logging changes there. The policy stored in the file wins
    /// over `policy`, which applies to a new index.
    ///
    /// A damaged file is an error ([`Error::Corrupt`] with file and offset): the caller then
    /// rebuilds with [`Index::rebuild`] and [`Index::save_to`].
    pub fn open(dir: &Path, policy: Policy) -> Result<(Index, OpenReport)> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let (mut index, report, snap_crc, keep_len) = load(dir, policy)?;
        let log_path = dir.join(LOG_FILE);
        let writer = match keep_len {
            Some(len) => {
                let f = OpenOptions::new()
                    .write(true)
                    .open(&log_path)
                    .map_err(io_err(&log_path))?;
                f.set_len(len).map_err(io_err(&log_path))?;
                let mut f = f;
                use std::io::Seek;
                f.seek(std::io::SeekFrom::End(0))
                    .map_err(io_err(&log_path))?;
                LogWriter::new(f, log_path, report.log_records)
            }
            None => fresh_log(dir, snap_crc)?,
        };
        index.log = Some(Mutex::new(writer));
        index.dir = Some(dir.to_path_buf());
        Ok((index, report))
    }

    /// Loads the index of a shard directory (snapshot plus log) without changing any file and
    /// without attaching the log: for inspection tools.
    pub fn load_read_only(dir: &Path) -> Result<(Index, OpenReport)> {
        let (index, report, _, _) = load(dir, Policy::default())?;
        Ok((index, report))
    }

    /// Writes a new snapshot of a persistent index and empties its log. No-op in memory.
    pub fn checkpoint(&self) -> Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let reg = self.registry.read();
        let guards: Vec<_> = reg.values().map(|c| c.m.read()).collect();
        let Some(log) = &self.log else {
            return Ok(());
        };
        let mut log = log.lock();
        let alloc = *self.alloc.lock();
        let buf = snapshot::encode_parts(&self.policy, &alloc, guards.iter().map(|g| &**g));
        write_atomic(dir, INDEX_FILE, &buf)?;
        *log = fresh_log(dir, file_crc(&buf))?;
        Ok(())
    }

    /// Flushes and fsyncs the change log.
    pub fn sync(&self) -> Result<()> {
        match &self.log {
            Some(l) => l.lock().sync(),
            None => Ok(()),
        }
    }

    /// Writes this index as `index.grid` into `dir` (atomically) and starts an empty log: used
    /// after [`Index::rebuild`]. Returns the snapshot size in bytes.
    pub fn save_to(&self, dir: &Path) -> Result<u64> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let buf = self.to_bytes();
        write_atomic(dir, INDEX_FILE, &buf)?;
        drop(fresh_log(dir, file_crc(&buf))?);
        Ok(buf.len() as u64)
    }

    /// Snapshot if the log has grown large; called by writers after releasing their locks.
    pub(crate) fn maybe_checkpoint(&self) -> Result<()> {
        let Some(log) = &self.log else {
            return Ok(());
        };
        let records = log.lock().records;
        if records >= CHECKPOINT_RECORDS && records >= self.len() / 4 {
            self.checkpoint()?;
        }
        Ok(())
    }

    pub(crate) fn create_measurement_for_replay(&self, name: &[u8]) -> Result<()> {
        self.cell_or_create(name).map(|_| ())
    }
}

/// Loads snapshot and log; returns the snapshot's CRC and the valid length of the log (`None`
/// when there is no usable log).
fn load(dir: &Path, policy: Policy) -> Result<(Index, OpenReport, u32, Option<u64>)> {
    let snap_path = dir.join(INDEX_FILE);
    let log_path = dir.join(LOG_FILE);
    let mut report = OpenReport::default();
    let (index, snap_crc) = match fs::read(&snap_path) {
        Ok(buf) => {
            let index = snapshot::decode(&buf, &snap_path)?;
            report.snapshot_loaded = true;
            (index, file_crc(&buf))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Index::new(policy), 0),
        Err(e) => return Err(io_err(&snap_path)(e)),
    };
    let mut keep_len = None;
    match fs::read(&log_path) {
        Ok(buf) => {
            if buf.len() < LOG_HEADER || &buf[..8] != LOG_MAGIC {
                return Err(corrupt(&log_path, 0, "bad log header"));
            }
            let version = u16::from_le_bytes([buf[8], buf[9]]);
            if version != 1 {
                return Err(Error::UnsupportedVersion {
                    file: log_path,
                    version,
                });
            }
            let link = u32::from_le_bytes([buf[12], buf[13], buf[14], buf[15]]);
            if link != snap_crc {
                report.stale_log_discarded = true;
            } else {
                let r = log::replay(&index, &buf, &log_path)?;
                report.log_records = r.records;
                report.torn_tail = r.torn_tail;
                keep_len = Some(r.valid_len);
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(&log_path)(e)),
    }
    Ok((index, report, snap_crc, keep_len))
}

/// CRC of a snapshot as stored in its trailer, used to link a log to its snapshot.
fn file_crc(buf: &[u8]) -> u32 {
    let t = buf.len().saturating_sub(20);
    buf.get(t..t + 4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn fresh_log(dir: &Path, snap_crc: u32) -> Result<LogWriter> {
    write_atomic(dir, LOG_FILE, &header(snap_crc))?;
    let path = dir.join(LOG_FILE);
    let f = OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(io_err(&path))?;
    Ok(LogWriter::new(f, path, 0))
}

fn write_atomic(dir: &Path, name: &str, buf: &[u8]) -> Result<()> {
    let tmp: PathBuf = dir.join(format!("{name}.tmp"));
    let dst = dir.join(name);
    {
        let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(buf).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
    }
    fs::rename(&tmp, &dst).map_err(io_err(&dst))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}
