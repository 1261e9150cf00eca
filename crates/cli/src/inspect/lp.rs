//! `tsmdb inspect lp FILE`: placeholder until the line-protocol parser lands.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args as ClapArgs;

use crate::output::Format;

/// Arguments of `tsmdb inspect lp`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Line-protocol file to parse (`-` for standard input).
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Runs `tsmdb inspect lp`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!(
        "inspect lp is not built yet (cannot parse {})",
        args.file.display()
    )
}
