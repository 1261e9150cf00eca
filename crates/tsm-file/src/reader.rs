//! The TSM reader: validates a file at open, then serves lookups and CRC-checked blocks.
//!
//! The file is memory-mapped (see the crate docs for why, and `benches/tsm.rs` for the
//! measurement against positioned reads).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use memmap2::Mmap;

use crate::deletes::{Deletes, KeyDeletes};
use crate::error::{Error, IoContext, Result};
use crate::format::{CRC_SIZE, FOOTER_SIZE, HEADER_SIZE, IndexEntry, MAGIC, TimeRange, VERSION};
use crate::index::{Index, KeyEntries, record_at};
use crate::naming::tombstone_path;
use crate::tombstone::{Tombstone, append_tombstones, read_tombstones};

/// How a file is read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Verify the CRC-32 of every block read (default true; InfluxDB never does).
    pub verify_checksums: bool,
    /// Load the file's tombstones and hide deleted keys and values (default true).
    pub apply_tombstones: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            verify_checksums: true,
            apply_tombstones: true,
        }
    }
}

/// Where the bytes of a file live.
enum Storage {
    /// A read-only map of the file.
    Map(Mmap),
    /// Bytes in memory (tests, fuzzing, tools).
    Bytes(Vec<u8>),
}

impl std::ops::Deref for Storage {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Storage::Map(m) => m,
            Storage::Bytes(b) => b,
        }
    }
}

/// An open, validated TSM file. `Send + Sync`: share it between threads behind an `Arc`.
pub struct TsmReader {
    path: PathBuf,
    map: Storage,
    index_offset: u64,
    index: Index,
    options: ReadOptions,
    has_deletes: AtomicBool,
    deletes: RwLock<Deletes>,
}

impl std::fmt::Debug for TsmReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsmReader")
            .field("path", &self.path)
            .field("keys", &self.index.offsets.len())
            .finish_non_exhaustive()
    }
}

