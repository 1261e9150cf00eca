//! Criterion benchmarks: encode and decode of 1000-value sections per type and shape.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "data.rs"]
mod data;

fn codecs(c: &mut Criterion) {
    for shape in data::shapes() {
        let mut group = c.benchmark_group(shape.name);
        group.throughput(Throughput::Elements(data::N as u64));
        let mut out = Vec::new();
        group.bench_function("encode", |b| {
            b.iter(|| data::encode(black_box(&shape), &mut out))
        });
        data::encode(&shape, &mut out);
        let section = out.clone();
        let mut bufs = data::Buffers::default();
        group.bench_function("decode", |b| {
            b.iter(|| data::decode(black_box(&shape), black_box(&section), &mut bufs))
        });
        group.finish();
    }
}

criterion_group!(benches, codecs);
criterion_main!(benches);
