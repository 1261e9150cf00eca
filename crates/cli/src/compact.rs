//! `tsmdb compact`: snapshots every shard's cache and runs compactions now, through the engine.
//!
//! Opening the engine takes the data directory's lock (so no other process writes meanwhile),
//! replays the WAL and keeps the series index in step with the files; a plain pass over shard
//! directories could do none of that.

use crate::output::human_bytes;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args as ClapArgs;
use tsmdb_engine::Options;

use crate::open::{Missing, open};

/// Arguments of `tsmdb compact`.
#[derive(Debug, ClapArgs)]
#[command(
    after_help = "Compacts every shard of every database of the data directory (--db).\n\n\
    Examples:\n  tsmdb compact\n  tsmdb --db ./tsmdb-data compact --full"
)]
pub struct Args {
    /// Merge every generation into one (as for a cold shard), instead of running the level
    /// plans until none is left.
    #[arg(long)]
    pub full: bool,
}

/// Runs `tsmdb compact`.
pub fn run(args: Args, db: &Path) -> anyhow::Result<ExitCode> {
    let engine = open(db, Options::default().background(false), Missing::Fail)?;
    let before = engine.stats();
    let started = Instant::now();
    // The cache (the WAL replayed) goes to TSM files first, so everything written is compacted.
    let snapshots = engine
        .snapshot_all()
        .with_context(|| format!("snapshotting {}", db.display()))?;
    let compactions = engine
        .compact_all(args.full)
        .with_context(|| format!("compacting {}", db.display()))?;
    let after = engine.stats();
    engine
        .close()
        .with_context(|| format!("closing {}", db.display()))?;
    println!(
        "{}: {} files ({}) -> {} files ({}) in {} snapshots and {compactions} compactions, {:.2} s",
        db.display(),
        before.tsm_files,
        human_bytes(before.tsm_bytes),
        after.tsm_files,
        human_bytes(after.tsm_bytes),
        snapshots,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
