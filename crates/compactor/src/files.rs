//! What the planner knows about a TSM file, and how to learn it from a directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;

use tsmdb_tsm_file::{FileId, ReadOptions, TSM_EXT, TsmReader, tombstone_path};

use crate::error::{IoContext, Result};

/// The planner's view of one TSM file: everything it decides on, nothing that needs the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// Generation and sequence from the name.
    pub id: FileId,
    /// Where the file lives (the planner only passes it through).
    pub path: PathBuf,
    /// Bytes in the file.
    pub size: u64,
    /// Smallest timestamp in the index.
    pub min_time: i64,
    /// Largest timestamp in the index.
    pub max_time: i64,
    /// Keys in the index.
    pub key_count: u64,
    /// True when a tombstone file exists for it.
    pub has_tombstones: bool,
    /// True when every block except each key's last holds the maximum number of values: the file
    /// gains nothing from being rewritten on its own (InfluxDB only looks at the first block; we
    /// look at all of them, spec §12.5 Q8).
    pub dense: bool,
}

impl FileInfo {
    /// A descriptor built from an open reader; `max_points` is the block size the writer uses.
    pub fn from_reader(reader: &TsmReader, max_points: usize) -> Result<FileInfo> {
        let path = reader.path().to_path_buf();
        let id = FileId::parse(&path)?;
        Ok(FileInfo {
            id,
            size: reader.file_size(),
            min_time: reader.min_time(),
            max_time: reader.max_time(),
            key_count: reader.key_count() as u64,
            has_tombstones: tombstone_path(&path).exists(),
            dense: is_dense(reader, max_points)?,
            path,
        })
    }
}

/// True when every block but each key's last holds at least `max_points` values. Reads only the
/// timestamp-section header of each block (after its CRC check).
fn is_dense(reader: &TsmReader, max_points: usize) -> Result<bool> {
    for key in reader.keys() {
        let n = key.len();
        for entry in key.iter().take(n.saturating_sub(1)) {
            let block = reader.block(key.key, &entry)?;
            let count = tsmdb_encoding::block_count(block).map_err(|source| {
                crate::error::Error::Encoding {
                    key: crate::error::show_key(key.key),
                    source,
                }
            })?;
            if count < max_points {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// The `*.tsm` files of `dir` sorted by (generation, sequence); other names are ignored.
pub fn tsm_paths(dir: &Path) -> Result<Vec<(FileId, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).at(dir)? {
        let path = entry.at(dir)?.path();
        if path.extension().is_some_and(|e| e == TSM_EXT)
            && path.is_file()
            && let Ok(id) = FileId::parse(&path)
        {
            out.push((id, path));
        }
    }
    out.sort();
    Ok(out)
}

/// Opens every TSM file of `dir` and describes it (sorted by id).
pub fn scan_dir(dir: &Path, max_points: usize) -> Result<Vec<FileInfo>> {
    FileInfoCache::default().scan(dir, max_points)
}

/// Opens a file only to describe it: block headers are read, their CRCs are not checked (the
/// merge checks every block it reads), and tombstones are not loaded.
fn describe(path: &Path, max_points: usize) -> Result<FileInfo> {
    let options = ReadOptions {
        verify_checksums: false,
        apply_tombstones: false,
    };
    FileInfo::from_reader(&TsmReader::open_with(path, options)?, max_points)
}

/// Descriptors of files already seen. TSM files never change once written, so only the
/// tombstone flag (and the size, against reuse of a name) is looked up again; a file is described (its index walked, its block headers
/// read) once in its life instead of on every planning round.
#[derive(Debug, Default)]
pub struct FileInfoCache {
    known: Mutex<HashMap<PathBuf, FileInfo>>,
}

impl FileInfoCache {
    /// Like [`scan_dir`], reusing what earlier scans learned; forgets files that are gone.
    pub fn scan(&self, dir: &Path, max_points: usize) -> Result<Vec<FileInfo>> {
        let paths = tsm_paths(dir)?;
        let mut out = Vec::with_capacity(paths.len());
        for (_, path) in &paths {
            // A name reused by a different file (not something tsmdb does) shows in its size.
            let size = std::fs::metadata(path).at(path)?.len();
            let cached = self
                .known
                .lock()
                .get(path)
                .filter(|i| i.size == size)
                .cloned();
            let info = match cached {
                Some(mut info) => {
                    info.has_tombstones = tombstone_path(path).exists();
                    info
                }
                None => {
                    let info = describe(path, max_points)?;
                    self.known.lock().insert(path.clone(), info.clone());
                    info
                }
            };
            out.push(info);
        }
        self.known
            .lock()
            .retain(|p, _| p.parent() != Some(dir) || paths.iter().any(|(_, q)| q == p));
        Ok(out)
    }
}
