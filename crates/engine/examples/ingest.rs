//! Ingests a line-protocol file through the embedded API and reports what `docs/engine.md`
//! tracks: values/s, bytes per value after the snapshot and after a full compaction, peak RSS,
//! and the time to reopen the directory.
//!
//! `cargo run --release -p tsmdb-engine --example ingest -- FILE [DIR] [BATCH_POINTS]`

use std::time::Instant;

use tsmdb_engine::{Engine, Options};
use tsmdb_lineproto::Precision;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let file = args
        .get(1)
        .ok_or("usage: ingest FILE [DIR] [BATCH_POINTS]")?;
    let tmp = tempfile::tempdir()?;
    let dir = args
        .get(2)
        .map_or_else(|| tmp.path().to_path_buf(), std::path::PathBuf::from);
    let batch: usize = args.get(3).and_then(|b| b.parse().ok()).unwrap_or(5000);
    let input = std::fs::File::open(file)?;

    let engine = Engine::open(&dir, Options::default())?;
    engine.create_database("db", None)?;
    let started = Instant::now();
    let summary = engine.write_reader("db", input, Precision::Nanosecond, batch, |_| {})?;
    let ingest = started.elapsed().as_secs_f64();
    let values = summary.values as f64;
    println!("ingest_values_per_s\t{:.0}", values / ingest);
    println!("ingest_seconds\t{ingest:.3}");
    println!("values\t{}", summary.values);
    println!("rejected\t{}", summary.rejected.len());

    engine.snapshot_all()?;
    let s = engine.stats();
    println!(
        "bytes_per_value_after_snapshot\t{:.3}",
        s.tsm_bytes as f64 / values
    );
    let t = Instant::now();
    engine.compact_all(true)?;
    println!("full_compaction_seconds\t{:.3}", t.elapsed().as_secs_f64());
    let s = engine.stats();
    println!(
        "bytes_per_value_after_full_compaction\t{:.3}",
        s.tsm_bytes as f64 / values
    );
    println!("tsm_files\t{}", s.tsm_files);
    println!("peak_rss_mib\t{:.1}", peak_rss_mib());
    engine.close()?;
    drop(engine);

    let t = Instant::now();
    let reopened = Engine::open(&dir, Options::default().background(false))?;
    println!("open_seconds\t{:.3}", t.elapsed().as_secs_f64());
    drop(reopened);
    Ok(())
}
