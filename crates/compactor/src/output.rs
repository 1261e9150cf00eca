//! Output files of one compaction or snapshot: written through `TsmWriter` to staged names
//! (`GEN-SEQ.tsm.tmp`), rolling to the next sequence when a file is full.

use std::path::{Path, PathBuf};

use tsmdb_encoding::FieldType;
use tsmdb_tsm_file::{BlockWrite, FileId, FileSummary, TsmWriter, WriterOptions, tmp_path};

use crate::error::{Error, Result};
use crate::limits::Throttle;

/// A finished output, fsynced under its staged name and not yet visible as a TSM file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedFile {
    /// Its id (and final name).
    pub id: FileId,
    /// The staged path, `GEN-SEQ.tsm.tmp`.
    pub staged: PathBuf,
    /// The final path, `GEN-SEQ.tsm`.
    pub path: PathBuf,
    /// Bytes in the file.
    pub size: u64,
    /// Blocks in the file.
    pub block_count: u64,
    /// Keys in the file.
    pub key_count: u64,
}

/// The staged name of the file `id` in `dir`.
pub(crate) fn staged_path(dir: &Path, id: FileId) -> PathBuf {
    tmp_path(&dir.join(id.tsm_name()))
}

/// Writes blocks in key order to one or more files of one generation.
pub(crate) struct Outputs<'a> {
    dir: PathBuf,
    next: FileId,
    options: WriterOptions,
    throttle: &'a Throttle,
    writer: Option<TsmWriter>,
    staged: Vec<StagedFile>,
}

impl<'a> Outputs<'a> {
    /// Outputs `first`, `first + 1`, … in `dir`.
    pub(crate) fn new(
        dir: &Path,
        first: FileId,
        options: WriterOptions,
        throttle: &'a Throttle,
    ) -> Self {
        Outputs {
            dir: dir.to_path_buf(),
            next: first,
            options,
            throttle,
            writer: None,
            staged: Vec::new(),
        }
    }

    /// Appends an encoded block, rolling to a new file when the current one is full.
    pub(crate) fn write_block(
        &mut self,
        key: &[u8],
        field_type: FieldType,
        min_time: i64,
        max_time: i64,
        block: &[u8],
    ) -> Result<()> {
        self.throttle.take(block.len());
        let mut fresh = false;
        loop {
            let writer = match &mut self.writer {
                Some(w) => w,
                None => {
                    let path = staged_path(&self.dir, self.next);
                    fresh = true;
                    self.writer
                        .insert(TsmWriter::with_options(path, self.options.clone())?)
                }
            };
            match writer.write_block(key, field_type, min_time, max_time, block)? {
                BlockWrite::Written => return Ok(()),
                BlockWrite::Full(reason) if fresh => {
                    // A new file refused its first block: rolling again cannot help.
                    return Err(tsmdb_tsm_file::Error::Full { reason }.into());
                }
                BlockWrite::Full(_) => self.roll()?,
            }
        }
    }

    /// Finishes the current file (if any) and moves on to the next sequence.
    fn roll(&mut self) -> Result<()> {
        if let Some(writer) = self.writer.take() {
            let summary: FileSummary = writer.finish()?;
            self.staged.push(StagedFile {
                id: self.next,
                path: self.dir.join(self.next.tsm_name()),
                staged: summary.path,
                size: summary.size,
                block_count: summary.block_count,
                key_count: summary.key_count,
            });
            self.next.sequence = self.next.sequence.checked_add(1).ok_or_else(|| {
                Error::InvalidPlan(format!(
                    "sequence numbers of generation {} exhausted",
                    self.next.generation
                ))
            })?;
        }
        Ok(())
    }

    /// Finishes the last file; returns every staged output (none when nothing was written).
    pub(crate) fn finish(mut self) -> Result<Vec<StagedFile>> {
        self.roll()?;
        Ok(std::mem::take(&mut self.staged))
    }
}

/// Dropped before `finish` (an error): everything written is removed.
impl Drop for Outputs<'_> {
    fn drop(&mut self) {
        drop(self.writer.take());
        remove_staged(&self.staged);
    }
}

/// Removes staged outputs (best effort: a leftover `.tmp` is removed at the next open anyway).
pub(crate) fn remove_staged(staged: &[StagedFile]) {
    for s in staged {
        let _ = std::fs::remove_file(&s.staged);
    }
}
