//! The streaming TSM writer: blocks in key order, index built as it goes, atomic commit.
//!
//! Keys arrive sorted, so the index is produced in final order: the entries of the current key are
//! kept (at most 65,535 × 28 bytes), and when the key changes its record is serialized into one byte
//! buffer. That buffer spills to `NAME.idx.tmp` past a threshold (64 MiB by default), so memory stays
//! bounded for files with millions of keys and no per-key allocation outlives the key.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use tsmdb_encoding::FieldType;

use crate::error::{Error, FullReason, IoContext, Result};
use crate::format::{
    CRC_SIZE, DEFAULT_MAX_FILE_SIZE, DEFAULT_MAX_VALUES_PER_BLOCK, FOOTER_SIZE, HEADER_SIZE,
    INDEX_ENTRY_SIZE, IndexEntry, MAGIC, MAX_INDEX_ENTRIES, MAX_KEY_LEN, VERSION,
};
use crate::fsutil::commit_rename;
use crate::naming::tmp_path;

/// Writer settings. The defaults are InfluxDB's.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Most values per block when the writer chunks values itself (default 1000).
    pub max_values_per_block: usize,
    /// The file is ended before it would pass this many bytes (default and maximum 2 GiB:
    /// InfluxDB walks the index with 32-bit positions, so larger values are lowered to 2 GiB).
    pub max_file_size: u64,
    /// Index bytes kept in memory before they spill to `NAME.idx.tmp` (default 64 MiB).
    pub index_spill_threshold: usize,
    /// Data is fsynced every this many bytes so the final fsync has little left (default 25 MiB).
    pub fsync_every: u64,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            max_values_per_block: DEFAULT_MAX_VALUES_PER_BLOCK,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            index_spill_threshold: 64 << 20,
            fsync_every: 25 << 20,
        }
    }
}

/// What happened to a block offered to [`TsmWriter::write_block`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a full writer did not take the block: finish it and write the block to the next file"]
pub enum BlockWrite {
    /// The block is in the file.
    Written,
    /// The block was **not** written: the file is full. Call [`TsmWriter::finish`] and write the
    /// block (and everything after it) to the next file.
    Full(FullReason),
}

/// What a finished file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSummary {
    /// The final path of the file.
    pub path: PathBuf,
    /// Bytes in the file.
    pub size: u64,
    /// Keys in the index.
    pub key_count: u64,
    /// Blocks in the file.
    pub block_count: u64,
    /// Smallest timestamp.
    pub min_time: i64,
    /// Largest timestamp.
    pub max_time: i64,
}

/// The key whose blocks are being written.
struct CurrentKey {
    key: Vec<u8>,
    field_type: FieldType,
    entries: Vec<IndexEntry>,
}

impl CurrentKey {
    /// Bytes of this key's index record so far.
    fn record_len(&self) -> u64 {
        (2 + self.key.len() + 1 + 2 + self.entries.len() * INDEX_ENTRY_SIZE) as u64
    }

    fn last_max(&self) -> Option<i64> {
        self.entries.last().map(|e| e.max_time)
    }
}

/// Index bytes in final order, in memory up to a threshold, then in a spill file.
struct IndexBuffer {
    buf: Vec<u8>,
    spill: Option<(File, PathBuf)>,
    spill_path: PathBuf,
    spilled: u64,
    threshold: usize,
}

impl IndexBuffer {
    fn len(&self) -> u64 {
        self.spilled + self.buf.len() as u64
    }

    fn append_record(&mut self, key: &CurrentKey) -> Result<()> {
        // Lengths were checked when the key and its entries were accepted.
        self.buf
            .extend_from_slice(&(key.key.len() as u16).to_be_bytes());
        self.buf.extend_from_slice(&key.key);
        self.buf.push(key.field_type.block_type());
        self.buf
            .extend_from_slice(&(key.entries.len() as u16).to_be_bytes());
        for e in &key.entries {
            e.write_to(&mut self.buf);
        }
        if self.buf.len() >= self.threshold {
            self.spill_buffer()?;
        }
        Ok(())
    }

