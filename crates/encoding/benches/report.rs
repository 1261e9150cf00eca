//! `cargo xtask bench` report: encode and decode M values/s per core and bytes per value for each
//! realistic shape, against InfluxDB 1.6.7's Go codecs (figures from the issue, measured by the
//! lead on this machine) and, in the same run, against a memcpy of the decoded bytes.
//!
//! Why memcpy: any decoder must at least write its output, so copying the same number of bytes
//! is the speed limit on this machine right now; the ratio stays meaningful when the machine is
//! busy, unlike the Go figures measured at another time. The last rows compare the unrolled
//! simple8b unpacking with the straightforward one-value-at-a-time decoder.
//!
//! Times are this thread's CPU time (best of several rounds), not wall time: the machine is
//! shared, and a figure per core should not count the time other processes hold it.

use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "data.rs"]
mod data;

/// CPU time of this thread. The machine is shared and often loaded: wall time would count the
/// time other processes hold the core, this does not (per-core figures stay comparable).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and CLOCK_THREAD_CPUTIME_ID is supported on
    // Linux; clock_gettime only writes through the pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Instant::now().elapsed(); // unreachable on Linux; keeps the bench running
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Best CPU time per call over `rounds` rounds of enough calls to last `round` each.
fn best_time(round: Duration, rounds: usize, mut f: impl FnMut()) -> Duration {
    let start = thread_cpu();
    let mut calls = 0u64;
    while thread_cpu() - start < round / 10 {
        f();
        calls += 1;
    }
    let per_round = (calls * 10).max(1);
    let mut best = Duration::MAX;
    for _ in 0..rounds {
        let t = thread_cpu();
        for _ in 0..per_round {
            f();
        }
        best = best.min((thread_cpu() - t) / per_round as u32);
    }
    best
}

fn mps(values: usize, per_call: Duration) -> f64 {
    values as f64 / per_call.as_secs_f64() / 1e6
}

fn row(group: &str, figure: &str, value: f64, unit: &str, baseline: &str, base: f64) {
    println!("ROW\t{group}\t{figure}\t{value:.3}\t{unit}\t{baseline}\t{base:.3}");
}

/// `TSMDB_BENCH_PROFILE=1`: a fixed amount of work (300 encodes and decodes of each shape),
/// for `valgrind --tool=callgrind`, whose instruction counts then compare across versions.
fn profile() {
    let mut out = Vec::new();
    let mut bufs = data::Buffers::default();
    for shape in data::shapes() {
        for _ in 0..300 {
            data::encode(black_box(&shape), &mut out);
        }
        let section = out.clone();
        for _ in 0..300 {
            black_box(data::decode(
                black_box(&shape),
                black_box(&section),
                &mut bufs,
            ));
        }
    }
}

fn main() {
    if std::env::var_os("TSMDB_BENCH_PROFILE").is_some() {
        profile();
        return;
    }
    let quick = std::env::var("TSMDB_BENCH_QUICK").is_ok_and(|v| v == "1");
    let (round, rounds) = if quick {
        (Duration::from_millis(20), 3)
    } else {
        (Duration::from_millis(150), 7)
    };
    const GO: &str = "influxdb-1.6.7 go (issue table)";
    for shape in data::shapes() {
        let group = format!("encoding/{}", shape.name);
        let mut out = Vec::new();
        let enc = best_time(round, rounds, || data::encode(black_box(&shape), &mut out));
        data::encode(&shape, &mut out);
        let section = out.clone();
        let mut bufs = data::Buffers::default();
        let dec = best_time(round, rounds, || {
            black_box(data::decode(
                black_box(&shape),
                black_box(&section),
                &mut bufs,
            ));
        });
        let src = vec![7u8; data::decoded_bytes(&shape)];
        let mut dst = vec![0u8; src.len()];
        let copy = best_time(round, rounds, || {
            dst.copy_from_slice(black_box(&src));
            black_box(&mut dst);
        });
        let bpv = section.len() as f64 / data::N as f64;
        row(
            &group,
            "encode",
            mps(data::N, enc),
            "Mvalues/s",
            GO,
            shape.go.0,
        );
        row(
            &group,
            "decode",
            mps(data::N, dec),
            "Mvalues/s",
            GO,
            shape.go.1,
        );
        row(&group, "size", bpv, "bytes/value", GO, shape.go.2);
        row(
            &group,
            "decode (same run)",
            mps(data::N, dec),
            "Mvalues/s",
            "memcpy of the decoded bytes",
            mps(data::N, copy),
        );
    }
    // simple8b: unrolled per-selector unpacking vs one value at a time.
    let mut rng = data::Rng::new(7);
    let small: Vec<u64> = (0..data::N).map(|_| rng.next_u64() % 4).collect();
    let mut words = Vec::new();
    tsmdb_encoding::simple8b::encode(&small, tsmdb_encoding::simple8b::Window::Tail, &mut words)
        .expect("small values");
    let mut fast: Vec<u64> = Vec::with_capacity(data::N);
    let unrolled = best_time(round, rounds, || {
        fast.clear();
        tsmdb_encoding::simple8b::decode_append(black_box(&words), &mut fast);
        black_box(&fast);
    });
    let mut naive_out = Vec::with_capacity(data::N);
    let naive = best_time(round, rounds, || {
        naive_out.clear();
        tsmdb_encoding::simple8b::decode_naive(black_box(&words), &mut naive_out);
        black_box(&naive_out);
    });
    row(
        "encoding/simple8b 2-bit values",
        "unpack",
        mps(data::N, unrolled),
        "Mvalues/s",
        "naive one-at-a-time decoder",
        mps(data::N, naive),
    );
}
