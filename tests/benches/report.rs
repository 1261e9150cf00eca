//! `cargo xtask bench` figures for ingest at TSBS scale (issue #8): the TSBS devops `cpu-only`
//! data of 1000 hosts over 33 min 20 s (200,000 lines, 2 M values, 10 fields per line), ingested
//! by the embedded engine through `Engine::write_reader` in 5000-line batches, beside `influxd`
//! ingesting the same bytes over HTTP in 5000-line batches in the same run. Also bytes per value
//! after a snapshot and after a full compaction, and peak RSS of both sides.
//!
//! Our figures come from a child process (this bench run again with `TSMDB_INGEST_CHILD=FILE`),
//! so that the generated input the parent holds does not count in its peak RSS; the child
//! streams the file as `tsmdb write` does, and its peak covers ingest, snapshot and compaction.
//! influxd's peak is its `VmHWM` after the write. Without `influxd` the baselines are left out.
//!
//! `TSMDB_BENCH_QUICK=1`: 100 hosts (200 K values), one run each.

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use tsmdb_datagen::devops::{DevopsConfig, DevopsGenerator};
use tsmdb_engine::{Engine, Options};
use tsmdb_lineproto::Precision;
use tsmdb_tests::influxd::{Influxd, find_influxd};

const CHILD_ENV: &str = "TSMDB_INGEST_CHILD";
const BATCH_LINES: usize = 5000;
/// 2016-01-01T00:00:00Z.
const START: i64 = 1_451_606_400_000_000_000;
/// 33 min 20 s: 200 epochs of 10 s.
const SPAN: i64 = 2000 * 1_000_000_000;

fn row(figure: &str, value: f64, unit: &str, baseline: &str, baseline_value: Option<f64>) {
    let (name, b) = match baseline_value {
        Some(v) => (baseline, v.to_string()),
        None => ("-", "-".to_string()),
    };
    println!("ROW\tingest\t{figure}\t{value}\t{unit}\t{name}\t{b}");
}