    fn spill_buffer(&mut self) -> Result<()> {
        if self.spill.is_none() {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&self.spill_path)
                .at(&self.spill_path)?;
            self.spill = Some((file, self.spill_path.clone()));
        }
        if let Some((file, path)) = &mut self.spill {
            file.write_all(&self.buf).at(path)?;
        }
        self.spilled += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Copies every index byte to `out`.
    fn copy_to(&mut self, out: &mut impl Write, out_path: &Path) -> Result<()> {
        if let Some((file, path)) = &mut self.spill {
            file.seek(SeekFrom::Start(0)).at(path)?;
            let copied = std::io::copy(file, out).at(out_path)?;
            if copied != self.spilled {
                return Err(Error::Io {
                    path: path.clone(),
                    error: std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "index spill file shorter than written",
                    ),
                });
            }
        }
        out.write_all(&self.buf).at(out_path)
    }

    fn remove_spill(&mut self) {
        if let Some((_, path)) = self.spill.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Writes one TSM file: `NAME.tsm.tmp` while open, renamed to `NAME.tsm` by [`TsmWriter::finish`].
///
/// Dropping an unfinished writer removes its temporary files.
pub struct TsmWriter {
    path: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
    options: WriterOptions,
    offset: u64,
    synced_at: u64,
    index: IndexBuffer,
    current: Option<CurrentKey>,
    key_count: u64,
    block_count: u64,
    min_time: i64,
    max_time: i64,
    /// Scratch space for encoding blocks (value-level writes).
    pub(crate) scratch: crate::values::EncodeScratch,
}

impl TsmWriter {
    /// Creates `path` + `.tmp` (fails if it exists: another writer is at work) with default options.
    pub fn create(path: impl AsRef<Path>) -> Result<TsmWriter> {
        TsmWriter::with_options(path, WriterOptions::default())
    }

    /// Creates `path` + `.tmp` with the given options.
    pub fn with_options(path: impl AsRef<Path>, mut options: WriterOptions) -> Result<TsmWriter> {
        options.max_file_size = options.max_file_size.min(DEFAULT_MAX_FILE_SIZE);
        let path = path.as_ref().to_path_buf();
        let tmp = tmp_path(&path);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .at(&tmp)?;
        let spill_path = path.with_extension("idx.tmp");
        Ok(TsmWriter {
            index: IndexBuffer {
                buf: Vec::new(),
                spill: None,
                spill_path,
                spilled: 0,
                threshold: options.index_spill_threshold.max(1),
            },
            out: Some(BufWriter::with_capacity(1 << 20, file)),
            path,
            tmp,
            options,
            offset: 0,
            synced_at: 0,
            current: None,
            key_count: 0,
            block_count: 0,
            min_time: i64::MAX,
            max_time: i64::MIN,
            scratch: Default::default(),
        })
    }

    /// The options the writer was created with.
    pub fn options(&self) -> &WriterOptions {
        &self.options
    }

    /// The path the file gets when finished.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Blocks written so far.
    pub fn block_count(&self) -> u64 {
        self.block_count
    }

    /// Keys started so far.
    pub fn key_count(&self) -> u64 {
        self.key_count
    }

    /// Bytes the file would have if finished now.
    pub fn estimated_size(&self) -> u64 {
        let pending = self.current.as_ref().map_or(0, CurrentKey::record_len);
        self.offset.max(HEADER_SIZE) + self.index.len() + pending + FOOTER_SIZE
    }

    /// Appends an already-encoded block (type byte first, no CRC) of `key`.
    ///
    /// `key` must be the current key or sort after it; `min_time..=max_time` must be the block's
    /// first and last timestamp and follow the key's previous block. Returns
    /// [`BlockWrite::Full`] (block not written) when the key already has 65,535 blocks or the block
    /// would take the file past its size limit.
    pub fn write_block(
        &mut self,
        key: &[u8],
        field_type: FieldType,
        min_time: i64,
        max_time: i64,
        block: &[u8],
    ) -> Result<BlockWrite> {
        let invalid = |what: String| Error::InvalidInput {
            key: key.to_vec(),
            what,
        };
        if block.len() < 2 {
            return Err(invalid(format!(
                "block of {} bytes is too short",
                block.len()
            )));
        }
        if block.first() != Some(&field_type.block_type()) {
            return Err(invalid(format!(
                "block type byte {} does not match type {field_type}",
                block.first().copied().unwrap_or_default()
            )));
        }
        let size = u32::try_from(block.len() as u64 + CRC_SIZE)
            .map_err(|_| invalid(format!("block of {} bytes is too large", block.len())))?;
        if min_time > max_time {
            return Err(invalid(format!(
                "block min time {min_time} after max time {max_time}"
            )));
        }
        let same_key = self.check_key(key, field_type, min_time)?;
        if same_key
            && self
                .current
                .as_ref()
                .is_some_and(|c| c.entries.len() >= MAX_INDEX_ENTRIES)
        {
            return Ok(BlockWrite::Full(FullReason::MaxBlocksPerKey));
        }

        // Bytes the file grows by: the block, its index entry and, for a new key, its record header.
        let mut growth = u64::from(size) + INDEX_ENTRY_SIZE as u64;
        if !same_key {
            growth += (2 + key.len() + 1 + 2) as u64;
        }
        if self.estimated_size() + growth > self.options.max_file_size {
            if self.block_count == 0 {
                return Err(Error::BlockTooLarge {
                    key: key.to_vec(),
                    size: growth,
                    limit: self.options.max_file_size,
                });
            }
            return Ok(BlockWrite::Full(FullReason::MaxFileSize));
        }

        if !same_key {
            self.start_key(key, field_type)?;
        }
        if self.offset == 0 {
            let mut header = [0u8; HEADER_SIZE as usize];
            header[..4].copy_from_slice(&MAGIC.to_be_bytes());
            header[4] = VERSION;
            self.write_out(&header)?;
        }
        let entry = IndexEntry {
            min_time,
            max_time,
            offset: self.offset,
            size,
        };
        self.write_out(&crc32fast::hash(block).to_be_bytes())?;
        self.write_out(block)?;
        if let Some(current) = &mut self.current {
            current.entries.push(entry);
        }
        self.block_count += 1;
        self.min_time = self.min_time.min(min_time);
        self.max_time = self.max_time.max(max_time);
        if self.offset - self.synced_at >= self.options.fsync_every {
            self.sync_data()?;
        }
        Ok(BlockWrite::Written)
    }

    /// Validates `key` against the current key; true when it is the current key.
    pub(crate) fn check_key(&self, key: &[u8], field_type: FieldType, first: i64) -> Result<bool> {
        if key.len() > MAX_KEY_LEN {
            return Err(Error::KeyTooLong { len: key.len() });
        }
        let Some(current) = &self.current else {
            return Ok(false);
        };
        match key.cmp(&current.key) {
            std::cmp::Ordering::Less => Err(Error::UnsortedKey {
                key: key.to_vec(),
                previous: current.key.clone(),
            }),
            std::cmp::Ordering::Greater => Ok(false),
            std::cmp::Ordering::Equal => {
                if current.field_type != field_type {
                    return Err(Error::TypeMismatch {
                        key: key.to_vec(),
                        expected: current.field_type,
                        got: field_type,
                    });
                }
                if let Some(previous) = current.last_max()
                    && first <= previous
                {
                    return Err(Error::OutOfOrder {
                        key: key.to_vec(),
                        time: first,
                        previous,
                    });
                }
                Ok(true)
            }
        }
    }

    fn start_key(&mut self, key: &[u8], field_type: FieldType) -> Result<()> {
        if let Some(done) = self.current.take() {
            self.index.append_record(&done)?;
            let mut entries = done.entries;
            entries.clear();
            let mut k = done.key;
            k.clear();
            k.extend_from_slice(key);
            self.current = Some(CurrentKey {
                key: k,
                field_type,
                entries,
            });
        } else {
            self.current = Some(CurrentKey {
                key: key.to_vec(),
                field_type,
                entries: Vec::new(),
            });
        }
        self.key_count += 1;
        Ok(())
    }

    fn write_out(&mut self, bytes: &[u8]) -> Result<()> {
        if let Some(out) = &mut self.out {
            out.write_all(bytes).at(&self.tmp)?;
        }
        self.offset += bytes.len() as u64;
        Ok(())
    }

    fn sync_data(&mut self) -> Result<()> {
        if let Some(out) = &mut self.out {
            out.flush().at(&self.tmp)?;
            out.get_ref().sync_data().at(&self.tmp)?;
        }
        self.synced_at = self.offset;
        Ok(())
    }

    /// Writes the index and footer, fsyncs, renames `NAME.tsm.tmp` to `NAME.tsm` and fsyncs the
    /// directory. A writer that received no block removes its file and returns
    /// [`Error::NoValues`].
    pub fn finish(mut self) -> Result<FileSummary> {
        if self.block_count == 0 {
            return Err(Error::NoValues);
        }
        let result = self.write_index_and_commit();
        if result.is_err() {
            // The output handle is gone, so Drop would not clean up: leave nothing half-written.
            let _ = std::fs::remove_file(&self.tmp);
        }
        result
    }

    fn write_index_and_commit(&mut self) -> Result<FileSummary> {
        if let Some(done) = self.current.take() {
            self.index.append_record(&done)?;
        }
        let index_offset = self.offset;
        let index_len = self.index.len();
        let mut out = self.out.take().ok_or(Error::NoValues)?;
        self.index.copy_to(&mut out, &self.tmp)?;
        out.write_all(&index_offset.to_be_bytes()).at(&self.tmp)?;
        let file = out.into_inner().map_err(|e| e.into_error()).at(&self.tmp)?;
        file.sync_all().at(&self.tmp)?;
        drop(file);
        self.index.remove_spill();
        commit_rename(&self.tmp, &self.path)?;
        Ok(FileSummary {
            path: self.path.clone(),
            size: index_offset + index_len + FOOTER_SIZE,
            key_count: self.key_count,
            block_count: self.block_count,
            min_time: self.min_time,
            max_time: self.max_time,
        })
    }
}

impl Drop for TsmWriter {
    fn drop(&mut self) {
        self.index.remove_spill();
        if self.out.take().is_some() {
            // Unfinished (or failed): leave nothing behind. Errors are ignored: nothing to report to.
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
