//! `tsmdb stats`: engine statistics of the data directory.

use std::path::Path;
use std::process::ExitCode;

use clap::Args as ClapArgs;
use tsmdb_engine::Options;

use crate::open::{Missing, open};

use crate::output::Format;

/// Arguments of `tsmdb stats`.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Examples:\n  tsmdb stats\n  tsmdb stats --format jsonl")]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Runs `tsmdb stats`.
pub fn run(args: Args, db: &Path) -> anyhow::Result<ExitCode> {
    let options = Options::default().background(false);
    let engine = open(db, options, Missing::Fail)?;
    let s = engine.stats();
    let report = engine.open_report();
    let rows: Vec<(&str, serde_json::Value)> = vec![
        ("databases", s.databases.into()),
        ("shards", s.shards.into()),
        ("series", s.series.into()),
        ("tsm_files", s.tsm_files.into()),
        ("tsm_bytes", s.tsm_bytes.into()),
        ("wal_bytes", s.wal_bytes.into()),
        ("cache_bytes", s.cache_bytes.into()),
        // Whole microseconds over 1000: prints as `24.401`, not `24.401039000000004`.
        (
            "open_ms",
            (report.elapsed.as_micros() as f64 / 1000.0).into(),
        ),
        ("failed_shards", report.failed_shards.len().into()),
        (
            "bad_files",
            report
                .shards
                .iter()
                .map(|r| r.bad_files.len())
                .sum::<usize>()
                .into(),
        ),
    ];
    match args.format {
        Format::Text => {
            for (k, v) in &rows {
                println!("{k:<14} {v}");
            }
            for (path, why) in &report.failed_shards {
                println!("failed shard   {}: {why}", path.display());
            }
        }
        Format::Jsonl => {
            let obj: serde_json::Map<String, serde_json::Value> =
                rows.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            println!("{}", serde_json::Value::Object(obj));
        }
    }
    Ok(ExitCode::SUCCESS)
}
