//! Query errors: what was wrong and where in the statement.

/// A query that could not be parsed or run.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The text is not valid InfluxQL (or not in the supported subset).
    #[error("{message}{}", pos.map(|p| format!(" at {p}")).unwrap_or_default())]
    Syntax {
        /// What was wrong or expected.
        message: String,
        /// Byte offset in the statement.
        pos: Option<usize>,
    },
    /// The engine refused the statement.
    #[error(transparent)]
    Engine(#[from] tsmdb_engine::Error),
}

impl QueryError {
    /// A syntax error at byte `pos`.
    pub fn at(pos: usize, message: impl Into<String>) -> QueryError {
        QueryError::Syntax {
            message: message.into(),
            pos: Some(pos),
        }
    }

    /// An error not tied to a position.
    pub fn msg(message: impl Into<String>) -> QueryError {
        QueryError::Syntax {
            message: message.into(),
            pos: None,
        }
    }
}

impl QueryError {
    /// Position accessor used by tests and tools.
    pub fn position(&self) -> Option<usize> {
        match self {
            QueryError::Syntax { pos, .. } => *pos,
            QueryError::Engine(_) => None,
        }
    }
}
