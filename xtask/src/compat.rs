//! `cargo xtask compat`: the long differential run of our crates against InfluxDB 1.6.7's own
//! code (package `tsmdb-compat`, built in release mode). Installs Go and InfluxDB's sources with
//! apt when they are missing and we are root.

use crate::util::run_command;

/// Arguments of `cargo xtask compat`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seconds to run, shared by all kinds.
    #[arg(long, default_value_t = 600)]
    seconds: u64,
    /// Seed (default: a fresh one, printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Only these kinds (comma-separated: lineproto, section, section-decode, block,
    /// block-decode, tsm, wal, wal-damaged).
    #[arg(long)]
    only: Option<String>,
}

/// Builds and runs the `tsmdb-compat` binary; it prints counts per kind and every shrunk
/// mismatch, and fails if any case mismatched.
pub fn run(args: Args) -> anyhow::Result<()> {
    let seconds = args.seconds.to_string();
    let mut cmd = vec![
        "run",
        "--release",
        "--quiet",
        "-p",
        "tsmdb-compat",
        "--bin",
        "tsmdb-compat",
        "--",
        "--seconds",
        &seconds,
    ];
    let seed = args.seed.map(|s| s.to_string());
    if let Some(seed) = &seed {
        cmd.extend(["--seed", seed]);
    }
    if let Some(only) = &args.only {
        cmd.extend(["--only", only]);
    }
    run_command("cargo", &cmd)
}
