//! `cargo xtask ci`: exactly what CI runs.

use crate::util::run_command;

/// Format check, generated code up to date, clippy with warnings denied, then every test
/// (doctests, then nextest).
pub fn run() -> anyhow::Result<()> {
    run_command("cargo", &["fmt", "--all", "--", "--check"])?;
    run_command("cargo", &["xtask", "codegen", "--check"])?;
    run_command(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    run_command("cargo", &["test", "--workspace", "--doc", "--quiet"])?;
    run_command(
        "cargo",
        &["nextest", "run", "--workspace", "--no-fail-fast"],
    )?;
    Ok(())
}
