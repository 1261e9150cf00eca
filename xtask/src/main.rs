//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! Every long-running job (benchmarks, fuzzing, soak and compatibility runs) lives here rather than
//! in the default test run, which must stay under ten minutes on two cores.

mod bench;
mod ci;
mod codegen;
mod compat;
mod fuzz;
mod integration;
mod soak;
mod util;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Project automation for tsmdb.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// What CI runs: format check, clippy with warnings denied, the whole test suite (nextest + doctests).
    Ci,
    /// Build in release mode and print one table of every tracked figure beside its baseline.
    Bench(bench::Args),
    /// Run every cargo-fuzz target (nightly toolchain) for N seconds each and report findings.
    Fuzz(fuzz::Args),
    /// End to end through the release `tsmdb` binary: generate, write, query, compact, verify.
    Integration(integration::Args),
    /// Long runs of the crash tests (`soak wal --seconds N`).
    Soak(soak::Args),
    /// Regenerate generated code (`--check`: fail when committed code is stale; part of `ci`).
    Codegen(codegen::Args),
    /// Differential run of our crates against InfluxDB 1.6.7's own Go code (docs/compatibility.md).
    Compat(compat::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ci => ci::run(),
        Command::Fuzz(args) => fuzz::run(args),
        Command::Soak(args) => soak::run(args),
        Command::Integration(args) => integration::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Compat(args) => compat::run(args),
        Command::Codegen(args) => codegen::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
