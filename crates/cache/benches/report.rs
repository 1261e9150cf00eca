//! `cargo xtask bench` figures for the cache: values/s for TSBS-shaped batches with 1 and 2
//! writer threads, beside a plain single-threaded `HashMap<Vec<u8>, Vec<(i64, f64)>>` append of
//! the same values measured in the same run.

#[path = "support/tsbs.rs"]
mod tsbs;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tsbs::Workload;
use tsmdb_cache::{Cache, CacheConfig, ColumnRef, KeyHandle, Record, key_hash};

fn row(figure: &str, value: f64, baseline_value: f64) {
    println!("ROW\tcache\t{figure}\t{value}\tvalues/s\tHashMap append, 1 thread\t{baseline_value}");
}

/// Best of `reps` runs of `f`, in values per second.
fn best(reps: usize, values: u64, mut f: impl FnMut()) -> f64 {
    (0..reps)
        .map(|_| {
            let start = Instant::now();
            f();
            values as f64 / start.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

/// Best of `reps` runs of `f`, which returns the time of the part it measures.
fn best_timed(reps: usize, values: u64, mut f: impl FnMut() -> Duration) -> f64 {
    (0..reps)
        .map(|_| values as f64 / f().as_secs_f64())
        .fold(0.0, f64::max)
}

fn main() {
    let quick = std::env::var("TSMDB_BENCH_QUICK").is_ok_and(|v| v == "1");
    let (series, rounds, reps) = if quick { (2000, 10, 2) } else { (4000, 50, 3) };
    let work = Workload::new(series, rounds, 1000);
    let times: Vec<i64> = (0..rounds as i64).map(|r| r * 10_000_000_000).collect();
    let total = work.total_values();
    let config = || CacheConfig {
        max_size: 0,
        ..CacheConfig::default()
    };

    let all = work.batches(&times, 0, 1);
    let baseline = best(reps, total, || {
        let mut map: HashMap<Vec<u8>, Vec<(i64, f64)>> = HashMap::new();
        for batch in &all {
            for r in batch {
                let ColumnRef::Float(v) = r.values else {
                    continue;
                };
                let slot = match map.get_mut(r.key) {
                    Some(s) => s,
                    None => map.entry(r.key.to_vec()).or_default(),
                };
                slot.extend(r.timestamps.iter().copied().zip(v.iter().copied()));
            }
        }
        std::hint::black_box(&map);
    });

    // Each writer thread keeps its batches' hashes and handles across batches, as the engine
    // keeps its keys: `write` hashes every key, `write_hashed` is given the hashes,
    // `write_handles` is also given handles (stale on the first round, valid after).
    let halves = [work.batches(&times, 0, 2), work.batches(&times, 1, 2)];
    // `TSMDB_CACHE_BENCH_ONLY=text` runs only the rows whose name contains it (for profiling).
    let only = std::env::var("TSMDB_CACHE_BENCH_ONLY").unwrap_or_default();
    // A steady-state run measures a cache that has already been filled with the same keys,
    // snapshotted and committed once, as an engine's cache is after its first snapshot.
    let run = |name: &str, mode: Mode, threads: &[&Vec<Vec<Record<'_>>>], steady: bool| {
        if !name.contains(&only) {
            return;
        }
        let hashes: Vec<Vec<Vec<u64>>> = threads
            .iter()
            .map(|bs| {
                bs.iter()
                    .map(|b| b.iter().map(|r| key_hash(r.key)).collect())
                    .collect()
            })
            .collect();
        let rate = best_timed(reps, total, || {
            let cache = Cache::new(config());
            if steady {
                for batch in threads.iter().flat_map(|bs| bs.iter()) {
                    cache.write(batch).unwrap();
                }
                let snapshot = cache.snapshot().unwrap();
                cache.commit(&snapshot).unwrap();
            }
            let start = Instant::now();
            std::thread::scope(|s| {
                for (batches, hashes) in threads.iter().zip(&hashes) {
                    let cache = &cache;
                    s.spawn(move || write_all(cache, batches, hashes, rounds, mode));
                }
            });
            std::hint::black_box(&cache);
            drop(cache);
            start.elapsed()
        });
        row(name, rate, baseline);
    };
    let one = [&all];
    let two = [&halves[0], &halves[1]];
    for steady in [false, true] {
        let at = if steady { ", steady state" } else { "" };
        for (threads, batches) in [("1 thread", &one[..]), ("2 threads", &two[..])] {
            for (how, mode) in [
                ("", Mode::Plain),
                (", known hashes", Mode::Hashed),
                (", key handles", Mode::Handles),
            ] {
                run(
                    &format!("TSBS batches, {threads}{how}{at}"),
                    mode,
                    batches,
                    steady,
                );
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Mode {
    Plain,
    Hashed,
    Handles,
}

/// Writes every batch; in handle mode, each batch's handles persist to the same batch position
/// of the next round (the same keys), so only the first round looks keys up.
fn write_all(
    cache: &Cache,
    batches: &[Vec<Record<'_>>],
    hashes: &[Vec<u64>],
    rounds: usize,
    mode: Mode,
) {
    let per_round = (batches.len() / rounds.max(1)).max(1);
    let mut handles: Vec<Vec<KeyHandle>> = Vec::new();
    for (i, (batch, h)) in batches.iter().zip(hashes).enumerate() {
        match mode {
            Mode::Plain => drop(cache.write(batch).unwrap()),
            Mode::Hashed => drop(cache.write_hashed(batch, h).unwrap()),
            Mode::Handles => {
                let at = i % per_round;
                if handles.len() <= at {
                    handles.push(vec![KeyHandle::NONE; batch.len()]);
                }
                cache.write_handles(batch, h, &mut handles[at]).unwrap();
            }
        }
    }
}
