//! One key's borrowed values: what a cache write takes.
//!
//! The same shape as `tsmdb_wal::Record` (the cache must not depend on the WAL); both borrow their
//! values as a [`ColumnRef`], so the engine hands a replayed WAL record to the cache without a copy.

use tsmdb_encoding::ColumnRef;

/// One key's values in a write batch: `timestamps[i]` belongs to value `i`.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// The composite key (`series key#!~#field`).
    pub key: &'a [u8],
    /// One timestamp per value, nanoseconds since the epoch.
    pub timestamps: &'a [i64],
    /// The values: one typed slice, no per-value enum.
    pub values: ColumnRef<'a>,
}
