//! The file-system operations the WAL performs, behind a small trait.
//!
//! Everything the WAL does to disk goes through [`Storage`] and [`SegmentFile`], so tests can swap
//! the real file system for a model of a disk (`crate::sim`) that loses unsynced data and unsynced
//! directory entries at a power cut and fails fsyncs or writes on demand. The real implementation
//! is a thin layer over `std::fs`; dynamic dispatch costs one indirect call per fsync.

use std::fmt::Debug;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

/// A file the WAL writes with positioned writes and syncs.
pub(crate) trait SegmentFile: Send + Sync + Debug {
    /// Writes all of `buf` at `offset` (a short write is an error).
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;
    /// `fdatasync`: the data and the size are on stable storage when this returns `Ok`.
    fn sync_data(&self) -> io::Result<()>;
    /// Truncates or extends the file.
    fn set_len(&self, len: u64) -> io::Result<()>;
}

/// The directory operations the WAL needs.
pub(crate) trait Storage: Send + Sync + Debug {
    /// Creates `dir` and its parents; returns whether it had to create it.
    fn create_dir_all(&self, dir: &Path) -> io::Result<bool>;
    /// The regular files in `dir`: name and size. Names that are not UTF-8 are skipped (no segment
    /// or temp file of ours has one).
    fn list(&self, dir: &Path) -> io::Result<Vec<(String, u64)>>;
    /// Reads the whole file into `buf` (cleared first).
    fn read(&self, path: &Path, buf: &mut Vec<u8>) -> io::Result<()>;
    /// Creates a file that must not exist yet, for reading and writing.
    fn create_new(&self, path: &Path) -> io::Result<Arc<dyn SegmentFile>>;
    /// Creates or truncates a file for writing.
    fn create(&self, path: &Path) -> io::Result<Arc<dyn SegmentFile>>;
    /// Opens an existing file for writing.
    fn open_write(&self, path: &Path) -> io::Result<Arc<dyn SegmentFile>>;
    /// Removes a file.
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Renames a file, replacing `to` atomically.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Makes the directory's entries (created, renamed, removed files) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RealStorage;

#[derive(Debug)]
struct RealFile(File);

impl SegmentFile for RealFile {
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.0.write_all_at(buf, offset)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.0.sync_data()
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }
}

fn real(file: File) -> Arc<dyn SegmentFile> {
    Arc::new(RealFile(file))
}

impl Storage for RealStorage {
    fn create_dir_all(&self, dir: &Path) -> io::Result<bool> {
        if dir.is_dir() {
            return Ok(false);
        }
        fs::create_dir_all(dir)?;
        Ok(true)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<(String, u64)>> {
        let mut out = Vec::new();
        for item in fs::read_dir(dir)? {
            let item = item?;
            let Ok(name) = item.file_name().into_string() else {
                continue;
            };
            let meta = item.metadata()?;
            if meta.is_file() {
                out.push((name, meta.len()));
            }
        }
        Ok(out)
    }

    fn read(&self, path: &Path, buf: &mut Vec<u8>) -> io::Result<()> {
        buf.clear();
        File::open(path)?.read_to_end(buf)?;
        Ok(())
    }

    fn create_new(&self, path: &Path) -> io::Result<Arc<dyn SegmentFile>> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map(real)
    }

    fn create(&self, path: &Path) -> io::Result<Arc<dyn SegmentFile>> {
        File::create(path).map(real)
    }

    fn open_write(&self, path: &Path) -> io::Result<Arc<dyn SegmentFile>> {
        OpenOptions::new().write(true).open(path).map(real)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }
}