/// Peak resident set (`VmHWM`) of a process, in MiB.
fn peak_rss_mib(pid: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// The child: ingests FILE into a fresh engine and prints
/// `CHILD values/s bytes/value-after-snapshot bytes/value-after-compaction peak-MiB`.
fn child(file: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = Engine::open(dir.path(), Options::default()).expect("open");
    engine.create_database("db", None).expect("create database");
    let input = std::fs::File::open(file).expect("input file");
    let start = Instant::now();
    let summary = engine
        .write_reader("db", input, Precision::Nanosecond, BATCH_LINES, |_| {})
        .expect("ingest");
    let rate = summary.values as f64 / start.elapsed().as_secs_f64();
    assert!(
        summary.rejected.is_empty(),
        "{:?}",
        summary.rejected.first()
    );
    let values = summary.values as f64;
    engine.snapshot_all().expect("snapshot");
    let after_snapshot = engine.stats().tsm_bytes as f64 / values;
    engine.compact_all(true).expect("full compaction");
    let after_compaction = engine.stats().tsm_bytes as f64 / values;
    let peak = peak_rss_mib("self").unwrap_or(0.0);
    println!("CHILD\t{rate}\t{after_snapshot}\t{after_compaction}\t{peak}");
}

/// Runs the child on `file`; its four figures.
fn run_child(file: &std::path::Path) -> [f64; 4] {
    let exe = std::env::current_exe().expect("current exe");
    let out = Command::new(exe)
        .env(CHILD_ENV, file)
        .output()
        .expect("starting the ingest child");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find_map(|l| l.strip_prefix("CHILD\t"));
    let figures: Vec<f64> = line
        .unwrap_or_else(|| {
            panic!(
                "ingest child failed: {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .split('\t')
        .filter_map(|v| v.parse().ok())
        .collect();
    figures.try_into().expect("four figures from the child")
}

fn main() {
    if let Ok(file) = std::env::var(CHILD_ENV) {
        return child(&file);
    }
    let quick = std::env::var("TSMDB_BENCH_QUICK").is_ok_and(|v| v == "1");
    let (hosts, runs) = if quick { (100, 1) } else { (1000, 3) };
    let mut generator = DevopsGenerator::new(DevopsConfig {
        scale: hosts,
        start: START,
        end: START + SPAN,
        seed: 1,
        ..DevopsConfig::default()
    });
    let mut lp = Vec::new();
    while generator.next_epoch(&mut lp) {}
    let values = (generator.config().rows() * 10) as f64;
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(&lp).expect("writing the input");
    file.flush().expect("writing the input");

    let mut best = [0.0f64; 4];
    for _ in 0..runs {
        let f = run_child(file.path());
        best[0] = best[0].max(f[0]);
        best[1..3].copy_from_slice(&f[1..3]);
        best[3] = best[3].max(f[3]);
    }

    // Cold durations of 1 s: influxd snapshots and fully compacts a shard soon after the writes
    // stop (its defaults, 10 min and 4 h, would leave the data in its WAL), so its bytes per value
    // can be read once its files settle. Writes keep the shard hot, so ingest is unaffected.
    let settings = "  cache-snapshot-write-cold-duration = \"1s\"\n  \
                    compact-full-write-cold-duration = \"1s\"\n";
    let server = match find_influxd().map(|b| Influxd::start_with(&b, settings)) {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            eprintln!("ingest report: influxd did not start ({e}); no influxd baselines");
            None
        }
        None => {
            eprintln!("ingest report: influxd not installed; no influxd baselines");
            None
        }
    };
    let (mut theirs_rate, mut theirs_peak, mut theirs_bytes) = (None, None, None);
    if let Some(s) = &server {
        let mut rates = Vec::new();
        for run in 0..runs {
            let db = format!("ingest{run}");
            s.create_database(&db).expect("influxd CREATE DATABASE");
            let start = Instant::now();
            s.write_lp(&db, &lp).expect("influxd write");
            rates.push(values / start.elapsed().as_secs_f64());
        }
        theirs_rate = rates.into_iter().reduce(f64::max);
        theirs_peak = peak_rss_mib(&s.pid().to_string());
        theirs_bytes = settled_tsm_bytes(s, "ingest0").map(|b| b as f64 / values);
        if theirs_bytes.is_none() {
            eprintln!(
                "ingest report: influxd's files did not settle within the wait; no bytes baseline"
            );
        }
    }
    let what = format!("TSBS devops {hosts} hosts, {values} values");
    row(
        &format!("ingest {what} (write_reader, {BATCH_LINES}-line batches)"),
        best[0],
        "values/s",
        "influxd HTTP /write, 5000-line batches",
        theirs_rate,
    );
    row(
        &format!("peak RSS, ingest {what} + snapshot + full compaction"),
        best[3],
        "MiB",
        "influxd VmHWM after the write",
        theirs_peak,
    );
    row(
        &format!("bytes/value after snapshot, {what}"),
        best[1],
        "B/value",
        "-",
        None,
    );
    row(
        &format!("bytes/value after full compaction, {what}"),
        best[2],
        "B/value",
        "influxd TSM bytes/value once settled (WAL empty, files unchanged 3 s)",
        theirs_bytes,
    );
}

/// Bytes of `path`'s files whose name ends in `suffix`, and how many there are, recursively.
fn files_ending(path: &std::path::Path, suffix: &str) -> (u64, usize) {
    let mut total = (0, 0);
    for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            let (b, n) = files_ending(&p, suffix);
            total = (total.0 + b, total.1 + n);
        } else if p.to_string_lossy().ends_with(suffix) {
            total = (
                total.0 + entry.metadata().map_or(0, |m| m.len()),
                total.1 + 1,
            );
        }
    }
    total
}

/// influxd's TSM bytes for `db` once it has snapshotted everything (its WAL holds no bytes) and
/// its file set has not changed for three polls a second apart (compactions done); `None` after
/// two minutes. Polling an external server's directory is the only signal it gives.
fn settled_tsm_bytes(server: &Influxd, db: &str) -> Option<u64> {
    let (data, wal) = (server.data_dir().join(db), server.wal_dir().join(db));
    let mut last = None;
    let mut unchanged = 0;
    for _ in 0..120 {
        std::thread::sleep(std::time::Duration::from_secs(1));
        let tsm = files_ending(&data, ".tsm");
        let busy = files_ending(&wal, ".wal").0 > 0 || files_ending(&data, ".tmp").1 > 0;
        if !busy && tsm.1 > 0 && last == Some(tsm) {
            unchanged += 1;
            if unchanged == 3 {
                return Some(tsm.0);
            }
        } else {
            unchanged = 0;
        }
        last = Some(tsm);
    }
    None
}
