//! Criterion benches: a level-1 compaction of 8 generations and a full compaction of 4 level-4
//! generations, beside the codec ceiling (decode + re-encode of the same blocks in memory).

mod support;
use support as common;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tsmdb_compactor::{Compactor, CompactorConfig, Plan, PlanKind, scan_dir};
use tsmdb_tsm_file::FileId;

fn setup(generations: u32, sequence: u32, hosts: usize, points: usize) -> (tempfile::TempDir, u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = common::keys(hosts);
    let mut bytes = 0;
    for g in 1..=generations {
        let first = i64::from(g - 1) * points as i64;
        bytes +=
            common::write_generation(dir.path(), FileId::new(g, sequence), &keys, first, points);
    }
    (dir, bytes)
}

fn bench(c: &mut Criterion) {
    let compactor = Compactor::new(CompactorConfig {
        throughput: 0,
        ..CompactorConfig::default()
    });
    for (name, gens, seq, points) in [
        ("level1_8x150", 8, 1, 150usize),
        ("full_4x2500", 4, 4, 2500),
    ] {
        let (template, bytes) = setup(gens, seq, 20, points);
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(bytes));
        group.sample_size(10);
        group.bench_function("compact", |b| {
            b.iter_batched(
                || common::copy_dir(template.path()),
                |dir| {
                    let plan = Plan {
                        kind: if seq == 1 {
                            PlanKind::Level(1)
                        } else {
                            PlanKind::Full
                        },
                        files: scan_dir(dir.path(), 1000).expect("scan"),
                    };
                    compactor.compact(&plan).expect("compact");
                    dir
                },
                BatchSize::PerIteration,
            );
        });
        group.bench_function("codec_ceiling", |b| {
            b.iter(|| common::decode_encode_all(template.path()));
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
