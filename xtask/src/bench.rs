//! `cargo xtask bench`: one table of every figure the project tracks, each beside its baseline.
//!
//! Contract with the crates: a crate that reports figures has a bench target named `report`
//! (`crates/X/benches/report.rs`, `harness = false`). xtask runs it in release mode with
//! `TSMDB_BENCH_QUICK=1` when `--quick` is given, and reads the lines of its standard output that
//! start with `ROW\t`:
//!
//! ```text
//! ROW <TAB> group <TAB> figure <TAB> value <TAB> unit <TAB> baseline-name <TAB> baseline-value
//! ```
//!
//! `baseline-name` and `baseline-value` are `-` when a figure has no baseline. Baselines are
//! measured in the same run (the machine is shared and noisy), so the ratio is the figure to trust.
//! Every other line of output is passed through to standard error.

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

use crate::util::workspace_root;

/// Arguments of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A short run (smaller data, fewer iterations) for a quick look.
    #[arg(long)]
    quick: bool,
    /// Only crates whose directory name contains this text (e.g. `encoding`, `index`).
    only: Option<String>,
    /// Where to write the JSON results.
    #[arg(long, default_value = "bench-results/latest.json")]
    json: String,
}

/// One figure with its baseline.
struct Row {
    krate: String,
    group: String,
    figure: String,
    value: f64,
    unit: String,
    baseline: String,
    baseline_value: Option<f64>,
}

/// Runs every crate's `report` bench and prints the combined table.
pub fn run(args: Args) -> anyhow::Result<()> {
    let root = workspace_root();
    let mut crates = Vec::new();
    for entry in fs::read_dir(root.join("crates")).context("reading crates/")? {
        let dir = entry?.path();
        if dir.join("benches/report.rs").exists() {
            let name = dir
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            if args.only.as_deref().is_none_or(|o| name.contains(o)) {
                crates.push(name);
            }
        }
    }
    // The cross-crate package `tsmdb-tests` (in `tests/`) reports too (ingest at TSBS scale).
    if root.join("tests/benches/report.rs").exists()
        && args.only.as_deref().is_none_or(|o| "tests".contains(o))
    {
        crates.push("tests".to_string());
    }
    crates.sort();
    if crates.is_empty() {
        bail!("no crate has a benches/report.rs");
    }
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for krate in &crates {
        let package = if krate == "cli" {
            "tsmdb".to_string()
        } else {
            format!("tsmdb-{krate}")
        };
        eprintln!("xtask: bench {package}");
        let mut child = Command::new("cargo")
            .args(["bench", "--quiet", "-p", &package, "--bench", "report"])
            .env("TSMDB_BENCH_QUICK", if args.quick { "1" } else { "0" })
            .current_dir(&root)
            .stdout(Stdio::piped())
            .spawn()
            .context("could not start cargo bench")?;
        let stdout = child.stdout.take().context("no stdout")?;
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            match parse_row(krate, &line) {
                Some(row) => rows.push(row),
                None => eprintln!("  {line}"),
            }
        }
        if !child.wait()?.success() {
            failures.push(krate.clone());
        }
    }
    print_table(&rows);
    write_json(&root.join(&args.json), &rows)?;
    if !failures.is_empty() {
        bail!("bench report failed for: {}", failures.join(", "));
    }
    Ok(())
}

fn parse_row(krate: &str, line: &str) -> Option<Row> {
    let mut parts = line.strip_prefix("ROW\t")?.split('\t');
    let group = parts.next()?.to_string();
    let figure = parts.next()?.to_string();
    let value = parts.next()?.parse().ok()?;
    let unit = parts.next()?.to_string();
    let baseline = parts.next().unwrap_or("-").to_string();
    let baseline_value = parts.next().and_then(|v| v.parse().ok());
    Some(Row {
        krate: krate.to_string(),
        group,
        figure,
        value,
        unit,
        baseline,
        baseline_value,
    })
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<12} {:<22} {:<44} {:>14} {:<10} {:<28} {:>14} {:>8}",
        "crate", "group", "figure", "value", "unit", "baseline", "baseline", "ratio"
    );
    for r in rows {
        let (base, ratio) = match r.baseline_value {
            Some(b) if b != 0.0 => (format_number(b), format!("{:.2}x", r.value / b)),
            Some(b) => (format_number(b), "-".to_string()),
            None => ("-".to_string(), "-".to_string()),
        };
        println!(
            "{:<12} {:<22} {:<44} {:>14} {:<10} {:<28} {:>14} {:>8}",
            r.krate,
            r.group,
            r.figure,
            format_number(r.value),
            r.unit,
            r.baseline,
            base,
            ratio
        );
    }
}

fn format_number(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

fn write_json(path: &std::path::Path, rows: &[Row]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut out = String::from("[\n");
    for (i, r) in rows.iter().enumerate() {
        let base = r
            .baseline_value
            .map_or("null".to_string(), |b| b.to_string());
        out.push_str(&format!(
            "  {{\"crate\":{:?},\"group\":{:?},\"figure\":{:?},\"value\":{},\"unit\":{:?},\"baseline\":{:?},\"baseline_value\":{}}}{}\n",
            r.krate,
            r.group,
            r.figure,
            r.value,
            r.unit,
            r.baseline,
            base,
            if i + 1 == rows.len() { "" } else { "," }
        ));
    }
    out.push_str("]\n");
    fs::write(path, out).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("xtask: results written to {}", path.display());
    Ok(())
}