impl TsmReader {
    /// Opens and validates `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<TsmReader> {
        TsmReader::open_with(path, ReadOptions::default())
    }

    /// Opens and validates `path`: magic, version, footer, every index record.
    pub fn open_with(path: impl AsRef<Path>, options: ReadOptions) -> Result<TsmReader> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).at(&path)?;
        let len = file.metadata().at(&path)?.len();
        let corrupt = |what: String| Error::Corrupt {
            path: path.clone(),
            what,
        };
        if len < HEADER_SIZE + FOOTER_SIZE {
            return Err(corrupt(format!(
                "file of {len} bytes is shorter than a header and footer (13 bytes)"
            )));
        }
        // SAFETY: TSM files are immutable once renamed into place: nothing in this process or in
        // the engine writes to or truncates a live file (deletes go to tombstone files and
        // compaction writes new files), so the mapped bytes do not change under us. Every read of
        // the map is bounds-checked against its length. A foreign process truncating the file
        // would raise SIGBUS, which no file API can prevent for a mapping; see the crate docs.
        let map = unsafe { Mmap::map(&file) }.at(&path)?;
        Self::from_storage(path, Storage::Map(map), options)
    }

    /// Validates `bytes` as a TSM file held in memory; `path` names it in errors and locates its
    /// tombstone file (when `options.apply_tombstones`).
    pub fn from_bytes(
        path: impl AsRef<Path>,
        bytes: Vec<u8>,
        options: ReadOptions,
    ) -> Result<TsmReader> {
        Self::from_storage(path.as_ref().to_path_buf(), Storage::Bytes(bytes), options)
    }

    fn from_storage(path: PathBuf, map: Storage, options: ReadOptions) -> Result<TsmReader> {
        let corrupt = |what: String| Error::Corrupt {
            path: path.clone(),
            what,
        };
        let bytes: &[u8] = &map;
        let len = bytes.len() as u64;
        if len < HEADER_SIZE + FOOTER_SIZE {
            return Err(corrupt(format!(
                "file of {len} bytes is shorter than a header and footer (13 bytes)"
            )));
        }
        let magic = bytes.first_chunk::<4>().map(|m| u32::from_be_bytes(*m));
        if magic != Some(MAGIC) {
            return Err(corrupt(format!(
                "bad magic number {:08x} at offset 0 (want {MAGIC:08x})",
                magic.unwrap_or_default()
            )));
        }
        let version = bytes.get(4).copied().unwrap_or_default();
        if version != VERSION {
            return Err(corrupt(format!(
                "file is version {version}, expected {VERSION}"
            )));
        }
        let footer_at = len - FOOTER_SIZE;
        let index_offset = bytes
            .get(footer_at as usize..)
            .and_then(|f| f.first_chunk::<8>())
            .map(|f| u64::from_be_bytes(*f))
            .unwrap_or_default();
        if index_offset < HEADER_SIZE || index_offset >= footer_at {
            return Err(corrupt(format!(
                "footer at offset {footer_at}: index offset {index_offset} outside [5, {footer_at})"
            )));
        }
        let section = bytes
            .get(index_offset as usize..footer_at as usize)
            .unwrap_or_default();
        let index = Index::build(section, index_offset)
            .map_err(|what| corrupt(format!("index: {what}")))?;
        let reader = TsmReader {
            path,
            map,
            index_offset,
            index,
            options,
            has_deletes: AtomicBool::new(false),
            deletes: RwLock::new(Deletes::default()),
        };
        if reader.options.apply_tombstones {
            let tombstones = read_tombstones(tombstone_path(&reader.path))?;
            reader.apply(&tombstones);
        }
        Ok(reader)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes in the file.
    pub fn file_size(&self) -> u64 {
        self.map.len() as u64
    }

    /// Offset of the index section.
    pub fn index_offset(&self) -> u64 {
        self.index_offset
    }

    /// Bytes of the index section.
    pub fn index_size(&self) -> u64 {
        self.file_size() - FOOTER_SIZE - self.index_offset
    }

    /// Keys in the index, deleted ones included.
    pub fn key_count(&self) -> usize {
        self.index.offsets.len()
    }

    /// Blocks in the index, those of deleted keys included.
    pub fn block_count(&self) -> u64 {
        self.index.block_count
    }

    /// Smallest timestamp in the index (ignores tombstones).
    pub fn min_time(&self) -> i64 {
        self.index.min_time
    }

    /// Largest timestamp in the index (ignores tombstones).
    pub fn max_time(&self) -> i64 {
        self.index.max_time
    }

    /// The options the file was opened with.
    pub fn options(&self) -> &ReadOptions {
        &self.options
    }

    fn section(&self) -> &[u8] {
        self.map
            .get(self.index_offset as usize..self.map.len() - FOOTER_SIZE as usize)
            .unwrap_or_default()
    }

    /// The key at `position` (0-based, key order), deleted or not.
    pub fn key_at(&self, position: usize) -> Option<KeyEntries<'_>> {
        let pos = *self.index.offsets.get(position)? as usize;
        record_at(self.section(), pos, position)
    }

    /// The smallest key.
    pub fn min_key(&self) -> &[u8] {
        self.key_at(0).map(|k| k.key).unwrap_or_default()
    }

    /// The largest key.
    pub fn max_key(&self) -> &[u8] {
        self.key_at(self.key_count().saturating_sub(1))
            .map(|k| k.key)
            .unwrap_or_default()
    }

    /// Position of `key` by binary search, deleted or not.
    pub fn position_of(&self, key: &[u8]) -> Option<usize> {
        let section = self.section();
        let offsets = &self.index.offsets;
        let (mut lo, mut hi) = (0usize, offsets.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let k = record_at(section, *offsets.get(mid)? as usize, mid)?.key;
            match k.cmp(key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The index entries of `key`, or `None` when the file lacks it or it is deleted.
    pub fn key(&self, key: &[u8]) -> Option<KeyEntries<'_>> {
        let position = self.position_of(key)?;
        if self.is_key_deleted(position) {
            return None;
        }
        self.key_at(position)
    }

    /// True when `key` is in the file and not deleted.
    pub fn contains(&self, key: &[u8]) -> bool {
        self.key(key).is_some()
    }

    /// The value type of `key`.
    pub fn field_type(&self, key: &[u8]) -> Option<tsmdb_encoding::FieldType> {
        self.key(key).map(|k| k.field_type)
    }

    /// Entries of `key` whose blocks overlap `[min, max]`.
    pub fn blocks_overlapping(
        &self,
        key: &[u8],
        min: i64,
        max: i64,
    ) -> impl Iterator<Item = IndexEntry> + '_ {
        self.key(key)
            .into_iter()
            .flat_map(move |k| k.overlapping(min, max))
    }

    /// Every live key in order.
    pub fn keys(&self) -> impl Iterator<Item = KeyEntries<'_>> + '_ {
        (0..self.key_count())
            .filter(|&p| !self.is_key_deleted(p))
            .filter_map(|p| self.key_at(p))
    }

    /// Every block of every live key, in index order. Blocks of keys with partial deletes come
    /// whole: [`TsmReader::read_block_values`] filters their values.
    pub fn blocks(&self) -> impl Iterator<Item = (KeyEntries<'_>, IndexEntry)> + '_ {
        self.keys().flat_map(|k| k.iter().map(move |e| (k, e)))
    }

    /// The data of the block at `entry` of `key` (type byte first, CRC stripped), its CRC checked
    /// unless checking is off.
    pub fn block(&self, key: &[u8], entry: &IndexEntry) -> Result<&[u8]> {
        self.block_checked(key, entry, self.options.verify_checksums)
    }

    /// Like [`TsmReader::block`], always checking the CRC.
    pub fn block_verified(&self, key: &[u8], entry: &IndexEntry) -> Result<&[u8]> {
        self.block_checked(key, entry, true)
    }

    fn block_checked(&self, key: &[u8], entry: &IndexEntry, verify: bool) -> Result<&[u8]> {
        let start = entry.offset as usize;
        let end = start.saturating_add(entry.size as usize);
        let bytes = match self.map.get(start..end) {
            Some(b) if end as u64 <= self.index_offset && b.len() as u64 > CRC_SIZE => b,
            _ => {
                return Err(Error::Corrupt {
                    path: self.path.clone(),
                    what: format!(
                        "block at offset {} size {} (key {}) lies outside the block section",
                        entry.offset,
                        entry.size,
                        key.escape_ascii()
                    ),
                });
            }
        };
        let (crc, data) = bytes.split_at(CRC_SIZE as usize);
        if verify {
            let stored = crc.first_chunk::<4>().map_or(0, |c| u32::from_be_bytes(*c));
            let computed = crc32fast::hash(data);
            if stored != computed {
                return Err(Error::Checksum {
                    path: self.path.clone(),
                    key: key.to_vec(),
                    offset: entry.offset,
                    stored,
                    computed,
                });
            }
        }
        Ok(data)
    }

    /// The stored CRC of the block at `entry`, if the entry lies in the file.
    pub fn stored_crc(&self, entry: &IndexEntry) -> Option<u32> {
        let start = entry.offset as usize;
        self.map
            .get(start..start.checked_add(4)?)
            .and_then(|c| c.first_chunk::<4>())
            .map(|c| u32::from_be_bytes(*c))
    }

    /// True when the key at `position` is removed by tombstones (and tombstones are applied).
    pub fn is_key_deleted(&self, position: usize) -> bool {
        self.has_deletes.load(Ordering::Acquire)
            && self
                .deletes
                .read()
                .map(|d| matches!(d.get(position), Some(KeyDeletes::All)))
                .unwrap_or(false)
    }

    /// Calls `f` with the deleted time ranges of the key at `position` (sorted, merged; empty when
    /// none). A key deleted entirely gets `[TimeRange::ALL]`.
    pub fn with_deleted_ranges<R>(&self, position: usize, f: impl FnOnce(&[TimeRange]) -> R) -> R {
        if !self.has_deletes.load(Ordering::Acquire) {
            return f(&[]);
        }
        let guard = self.deletes.read();
        match guard.as_ref().ok().and_then(|d| d.get(position)) {
            Some(KeyDeletes::All) => f(&[TimeRange::ALL]),
            Some(KeyDeletes::Ranges(r)) => f(r),
            None => f(&[]),
        }
    }

    /// Applies tombstones in memory (keys not in the file are ignored).
    fn apply(&self, tombstones: &[Tombstone]) {
        if tombstones.is_empty() {
            return;
        }
        let Ok(mut deletes) = self.deletes.write() else {
            return;
        };
        for t in tombstones {
            if let Some(p) = self.position_of(&t.key)
                && let Some(k) = self.key_at(p)
            {
                deletes.apply(p, k.min_time(), k.max_time(), t.range);
            }
        }
        self.has_deletes
            .store(!deletes.by_key.is_empty(), Ordering::Release);
    }

    /// Deletes the values of `keys` in `range`: appends the keys this file holds to its tombstone
    /// file (fsynced and renamed atomically), then hides them from readers of this handle.
    pub fn delete_range(&self, keys: &[&[u8]], range: TimeRange) -> Result<()> {
        let records: Vec<Tombstone> = keys
            .iter()
            .filter(|k| self.position_of(k).is_some())
            .map(|k| Tombstone {
                key: k.to_vec(),
                range,
            })
            .collect();
        if records.is_empty() {
            return Ok(());
        }
        append_tombstones(tombstone_path(&self.path), &records)?;
        if self.options.apply_tombstones {
            self.apply(&records);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn reader_is_send_and_sync() {
        assert_send_sync::<TsmReader>();
    }
}
