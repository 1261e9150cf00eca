//! `tsmdb query`: run InfluxQL statements on the data directory.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args as ClapArgs, ValueEnum};
use tsmdb_engine::Options;
use tsmdb_query::{Epoch, Statement, StatementResult, execute, parse_statements, to_json};

use crate::open::{Missing, open};

/// Output formats of `tsmdb query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum QueryFormat {
    /// Aligned columns for people.
    #[default]
    Table,
    /// Comma-separated values with a `name,tags,time,...` header per series.
    Csv,
    /// InfluxDB's `/query` JSON response.
    Json,
    /// Line protocol (re-ingestable).
    Lp,
}

/// Arguments of `tsmdb query`.
#[derive(Debug, ClapArgs)]
#[command(
    after_help = "Without a statement and without -f, statements are read from standard input, one per line.\n\n\
    Examples:\n  tsmdb query 'SHOW MEASUREMENTS'\n  \
    tsmdb query 'SELECT max(usage_user) FROM cpu WHERE time > now() - 1h GROUP BY time(1m), hostname'\n  \
    tsmdb query --format json -f queries.iql"
)]
pub struct Args {
    /// The statement(s) to run (separated by `;`).
    pub statement: Option<String>,
    /// Run the statements of this file.
    #[arg(short = 'f', long = "file", conflicts_with = "statement")]
    pub file: Option<PathBuf>,
    /// Database the statements run in.
    #[arg(long, default_value = "db")]
    pub database: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: QueryFormat,
    /// Print times as integer nanoseconds instead of RFC 3339.
    #[arg(long)]
    pub epoch_ns: bool,
}

/// Runs `tsmdb query`.
pub fn run(args: Args, db: &Path) -> anyhow::Result<ExitCode> {
    let missing = match &args.statement {
        Some(text) if creates_database(text) => Missing::Create,
        // Statements from stdin or a file may create one: like a session of the influx shell.
        None => Missing::Create,
        Some(_) => Missing::Fail,
    };
    let engine = open(db, Options::default(), missing)?;
    let epoch = if args.epoch_ns {
        Epoch::Nanoseconds
    } else {
        Epoch::Rfc3339
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    let mut failed = false;
    let mut run_text = |text: &str| -> anyhow::Result<()> {
        let results = match execute(&engine, &args.database, text, now) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("tsmdb: error: {e}");
                failed = true;
                return Ok(());
            }
        };
        failed |= results.iter().any(|r| r.error.is_some());
        print_results(&results, args.format, epoch)
    };
    if let Some(text) = &args.statement {
        run_text(text)?;
    } else if let Some(file) = &args.file {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        run_text(&text)?;
    } else {
        let stdin = io::stdin();
        let interactive = stdin.is_terminal();
        if interactive {
            eprintln!(
                "tsmdb {} on {} (database {:?}); one statement per line, Ctrl-D to quit",
                env!("CARGO_PKG_VERSION"),
                db.display(),
                args.database
            );
        }
        for line in stdin.lock().lines() {
            let line = line.context("reading standard input")?;
            if line.trim().is_empty() {
                continue;
            }
            run_text(&line)?;
        }
    }
    engine.close()?;
    // The same status whether the statements came as an argument, from a file or from stdin:
    // 1 when one failed (its error is already printed), as the module doc of main says.
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// True when `text` parses and one of its statements creates a database (so running it on a
/// data directory that does not exist yet is meant to create one).
fn creates_database(text: &str) -> bool {
    parse_statements(text, 0).is_ok_and(|statements| {
        statements
            .iter()
            .any(|s| matches!(s, Statement::CreateDatabase(_)))
    })
}

fn print_results(
    results: &[StatementResult],
    format: QueryFormat,
    epoch: Epoch,
) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match format {
        QueryFormat::Json => writeln!(out, "{}", to_json(results, epoch))?,
        QueryFormat::Table => {
            for r in results {
                if let Some(e) = &r.error {
                    writeln!(out, "ERR: {e}")?;
                    continue;
                }
                for s in &r.series {
                    let mut title = format!("name: {}", s.name);
                    if !s.tags.is_empty() {
                        let tags: Vec<String> =
                            s.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
                        title.push_str(&format!("\ntags: {}", tags.join(", ")));
                    }
                    writeln!(out, "{title}")?;
                    let cells: Vec<Vec<String>> = s
                        .values
                        .iter()
                        .map(|row| row.iter().map(|v| v.to_text(epoch)).collect())
                        .collect();
                    let widths: Vec<usize> = s
                        .columns
                        .iter()
                        .enumerate()
                        .map(|(i, c)| {
                            cells
                                .iter()
                                .map(|r| r.get(i).map_or(0, String::len))
                                .max()
                                .unwrap_or(0)
                                .max(c.len())
                        })
                        .collect();
                    let line = |vals: Vec<&str>| {
                        vals.iter()
                            .zip(&widths)
                            .map(|(v, w)| format!("{v:<w$}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                            .trim_end()
                            .to_string()
                    };
                    writeln!(
                        out,
                        "{}",
                        line(s.columns.iter().map(String::as_str).collect())
                    )?;
                    writeln!(
                        out,
                        "{}",
                        line(
                            widths
                                .iter()
                                .map(|w| "-".repeat(*w))
                                .collect::<Vec<_>>()
                                .iter()
                                .map(String::as_str)
                                .collect()
                        )
                    )?;
                    for row in &cells {
                        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
                    }
                    writeln!(out)?;
                }
            }
        }
        QueryFormat::Csv => {
            for r in results {
                if let Some(e) = &r.error {
                    writeln!(out, "ERR: {e}")?;
                    continue;
                }
                for s in &r.series {
                    writeln!(out, "name,tags,{}", s.columns.join(","))?;
                    let tags: Vec<String> =
                        s.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    for row in &s.values {
                        let cells: Vec<String> =
                            row.iter().map(|v| csv_cell(&v.to_text(epoch))).collect();
                        writeln!(
                            out,
                            "{},{},{}",
                            csv_cell(&s.name),
                            csv_cell(&tags.join(",")),
                            cells.join(",")
                        )?;
                    }
                }
            }
        }
        QueryFormat::Lp => {
            for r in results {
                for s in &r.series {
                    for row in &s.values {
                        let mut line = s.name.replace(',', "\\,").replace(' ', "\\ ");
                        for (k, v) in &s.tags {
                            line.push_str(&format!(",{}={}", escape_tag(k), escape_tag(v)));
                        }
                        let fields: Vec<String> = s
                            .columns
                            .iter()
                            .zip(row)
                            .skip(1)
                            .filter(|(_, v)| !matches!(v, tsmdb_query::Value::Null))
                            .map(|(c, v)| format!("{}={}", escape_tag(c), lp_value(v)))
                            .collect();
                        if fields.is_empty() {
                            continue;
                        }
                        let time = match row.first() {
                            Some(tsmdb_query::Value::Time(t)) => t.to_string(),
                            _ => String::new(),
                        };
                        writeln!(out, "{line} {} {time}", fields.join(","))?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn escape_tag(s: &str) -> String {
    s.replace(',', "\\,")
        .replace(' ', "\\ ")
        .replace('=', "\\=")
}

fn lp_value(v: &tsmdb_query::Value) -> String {
    use tsmdb_query::Value;
    match v {
        Value::Float(f) => f.to_string(),
        Value::Integer(i) => format!("{i}i"),
        Value::Unsigned(u) => format!("{u}u"),
        Value::Boolean(b) => b.to_string(),
        Value::String(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
        Value::Time(t) => format!("{t}i"),
        Value::Null => String::new(),
    }
}
