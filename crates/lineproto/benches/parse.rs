//! Criterion: parse throughput on TSBS-devops-like data (10 tags, 10 fields per line, every
//! field decoded), beside the memchr newline split of the same bytes.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tsmdb_lineproto::{ParseOptions, Parser, parse_batch_parallel};

#[path = "devops.rs"]
mod devops;

fn bench(c: &mut Criterion) {
    let size = if std::env::var("TSMDB_BENCH_QUICK").as_deref() == Ok("1") {
        2 << 20
    } else {
        32 << 20
    };
    for (name, floats) in [("int-fields", false), ("float-fields", true)] {
        let (data, _) = devops::generate(size, floats);
        let mut g = c.benchmark_group(format!("devops/{name}"));
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.sample_size(10);
        let mut parser = Parser::new(ParseOptions::default());
        g.bench_function("parse", |b| {
            b.iter(|| black_box(devops::parse_all(&mut parser, black_box(&data))))
        });
        g.bench_function("memchr-split-ceiling", |b| {
            b.iter(|| black_box(devops::split_only(black_box(&data))))
        });
        g.bench_function("parse-batch-parallel", |b| {
            b.iter(|| {
                black_box(
                    parse_batch_parallel(black_box(&data), &ParseOptions::default())
                        .points
                        .len(),
                )
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
