//! # tsmdb-cache
//!
//! The in-memory cache of recent writes, between the WAL and the TSM files.
//!
//! What it owns:
//! * A ring of partitions chosen by xxh3 of the composite key (`series key#!~#field`), each behind
//!   its own lock, holding per key a timestamp vector and a typed [`Column`](tsmdb_encoding::Column).
//! * **All-or-nothing batches**: [`Cache::write`] checks every value's type against its key's
//!   type (live, snapshot, or earlier in the batch) and reserves the batch's memory before it
//!   appends anything, locking one partition at a time and taking whichever it needs is free
//!   first, so concurrent writers neither take turns nor fall into step.
//!   A `field type conflict` or a hard-limit refusal leaves nothing behind.
//! * **Key handles**: [`Cache::write_handles`] takes a [`KeyHandle`] per record that the caller
//!   keeps between batches; a valid one skips hashing and lookup (and its type check needs no
//!   lock), a stale one falls back to a lookup.
//! * **Lazy ordering**: values are kept in write order and sorted and deduplicated (last write
//!   wins on equal timestamps) when read or snapshotted.
//! * **Memory accounting** as InfluxDB estimates it (16 bytes per float/integer/unsigned, 9 per
//!   boolean, 8 + length per string, plus each new key's length), a snapshot threshold, and a hard
//!   limit with a short wait for a running snapshot to free memory.
//! * **Snapshots**: [`Cache::snapshot`] freezes the contents into a [`Snapshot`] that reads still
//!   see; [`Cache::commit`] drops it once written, [`Cache::rollback`] merges it back (newer
//!   writes still win).
//!
//! What it must not know about: the WAL, files on disk, series parsing or the engine's
//! scheduling. Keys are opaque bytes.
//!
//! ```
//! use tsmdb_cache::{Cache, CacheConfig, Record, ColumnRef};
//! use tsmdb_encoding::Column;
//!
//! let cache = Cache::new(CacheConfig::default());
//! cache.write(&[Record { key: b"cpu#!~#usage", timestamps: &[20, 10], values: ColumnRef::Float(&[2.0, 1.0]) }])?;
//! cache.write(&[Record { key: b"cpu#!~#usage", timestamps: &[20], values: ColumnRef::Float(&[3.0]) }])?;
//!
//! // Sorted, deduplicated, last write wins.
//! let read = cache.read(b"cpu#!~#usage", i64::MIN, i64::MAX).unwrap();
//! assert_eq!(read.timestamps, [10, 20]);
//! assert_eq!(read.values, Column::Float(vec![1.0, 3.0]));
//!
//! // A batch with a type conflict is rejected whole.
//! let err = cache.write(&[
//!     Record { key: b"cpu#!~#new", timestamps: &[1], values: ColumnRef::Integer(&[1]) },
//!     Record { key: b"cpu#!~#usage", timestamps: &[1], values: ColumnRef::Integer(&[1]) },
//! ]).unwrap_err();
//! assert!(err.to_string().starts_with("field type conflict"));
//! assert!(cache.read(b"cpu#!~#new", i64::MIN, i64::MAX).is_none());
//!
//! // Snapshot: reads still see it until it is committed.
//! let snap = cache.snapshot()?;
//! assert_eq!(snap.sorted_keys().len(), 1);
//! assert!(cache.read(b"cpu#!~#usage", 0, 15).is_some());
//! cache.commit(&snap)?;
//! assert_eq!(cache.size(), 0);
//! # Ok::<(), tsmdb_cache::CacheError>(())
//! ```

mod cache;
mod entry;
mod error;
mod handle;
mod hash;
mod part;
mod record;
mod snapshot;

pub use cache::{
    Cache, CacheConfig, DEFAULT_MAX_SIZE, DEFAULT_SNAPSHOT_SIZE, ReadValues, WriteOutcome,
};
pub use entry::{value_size, values_size};
pub use error::CacheError;
pub use handle::KeyHandle;
pub use hash::{KeyHashBuilder, KeyHasher, key_hash, partition_index};
pub use record::Record;
pub use snapshot::Snapshot;
pub use tsmdb_encoding::{ColumnRef, StringSlice};

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctest;
