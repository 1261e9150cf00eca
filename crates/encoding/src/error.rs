//! Typed errors: what is wrong and, for decoding, at which byte offset.

use crate::FieldType;

/// Result of every codec call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which part of the format an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    /// A whole block: type byte, timestamp-section length, the two sections.
    Block,
    /// A timestamp section.
    Timestamps,
    /// A value section of the given type.
    Values(FieldType),
}

impl std::fmt::Display for Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Section::Block => f.write_str("block"),
            Section::Timestamps => f.write_str("timestamp section"),
            Section::Values(t) => write!(f, "{t} section"),
        }
    }
}

/// What is wrong with bytes given to a decoder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The input ends before a field that must be there.
    #[error("truncated: {what} needs {needed} bytes, {available} left")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Bytes it needs.
        needed: usize,
        /// Bytes left in the input.
        available: usize,
    },
    /// A block of 0 or 1 byte.
    #[error("block too short ({len} bytes)")]
    BlockTooShort {
        /// Length of the block.
        len: usize,
    },
    /// The block type byte is not 0–4.
    #[error("unknown block type: {0}")]
    UnknownBlockType(u8),
    /// The section header names no known (or registered) codec.
    #[error("unknown encoding {id} (header byte 0x{header:02x})")]
    UnknownEncoding {
        /// The codec id (high nibble).
        id: u8,
        /// The whole header byte.
        header: u8,
    },
    /// A uvarint runs past the end or past 10 bytes / 64 bits.
    #[error("invalid uvarint")]
    BadVarint,
    /// A section's length is not what its encoding requires.
    #[error("{what}: length {len} is not {rule}")]
    BadLength {
        /// The field or section.
        what: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// A count claims more values than the input can hold or than the decoder allows.
    #[error("{what} count {count} exceeds the limit {limit}")]
    CountTooLarge {
        /// The field.
        what: &'static str,
        /// The count read.
        count: u64,
        /// The limit that applies here.
        limit: u64,
    },
    /// Timestamp and value sections decode to different counts.
    #[error("block corrupt: {timestamps} timestamps, {values} values")]
    CountMismatch {
        /// Decoded timestamps.
        timestamps: usize,
        /// Decoded values.
        values: usize,
    },
    /// Bytes after the end of a section that must end earlier.
    #[error("{extra} unexpected trailing bytes")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// The float bit stream ran out before its end marker.
    #[error("float stream ends without its end marker")]
    MissingEndMarker,
    /// A float window with more than 64 bits.
    #[error("invalid float window: {leading} leading zeros and {significant} significant bits")]
    BadFloatWindow {
        /// Leading zeros read.
        leading: u32,
        /// Significant bits read.
        significant: u32,
    },
    /// The snappy data does not decompress.
    #[error("failed to decode string block: {0}")]
    Snappy(String),
    /// A string's length prefix is not a valid uvarint.
    #[error("invalid string length at decompressed byte {at}")]
    BadStringLength {
        /// Offset in the decompressed data.
        at: usize,
    },
    /// A string's length prefix runs past the decompressed data.
    #[error("string of {len} bytes at decompressed byte {at} runs past the end ({available} left)")]
    StringTooLong {
        /// Offset in the decompressed data.
        at: usize,
        /// The length read.
        len: u64,
        /// Bytes left.
        available: usize,
    },
    /// A value that the format cannot hold (for example a NaN float inside a stream).
    #[error("invalid value: {0}")]
    InvalidValue(&'static str),
}

/// Every error of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A NaN float cannot be stored (NaN is the float section's end marker).
    #[error("unsupported value: NaN (value {index})")]
    NaN {
        /// Index of the NaN in the input.
        index: usize,
    },
    /// Timestamps and values of different lengths given to a block encoder.
    #[error("{timestamps} timestamps but {values} values")]
    LengthMismatch {
        /// Timestamps given.
        timestamps: usize,
        /// Values given.
        values: usize,
    },
    /// A typed block decoder was given a block of another type.
    #[error("block holds {found} values, expected {expected}")]
    TypeMismatch {
        /// Type asked for.
        expected: FieldType,
        /// Type in the block.
        found: FieldType,
    },
    /// A codec was asked to encode values its format cannot represent.
    #[error("{codec} cannot encode these values: {reason}")]
    Unencodable {
        /// Name of the codec.
        codec: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// Encoding was asked of a codec id that is not registered.
    #[error("no codec with id {id} registered for the {section}")]
    Unregistered {
        /// The section.
        section: Section,
        /// The id asked for.
        id: u8,
    },
    /// Bytes given to a decoder are corrupt.
    #[error("{section}, byte {offset}: {problem}")]
    Corrupt {
        /// Which section.
        section: Section,
        /// Byte offset in the input given to the decoder (a whole block for block decoders).
        offset: usize,
        /// What is wrong.
        problem: Problem,
    },
}

impl Error {
    /// A corruption error.
    pub fn corrupt(section: Section, offset: usize, problem: Problem) -> Error {
        Error::Corrupt {
            section,
            offset,
            problem,
        }
    }

    /// The byte offset of a decoding error.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Error::Corrupt { offset, .. } => Some(*offset),
            _ => None,
        }
    }

    /// The same error with its offset moved by `by` bytes (a section inside a block).
    pub fn shifted(self, by: usize) -> Error {
        match self {
            Error::Corrupt {
                section,
                offset,
                problem,
            } => Error::Corrupt {
                section,
                offset: offset.saturating_add(by),
                problem,
            },
            other => other,
        }
    }
}
