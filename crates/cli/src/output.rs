//! Output formats shared by every command.

use clap::ValueEnum;

/// How a command prints its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Readable text for people.
    #[default]
    Text,
    /// One JSON object per line, for other tools (a stable contract).
    Jsonl,
}
