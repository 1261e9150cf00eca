//! Creating directories whose entries survive a power cut.

use std::fs::{self, File};
use std::path::Path;

use crate::error::{Result, io};

/// Creates `dir` and any missing parents, fsyncing the parent of every directory it created (top
/// down), so that a power cut cannot take away a new database or shard directory — and the WAL
/// and TSM files inside it, whose own fsyncs do not cover the directory's entry in its parent.
/// Does nothing when `dir` exists.
pub(crate) fn create_dir_durably(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.is_dir())
        .collect();
    fs::create_dir_all(dir).map_err(io("creating directory", dir))?;
    for created in missing.iter().rev() {
        let parent = match created.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(io("syncing directory", parent))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_every_missing_level() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("db").join("shard");
        create_dir_durably(&dir).unwrap();
        assert!(dir.is_dir());
        // Existing: a no-op.
        create_dir_durably(&dir).unwrap();
        let file = root.path().join("file");
        fs::write(&file, b"x").unwrap();
        assert!(create_dir_durably(&file.join("sub")).is_err());
    }
}
