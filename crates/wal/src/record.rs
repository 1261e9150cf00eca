//! One key's borrowed values: what a write entry is encoded from and decoded into.

use tsmdb_encoding::ColumnRef;

/// One key's values in a write entry: `timestamps[i]` belongs to value `i`.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// The composite key (`series key#!~#field`).
    pub key: &'a [u8],
    /// One timestamp per value, nanoseconds since the epoch.
    pub timestamps: &'a [i64],
    /// The values: one typed slice, no per-value enum.
    pub values: ColumnRef<'a>,
}
