//! Borrowed views of one key's values: what a cache write takes.
//!
//! The same shape as `tsmdb_wal::Values` (the cache must not depend on the WAL); the engine maps one
//! onto the other variant by variant.

use tsmdb_encoding::{Column, FieldType, StringColumn};

/// A run of strings inside a [`StringColumn`]: strings `start..end` of `column`.
#[derive(Debug, Clone, Copy)]
pub struct Strings<'a> {
    column: &'a StringColumn,
    start: usize,
    end: usize,
}

impl<'a> Strings<'a> {
    /// Every string of `column`.
    pub fn all(column: &'a StringColumn) -> Self {
        Strings {
            column,
            start: 0,
            end: column.len(),
        }
    }

    /// Strings `start..end` of `column`, clamped to its length.
    pub fn range(column: &'a StringColumn, start: usize, end: usize) -> Self {
        let end = end.min(column.len());
        Strings {
            column,
            start: start.min(end),
            end,
        }
    }

    /// Number of strings.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// True when there is no string.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// String `index` of the run, or `None` past its end.
    pub fn get(&self, index: usize) -> Option<&'a [u8]> {
        if index >= self.len() {
            return None;
        }
        self.column.get(self.start + index)
    }

    /// Iterates the strings in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a [u8]> + 'a {
        let this = *self;
        (0..this.len()).map(move |i| this.get(i).unwrap_or_default())
    }
}

/// The values of one key, borrowed: one typed slice, no per-value enum.
#[derive(Debug, Clone, Copy)]
pub enum Values<'a> {
    /// Float values.
    Float(&'a [f64]),
    /// Integer values.
    Integer(&'a [i64]),
    /// Boolean values.
    Boolean(&'a [bool]),
    /// String values.
    String(Strings<'a>),
    /// Unsigned values.
    Unsigned(&'a [u64]),
}

impl<'a> Values<'a> {
    /// The values' type.
    pub fn field_type(&self) -> FieldType {
        match self {
            Values::Float(_) => FieldType::Float,
            Values::Integer(_) => FieldType::Integer,
            Values::Boolean(_) => FieldType::Boolean,
            Values::String(_) => FieldType::String,
            Values::Unsigned(_) => FieldType::Unsigned,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Values::Float(v) => v.len(),
            Values::Integer(v) => v.len(),
            Values::Boolean(v) => v.len(),
            Values::String(v) => v.len(),
            Values::Unsigned(v) => v.len(),
        }
    }

    /// True when there is no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a> From<&'a Column> for Values<'a> {
    fn from(column: &'a Column) -> Self {
        match column {
            Column::Float(v) => Values::Float(v),
            Column::Integer(v) => Values::Integer(v),
            Column::Boolean(v) => Values::Boolean(v),
            Column::String(v) => Values::String(Strings::all(v)),
            Column::Unsigned(v) => Values::Unsigned(v),
        }
    }
}

/// One key's values in a write batch: `timestamps[i]` belongs to value `i`.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// The composite key (`series key#!~#field`).
    pub key: &'a [u8],
    /// One timestamp per value, nanoseconds since the epoch.
    pub timestamps: &'a [i64],
    /// The values.
    pub values: Values<'a>,
}
