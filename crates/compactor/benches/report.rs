//! `cargo xtask bench` figures of the compactor (ROW lines, see xtask/src/bench.rs).
//!
//! * level-1 and full compaction speed (input MB/s, values/s) beside the codec ceiling: a plain
//!   decode + re-encode of the same blocks in memory, measured in the same run;
//! * the share of blocks an optimize plan copies without decoding (aligned and unaligned data);
//! * write amplification of a complete simulated ingest: TSBS-like cpu data (hosts × 10 fields)
//!   snapshotted every `chunk` points, the planner run to completion after every snapshot, then a
//!   full compaction: bytes written by snapshots and compactions over bytes of the final files.
//!
//! `TSMDB_BENCH_QUICK=1` makes everything small.

mod support;
use support as common;

use std::time::{Duration, Instant};

use tsmdb_cache::{Cache, CacheConfig, ColumnRef, Record};
use tsmdb_compactor::{Compactor, CompactorConfig, Plan, PlanKind, Planner, scan_dir, tsm_paths};
use tsmdb_tsm_file::FileId;

fn row(group: &str, figure: &str, value: f64, unit: &str, baseline: &str, base: Option<f64>) {
    let base = base.map_or("-".to_string(), |b| format!("{b:.3}"));
    println!("ROW\t{group}\t{figure}\t{value:.3}\t{unit}\t{baseline}\t{base}");
}

fn compactor() -> Compactor {
    Compactor::new(CompactorConfig {
        throughput: 0,
        ..CompactorConfig::default()
    })
}

/// Writes `gens` generations at `sequence`; returns the template directory.
fn template(gens: u32, sequence: u32, hosts: usize, points: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = common::keys(hosts);
    for g in 1..=gens {
        let first = i64::from(g - 1) * points as i64;
        common::write_generation(dir.path(), FileId::new(g, sequence), &keys, first, points);
    }
    dir
}

/// Best-of-`runs` compaction of all files of a copy of `template`: (seconds, input bytes, values
/// written, blocks copied, blocks in).
fn time_compaction(
    template: &std::path::Path,
    kind: PlanKind,
    runs: usize,
) -> (f64, u64, u64, u64, u64) {
    let c = compactor();
    let mut best = (f64::MAX, 0, 0, 0, 0);
    for _ in 0..runs {
        let dir = common::copy_dir(template);
        let plan = Plan {
            kind,
            files: scan_dir(dir.path(), 1000).expect("scan"),
        };
        let t = Instant::now();
        let r = c.compact(&plan).expect("compact");
        let secs = t.elapsed().as_secs_f64();
        if secs < best.0 {
            best = (
                secs,
                r.bytes_in,
                r.merge.values_out,
                r.merge.blocks_copied,
                r.merge.blocks_in,
            );
        }
    }
    best
}

fn time_ceiling(template: &std::path::Path, runs: usize) -> (f64, u64, u64) {
    let mut best = (f64::MAX, 0, 0);
    for _ in 0..runs {
        let t = Instant::now();
        let (bytes, values) = common::decode_encode_all(template);
        let secs = t.elapsed().as_secs_f64();
        if secs < best.0 {
            best = (secs, bytes, values);
        }
    }
    best
}

fn speed(group: &str, template: &std::path::Path, kind: PlanKind, runs: usize) {
    let (secs, bytes, values, _, _) = time_compaction(template, kind, runs);
    let (csecs, cbytes, cvalues) = time_ceiling(template, runs);
    let mb = |b: u64, s: f64| b as f64 / 1e6 / s;
    row(
        group,
        "input_throughput",
        mb(bytes, secs),
        "MB/s",
        "codec_ceiling",
        Some(mb(cbytes, csecs)),
    );
    row(
        group,
        "values_per_sec",
        values as f64 / secs / 1e6,
        "M values/s",
        "codec_ceiling",
        Some(cvalues as f64 / csecs / 1e6),
    );
}

