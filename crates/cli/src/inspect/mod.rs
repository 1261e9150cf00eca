//! `tsmdb inspect ...`: one module per thing that can be inspected.
//!
//! To add one: a module with an `Args` struct (clap) and `run(args) -> anyhow::Result<ExitCode>`,
//! a variant below, and a line in [`run`].

mod block;
mod decode;
mod encode;
mod index;
mod lp;
mod tsm;
mod wal;

use std::process::ExitCode;

use clap::Subcommand;

/// What `tsmdb inspect` can look at.
#[derive(Debug, Subcommand)]
#[command(after_help = "Examples:\n  tsmdb inspect lp metrics.lp\n  \
    tsmdb inspect tsm --verify tsmdb-data/db/*/*.tsm\n  \
    tsmdb inspect wal --format jsonl tsmdb-data/db/*/wal\n  \
    tsmdb inspect index tsmdb-data/db/shard_0_604800000000000")]
pub enum InspectCommand {
    /// Parse line protocol and print every field value (or the error of every rejected line).
    Lp(lp::Args),
    /// Summarise, list blocks, dump values or verify TSM files (`--report`, `--blocks`, `--dump`, `--verify`).
    Tsm(tsm::Args),
    /// Print every entry of a WAL segment or directory and report damage (segment, offset).
    Wal(wal::Args),
    /// Decode a whole TSM block (hex or --file; CRC prefix optional) and print its values.
    Block(block::Args),
    /// Encode values (one per line on stdin) into a section and print it in hex.
    Encode(encode::Args),
    /// Decode one encoded section (hex) and print its values, one per line.
    Decode(decode::Args),
    /// Summarise a shard's grid index (grids, dimensions, density, bytes); `--series` lists ids.
    Index(index::Args),
}

/// Runs one inspect subcommand.
pub fn run(cmd: InspectCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        InspectCommand::Lp(args) => lp::run(args),
        InspectCommand::Tsm(args) => tsm::run(args),
        InspectCommand::Wal(args) => wal::run(args),
        InspectCommand::Block(args) => block::run(args),
        InspectCommand::Encode(args) => encode::run(args),
        InspectCommand::Decode(args) => decode::run(args),
        InspectCommand::Index(args) => index::run(args),
    }
}
