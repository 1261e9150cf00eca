//! The index section: validated once at open, then searched without allocation.
//!
//! At open every record is walked and checked (lengths inside the section, known type byte,
//! 1..=65535 entries, keys strictly increasing, entries sorted and pointing inside the block
//! section), and the start of every record is kept as a u32 offset relative to the index start
//! (4 bytes per key). Later lookups only re-read bytes that were already validated.

use tsmdb_encoding::FieldType;

use crate::format::{CRC_SIZE, HEADER_SIZE, INDEX_ENTRY_SIZE, IndexEntry};

/// The validated index of one file.
#[derive(Debug)]
pub(crate) struct Index {
    /// Start of each key's record, relative to the index start.
    pub(crate) offsets: Vec<u32>,
    pub(crate) min_time: i64,
    pub(crate) max_time: i64,
    pub(crate) block_count: u64,
}

/// One key of the index, borrowed from the file.
#[derive(Debug, Clone, Copy)]
pub struct KeyEntries<'a> {
    /// Position of the key in the index (0-based, in key order).
    pub position: usize,
    /// The composite key.
    pub key: &'a [u8],
    /// The key's value type.
    pub field_type: FieldType,
    entries: &'a [u8],
}

impl<'a> KeyEntries<'a> {
    /// Number of blocks of the key.
    pub fn len(&self) -> usize {
        self.entries.len() / INDEX_ENTRY_SIZE
    }

    /// True when the key has no block (never for a validated file).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entry `i`, or `None` past the end.
    pub fn get(&self, i: usize) -> Option<IndexEntry> {
        let start = i.checked_mul(INDEX_ENTRY_SIZE)?;
        IndexEntry::parse(self.entries.get(start..)?)
    }

    /// Every entry, in time order.
    pub fn iter(self) -> impl Iterator<Item = IndexEntry> + 'a {
        self.entries
            .chunks_exact(INDEX_ENTRY_SIZE)
            .filter_map(IndexEntry::parse)
    }

    /// Entries whose time range intersects `[min, max]`.
    pub fn overlapping(self, min: i64, max: i64) -> impl Iterator<Item = IndexEntry> + 'a {
        self.entries
            .chunks_exact(INDEX_ENTRY_SIZE)
            .filter_map(IndexEntry::parse)
            .filter(move |e| e.overlaps(min, max))
    }

    /// First timestamp of the key.
    pub fn min_time(&self) -> i64 {
        self.get(0).map_or(i64::MAX, |e| e.min_time)
    }

    /// Last timestamp of the key.
    pub fn max_time(&self) -> i64 {
        self.len()
            .checked_sub(1)
            .and_then(|i| self.get(i))
            .map_or(i64::MIN, |e| e.max_time)
    }
}

/// Reads a big-endian u16 at `pos`.
fn u16_at(b: &[u8], pos: usize) -> Option<u16> {
    let bytes = b.get(pos..pos.checked_add(2)?)?;
    Some(u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]))
}

/// Parses the record starting at `pos` of a section that was validated by [`Index::build`].
pub(crate) fn record_at(section: &[u8], pos: usize, position: usize) -> Option<KeyEntries<'_>> {
    let key_len = usize::from(u16_at(section, pos)?);
    let key_start = pos + 2;
    let key = section.get(key_start..key_start + key_len)?;
    let type_byte = *section.get(key_start + key_len)?;
    let field_type = FieldType::from_block_type(type_byte)?;
    let count = usize::from(u16_at(section, key_start + key_len + 1)?);
    let entries_start = key_start + key_len + 3;
    let entries = section.get(entries_start..entries_start + count * INDEX_ENTRY_SIZE)?;
    Some(KeyEntries {
        position,
        key,
        field_type,
        entries,
    })
}

