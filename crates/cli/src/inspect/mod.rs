//! `tsmdb inspect ...`: one module per thing that can be inspected.
//!
//! To add one: a module with an `Args` struct (clap) and `run(args) -> anyhow::Result<ExitCode>`,
//! a variant below, and a line in [`run`].

mod lp;

use std::process::ExitCode;

use clap::Subcommand;

/// What `tsmdb inspect` can look at.
#[derive(Debug, Subcommand)]
pub enum InspectCommand {
    /// Parse line protocol and print every field value (or the error of every rejected line).
    Lp(lp::Args),
}

/// Runs one inspect subcommand.
pub fn run(cmd: InspectCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        InspectCommand::Lp(args) => lp::run(args),
    }
}
