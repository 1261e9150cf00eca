//! `cargo xtask bench` figures for the WAL: entries/s, MB/s and fsyncs/s with 1, 4 and 16
//! concurrent writers (fsync on), each beside the raw fsync rate of the same disk measured in the
//! same run (a loop of 4 KiB write + fdatasync: the physical limit without group commit).
//!
//! The temp directory is on the disk of `TSMDB_BENCH_DIR` (default: the system temp dir, which on
//! this machine is the same disk as /work, not tmpfs).

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use tsmdb_wal::{ColumnRef, Record, Wal, WalOptions};

fn bench_dir() -> tempfile::TempDir {
    match std::env::var_os("TSMDB_BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d).expect("temp dir"),
        None => tempfile::tempdir().expect("temp dir"),
    }
}

fn row(figure: &str, value: f64, unit: &str, baseline: &str, baseline_value: f64) {
    println!("ROW\twal\t{figure}\t{value}\t{unit}\t{baseline}\t{baseline_value}");
}

/// 4 KiB write + fdatasync in a loop: syncs per second.
fn raw_fsync_rate(duration: Duration) -> f64 {
    let dir = bench_dir();
    let file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(dir.path().join("raw"))
        .unwrap();
    let block = vec![0x5au8; 4096];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        file.write_all_at(&block, n * 4096).unwrap();
        file.sync_data().unwrap();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// One TSBS-shaped entry: 10 float fields of one series, one value each (~600 bytes).
struct TsbsLine {
    keys: Vec<Vec<u8>>,
    ts: [i64; 1],
    vals: Vec<[f64; 1]>,
}

impl TsbsLine {
    fn new(host: usize) -> Self {
        let series = format!(
            "cpu,arch=x64,datacenter=eu-west-1a,hostname=host_{host},os=Ubuntu16.10,rack=42,region=eu-west-1,service=18,service_environment=production,service_version=1,team=SF"
        );
        TsbsLine {
            keys: (0..10)
                .map(|f| format!("{series}#!~#usage_field_{f}").into_bytes())
                .collect(),
            ts: [0],
            vals: (0..10).map(|f| [f as f64 * 1.5]).collect(),
        }
    }

    fn records(&self) -> Vec<Record<'_>> {
        self.keys
            .iter()
            .zip(&self.vals)
            .map(|(k, v)| Record {
                key: k,
                timestamps: &self.ts,
                values: ColumnRef::Float(v),
            })
            .collect()
    }
}

struct WalRun {
    entries_per_sec: f64,
    mb_per_sec: f64,
    syncs_per_sec: f64,
}

fn wal_rate(writers: usize, duration: Duration) -> WalRun {
    let dir = bench_dir();
    let (wal, _) = Wal::open(dir.path(), WalOptions::default(), |_, _| {}).unwrap();
    let start = Instant::now();
    std::thread::scope(|s| {
        for w in 0..writers {
            let wal = &wal;
            s.spawn(move || {
                let mut line = TsbsLine::new(w);
                while start.elapsed() < duration {
                    line.ts[0] += 10_000_000_000;
                    wal.write(&line.records()).unwrap();
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    let stats = wal.stats();
    WalRun {
        entries_per_sec: stats.entries as f64 / secs,
        mb_per_sec: stats.bytes as f64 / secs / 1e6,
        syncs_per_sec: stats.syncs as f64 / secs,
    }
}

fn main() {
    let quick = std::env::var("TSMDB_BENCH_QUICK").is_ok_and(|v| v == "1");
    let d = Duration::from_millis(if quick { 500 } else { 3000 });
    let raw_before = raw_fsync_rate(d);
    let runs: Vec<(usize, WalRun)> = [1, 4, 16].map(|w| (w, wal_rate(w, d))).into();
    // The disk is shared and noisy: the limit is the better of two raw runs around the WAL runs.
    let raw = raw_before.max(raw_fsync_rate(d));
    for (writers, r) in runs {
        let w = if writers == 1 { "writer" } else { "writers" };
        row(
            &format!("entries/s, {writers} {w}"),
            r.entries_per_sec,
            "entries/s",
            "raw fsync/s (4 KiB)",
            raw,
        );
        row(
            &format!("fsyncs/s, {writers} {w}"),
            r.syncs_per_sec,
            "fsyncs/s",
            "raw fsync/s (4 KiB)",
            raw,
        );
        row(
            &format!("MB/s, {writers} {w}"),
            r.mb_per_sec,
            "MB/s",
            "raw 4 KiB fsync MB/s",
            raw * 4096.0 / 1e6,
        );
    }
}
