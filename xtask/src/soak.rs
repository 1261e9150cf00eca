//! `cargo xtask soak wal|wal-sim|engine [--seconds N]`: long runs of the crash and disk-model tests
//! that are kept short in the default test suite.

use std::process::Command;

use anyhow::{Context, bail};

use crate::util::workspace_root;

/// What can be soaked.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Target {
    /// The WAL crash test: a child process writing entries is SIGKILLed at random moments, again
    /// and again; every acknowledged entry must replay, nothing unattempted may appear.
    Wal,
    /// The WAL's property tests against its model of a disk (power cuts, process kills, failed
    /// fsyncs and writes at random points), run over and over with fresh random seeds.
    WalSim,
    /// The engine crash test: a child process ingesting (with snapshots and compactions) is
    /// SIGKILLed, round after round (release builds run about five rounds per second; `--seconds`
    /// asks for four per second).
    Engine,
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
    match args.target {
        Target::Wal => soak_test(
            "tsmdb-wal",
            "crash",
            "crash_kill_and_replay",
            "TSMDB_WAL_SOAK_SECONDS",
            args.seconds,
        ),
        Target::WalSim => wal_sim(args.seconds),
        Target::Engine => soak_test(
            "tsmdb-engine",
            "crash",
            "killed_writers_lose_no_acknowledged_point",
            "TSMDB_CRASH_ROUNDS",
            args.seconds.saturating_mul(4),
        ),
    }
}

/// Runs one test that reads how long to run (seconds or rounds) from the environment variable
/// `env`.
fn soak_test(package: &str, test: &str, name: &str, env: &str, amount: u64) -> anyhow::Result<()> {
    eprintln!("xtask: soak {package} {name} with {env}={amount}");
    let status = Command::new("cargo")
        .args(["test", "--release", "-p", package, "--test", test, "--"])
        .args(["--exact", name, "--nocapture"])
        .env(env, amount.to_string())
        .current_dir(workspace_root())
        .status()
        .context("could not start cargo test")?;
    if !status.success() {
        bail!("soak {package} {name} failed with {status}");
    }
    Ok(())
}

/// Runs the WAL's disk-model property tests in rounds of 2,000 cases (each round draws new random
/// seeds) until `seconds` have passed.
fn wal_sim(seconds: u64) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    let mut rounds = 0u64;
    loop {
        let status = Command::new("cargo")
            .args([
                "test",
                "--release",
                "-p",
                "tsmdb-wal",
                "--lib",
                "durability_tests",
            ])
            .env("TSMDB_WAL_SIM_CASES", "2000")
            .current_dir(workspace_root())
            .status()
            .context("could not start cargo test")?;
        if !status.success() {
            bail!("soak wal-sim failed in round {} with {status}", rounds + 1);
        }
        rounds += 1;
        if std::time::Instant::now() >= deadline {
            eprintln!("xtask: soak wal-sim passed {rounds} rounds of 2000 cases per property");
            return Ok(());
        }
    }
}
