//! The one error type of this crate.

use std::path::PathBuf;

use crate::install::Step;

/// Errors of planning, merging, writing and installing compactions.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A TSM or tombstone file could not be read or written.
    #[error(transparent)]
    Tsm(#[from] tsmdb_tsm_file::Error),
    /// An operating-system error on a path of this crate (journal, directory).
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A block could not be encoded or decoded.
    #[error("key {key}: {source}")]
    Encoding {
        /// The key, escaped for printing.
        key: String,
        /// What the codec reported.
        #[source]
        source: tsmdb_encoding::Error,
    },
    /// Two inputs hold the same key with different value types.
    #[error("key {key}: {newer} holds {newer_type} values but {older} holds {older_type}")]
    TypeConflict {
        /// The key, escaped for printing.
        key: String,
        /// The older file.
        older: PathBuf,
        /// Its type.
        older_type: tsmdb_encoding::FieldType,
        /// The newer file.
        newer: PathBuf,
        /// Its type.
        newer_type: tsmdb_encoding::FieldType,
    },
    /// A compaction journal that cannot be parsed (nothing was changed because of it).
    #[error("{}: corrupt compaction journal: {what}", path.display())]
    CorruptJournal {
        /// The journal file.
        path: PathBuf,
        /// What is wrong and on which line.
        what: String,
    },
    /// A committed journal names an output that is neither staged nor installed.
    #[error("{}: journal names output {output} but it is missing; inputs kept", journal.display())]
    MissingOutput {
        /// The journal file.
        journal: PathBuf,
        /// The missing output's name.
        output: String,
    },
    /// The plan names files that another compaction holds.
    #[error("plan files are in use by another compaction: {}", files.join(", "))]
    InUse {
        /// The file names already held.
        files: Vec<String>,
    },
    /// A plan that cannot be executed (no inputs, inputs in different directories, bad names).
    #[error("invalid plan: {0}")]
    InvalidPlan(String),
    /// An input's tombstones changed while it was being compacted; the outputs were discarded so
    /// the deleted values cannot come back. The compaction can simply be planned again.
    #[error("{}: tombstones changed during compaction; outputs discarded", path.display())]
    TombstonesChanged {
        /// The input whose tombstone file changed.
        path: PathBuf,
    },
    /// A failpoint stopped the compaction at `step` (crash tests): nothing was cleaned up.
    #[error("failpoint: stopped at {0:?}")]
    Injected(Step),
}

/// Result with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Adds the path to an I/O error.
pub(crate) trait IoContext<T> {
    fn at(self, path: &std::path::Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// A key printed for people.
pub(crate) fn show_key(key: &[u8]) -> String {
    key.escape_ascii().to_string()
}
