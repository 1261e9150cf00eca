//! `tsmdb inspect index DIR`: what the grid index of a shard directory holds: grids, their
//! dimensions, density, ids used against ids allocated, bytes in memory and on disk.
//!
//! `--series` also lists every series with its id. `--format jsonl` prints one object per grid
//! (`{"type":"grid",...}`), then one per series (`{"type":"series","id":N,...}`), then a summary
//! (`{"type":"summary",...}`). The directory is only read, never changed.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args as ClapArgs;
use serde_json::json;
use tsmdb_index_grid::{INDEX_FILE, Index, LOG_FILE};

use crate::output::Format;

/// Arguments of `tsmdb inspect index`.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Examples:\n  \
    tsmdb inspect index tsmdb-data/db/shard_1514764800000000000_1515369600000000000\n  \
    tsmdb inspect index --series tsmdb-data/db/shard_1514764800000000000_1515369600000000000\n  \
    tsmdb inspect index --format jsonl --series DIR | grep '\"type\":\"series\"'\n\n\
    A shard directory is tsmdb-data/DATABASE/shard_START_END (one per shard duration; ls lists them).")]
pub struct Args {
    /// Shard directory holding `index.grid` (and `index.grid.log`).
    pub dir: PathBuf,
    /// Also list every series with its id.
    #[arg(long)]
    pub series: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `tsmdb inspect index`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !args.dir.join(INDEX_FILE).exists() && !args.dir.join(LOG_FILE).exists() {
        anyhow::bail!("{}: no {INDEX_FILE} or {LOG_FILE} here", args.dir.display());
    }
    let (index, report) = Index::load_read_only(&args.dir)
        .with_context(|| format!("reading the index in {}", args.dir.display()))?;
    let disk = |name: &str| std::fs::metadata(args.dir.join(name)).map_or(0, |m| m.len());
    let (snap_bytes, log_bytes) = (disk(INDEX_FILE), disk(LOG_FILE));
    let st = index.stats();
    let out = io::stdout();
    let mut out = BufWriter::new(out.lock());
    let allocated = st.next_id - 1;
    match args.format {
        Format::Text => {
            writeln!(
                out,
                "index {}: {} measurements, {} live series, {} grids, ids {} allocated ({:.1}% used)",
                args.dir.display(),
                st.measurements,
                st.live,
                st.grids.len(),
                allocated,
                pct(st.live, allocated)
            )?;
            writeln!(
                out,
                "bytes: ~{} in memory (estimate), {snap_bytes} in {INDEX_FILE}, {log_bytes} in {LOG_FILE} ({} records replayed{})",
                st.heap_bytes,
                report.log_records,
                report
                    .torn_tail
                    .map_or(String::new(), |o| format!(", torn tail at {o}"))
            )?;
            for g in &st.grids {
                let dims: Vec<String> = g
                    .dims
                    .iter()
                    .map(|d| {
                        if d.dense {
                            format!("{}[{}/{}]", lossy(&d.key), d.values, d.capacity)
                        } else {
                            format!("{}(sparse, {} values)", lossy(&d.key), d.values)
                        }
                    })
                    .collect();
                writeln!(
                    out,
                    "grid {} {} {}: ids {}..{} live {} dead {} density {:.1}% rows {} dims {}",
                    g.grid,
                    lossy(&g.measurement),
                    g.kind.name(),
                    g.base,
                    g.base + g.allocated,
                    g.live,
                    g.dead,
                    pct(g.live, g.allocated),
                    g.row_capacity,
                    if dims.is_empty() {
                        "-".into()
                    } else {
                        dims.join(" ")
                    }
                )?;
            }
        }
        Format::Jsonl => {
            for g in &st.grids {
                let dims: Vec<_> = g
                    .dims
                    .iter()
                    .map(|d| json!({"key": lossy(&d.key), "dense": d.dense, "capacity": d.capacity, "values": d.values}))
                    .collect();
                writeln!(
                    out,
                    "{}",
                    json!({"type": "grid", "grid": g.grid, "measurement": lossy(&g.measurement),
                        "kind": g.kind.name(), "base": g.base, "allocated": g.allocated, "live": g.live,
                        "dead": g.dead, "density": g.live as f64 / g.allocated.max(1) as f64,
                        "row_capacity": g.row_capacity, "dims": dims, "heap_bytes": g.heap_bytes})
                )?;
            }
        }
    }
    if args.series {
        for m in index.measurements() {
            for (id, tags) in index.series(&m) {
                match args.format {
                    Format::Text => {
                        let t: Vec<String> = tags
                            .iter()
                            .map(|(k, v)| format!(",{}={}", lossy(k), lossy(v)))
                            .collect();
                        writeln!(out, "{id}\t{}{}", lossy(&m), t.concat())?;
                    }
                    Format::Jsonl => {
                        let t: serde_json::Map<String, serde_json::Value> = tags
                            .iter()
                            .map(|(k, v)| (lossy(k), json!(lossy(v))))
                            .collect();
                        writeln!(
                            out,
                            "{}",
                            json!({"type": "series", "id": id.0, "measurement": lossy(&m), "tags": t})
                        )?;
                    }
                }
            }
        }
    }
    if args.format == Format::Jsonl {
        writeln!(
            out,
            "{}",
            json!({"type": "summary", "measurements": st.measurements, "live": st.live, "grids": st.grids.len(),
                "ids_allocated": allocated, "heap_bytes_estimate": st.heap_bytes,
                "snapshot_bytes": snap_bytes, "log_bytes": log_bytes, "log_records": report.log_records,
                "torn_tail": report.torn_tail})
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn pct(a: u64, b: u64) -> f64 {
    100.0 * a as f64 / b.max(1) as f64
}
