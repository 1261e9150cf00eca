//! `tsmdb write`: ingest line protocol from files or standard input into the data directory.

use crate::output::human_bytes;
use std::cell::Cell;
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
    /// Lines per batch (each batch is one WAL entry per shard; batches in flight share fsyncs).
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
    // What the progress line shows: input bytes consumed, lines and values committed so far.
    let bytes_read = Cell::new(0u64);
    let (mut lines_done, mut values_done) = (0u64, 0u64);
    for input in &inputs {
        let source: Box<dyn Read> = if input.as_os_str() == "-" {
            Box::new(io::stdin().lock())
        } else {
            Box::new(File::open(input).with_context(|| format!("opening {}", input.display()))?)
        };
        let reader = CountingReader {
            inner: source,
            count: &bytes_read,
        };
        let name = input.display().to_string();
        let summary = engine
            .write_reader(&args.database, reader, args.precision, args.batch, |s| {
                lines_done += s.points + s.rejected.len() as u64;
                values_done += s.values;
                if let Some(p) = &progress {
                    p.set_message(progress_message(
                        bytes_read.get(),
                        lines_done,
                        values_done,
                        started.elapsed().as_secs_f64(),
                    ));
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
    if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(bar)
}

/// The progress line: bytes read, lines and values written, and the rate.
fn progress_message(bytes: u64, lines: u64, values: u64, secs: f64) -> String {
    format!(
        "{} read, {lines} lines, {values} values, {:.0} values/s",
        human_bytes(bytes),
        values as f64 / secs.max(1e-9)
    )
}

/// Counts the bytes read through it (for the progress line).
struct CountingReader<'a, R> {
    inner: R,
    count: &'a Cell<u64>,
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_shows_bytes_lines_values_and_rate() {
        assert_eq!(
            progress_message(3 * 1024 * 1024 + 512 * 1024, 10_000, 100_000, 2.0),
            "3.5 MiB read, 10000 lines, 100000 values, 50000 values/s"
        );
        assert_eq!(
            progress_message(100, 1, 0, 0.0),
            "100 B read, 1 lines, 0 values, 0 values/s"
        );
    }

    #[test]
    fn the_counting_reader_counts_every_byte_it_passes_on() {
        let count = Cell::new(0);
        let mut r = CountingReader {
            inner: &b"cpu v=1 1\ncpu v=2 2\n"[..],
            count: &count,
        };
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(count.get(), out.len() as u64);
        assert_eq!(out.len(), 20);
    }
}