fn ingest(hosts: usize, points: usize, chunk: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = common::keys(hosts);
    let c = compactor();
    let planner = Planner::default();
    let cache = Cache::new(CacheConfig::default());
    let (mut snapshot_bytes, mut compaction_bytes, mut compactions) = (0u64, 0u64, 0usize);
    let started = Instant::now();
    let mut first = 0usize;
    while first < points {
        let n = chunk.min(points - first);
        for (k, key) in keys.iter().enumerate() {
            let (t, v) = common::points(k, first as i64, n);
            cache
                .write(&[Record {
                    key,
                    timestamps: &t,
                    values: ColumnRef::Float(&v),
                }])
                .expect("cache write");
        }
        first += n;
        let generation = tsm_paths(dir.path())
            .expect("ls")
            .iter()
            .map(|(id, _)| id.generation)
            .max()
            .unwrap_or(0)
            + 1;
        let snapshot = cache.snapshot().expect("snapshot");
        snapshot_bytes += c
            .write_snapshot(dir.path(), generation, &snapshot)
            .expect("snapshot write")
            .bytes_out;
        cache.commit(&snapshot).expect("commit");
        loop {
            let files = scan_dir(dir.path(), 1000).expect("scan");
            let plans = planner.plan(&files, &Default::default(), Duration::ZERO);
            if plans.is_empty() {
                break;
            }
            for r in c.run(plans) {
                compaction_bytes += r.expect("compact").bytes_out;
                compactions += 1;
            }
        }
    }
    let full = c
        .compact_dir(dir.path(), &planner, true, |_| {})
        .expect("full");
    compaction_bytes += full.bytes_out;
    compactions += full.compactions;
    let final_bytes = full.bytes_after;
    let secs = started.elapsed().as_secs_f64();
    let values = (hosts * 10 * points) as f64;
    row(
        "ingest",
        "write_amplification",
        (snapshot_bytes + compaction_bytes) as f64 / final_bytes as f64,
        "x",
        "-",
        None,
    );
    row(
        "ingest",
        "compactions",
        compactions as f64,
        "count",
        "-",
        None,
    );
    row(
        "ingest",
        "final_bytes_per_value",
        final_bytes as f64 / values,
        "B/value",
        "snapshot_bytes_per_value",
        Some(snapshot_bytes as f64 / values),
    );
    row(
        "ingest",
        "ingest_with_compaction",
        values / secs / 1e6,
        "M values/s",
        "-",
        None,
    );
}

fn main() {
    let quick = std::env::var("TSMDB_BENCH_QUICK").is_ok_and(|v| v == "1");
    let (hosts, runs) = if quick { (20, 1) } else { (100, 3) };

    // A level-1 compaction: 8 snapshots of 150 points per key.
    let level1 = template(8, 1, hosts, 150);
    speed("level1_compaction", level1.path(), PlanKind::Level(1), runs);
    // A full compaction of 4 level-4 generations of 2,500 points per key.
    let full = template(4, 4, hosts, 2500);
    speed("full_compaction", full.path(), PlanKind::Full, runs);

    // Optimize: generations of whole blocks (3,000 points per key) and of 2,500 (a partial block
    // per key and generation, after which our merge, like InfluxDB's, decodes to keep blocks full).
    for (figure, points) in [
        ("raw_copy_share_aligned", 3000usize),
        ("raw_copy_share_unaligned", 2500),
    ] {
        let t = template(4, 5, hosts / 2, points);
        let (_, _, _, copied, blocks) = time_compaction(t.path(), PlanKind::Optimize, 1);
        row(
            "optimize",
            figure,
            100.0 * copied as f64 / blocks.max(1) as f64,
            "%",
            "-",
            None,
        );
    }

    let (points, chunk) = if quick { (1200, 100) } else { (4320, 60) };
    ingest(hosts, points, chunk);
}
