//! `cargo xtask bench` figures for the cache: values/s for TSBS-shaped batches with 1 and 2
//! writer threads, beside a plain single-threaded `HashMap<Vec<u8>, Vec<(i64, f64)>>` append of
//! the same values measured in the same run.

#[path = "support/tsbs.rs"]
mod tsbs;

use std::collections::HashMap;
use std::time::Instant;

use tsbs::Workload;
use tsmdb_cache::{Cache, CacheConfig, ColumnRef};

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

    let one = best(reps, total, || {
        let cache = Cache::new(config());
        for batch in &all {
            cache.write(batch).unwrap();
        }
        std::hint::black_box(&cache);
    });
    row("TSBS batches, 1 thread", one, baseline);

    let halves = [work.batches(&times, 0, 2), work.batches(&times, 1, 2)];
    let two = best(reps, total, || {
        let cache = Cache::new(config());
        std::thread::scope(|s| {
            for half in &halves {
                let cache = &cache;
                s.spawn(move || {
                    for batch in half {
                        cache.write(batch).unwrap();
                    }
                });
            }
        });
        std::hint::black_box(&cache);
    });
    row("TSBS batches, 2 threads", two, baseline);
}
