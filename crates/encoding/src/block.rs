//! Whole blocks (spec §3.2, §5.9): type byte, uvarint timestamp-section length, the timestamp
//! section, the value section.

use crate::codec::Registry;
use crate::error::{Error, Problem, Result, Section};
use crate::varint::{get_uvarint, uvarint_bytes};
use crate::{Column, ColumnRef, FieldType, StringColumn};

/// The parts of a block, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockParts<'a> {
    /// The value type.
    pub field_type: FieldType,
    /// The timestamp section.
    pub timestamps: &'a [u8],
    /// Offset of the timestamp section in the block.
    pub timestamps_offset: usize,
    /// The value section.
    pub values: &'a [u8],
    /// Offset of the value section in the block.
    pub values_offset: usize,
}

fn corrupt(offset: usize, problem: Problem) -> Error {
    Error::corrupt(Section::Block, offset, problem)
}

/// Splits a block (without its CRC) into its type and sections, checking the framing only.
pub fn split_block(block: &[u8]) -> Result<BlockParts<'_>> {
    if block.len() <= 1 {
        return Err(corrupt(0, Problem::BlockTooShort { len: block.len() }));
    }
    let field_type = FieldType::from_block_type(block[0])
        .ok_or(corrupt(0, Problem::UnknownBlockType(block[0])))?;
    let (ts_len, used) = get_uvarint(&block[1..]).ok_or(corrupt(1, Problem::BadVarint))?;
    let start = 1 + used;
    let available = block.len() - start;
    if ts_len > available as u64 {
        return Err(corrupt(
            1,
            Problem::Truncated {
                what: "timestamp section",
                needed: usize::try_from(ts_len).unwrap_or(usize::MAX),
                available,
            },
        ));
    }
    let end = start + ts_len as usize;
    Ok(BlockParts {
        field_type,
        timestamps: &block[start..end],
        timestamps_offset: start,
        values: &block[end..],
        values_offset: end,
    })
}

/// The value type of a block (from its first byte).
pub fn block_type(block: &[u8]) -> Result<FieldType> {
    let Some(&byte) = block.first() else {
        return Err(corrupt(0, Problem::BlockTooShort { len: 0 }));
    };
    FieldType::from_block_type(byte).ok_or(corrupt(0, Problem::UnknownBlockType(byte)))
}

/// Number of values in a block, read from its timestamp section header without decoding.
pub fn block_count(block: &[u8]) -> Result<usize> {
    let parts = split_block(block)?;
    crate::timestamp::count(parts.timestamps).map_err(|e| e.shifted(parts.timestamps_offset))
}

fn check_counts(timestamps: usize, values: usize, at: usize) -> Result<()> {
    if timestamps != values {
        return Err(corrupt(at, Problem::CountMismatch { timestamps, values }));
    }
    Ok(())
}

