//! `tsmdb write`: ingest line protocol from files or standard input into the data directory.

use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args as ClapArgs;
use indicatif::{ProgressBar, ProgressStyle};
use tsmdb_engine::Options;
use tsmdb_lineproto::Precision;

use crate::open::{Missing, open};

/// Arguments of `tsmdb write`.
#[derive(Debug, ClapArgs)]
#[command(after_help = "The database is created when it does not exist.\n\n\
    Examples:\n  tsmdb write metrics.lp\n  tsmdb write --database telegraf --precision s data.lp\n  \
    cat data.lp | tsmdb write -")]
pub struct Args {
    /// Line-protocol files (`-` or nothing: standard input).
    pub files: Vec<PathBuf>,
    /// Database to write into.
    #[arg(long, default_value = "db")]
    pub database: String,
    /// Precision of the timestamps: ns, us, ms, s, m or h.
    #[arg(long, default_value = "ns", value_parser = parse_precision)]
    pub precision: Precision,
    /// Points per batch (each batch is one WAL entry and one fsync).
    #[arg(long, default_value_t = 5000)]
    pub batch: usize,
}

fn parse_precision(s: &str) -> Result<Precision, String> {
    s.parse::<Precision>().map_err(|e| e.to_string())
}

/// Runs `tsmdb write`.
pub fn run(args: Args, db: &Path) -> anyhow::Result<ExitCode> {
    let engine = open(db, Options::default(), Missing::Create)?;
    engine.create_database(&args.database, None)?;
    let inputs: Vec<PathBuf> = if args.files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.files.clone()
    };
    let started = Instant::now();
    let progress = progress_bar();
    let (mut points, mut values, mut rejected) = (0u64, 0u64, 0u64);
    for input in &inputs {
        let reader: Box<dyn Read> = if input.as_os_str() == "-" {
            Box::new(io::stdin().lock())
        } else {
            Box::new(File::open(input).with_context(|| format!("opening {}", input.display()))?)
        };
        let name = input.display().to_string();
        let summary = engine
            .write_reader(&args.database, reader, args.precision, args.batch, |s| {
                if let Some(p) = &progress {
                    p.inc(s.values);
                    let secs = started.elapsed().as_secs_f64().max(1e-9);
                    p.set_message(format!("{:.0} values/s", p.position() as f64 / secs));
                }
            })
            .with_context(|| format!("writing {name}"))?;
        for r in &summary.rejected {
            let line = format!("{name}:{}: {}", r.line, r.reason);
            match &progress {
                Some(p) => p.println(line),
                None => eprintln!("{line}"),
            }
        }
        points += summary.points;
        values += summary.values;
        rejected += summary.rejected.len() as u64;
    }
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    engine.close()?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "wrote {points} points ({values} values) to database {:?} in {secs:.2} s ({:.0} values/s); {rejected} lines rejected",
        args.database,
        values as f64 / secs.max(1e-9)
    );
    Ok(if rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn progress_bar() -> Option<ProgressBar> {
    if !io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {pos} values, {msg}") {
        bar.set_style(style);
    }
    Some(bar)
}
