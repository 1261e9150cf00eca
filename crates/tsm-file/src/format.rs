//! Constants and fixed-size records of the TSM format (spec §3).

/// The magic number at offset 0 (`16 D1 16 D1`).
pub const MAGIC: u32 = 0x16D1_16D1;
/// The format version byte at offset 4.
pub const VERSION: u8 = 1;
/// Bytes of magic + version.
pub const HEADER_SIZE: u64 = 5;
/// Bytes of the footer (u64 offset of the index).
pub const FOOTER_SIZE: u64 = 8;
/// Bytes of one index entry.
pub const INDEX_ENTRY_SIZE: usize = 28;
/// Bytes of the CRC before each block.
pub const CRC_SIZE: u64 = 4;
/// Largest composite key (its length is a u16 on disk).
pub const MAX_KEY_LEN: usize = u16::MAX as usize;
/// Largest number of blocks one key can have in one file (the index count is a u16).
pub const MAX_INDEX_ENTRIES: usize = u16::MAX as usize;
/// InfluxDB's default and our default number of values per block.
pub const DEFAULT_MAX_VALUES_PER_BLOCK: usize = 1000;
/// Files are cut at 2 GiB (`maxTSMFileSize`), which also keeps the index below 2 GiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 2048 * 1024 * 1024;

/// One index entry: where a block is and which times it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IndexEntry {
    /// Timestamp of the block's first value.
    pub min_time: i64,
    /// Timestamp of the block's last value.
    pub max_time: i64,
    /// Absolute file offset of the block's CRC.
    pub offset: u64,
    /// Bytes of CRC (4) plus block data.
    pub size: u32,
}

impl IndexEntry {
    /// Parses 28 big-endian bytes; `None` if `bytes` is shorter.
    pub fn parse(bytes: &[u8]) -> Option<IndexEntry> {
        let (min, rest) = bytes.split_first_chunk::<8>()?;
        let (max, rest) = rest.split_first_chunk::<8>()?;
        let (offset, rest) = rest.split_first_chunk::<8>()?;
        let (size, _) = rest.split_first_chunk::<4>()?;
        Some(IndexEntry {
            min_time: i64::from_be_bytes(*min),
            max_time: i64::from_be_bytes(*max),
            offset: u64::from_be_bytes(*offset),
            size: u32::from_be_bytes(*size),
        })
    }

    /// Appends the 28-byte on-disk form.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.min_time.to_be_bytes());
        out.extend_from_slice(&self.max_time.to_be_bytes());
        out.extend_from_slice(&self.offset.to_be_bytes());
        out.extend_from_slice(&self.size.to_be_bytes());
    }

    /// True when the block's time range intersects `[min, max]` (both inclusive).
    pub fn overlaps(&self, min: i64, max: i64) -> bool {
        self.min_time <= max && self.max_time >= min
    }

    /// Bytes of block data (without the CRC).
    pub fn data_len(&self) -> u64 {
        u64::from(self.size).saturating_sub(CRC_SIZE)
    }
}

/// An inclusive time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeRange {
    /// First time in the range.
    pub min: i64,
    /// Last time in the range.
    pub max: i64,
}

impl TimeRange {
    /// Every representable time.
    pub const ALL: TimeRange = TimeRange {
        min: i64::MIN,
        max: i64::MAX,
    };

    /// A range from `min` to `max`, inclusive.
    pub const fn new(min: i64, max: i64) -> TimeRange {
        TimeRange { min, max }
    }

    /// True when `t` lies in the range.
    pub fn contains(&self, t: i64) -> bool {
        self.min <= t && t <= self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_entry_round_trips_big_endian() {
        let e = IndexEntry {
            min_time: -5,
            max_time: 1 << 40,
            offset: 0x44,
            size: 24,
        };
        let mut b = Vec::new();
        e.write_to(&mut b);
        assert_eq!(b.len(), INDEX_ENTRY_SIZE);
        assert_eq!(&b[24..], &[0, 0, 0, 24]);
        assert_eq!(IndexEntry::parse(&b), Some(e));
        assert_eq!(IndexEntry::parse(&b[..27]), None);
    }
}
