//! `cargo xtask soak wal [--seconds N]`: long runs of the crash tests that are kept short in the
//! default test suite.

use std::process::Command;

use anyhow::{Context, bail};

use crate::util::workspace_root;

/// What can be soaked.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Target {
    /// The WAL crash test: a child process writing entries is SIGKILLed at random moments, again
    /// and again; every acknowledged entry must replay, nothing unattempted may appear.
    Wal,
}

/// Arguments of `cargo xtask soak`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to soak.
    #[arg(value_enum)]
    target: Target,
    /// How long to run, in seconds.
    #[arg(long, default_value_t = 300)]
    seconds: u64,
}

/// Runs the chosen soak test in release mode for the given time.
pub fn run(args: Args) -> anyhow::Result<()> {
    let (package, test, name, env) = match args.target {
        Target::Wal => (
            "tsmdb-wal",
            "crash",
            "crash_kill_and_replay",
            "TSMDB_WAL_SOAK_SECONDS",
        ),
    };
    eprintln!("xtask: soak {package} {name} for {} s", args.seconds);
    let status = Command::new("cargo")
        .args(["test", "--release", "-p", package, "--test", test, "--"])
        .args(["--exact", name, "--nocapture"])
        .env(env, args.seconds.to_string())
        .current_dir(workspace_root())
        .status()
        .context("could not start cargo test")?;
    if !status.success() {
        bail!("soak {package} {name} failed with {status}");
    }
    Ok(())
}
