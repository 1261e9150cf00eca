//! Criterion benches of the TSM file layer: write, open, lookup, full scan, and the mmap-versus-pread
//! choice for block reads. Short runs: `cargo bench -p tsmdb-tsm-file --bench tsm -- --warm-up-time 1
//! --measurement-time 2`.

#[path = "common.rs"]
mod common;

use std::hint::black_box;
use std::os::unix::fs::FileExt;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tsmdb_encoding::{Column, ColumnRef, FieldType, decode_block};
use tsmdb_tsm_file::{TimeRange, TsmReader, TsmWriter, Values};

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (keys, per_key) = (200, 5000);

    let mut g = c.benchmark_group("write");
    let data: Vec<_> = (0..keys)
        .map(|k| common::series(per_key, k as u64 + 1))
        .collect();
    g.throughput(Throughput::Elements((keys * per_key) as u64));
    let mut n = 0;
    g.bench_function("floats_200x5000", |b| {
        b.iter(|| {
            n += 1;
            let path = dir.path().join(format!("w{n}.tsm"));
            let mut w = TsmWriter::create(&path).expect("create");
            for (k, (t, v)) in data.iter().enumerate() {
                let _ = w
                    .write_values(&common::key(k), t, ColumnRef::Float(v))
                    .expect("write");
            }
            w.finish().expect("finish");
            std::fs::remove_file(path).expect("rm");
        })
    });
    g.finish();

    let path = common::write_values_file(dir.path(), "scan.tsm", keys, per_key);
    let reader = TsmReader::open(&path).expect("open");
    let blocks = common::all_blocks(&reader);

    let mut g = c.benchmark_group("scan");
    g.throughput(Throughput::Elements((keys * per_key) as u64));
    g.bench_function("file_read_values", |b| {
        let mut v = Values::new();
        b.iter(|| {
            let mut total = 0;
            for k in reader.keys() {
                reader
                    .read_values(k.key, TimeRange::ALL, &mut v)
                    .expect("read");
                total += v.len();
            }
            black_box(total)
        })
    });
    g.bench_function("baseline_decode_from_memory", |b| {
        let (mut t, mut col) = (Vec::new(), Column::empty(FieldType::Float));
        b.iter(|| {
            let mut total = 0;
            for block in &blocks {
                decode_block(block, &mut t, &mut col).expect("decode");
                total += t.len();
            }
            black_box(total)
        })
    });
    g.finish();

    // The reader maps the file; this compares a CRC-checked block fetch from the map with pread
    // into a reused buffer plus the same CRC.
    let mut g = c.benchmark_group("block_read");
    let entries: Vec<_> = reader.blocks().map(|(k, e)| (k.key.to_vec(), e)).collect();
    let bytes: u64 = entries.iter().map(|(_, e)| u64::from(e.size)).sum();
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("mmap", |b| {
        b.iter(|| {
            for (k, e) in &entries {
                black_box(reader.block(k, e).expect("block"));
            }
        })
    });
    let file = std::fs::File::open(&path).expect("open");
    g.bench_function("pread", |b| {
        let mut buf = Vec::new();
        b.iter(|| {
            for (_, e) in &entries {
                buf.resize(e.size as usize, 0);
                file.read_exact_at(&mut buf, e.offset).expect("pread");
                let stored = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
                assert_eq!(stored, crc32fast::hash(&buf[4..]));
                black_box(&buf);
            }
        })
    });
    g.finish();

    let big = common::write_raw_file(dir.path(), "keys.tsm", 100_000, 16);
    let mut g = c.benchmark_group("index");
    g.bench_function("open_100k_keys", |b| {
        b.iter(|| black_box(TsmReader::open(&big).expect("open").key_count()))
    });
    let r = TsmReader::open(&big).expect("open");
    let probe: Vec<Vec<u8>> = (0..1000).map(|i| common::key(i * 97 % 100_000)).collect();
    g.bench_function("lookup_100k_keys", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % probe.len();
            black_box(r.key(&probe[i]).map(|k| k.len()))
        })
    });
    g.finish();
}

criterion_group!(tsm, benches);
criterion_main!(tsm);
