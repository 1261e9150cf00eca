//! The one error type of this crate: every failure names the file and says what is wrong and where.

use std::path::PathBuf;

/// A key printed for people: UTF-8 where it is, escapes elsewhere.
pub(crate) fn show_key(key: &[u8]) -> String {
    key.escape_ascii().to_string()
}

/// Why the writer stopped accepting blocks for the current file (the caller rolls to a new file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FullReason {
    /// The key already has 65,535 blocks in this file (the index count is a u16).
    MaxBlocksPerKey,
    /// The block (and its index entry) would take the file past its size limit.
    MaxFileSize,
}

/// Errors of TSM and tombstone files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system error on a file.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error (shown in the message, so not repeated as a source).
        error: std::io::Error,
    },
    /// The file is not a valid TSM file (bad magic, version, footer or index).
    #[error("{}: corrupt TSM file: {what}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong and at which byte offset.
        what: String,
    },
    /// A block's stored CRC-32 does not match its bytes.
    #[error("block checksum mismatch: {} offset {offset} (key {}): stored {stored:08x}, computed {computed:08x}", path.display(), show_key(key))]
    Checksum {
        /// The file.
        path: PathBuf,
        /// The key the block belongs to.
        key: Vec<u8>,
        /// Offset of the block's CRC in the file.
        offset: u64,
        /// CRC stored in the file.
        stored: u32,
        /// CRC computed over the block bytes.
        computed: u32,
    },
    /// A block passed its checksum but could not be decoded.
    #[error("{}: block corrupt at offset {offset} (key {}): {what}", path.display(), show_key(key))]
    BlockCorrupt {
        /// The file.
        path: PathBuf,
        /// The key the block belongs to.
        key: Vec<u8>,
        /// Offset of the block's CRC in the file.
        offset: u64,
        /// What the decoder reported.
        what: String,
    },
    /// Keys must reach the writer in strictly increasing byte order.
    #[error(
        "keys must be added in sorted order: {} after {}",
        show_key(key),
        show_key(previous)
    )]
    UnsortedKey {
        /// The rejected key.
        key: Vec<u8>,
        /// The key written before it.
        previous: Vec<u8>,
    },
    /// A composite key longer than the on-disk u16 length allows.
    #[error("max key length exceeded: {len} > 65535")]
    KeyTooLong {
        /// Length of the rejected key.
        len: usize,
    },
    /// Timestamps of one key must strictly increase across its blocks and values.
    #[error(
        "key {}: timestamps out of order: {time} does not follow {previous}",
        show_key(key)
    )]
    OutOfOrder {
        /// The key.
        key: Vec<u8>,
        /// The offending timestamp.
        time: i64,
        /// The timestamp it should have followed.
        previous: i64,
    },
    /// A key's blocks must all have the type of its first block.
    #[error(
        "key {}: block of type {got} but the key holds {expected} values",
        show_key(key)
    )]
    TypeMismatch {
        /// The key.
        key: Vec<u8>,
        /// The key's type.
        expected: tsmdb_encoding::FieldType,
        /// The type offered.
        got: tsmdb_encoding::FieldType,
    },
    /// The caller handed the writer something that is not a valid block or value batch.
    #[error("key {}: invalid input: {what}", show_key(key))]
    InvalidInput {
        /// The key.
        key: Vec<u8>,
        /// What is wrong.
        what: String,
    },
    /// A single block is larger than the configured file size limit, so no file can hold it.
    #[error(
        "key {}: block of {size} bytes cannot fit in a file limited to {limit} bytes",
        show_key(key)
    )]
    BlockTooLarge {
        /// The key.
        key: Vec<u8>,
        /// Block size including its CRC and index entry.
        size: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The writer is full (see [`FullReason`]); finish it and write the rest to a new file.
    #[error("file is full ({reason:?}); finish it and continue in the next file")]
    Full {
        /// Why.
        reason: FullReason,
    },
    /// `finish` was called on a writer that received no block; the temporary file is removed.
    #[error("no values written")]
    NoValues,
    /// A file name that is not `GENERATION-SEQUENCE.ext`.
    #[error("file {name} is named incorrectly")]
    BadName {
        /// The name.
        name: String,
    },
    /// A tombstone file that cannot be read.
    #[error("{}: corrupt tombstone file: {what}", path.display())]
    CorruptTombstone {
        /// The file.
        path: PathBuf,
        /// What is wrong and where.
        what: String,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Adds the path to an I/O error.
pub(crate) trait IoContext<T> {
    fn at(self, path: &std::path::Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|error| Error::Io {
            path: path.to_path_buf(),
            error,
        })
    }
}
