//! # tsmdb-tsm-file
//!
//! TSM files, byte-compatible with InfluxDB 1.x: the streaming [`TsmWriter`], the validating
//! [`TsmReader`] with CRC checks, the block index, file names ([`FileId`]) and tombstone files.
//!
//! It must not know about the cache, the WAL, compaction plans or the engine: it reads and writes
//! single files. Block encoding and decoding is `tsmdb-encoding`'s.
//!
//! ## Layers
//! * Raw blocks: [`TsmWriter::write_block`] takes encoded blocks and computes CRC and index;
//!   [`TsmReader::block`] returns a block's bytes after checking its CRC.
//! * Values: [`TsmWriter::write_values`] chunks a key's timestamps and [`tsmdb_encoding::Column`]
//!   into blocks; [`TsmReader::read_values`] decodes a key's values in a time range into reusable
//!   buffers with tombstones applied.
//!
//! ## Why mmap rather than positioned reads
//! The reader maps the file read-only. Open touches only the footer and the index (so open time
//! depends on the key count, not the data size), lookups binary-search the mapped index in place,
//! and a block read is a bounds-checked slice of the map: no copy, no syscall, no buffer to manage,
//! and the page cache is shared by every reader thread. `pread` would cost a syscall and a copy per
//! block; `benches/tsm.rs` (`block_read`) measures both on the same blocks. The price of a map is
//! that a file truncated by another process under a live mapping raises SIGBUS; tsmdb never
//! modifies a live TSM file (tombstones go to a separate file, compaction writes new files).
//!
//! ## Where we differ from InfluxDB (spec §12)
//! * Every block's CRC-32 is verified on read (InfluxDB never checks).
//! * The whole index is validated at open; a truncated or garbled file is an error naming the file
//!   and the byte offset, never a panic.
//! * File max time starts at `i64::MIN`, not 0.
//! * Adding a delete to an old (v1–v3) tombstone file keeps its earlier entries.
//! * Writers end a file cleanly when a key reaches 65,535 blocks or the size limit is near, and
//!   say so ([`BlockWrite::Full`]), so the caller continues in the next file without losing data.
#![doc = include_str!("../README.md")]

mod deletes;
mod error;
mod format;
mod fsutil;
mod index;
mod naming;
mod reader;
mod tombstone;
mod values;
mod writer;

pub use error::{Error, FullReason, Result};
pub use format::{
    CRC_SIZE, DEFAULT_MAX_FILE_SIZE, DEFAULT_MAX_VALUES_PER_BLOCK, FOOTER_SIZE, HEADER_SIZE,
    INDEX_ENTRY_SIZE, IndexEntry, MAGIC, MAX_INDEX_ENTRIES, MAX_KEY_LEN, TimeRange, VERSION,
};
pub use index::KeyEntries;
pub use naming::{FileId, TMP_SUFFIX, TOMBSTONE_EXT, TSM_EXT, bad_path, tmp_path, tombstone_path};
pub use reader::{ReadOptions, TsmReader};
pub use tombstone::{
    Tombstone, TombstoneVersion, V2_HEADER, V3_HEADER, V4_HEADER, append_tombstones,
    parse_tombstones, read_tombstones,
};
pub use values::{Values, ValuesWrite};
pub use writer::{BlockWrite, FileSummary, TsmWriter, WriterOptions};
