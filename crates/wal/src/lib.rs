//! # tsmdb-wal
//!
//! The write-ahead log: segment files `_NNNNN.wal` in InfluxDB 1.x's framing and payloads (write,
//! delete and delete-range entries), so InfluxDB reads our segments and we replay theirs.
//!
//! What it owns:
//! * **Encoding** entries straight from borrowed keys and typed slices ([`Record`], [`ColumnRef`]),
//!   and decoding them into a reusable [`Entry`].
//! * **Durability**: [`Wal::write`] returns only once the entry is on stable storage
//!   (`fdatasync`). Concurrent writers share fsyncs (group commit: one leader syncs for everyone
//!   queued behind it); [`WalOptions::fsync_delay`] trades latency for fewer fsyncs. New segment
//!   files are made durable with a directory fsync.
//! * **Segments**: rotation past [`WalOptions::segment_size`] (10 MiB by default), the list of
//!   closed segments, and their removal once a snapshot made them redundant.
//! * **Recovery**: [`Wal::open`] replays every segment in numeric ID order. A torn tail is cut off
//!   (truncate + fsync) *before* anything is appended, and appends go to a fresh segment, so
//!   InfluxDB's hole-after-truncate bug cannot happen. Corruption is an error naming the segment
//!   and offset, or — with [`RecoveryPolicy::Salvage`] — skipped and reported. Nothing is dropped
//!   silently.
//!
//! **Tested against a model of a disk** (`src/sim/`, behind the internal `io::Storage` trait
//! that all segment I/O goes through): power cuts that keep only what was synced (plus a
//! sector-torn prefix of the rest), directory entries lost unless the directory was synced,
//! fsyncs that fail the way Linux's do (the retry "succeeds" after the data was dropped) and
//! writes that fail half way. After a failed write or fsync the WAL is poisoned: every waiting and
//! later writer gets an error, and the segment is cut back to its last synced byte.
//!
//! What it must not know about: the cache, TSM files, series or the engine's scheduling. It
//! stores keys as opaque bytes (`series key#!~#field`).
//!
//! ```
//! use tsmdb_wal::{Record, ColumnRef, Wal, WalOptions};
//!
//! let dir = tempfile::tempdir()?;
//! let (wal, _) = Wal::open(dir.path(), WalOptions::default(), |_, _| {})?;
//! wal.write(&[Record {
//!     key: b"cpu,host=a#!~#usage",
//!     timestamps: &[10, 20],
//!     values: ColumnRef::Float(&[0.5, 0.75]),
//! }])?;
//! wal.delete_range(&[b"cpu,host=a#!~#usage"], 0, 15)?;
//! drop(wal);
//!
//! // Reopening replays every entry in order.
//! let mut seen = Vec::new();
//! let (_wal, recovery) = Wal::open(dir.path(), WalOptions::default(), |_, entry| {
//!     seen.push((entry.kind(), entry.value_count()));
//! })?;
//! assert!(recovery.damage.is_empty());
//! assert_eq!(seen.len(), 2);
//! assert_eq!(seen[0].1, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(test)]
mod durability_tests;
mod entry;
mod error;
mod io;
mod reader;
mod record;
mod segment;
mod wal;

/// The disk model and durability checker the WAL is tested against (`--features sim`, for the
/// fuzz target and for tests of the WAL's users through `SimDisk::open_wal`; not a stable API).
#[cfg(any(test, feature = "sim"))]
#[doc(hidden)]
pub mod sim;

pub use entry::{
    DecodeError, EncodeError, Entry, EntryKind, HEADER_LEN, MAX_KEY_LEN, encode_delete_payload,
    encode_delete_range_payload, encode_frame, encode_frame_reusing, encode_write_payload,
};
pub use error::WalError;
pub use reader::{
    Damage, DamageKind, EntryPosition, RecoveryPolicy, ScanInput, SegmentScan, scan_segment_bytes,
};
pub use record::Record;
pub use segment::{SegmentInfo, list_segments, parse_segment_file_name, segment_file_name};
pub use tsmdb_encoding::{ColumnRef, StringSlice};
pub use wal::{DEFAULT_SEGMENT_SIZE, Recovery, Wal, WalOptions, WalStats, read_dir, read_segment};

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctest;