impl Index {
    /// Walks and validates the index `section`, which starts at file offset `index_offset`.
    /// Blocks must lie in `[5, index_offset)`. Errors say what is wrong at which file offset.
    pub(crate) fn build(section: &[u8], index_offset: u64) -> Result<Index, String> {
        if u32::try_from(section.len()).is_err() {
            return Err(format!(
                "index of {} bytes is larger than the format allows",
                section.len()
            ));
        }
        let mut offsets = Vec::new();
        let mut min_time = i64::MAX;
        // Start at MinInt64, not 0 as upstream does (spec §12.3 R5).
        let mut max_time = i64::MIN;
        let mut block_count = 0u64;
        let mut block_bytes = 0u64;
        let mut pos = 0usize;
        let mut previous_key: Option<&[u8]> = None;
        let at = |p: usize| index_offset + p as u64;
        while pos < section.len() {
            let key_len = u16_at(section, pos)
                .ok_or_else(|| format!("not enough data for key length at offset {}", at(pos)))?;
            let key_start = pos + 2;
            let key_end = key_start + usize::from(key_len);
            let key = section.get(key_start..key_end).ok_or_else(|| {
                format!(
                    "key of {key_len} bytes runs past the index at offset {}",
                    at(pos)
                )
            })?;
            if let Some(prev) = previous_key
                && prev >= key
            {
                return Err(format!(
                    "keys out of order at offset {}: {} after {}",
                    at(pos),
                    key.escape_ascii(),
                    prev.escape_ascii()
                ));
            }
            let type_byte = *section.get(key_end).ok_or_else(|| {
                format!("not enough data for block type at offset {}", at(key_end))
            })?;
            if FieldType::from_block_type(type_byte).is_none() {
                return Err(format!(
                    "unknown block type {type_byte} at offset {}",
                    at(key_end)
                ));
            }
            let count = u16_at(section, key_end + 1).ok_or_else(|| {
                format!(
                    "not enough data for index entries count at offset {}",
                    at(key_end + 1)
                )
            })?;
            if count == 0 {
                return Err(format!("key with no index entries at offset {}", at(pos)));
            }
            let entries_start = key_end + 3;
            let entries_end = entries_start + usize::from(count) * INDEX_ENTRY_SIZE;
            let entries = section.get(entries_start..entries_end).ok_or_else(|| {
                format!(
                    "not enough data for {count} index entries at offset {}",
                    at(entries_start)
                )
            })?;
            let mut previous: Option<IndexEntry> = None;
            for (i, chunk) in entries.chunks_exact(INDEX_ENTRY_SIZE).enumerate() {
                let e = IndexEntry::parse(chunk).ok_or("short index entry")?;
                let here = at(entries_start + i * INDEX_ENTRY_SIZE);
                if e.min_time > e.max_time {
                    return Err(format!(
                        "index entry at offset {here}: min time {} after max time {}",
                        e.min_time, e.max_time
                    ));
                }
                let end = e.offset.checked_add(u64::from(e.size));
                if e.offset < HEADER_SIZE
                    || u64::from(e.size) <= CRC_SIZE + 1
                    || end.is_none_or(|end| end > index_offset)
                {
                    return Err(format!(
                        "index entry at offset {here}: block at offset {} size {} lies outside the block section [5, {index_offset})",
                        e.offset, e.size
                    ));
                }
                if let Some(p) = previous
                    && e.min_time < p.min_time
                {
                    return Err(format!(
                        "index entry at offset {here}: entries not sorted by time"
                    ));
                }
                previous = Some(e);
                block_bytes += u64::from(e.size);
            }
            if let (Some(first), Some(last)) = (
                IndexEntry::parse(entries),
                entries
                    .len()
                    .checked_sub(INDEX_ENTRY_SIZE)
                    .and_then(|s| entries.get(s..))
                    .and_then(IndexEntry::parse),
            ) {
                min_time = min_time.min(first.min_time);
                max_time = max_time.max(last.max_time);
            }
            // Fits: the section length was checked against u32 above.
            offsets.push(pos as u32);
            block_count += u64::from(count);
            previous_key = Some(key);
            pos = entries_end;
        }
        if offsets.is_empty() {
            return Err("index holds no key".to_string());
        }
        // Writers index every block they write, back to back, so the entries must account for the
        // block section exactly. The format has no index checksum; this catches damaged records
        // that would otherwise shift the parse and silently lose keys.
        let section_bytes = index_offset - HEADER_SIZE;
        if block_bytes != section_bytes {
            return Err(format!(
                "index entries cover {block_bytes} bytes of blocks but the block section holds {section_bytes}"
            ));
        }
        Ok(Index {
            offsets,
            min_time,
            max_time,
            block_count,
        })
    }
}
