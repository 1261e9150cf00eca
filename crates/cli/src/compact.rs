//! `tsmdb compact`: runs the compaction planner and compactions on TSM files now.
//!
//! Until the storage engine exists this works on directories: every directory under the given
//! one (default: `--db`, `./tsmdb-data`) that holds `*.tsm` files is treated as one shard and
//! compacted on its own. It must not run while another process writes to those directories.

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args as ClapArgs;
use indicatif::{ProgressBar, ProgressStyle};
use tsmdb_compactor::{Compactor, CompactorConfig, DirReport, Planner, cleanup_dir, tsm_paths};

/// Arguments of `tsmdb compact`.
#[derive(Debug, ClapArgs)]
#[command(
    after_help = "Compacts every directory holding *.tsm files under DIR (default: --db).\n\n\
    Examples:\n  tsmdb compact\n  tsmdb compact --full ./tsmdb-data/db0/autogen/1"
)]
pub struct Args {
    /// Merge every generation into one (as InfluxDB does once a shard is cold), instead of
    /// running the level plans until none is left.
    #[arg(long)]
    pub full: bool,
    /// Write limit in MiB/s for all compactions together (0 = unlimited; the engine uses 48).
    #[arg(long, default_value_t = 0, value_name = "MIB")]
    pub throughput: u64,
    /// Compactions at once (default: half the cores, at least 1).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Directory to compact (default: the data directory, --db).
    pub dir: Option<PathBuf>,
}

/// Runs `tsmdb compact`.
pub fn run(args: Args, db: &Path) -> anyhow::Result<ExitCode> {
    let root = args.dir.clone().unwrap_or_else(|| db.to_path_buf());
    if !root.is_dir() {
        bail!("{} is not a directory", root.display());
    }
    let mut dirs = Vec::new();
    find_shards(&root, &mut dirs)?;
    if dirs.is_empty() {
        eprintln!("tsmdb: no TSM files under {}", root.display());
        return Ok(ExitCode::SUCCESS);
    }
    let mut config = CompactorConfig {
        throughput: args.throughput.saturating_mul(1 << 20),
        ..CompactorConfig::default()
    };
    if let Some(n) = args.concurrency {
        config.max_concurrent = n.max(1);
    }
    let compactor = Compactor::new(config);
    let planner = Planner::default();
    let bar = progress_bar();
    let started = Instant::now();
    let mut total = (0usize, 0u64, DirReport::default());
    for dir in &dirs {
        // Finish or undo whatever a crash interrupted before reading anything.
        cleanup_dir(dir).with_context(|| format!("recovering {}", dir.display()))?;
        let (files_before, bytes_before) = sizes(dir)?;
        let t0 = Instant::now();
        let label = dir.display().to_string();
        let mut done = 0usize;
        let mut read = 0u64;
        let report = compactor
            .compact_dir(dir, &planner, args.full, |r| {
                done += 1;
                read += r.bytes_in;
                if let Some(bar) = &bar {
                    bar.set_message(format!(
                        "{label}: {done} compactions, {} read",
                        human_bytes(read)
                    ));
                    bar.tick();
                }
            })
            .with_context(|| format!("compacting {}", dir.display()))?;
        let line = summary(dir, files_before, bytes_before, &report, t0.elapsed());
        match &bar {
            Some(bar) => bar.println(line),
            None => println!("{line}"),
        }
        total.0 += files_before;
        total.1 += bytes_before;
        total.2.compactions += report.compactions;
        total.2.files_after += report.files_after;
        total.2.bytes_after += report.bytes_after;
        total.2.bytes_out += report.bytes_out;
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if dirs.len() > 1 {
        println!(
            "{}",
            summary(
                Path::new("total"),
                total.0,
                total.1,
                &total.2,
                started.elapsed()
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn summary(dir: &Path, files: usize, bytes: u64, r: &DirReport, elapsed: Duration) -> String {
    format!(
        "{}: {files} files ({}) -> {} files ({}) in {} compactions, {} written, {:.2} s",
        dir.display(),
        human_bytes(bytes),
        r.files_after,
        human_bytes(r.bytes_after),
        r.compactions,
        human_bytes(r.bytes_out),
        elapsed.as_secs_f64()
    )
}

/// Every directory at or under `dir` that holds a `*.tsm` file, in path order.
fn find_shards(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if !tsm_paths(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .is_empty()
    {
        out.push(dir.to_path_buf());
    }
    let mut children: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && !p.is_symlink())
        .collect();
    children.sort();
    for child in children {
        find_shards(&child, out)?;
    }
    Ok(())
}

fn sizes(dir: &Path) -> anyhow::Result<(usize, u64)> {
    let files = tsm_paths(dir).with_context(|| format!("listing {}", dir.display()))?;
    let bytes = files
        .iter()
        .map(|(_, p)| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    Ok((files.len(), bytes))
}

/// A spinner on standard error, only when it is a terminal.
fn progress_bar() -> Option<ProgressBar> {
    if !io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
