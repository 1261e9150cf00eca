//! `cargo xtask bench` figures for the engine against a real InfluxDB 1.x server measured in the
//! same run: ingest rate of `medium.lp` (10,000 TSBS `cpu` lines, 100,000 values), bytes per value
//! on disk after a snapshot and after a full compaction, and the latency of the TSBS query shapes.
//!
//! Baselines: ingest and query latency come from an `influxd` started by the `tsmdb-tests`
//! harness (line protocol over HTTP in 5000-line batches; queries over HTTP, so its figure
//! includes HTTP and JSON, and ours includes our JSON rendering for fairness). Bytes per value
//! are compared with `medium.tsm`, the TSM file InfluxDB 1.6.7 itself wrote from the same input.
//! Without `influxd` the influxd rows are left out (the message says why).
//!
//! A second, larger data set (100 hosts x 1 hour of the same 10 fields every 10 s, 360,000
//! values, generated here) runs the TSBS shapes again, beside influxd loaded with the same lines.
//!
//! `TSMDB_BENCH_QUICK=1`: fewer repetitions (the data is the same).

use std::path::Path;
use std::time::Instant;

use tsmdb_engine::{Engine, Options};
use tsmdb_lineproto::Precision;
use tsmdb_query::{Epoch, execute, to_json};
use tsmdb_tests::influxd::{Influxd, find_influxd};
use tsmdb_tests::{fixture, read_fixture};

const DB: &str = "bench";

/// The TSBS query shapes over `medium.lp`'s 16.5 minutes.
const QUERIES: &[(&str, &str)] = &[
    (
        "single-groupby-1-1-1",
        "SELECT max(usage_user) FROM cpu WHERE hostname = 'host_1' AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:12:00Z' GROUP BY time(1m)",
    ),
    (
        "cpu-max-all-1",
        "SELECT max(usage_user),max(usage_system),max(usage_idle),max(usage_nice),max(usage_iowait),max(usage_irq),max(usage_softirq),max(usage_steal),max(usage_guest),max(usage_guest_nice) FROM cpu WHERE hostname = 'host_3' AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T08:00:00Z' GROUP BY time(1h)",
    ),
    (
        "double-groupby-1",
        "SELECT mean(usage_user) FROM cpu WHERE time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T02:00:00Z' GROUP BY time(1h),hostname",
    ),
    (
        "high-cpu-all",
        "SELECT * FROM cpu WHERE usage_user > 90.0 AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:10:00Z'",
    ),
    ("lastpoint", "SELECT last(*) FROM cpu GROUP BY *"),
    (
        "groupby-orderby-limit",
        "SELECT max(usage_user) FROM cpu WHERE time < '2018-01-01T00:10:00Z' GROUP BY time(1m) ORDER BY time DESC LIMIT 5",
    ),
];

fn row(figure: &str, value: f64, unit: &str, baseline: &str, baseline_value: Option<f64>) {
    let b = baseline_value.map_or("-".to_string(), |v| v.to_string());
    let name = if baseline_value.is_some() {
        baseline
    } else {
        "-"
    };
    println!("ROW\tengine\t{figure}\t{value}\t{unit}\t{name}\t{b}");
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Bytes of every `*.tsm` file under `dir`.
fn tsm_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            total += tsm_bytes(&p);
        } else if p.extension().is_some_and(|x| x == "tsm") {
            total += e.metadata().map_or(0, |m| m.len());
        }
    }
    total
}

