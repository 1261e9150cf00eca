//! # tsmdb
//!
//! The command users run. It owns argument parsing, human and machine output formats, progress
//! and exit codes, and nothing else: every piece of real work is a call into a library crate.
//!
//! Exit codes: 0 success, 1 the input had problems that were reported (rejected lines, damaged
//! blocks), 2 the command itself failed (bad arguments, unreadable file).

mod compact;
mod delete;
mod generate;
mod inspect;
mod open;
mod output;
mod query;
mod stats;
mod verify;
mod write;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// tsmdb: an embeddable time-series storage engine that reads and writes InfluxDB 1.x TSM files.
#[derive(Debug, Parser)]
#[command(name = "tsmdb", version, propagate_version = true)]
#[command(
    after_help = "Examples:\n  tsmdb write metrics.lp\n  tsmdb query 'SELECT mean(usage_user) FROM cpu GROUP BY hostname'\n  tsmdb inspect lp --format jsonl metrics.lp"
)]
pub struct Cli {
    /// Data directory (the embedded default needs no server and no set-up).
    #[arg(long, global = true, default_value = "./tsmdb-data", env = "TSMDB_DB")]
    pub db: PathBuf,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compact the TSM files of every shard directory under DIR (default --db) now.
    Compact(compact::Args),
    /// Delete the values of a measurement's series chosen by tags and a time range.
    Delete(delete::Args),
    /// Generate synthetic data: an `influxd generate` schema, `simple`, or TSBS devops.
    Generate(Box<generate::Args>),
    /// Look inside line protocol, encoded blocks, WAL and TSM files, and the index.
    #[command(subcommand)]
    Inspect(inspect::InspectCommand),
    /// Run InfluxQL statements (SELECT, SHOW, CREATE, DROP, DELETE) on the data directory.
    Query(query::Args),
    /// Show statistics of the data directory: databases, shards, series, files, bytes.
    Stats(stats::Args),
    /// Check every file of the data directory (TSM, tombstones, WAL, index) without writing.
    Verify(verify::Args),
    /// Ingest line protocol from files or standard input (the database is created if needed).
    Write(write::Args),
}

fn main() -> ExitCode {
    die_quietly_on_sigpipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compact(args) => compact::run(args, &cli.db),
        Command::Delete(args) => delete::run(args, &cli.db),
        Command::Generate(args) => generate::run(*args, &cli.db),
        Command::Inspect(cmd) => inspect::run(cmd),
        Command::Query(args) => query::run(args, &cli.db),
        Command::Stats(args) => stats::run(args, &cli.db),
        Command::Verify(args) => verify::run(args, &cli.db),
        Command::Write(args) => write::run(args, &cli.db),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // One clear line: what failed and why; the chain of causes is joined with ": ".
            eprintln!("tsmdb: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Lets the process end quietly, as Unix tools do, when whoever reads its output goes away
/// (`tsmdb inspect tsm --dump x.tsm | head`). Rust ignores SIGPIPE by default, so every later
/// write would fail instead: a `println!` panics and a buffered writer turns into a
/// "Broken pipe" error with exit status 2. Writes already acknowledged are in the WAL, so
/// ending mid-command loses nothing.
fn die_quietly_on_sigpipe() {
    #[cfg(unix)]
    // SAFETY: `signal` with `SIG_DFL` installs no handler (no code runs in signal context); it
    // is called first thing in `main`, before any other thread exists, so nothing races with it.
    // Tested by `tests/broken_pipe.rs`.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
