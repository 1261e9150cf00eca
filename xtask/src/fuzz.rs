//! `cargo xtask fuzz`: every cargo-fuzz target under `crates/*/fuzz`, each for a fixed time.

use std::fs;
use std::process::Command;

use anyhow::{Context, bail};

use crate::util::workspace_root;

/// Arguments of `cargo xtask fuzz`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seconds to run each target.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Only targets whose name contains this text.
    #[arg(long)]
    only: Option<String>,
}

/// Runs each target in turn with the nightly toolchain and reports the ones that found a crash.
pub fn run(args: Args) -> anyhow::Result<()> {
    let root = workspace_root();
    let mut targets = Vec::new();
    for krate in fs::read_dir(root.join("crates")).context("reading crates/")? {
        let fuzz_dir = krate?.path().join("fuzz");
        let Ok(entries) = fs::read_dir(fuzz_dir.join("fuzz_targets")) else {
            continue;
        };
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "rs") {
                let name = path
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                if args.only.as_deref().is_none_or(|o| name.contains(o)) {
                    targets.push((fuzz_dir.clone(), name));
                }
            }
        }
    }
    targets.sort();
    if targets.is_empty() {
        bail!("no fuzz targets found under crates/*/fuzz/fuzz_targets");
    }
    let mut failed = Vec::new();
    for (dir, name) in &targets {
        eprintln!(
            "xtask: fuzzing {name} for {} s ({})",
            args.seconds,
            dir.display()
        );
        let status = Command::new("cargo")
            .args(["+nightly", "fuzz", "run", "--fuzz-dir"])
            .arg(dir)
            .arg(name)
            .args(["--", &format!("-max_total_time={}", args.seconds), "-rss_limit_mb=2048", "-timeout=10"])
            .current_dir(&root)
            .status()
            .context("could not start `cargo +nightly fuzz` (install it with `cargo install cargo-fuzz`)")?;
        if !status.success() {
            failed.push(name.clone());
        }
    }
    eprintln!(
        "xtask: {} targets fuzzed, {} with findings",
        targets.len(),
        failed.len()
    );
    if !failed.is_empty() {
        bail!(
            "findings in: {} (see crates/*/fuzz/artifacts)",
            failed.join(", ")
        );
    }
    Ok(())
}
