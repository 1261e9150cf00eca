//! Durable file replacement: fsync the file, rename, fsync the directory.

use std::fs::File;
use std::path::Path;

use crate::error::{IoContext, Result};

/// Fsyncs the directory holding `path`, so a rename into it survives a crash.
pub(crate) fn sync_parent_dir(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir).and_then(|d| d.sync_all()).at(dir)
}

/// Renames a fully written and fsynced `tmp` over `dest`, then fsyncs the directory.
pub(crate) fn commit_rename(tmp: &Path, dest: &Path) -> Result<()> {
    std::fs::rename(tmp, dest).at(dest)?;
    sync_parent_dir(dest)
}
