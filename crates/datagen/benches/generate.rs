//! Criterion benches: values per second into typed columns, into TSM blocks and into line
//! protocol, beside a plain fill of the same number of values.

#[path = "common.rs"]
mod common;

use std::convert::Infallible;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tsmdb_datagen::{Generator, LineProtocolWriter};
use tsmdb_encoding::encode_block;

fn bench(c: &mut Criterion) {
    const POINTS: u64 = 1000;
    let values = 1000 * POINTS;
    let mut group = c.benchmark_group("datagen");
    group.throughput(Throughput::Elements(values));
    group.sample_size(10);

    let mut ts = [0i64; 1000];
    let mut vals = [0f64; 1000];
    group.bench_function("baseline fill", |b| {
        b.iter(|| common::fill_baseline(values, &mut ts, &mut vals))
    });
    for (name, plan) in [
        ("columns const float", common::simple(POINTS)),
        (
            "columns rand<float>",
            common::one_field(POINTS, "{ type = \"rand<float>\", seed = 1 }"),
        ),
        (
            "columns int array",
            common::one_field(POINTS, "[1, 2, 3, 5, 8]"),
        ),
        (
            "columns zipf<integer>",
            common::one_field(
                POINTS,
                "{ type = \"zipf<integer>\", s = 1.5, v = 1, imax = 1000 }",
            ),
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                Generator::new(&plan)
                    .for_each_block(|blk| {
                        black_box(blk.values);
                        Ok::<(), Infallible>(())
                    })
                    .unwrap()
            })
        });
    }
    let plan = common::one_field(POINTS, "{ type = \"rand<float>\", seed = 1 }");
    let mut out = Vec::new();
    group.bench_function("columns+TSM blocks rand<float>", |b| {
        b.iter(|| {
            Generator::new(&plan)
                .for_each_block(|blk| {
                    out.clear();
                    encode_block(blk.timestamps, blk.values.as_ref(), &mut out)
                })
                .unwrap()
        })
    });
    let plan = common::simple(POINTS);
    group.bench_function("line protocol const float", |b| {
        b.iter(|| {
            let mut w = LineProtocolWriter::new(std::io::sink());
            Generator::new(&plan)
                .for_each_block(|blk| w.write_block(blk))
                .unwrap();
            w.flush().unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
