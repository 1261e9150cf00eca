//! Borrowed views of a typed column in the shapes the WAL and the cache take.

use tsmdb_encoding::Column;

pub(crate) fn wal_values(c: &Column) -> tsmdb_wal::Values<'_> {
    use tsmdb_wal::{Strings, Values};
    match c {
        Column::Float(v) => Values::Float(v),
        Column::Integer(v) => Values::Integer(v),
        Column::Unsigned(v) => Values::Unsigned(v),
        Column::Boolean(v) => Values::Boolean(v),
        Column::String(v) => Values::String(Strings::all(v)),
    }
}

pub(crate) fn cache_values(c: &Column) -> tsmdb_cache::Values<'_> {
    use tsmdb_cache::{Strings, Values};
    match c {
        Column::Float(v) => Values::Float(v),
        Column::Integer(v) => Values::Integer(v),
        Column::Unsigned(v) => Values::Unsigned(v),
        Column::Boolean(v) => Values::Boolean(v),
        Column::String(v) => Values::String(Strings::all(v)),
    }
}

/// Copies a replayed WAL record's values into a column the cache can take.
pub(crate) fn wal_to_column(v: tsmdb_wal::Values<'_>) -> Column {
    use tsmdb_wal::Values as W;
    match v {
        W::Float(x) => Column::Float(x.to_vec()),
        W::Integer(x) => Column::Integer(x.to_vec()),
        W::Unsigned(x) => Column::Unsigned(x.to_vec()),
        W::Boolean(x) => Column::Boolean(x.to_vec()),
        W::String(s) => Column::String(s.iter().collect()),
    }
}
