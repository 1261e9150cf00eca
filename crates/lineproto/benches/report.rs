//! `cargo xtask bench` rows for line-protocol parsing (see xtask/src/bench.rs for the format).
//!
//! Single-core parse of TSBS-devops-like data with every field decoded, for integer and
//! full-precision float fields; baselines: a memchr newline split of the same bytes measured
//! in the same run (the ceiling), and InfluxDB 1.6.7's own parser as measured by the lead on
//! this machine (171 MB/s integers, 155 MB/s floats, ~500 K lines/s; constants).
//! Single-core figures use the thread's CPU time (the machine is shared and often
//! oversubscribed); the parallel rows are wall time.

use std::hint::black_box;
use std::time::Instant;

use tsmdb_lineproto::{ParseOptions, Parser, parse_batch, parse_batch_parallel};

#[path = "devops.rs"]
mod devops;

/// CPU time of the calling thread in seconds. The machine is shared: wall time includes
/// waiting for a core, thread CPU time does not.
fn thread_cpu_secs() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID is supported on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Best of `runs` timings of `f` on this thread, in CPU seconds.
fn best_of(runs: usize, mut f: impl FnMut() -> u64) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        let t = thread_cpu_secs();
        black_box(f());
        best = best.min(thread_cpu_secs() - t);
    }
    best
}

/// Best of `runs` wall-clock timings (for the multi-threaded parse).
fn best_wall(runs: usize, mut f: impl FnMut() -> u64) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        let t = Instant::now();
        black_box(f());
        best = best.min(t.elapsed().as_secs_f64());
    }
    best
}

fn row(figure: &str, value: f64, unit: &str, baseline: &str, base_value: Option<f64>) {
    let b = base_value.map_or("-".to_string(), |v| format!("{v:.1}"));
    println!("ROW\tlineproto\t{figure}\t{value:.1}\t{unit}\t{baseline}\t{b}");
}

fn main() {
    let quick = std::env::var("TSMDB_BENCH_QUICK").as_deref() == Ok("1");
    let (size, runs) = if quick { (4 << 20, 3) } else { (48 << 20, 5) };
    let influx = [("int", 171.0, false), ("float", 155.0, true)];
    for (kind, influx_mbs, floats) in influx {
        let (data, lines) = devops::generate(size, floats);
        let mb = data.len() as f64 / 1e6;
        let mut parser = Parser::new(ParseOptions::default());
        let parse = best_of(runs, || devops::parse_all(&mut parser, &data));
        let split = best_of(runs, || devops::split_only(&data));
        let batch = best_of(runs.min(3), || {
            parse_batch(&data, &ParseOptions::default()).points.len() as u64
        });
        let par = best_wall(runs.min(3), || {
            parse_batch_parallel(&data, &ParseOptions::default())
                .points
                .len() as u64
        });
        let mbs = mb / parse;
        row(
            &format!("parse {kind} fields, 1 core"),
            mbs,
            "MB/s",
            "memchr newline split (ceiling)",
            Some(mb / split),
        );
        row(
            &format!("parse {kind} fields, 1 core"),
            mbs,
            "MB/s",
            "influxdb-1.6.7 (issue figure)",
            Some(influx_mbs),
        );
        row(
            &format!("parse {kind} fields, 1 core"),
            lines as f64 / parse,
            "lines/s",
            "influxdb-1.6.7 (issue figure)",
            Some(influx_mbs * 1e6 * lines as f64 / data.len() as f64),
        );
        row(
            &format!("parse_batch {kind} fields (owned points), 1 core"),
            mb / batch,
            "MB/s",
            "visitor parse",
            Some(mbs),
        );
        row(
            &format!("parse_batch_parallel {kind} fields, all cores (wall)"),
            mb / par,
            "MB/s",
            "parse_batch 1 core (wall)",
            Some(
                mb / best_wall(runs.min(3), || {
                    parse_batch(&data, &ParseOptions::default()).points.len() as u64
                }),
            ),
        );
    }
}
