//! # tsmdb-encoding
//!
//! Encodes and decodes the sections and whole blocks of InfluxDB 1.x TSM files, byte for byte
//! compatible, into and out of column slices.
//!
//! * Sections: timestamps ([`encode_timestamps`]), floats, integers, unsigned, booleans and
//!   strings, each with the encoder choice InfluxDB 1.x makes, so the same input gives the same
//!   bytes (snappy string bytes excepted).
//! * Blocks: [`encode_block`], [`decode_block`] and typed variants such as
//!   [`decode_float_block`] that decode into caller-owned, reusable buffers, with no per-value
//!   enum or allocation.
//! * Extension: a [`Codec`] per encoding, registered by header nibble in a [`Registry`]
//!   (`docs/codecs.md`).
//! * Bad input: every decoder returns values or an [`Error::Corrupt`] naming the section, the
//!   byte offset and the [`Problem`]; no panic, no allocation sized by an unchecked length field,
//!   no silent truncation when timestamp and value counts differ.
//!
//! It knows nothing of files, CRCs, keys, line protocol or where blocks live: those belong to
//! `tsm-file`, `wal` and the layers above.
//!
//! ```
//! use tsmdb_encoding::{decode_block, encode_block, Column, ColumnRef, FieldType};
//!
//! let times = [0, 10_000_000_000, 20_000_000_000];
//! let mut block = Vec::new();
//! encode_block(&times, ColumnRef::Float(&[1.0, 1.5, 2.25]), &mut block)?;
//!
//! let (mut t, mut v) = (Vec::new(), Column::empty(FieldType::Float));
//! assert_eq!(decode_block(&block, &mut t, &mut v)?, FieldType::Float);
//! assert_eq!(t, times);
//! assert_eq!(v, Column::Float(vec![1.0, 1.5, 2.25]));
//! # Ok::<(), tsmdb_encoding::Error>(())
//! ```

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;

mod block;
pub mod boolean;
mod codec;
mod error;
pub mod float;
pub mod integer;
mod pow10;
pub mod simple8b;
pub mod string;
pub mod timestamp;
mod types;
pub mod unsigned;
pub mod varint;

pub use block::{BlockParts, block_count, block_type, split_block};
pub use codec::{
    Booleans, Codec, CodecTable, Floats, Integers, Kind, Registry, Strings, Timestamps, Unsigneds,
};
pub use error::{Error, Problem, Result, Section};
pub use types::{Column, ColumnRef, FieldType, StringColumn, StringSlice};

/// Most values a run-length-encoded section may claim (RLE counts are the only counts not
/// bounded by the input's length). 1000× InfluxDB's block size.
pub const MAX_RUN_LENGTH: usize = 1 << 20;

/// Appends the timestamp section InfluxDB 1.x writes for `timestamps` (empty for none).
pub fn encode_timestamps(timestamps: &[i64], out: &mut Vec<u8>) -> Result<()> {
    timestamp::encode(timestamps, out)
}

/// Decodes a timestamp section, appending to `out`.
pub fn decode_timestamps(section: &[u8], out: &mut Vec<i64>) -> Result<()> {
    timestamp::decode(section, out)
}

/// Appends a float section (NaN is refused with [`Error::NaN`]).
pub fn encode_floats(values: &[f64], out: &mut Vec<u8>) -> Result<()> {
    float::encode(values, out)
}

/// Decodes a float section, appending to `out`.
pub fn decode_floats(section: &[u8], out: &mut Vec<f64>) -> Result<()> {
    float::decode(section, out)
}

/// Appends an integer section.
pub fn encode_integers(values: &[i64], out: &mut Vec<u8>) -> Result<()> {
    integer::encode(values, out)
}

/// Decodes an integer section, appending to `out`.
pub fn decode_integers(section: &[u8], out: &mut Vec<i64>) -> Result<()> {
    integer::decode(section, out, Section::Values(FieldType::Integer))
}

/// Appends an unsigned section.
pub fn encode_unsigned(values: &[u64], out: &mut Vec<u8>) -> Result<()> {
    unsigned::encode(values, out)
}

/// Decodes an unsigned section, appending to `out`.
pub fn decode_unsigned(section: &[u8], out: &mut Vec<u64>) -> Result<()> {
    unsigned::decode(section, out)
}

/// Appends a boolean section.
pub fn encode_booleans(values: &[bool], out: &mut Vec<u8>) -> Result<()> {
    boolean::encode(values, out)
}

/// Decodes a boolean section, appending to `out`.
pub fn decode_booleans(section: &[u8], out: &mut Vec<bool>) -> Result<()> {
    boolean::decode(section, out)
}

/// Appends a string section.
pub fn encode_strings(values: StringSlice<'_>, out: &mut Vec<u8>) -> Result<()> {
    string::encode(values, out)
}

/// Decodes a string section, appending to `out`.
pub fn decode_strings(section: &[u8], out: &mut StringColumn) -> Result<()> {
    string::decode(section, out)
}

/// Appends a block (type byte, timestamp-section length, timestamps, values; no CRC) to `out`.
/// Timestamps and values must have the same length.
pub fn encode_block(timestamps: &[i64], values: ColumnRef<'_>, out: &mut Vec<u8>) -> Result<()> {
    Registry::builtin().encode_block(timestamps, values, out)
}

/// Decodes a block (without CRC) into `timestamps` and `values`, both cleared first; `values`
/// takes the block's type. Returns the type.
pub fn decode_block(
    block: &[u8],
    timestamps: &mut Vec<i64>,
    values: &mut Column,
) -> Result<FieldType> {
    Registry::builtin().decode_block(block, timestamps, values)
}

/// Decodes a float block into reusable buffers; another type is [`Error::TypeMismatch`].
pub fn decode_float_block(
    block: &[u8],
    timestamps: &mut Vec<i64>,
    values: &mut Vec<f64>,
) -> Result<()> {
    Registry::builtin().decode_float_block(block, timestamps, values)
}

/// Decodes an integer block into reusable buffers.
pub fn decode_integer_block(
    block: &[u8],
    timestamps: &mut Vec<i64>,
    values: &mut Vec<i64>,
) -> Result<()> {
    Registry::builtin().decode_integer_block(block, timestamps, values)
}

/// Decodes an unsigned block into reusable buffers.
pub fn decode_unsigned_block(
    block: &[u8],
    timestamps: &mut Vec<i64>,
    values: &mut Vec<u64>,
) -> Result<()> {
    Registry::builtin().decode_unsigned_block(block, timestamps, values)
}

/// Decodes a boolean block into reusable buffers.
pub fn decode_boolean_block(
    block: &[u8],
    timestamps: &mut Vec<i64>,
    values: &mut Vec<bool>,
) -> Result<()> {
    Registry::builtin().decode_boolean_block(block, timestamps, values)
}

/// Decodes a string block into reusable buffers.
pub fn decode_string_block(
    block: &[u8],
    timestamps: &mut Vec<i64>,
    values: &mut StringColumn,
) -> Result<()> {
    Registry::builtin().decode_string_block(block, timestamps, values)
}