fn main() {
    let quick = std::env::var("TSMDB_BENCH_QUICK").is_ok_and(|v| v == "1");
    let (ingest_runs, query_runs) = if quick { (2, 5) } else { (5, 25) };
    let lp = read_fixture("influxdb-1.6.7/medium.lp");
    let values = 10_000.0 * 10.0;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);

    // tsmdb ingest: a fresh engine per run, background work off so only ingest is timed.
    let options = Options {
        background: false,
        ..Options::default()
    };
    let mut ours_ingest = Vec::new();
    let mut kept = None;
    for _ in 0..ingest_runs {
        let dir = tempfile::tempdir().expect("temp dir");
        let engine = Engine::open(dir.path(), options.clone()).expect("open");
        engine.create_database(DB, None).expect("create database");
        let start = Instant::now();
        engine
            .write_reader(DB, &lp[..], Precision::Nanosecond, 5000, |_| {})
            .expect("ingest");
        ours_ingest.push(values / start.elapsed().as_secs_f64());
        kept = Some((dir, engine));
    }
    let (dir, engine) = kept.expect("at least one run");

    // influxd: same input, over HTTP.
    let server = match find_influxd().map(|b| Influxd::start(&b)) {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            eprintln!("engine report: influxd did not start ({e}); no influxd baselines");
            None
        }
        None => {
            eprintln!("engine report: influxd not installed; no influxd baselines");
            None
        }
    };
    let mut theirs_ingest = Vec::new();
    if let Some(s) = &server {
        for run in 0..ingest_runs {
            let db = format!("{DB}{run}");
            s.create_database(&db).expect("influxd CREATE DATABASE");
            let start = Instant::now();
            s.write_lp(&db, &lp).expect("influxd write");
            theirs_ingest.push(values / start.elapsed().as_secs_f64());
        }
    }
    let theirs = |v: &[f64]| (!v.is_empty()).then(|| median(v.to_vec()));
    row(
        "ingest medium.lp (write_reader)",
        median(ours_ingest),
        "values/s",
        "influxd HTTP /write",
        theirs(&theirs_ingest),
    );

    // Bytes per value, beside the file InfluxDB wrote from the same input.
    let influx_tsm = std::fs::metadata(fixture("influxdb-1.6.7/medium.tsm"))
        .map(|m| m.len() as f64 / values)
        .ok();
    engine.snapshot_all().expect("snapshot");
    row(
        "bytes/value after snapshot",
        tsm_bytes(dir.path()) as f64 / values,
        "B/value",
        "influxdb-1.6.7 medium.tsm",
        influx_tsm,
    );
    engine.compact_all(true).expect("full compaction");
    row(
        "bytes/value after full compaction",
        tsm_bytes(dir.path()) as f64 / values,
        "B/value",
        "influxdb-1.6.7 medium.tsm",
        influx_tsm,
    );

    // Query latency, data in TSM files on our side; influxd answers from its cache and WAL.
    for (name, q) in QUERIES {
        let mut ours = Vec::new();
        for _ in 0..query_runs {
            let start = Instant::now();
            let r = execute(&engine, DB, q, now).expect("query");
            std::hint::black_box(to_json(&r, Epoch::Nanoseconds));
            ours.push(start.elapsed().as_secs_f64() * 1e3);
        }
        let mut theirs_q = Vec::new();
        if let Some(s) = &server {
            let db = format!("{DB}0");
            for _ in 0..query_runs {
                let start = Instant::now();
                std::hint::black_box(s.query(&db, q).expect("influxd query"));
                theirs_q.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
        row(
            &format!("query {name} (median)"),
            median(ours),
            "ms",
            "influxd HTTP /query",
            theirs(&theirs_q),
        );
    }
    larger_queries(server.as_ref(), quick, now);
    drop(server);
}

/// Hosts and minutes of the larger TSBS-like data set.
const LARGE_HOSTS: usize = 100;
const LARGE_MINUTES: i64 = 60;

/// The TSBS query shapes over the larger data set (one hour from 2018-01-01T00:00:00Z).
const LARGE_QUERIES: &[(&str, &str)] = &[
    (
        "single-groupby-1-1-1",
        "SELECT max(usage_user) FROM cpu WHERE hostname = 'host_1' AND time >= '2018-01-01T00:10:00Z' AND time < '2018-01-01T00:22:00Z' GROUP BY time(1m)",
    ),
    (
        "cpu-max-all-1",
        "SELECT max(usage_user),max(usage_system),max(usage_idle),max(usage_nice),max(usage_iowait),max(usage_irq),max(usage_softirq),max(usage_steal),max(usage_guest),max(usage_guest_nice) FROM cpu WHERE hostname = 'host_3' AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T01:00:00Z' GROUP BY time(10m)",
    ),
    (
        "double-groupby-1",
        "SELECT mean(usage_user) FROM cpu WHERE time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T01:00:00Z' GROUP BY time(5m),hostname",
    ),
    (
        "double-groupby-all",
        "SELECT mean(usage_user),mean(usage_system),mean(usage_idle),mean(usage_nice),mean(usage_iowait),mean(usage_irq),mean(usage_softirq),mean(usage_steal),mean(usage_guest),mean(usage_guest_nice) FROM cpu WHERE time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T01:00:00Z' GROUP BY time(5m),hostname",
    ),
    (
        "high-cpu-all",
        "SELECT * FROM cpu WHERE usage_user > 90.0 AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:30:00Z'",
    ),
    ("lastpoint", "SELECT last(*) FROM cpu GROUP BY *"),
    (
        "groupby-orderby-limit",
        "SELECT max(usage_user) FROM cpu WHERE time < '2018-01-01T00:55:00Z' GROUP BY time(1m) ORDER BY time DESC LIMIT 5",
    ),
];

/// `LARGE_HOSTS` hosts reporting the 10 TSBS `cpu` fields every 10 s for `LARGE_MINUTES`
/// minutes (a deterministic random walk; tags shaped like TSBS devops).
fn larger_lp() -> Vec<u8> {
    const REGIONS: [&str; 4] = ["us-east-1", "us-west-1", "eu-west-1", "ap-northeast-1"];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut usage = vec![[50.0f64; 10]; LARGE_HOSTS];
    let mut out = Vec::new();
    let start = 1_514_764_800_000_000_000i64;
    for step in 0..LARGE_MINUTES * 6 {
        let t = start + step * 10_000_000_000;
        for (h, u) in usage.iter_mut().enumerate() {
            for v in u.iter_mut() {
                let delta = (next() % 2001) as f64 / 100.0 - 10.0;
                *v = (*v + delta).clamp(0.0, 100.0);
            }
            let region = REGIONS[h % REGIONS.len()];
            let line = format!(
                "cpu,hostname=host_{h},region={region},datacenter={region}{} usage_user={},usage_system={},usage_idle={},usage_nice={},usage_iowait={},usage_irq={},usage_softirq={},usage_steal={},usage_guest={}i,usage_guest_nice={}i {t}\n",
                ["a", "b", "c"][h % 3],
                u[0],
                u[1],
                u[2],
                u[3],
                u[4],
                u[5],
                u[6],
                u[7],
                u[8] as i64,
                u[9] as i64,
            );
            out.extend_from_slice(line.as_bytes());
        }
    }
    out
}

/// The TSBS shapes over the larger data set, ours (snapshotted and fully compacted) beside
/// influxd's on the same data in the same run.
fn larger_queries(server: Option<&Influxd>, quick: bool, now: i64) {
    let runs = if quick { 3 } else { 9 };
    let lp = larger_lp();
    let dir = tempfile::tempdir().expect("temp dir");
    let options = Options {
        background: false,
        ..Options::default()
    };
    let engine = Engine::open(dir.path(), options).expect("open");
    engine.create_database(DB, None).expect("create database");
    engine
        .write_reader(DB, &lp[..], Precision::Nanosecond, 5000, |_| {})
        .expect("ingest");
    engine.snapshot_all().expect("snapshot");
    engine.compact_all(true).expect("full compaction");
    let db = "large";
    let loaded = server.inspect(|s| {
        s.create_database(db).expect("influxd CREATE DATABASE");
        // In pieces: one body per 5000 lines, as the medium set goes.
        let text = String::from_utf8_lossy(&lp);
        let lines: Vec<&str> = text.lines().collect();
        for chunk in lines.chunks(5000) {
            let mut body = chunk.join("\n");
            body.push('\n');
            s.write_lp(db, body.as_bytes()).expect("influxd write");
        }
    });
    let shape = format!("{LARGE_HOSTS}x{LARGE_MINUTES}m");
    for (name, q) in LARGE_QUERIES {
        let mut ours = Vec::new();
        for _ in 0..runs {
            let start = Instant::now();
            let r = execute(&engine, DB, q, now).expect("query");
            std::hint::black_box(to_json(&r, Epoch::Nanoseconds));
            ours.push(start.elapsed().as_secs_f64() * 1e3);
        }
        let mut theirs_q = Vec::new();
        if let Some(s) = loaded {
            for _ in 0..runs {
                let start = Instant::now();
                std::hint::black_box(s.query(db, q).expect("influxd query"));
                theirs_q.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
        row(
            &format!("query {name} {shape} (median)"),
            median(ours),
            "ms",
            "influxd HTTP /query",
            (!theirs_q.is_empty()).then(|| median(theirs_q)),
        );
    }
}