impl Registry {
    /// Appends a block holding `timestamps` and `values` to `out`.
    pub fn encode_block(
        &self,
        timestamps: &[i64],
        values: ColumnRef<'_>,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        if timestamps.len() != values.len() {
            return Err(Error::LengthMismatch {
                timestamps: timestamps.len(),
                values: values.len(),
            });
        }
        let mark = out.len();
        out.push(values.field_type().block_type());
        out.push(0); // room for a one-byte section length; widened below when needed
        let result = self.timestamps.encode(timestamps, out).and_then(|()| {
            let ts_len = out.len() - mark - 2;
            if ts_len < 0x80 {
                out[mark + 1] = ts_len as u8;
            } else {
                let (len, used) = uvarint_bytes(ts_len as u64);
                out.splice(mark + 1..mark + 2, len[..used].iter().copied());
            }
            match values {
                ColumnRef::Float(v) => self.floats.encode(v, out),
                ColumnRef::Integer(v) => self.integers.encode(v, out),
                ColumnRef::Boolean(v) => self.booleans.encode(v, out),
                ColumnRef::String(v) => self.strings.encode(v, out),
                ColumnRef::Unsigned(v) => self.unsigned.encode(v, out),
            }
        });
        if result.is_err() {
            out.truncate(mark);
        }
        result
    }

    /// Decodes a block into `timestamps` and `values` (both cleared first; `values` takes the
    /// block's type, keeping its allocation when the type matches). Returns the type.
    pub fn decode_block(
        &self,
        block: &[u8],
        timestamps: &mut Vec<i64>,
        values: &mut Column,
    ) -> Result<FieldType> {
        let parts = split_block(block)?;
        values.reset(parts.field_type);
        let result = match values {
            Column::Float(v) => {
                self.decode_values(&parts, timestamps, v, |s, b, o| s.floats.decode(b, o))
            }
            Column::Integer(v) => {
                self.decode_values(&parts, timestamps, v, |s, b, o| s.integers.decode(b, o))
            }
            Column::Boolean(v) => {
                self.decode_values(&parts, timestamps, v, |s, b, o| s.booleans.decode(b, o))
            }
            Column::String(v) => self.decode_strings(&parts, timestamps, v),
            Column::Unsigned(v) => {
                self.decode_values(&parts, timestamps, v, |s, b, o| s.unsigned.decode(b, o))
            }
        };
        if result.is_err() {
            timestamps.clear();
            values.clear();
        }
        result.map(|()| parts.field_type)
    }

    /// Decodes the timestamps of a block whose values (`values` of them) are already decoded.
    /// Values go first because their count is bounded by their bytes, while an RLE timestamp
    /// section can claim up to `MAX_RUN_LENGTH` from a few bytes: a disagreeing count is
    /// refused before anything is allocated for it.
    fn decode_timestamps_of(
        &self,
        parts: &BlockParts<'_>,
        values: usize,
        timestamps: &mut Vec<i64>,
    ) -> Result<()> {
        timestamps.clear();
        if let Some(count) = self.timestamps.count(parts.timestamps) {
            let count = count.map_err(|e| e.shifted(parts.timestamps_offset))?;
            check_counts(count, values, parts.values_offset)?;
        }
        self.timestamps
            .decode(parts.timestamps, timestamps)
            .map_err(|e| e.shifted(parts.timestamps_offset))
    }

    fn decode_values<T>(
        &self,
        parts: &BlockParts<'_>,
        timestamps: &mut Vec<i64>,
        values: &mut Vec<T>,
        decode: impl FnOnce(&Registry, &[u8], &mut Vec<T>) -> Result<()>,
    ) -> Result<()> {
        values.clear();
        decode(self, parts.values, values).map_err(|e| e.shifted(parts.values_offset))?;
        self.decode_timestamps_of(parts, values.len(), timestamps)?;
        check_counts(timestamps.len(), values.len(), parts.values_offset)
    }

    fn decode_strings(
        &self,
        parts: &BlockParts<'_>,
        timestamps: &mut Vec<i64>,
        values: &mut StringColumn,
    ) -> Result<()> {
        values.clear();
        self.strings
            .decode(parts.values, values)
            .map_err(|e| e.shifted(parts.values_offset))?;
        self.decode_timestamps_of(parts, values.len(), timestamps)?;
        check_counts(timestamps.len(), values.len(), parts.values_offset)
    }

    fn typed<T>(
        &self,
        block: &[u8],
        expected: FieldType,
        timestamps: &mut Vec<i64>,
        values: &mut Vec<T>,
        decode: impl FnOnce(&Registry, &[u8], &mut Vec<T>) -> Result<()>,
    ) -> Result<()> {
        let parts = split_block(block)?;
        if parts.field_type != expected {
            return Err(Error::TypeMismatch {
                expected,
                found: parts.field_type,
            });
        }
        let result = self.decode_values(&parts, timestamps, values, decode);
        if result.is_err() {
            timestamps.clear();
            values.clear();
        }
        result
    }

    /// Decodes a float block into reusable buffers (cleared first).
    pub fn decode_float_block(
        &self,
        block: &[u8],
        timestamps: &mut Vec<i64>,
        values: &mut Vec<f64>,
    ) -> Result<()> {
        self.typed(block, FieldType::Float, timestamps, values, |s, b, o| {
            s.floats.decode(b, o)
        })
    }

    /// Decodes an integer block into reusable buffers (cleared first).
    pub fn decode_integer_block(
        &self,
        block: &[u8],
        timestamps: &mut Vec<i64>,
        values: &mut Vec<i64>,
    ) -> Result<()> {
        self.typed(block, FieldType::Integer, timestamps, values, |s, b, o| {
            s.integers.decode(b, o)
        })
    }

    /// Decodes an unsigned block into reusable buffers (cleared first).
    pub fn decode_unsigned_block(
        &self,
        block: &[u8],
        timestamps: &mut Vec<i64>,
        values: &mut Vec<u64>,
    ) -> Result<()> {
        self.typed(block, FieldType::Unsigned, timestamps, values, |s, b, o| {
            s.unsigned.decode(b, o)
        })
    }

    /// Decodes a boolean block into reusable buffers (cleared first).
    pub fn decode_boolean_block(
        &self,
        block: &[u8],
        timestamps: &mut Vec<i64>,
        values: &mut Vec<bool>,
    ) -> Result<()> {
        self.typed(block, FieldType::Boolean, timestamps, values, |s, b, o| {
            s.booleans.decode(b, o)
        })
    }

    /// Decodes a string block into reusable buffers (cleared first).
    pub fn decode_string_block(
        &self,
        block: &[u8],
        timestamps: &mut Vec<i64>,
        values: &mut StringColumn,
    ) -> Result<()> {
        let parts = split_block(block)?;
        if parts.field_type != FieldType::String {
            return Err(Error::TypeMismatch {
                expected: FieldType::String,
                found: parts.field_type,
            });
        }
        let result = self.decode_strings(&parts, timestamps, values);
        if result.is_err() {
            timestamps.clear();
            values.clear();
        }
        result
    }
}
