//! Criterion benchmarks: TSBS-shaped batch writes and reads.

#[path = "support/tsbs.rs"]
mod tsbs;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tsbs::Workload;
use tsmdb_cache::{Cache, CacheConfig};

fn writes(c: &mut Criterion) {
    let work = Workload::new(1000, 5, 1000);
    let times: Vec<i64> = (0..5).map(|r| r * 10_000_000_000).collect();
    let batches = work.batches(&times, 0, 1);
    let mut group = c.benchmark_group("cache");
    group.throughput(Throughput::Elements(work.total_values()));
    group.bench_function("write TSBS batches (1000 series x 10 fields x 5)", |b| {
        b.iter(|| {
            let cache = Cache::new(CacheConfig {
                max_size: 0,
                ..CacheConfig::default()
            });
            for batch in &batches {
                cache.write(batch).unwrap();
            }
            cache
        })
    });
    let cache = Cache::new(CacheConfig {
        max_size: 0,
        ..CacheConfig::default()
    });
    for batch in &batches {
        cache.write(batch).unwrap();
    }
    group.throughput(Throughput::Elements(1));
    group.bench_function("read one key (5 values)", |b| {
        b.iter(|| cache.read(&work.keys[1234], i64::MIN, i64::MAX).unwrap())
    });
    group.finish();
}

criterion_group!(benches, writes);
criterion_main!(benches);
