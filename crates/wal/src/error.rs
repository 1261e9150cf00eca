//! The WAL's error type.

use std::io;
use std::path::{Path, PathBuf};

use crate::entry::EncodeError;

/// Everything that can go wrong in the WAL.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// A file-system operation failed.
    #[error("wal: {op} {}: {source}", path.display())]
    Io {
        /// What was being done (`writing`, `syncing`, ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Replay found a bad entry that is not a torn tail, and the policy is
    /// [`RecoveryPolicy::Strict`](crate::RecoveryPolicy::Strict).
    #[error("wal: corrupt entry in {} at offset {offset}: {reason}", segment.display())]
    Corrupt {
        /// The segment file.
        segment: PathBuf,
        /// Byte offset of the bad entry's header.
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The entry could not be encoded.
    #[error("wal: {0}")]
    Encode(#[from] EncodeError),
    /// The WAL was closed.
    #[error("WAL closed")]
    Closed,
    /// An earlier write or fsync failed. The kernel may have dropped the unsynced pages, so the WAL
    /// refuses every later write instead of pretending they are durable; reopen it to recover.
    #[error("wal: unusable after an earlier failure: {0}")]
    Failed(String),
}

impl WalError {
    pub(crate) fn io(op: &'static str, path: &Path, source: io::Error) -> Self {
        WalError::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }
}
