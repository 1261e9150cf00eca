//! Where in a schema file something is, and the errors and warnings that point there.

use std::fmt;

/// A place in the schema: key path, 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// Name of the schema source (file path or `<simple>`).
    pub source: String,
    /// Key path such as `measurements[0].fields[1].count`.
    pub path: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
}

impl Location {
    /// Location of byte `offset` in `text`.
    pub fn at(source: &str, text: &str, offset: usize, path: String) -> Location {
        let offset = offset.min(text.len());
        let before = text.as_bytes().get(..offset).unwrap_or_default();
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let column = text
            .get(line_start..offset)
            .map_or(offset - line_start, |s| s.chars().count())
            + 1;
        Location {
            source: source.to_string(),
            path,
            line,
            column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}", self.source, self.line, self.column)?;
        } else {
            write!(f, "{}", self.source)?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        Ok(())
    }
}

/// A schema that cannot be used: what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct SchemaError {
    /// Where the problem is.
    pub location: Location,
    /// What was expected (upstream's message text where there is one).
    pub message: String,
}

impl SchemaError {
    /// An error at `location`.
    pub fn new(location: Location, message: impl Into<String>) -> SchemaError {
        SchemaError {
            location,
            message: message.into(),
        }
    }
}

/// Something in the schema that was ignored (an unknown key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Where it is.
    pub location: Location,
    /// What was ignored.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "warning: {}: {}", self.location, self.message)
    }
}
