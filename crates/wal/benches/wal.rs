//! Criterion benchmarks: entry encoding and decoding (no I/O), and durable appends.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tsmdb_wal::{
    ColumnRef, Entry, EntryKind, Record, Wal, WalOptions, encode_frame, encode_write_payload,
};

fn records(keys: &[Vec<u8>], ts: &[i64], vals: &[f64]) -> Vec<Record<'static>> {
    // Leaked once per benchmark set-up so the records can be 'static.
    let keys: &'static [Vec<u8>] = Box::leak(keys.to_vec().into_boxed_slice());
    let ts: &'static [i64] = Box::leak(ts.to_vec().into_boxed_slice());
    let vals: &'static [f64] = Box::leak(vals.to_vec().into_boxed_slice());
    keys.iter()
        .map(|k| Record {
            key: k,
            timestamps: ts,
            values: ColumnRef::Float(vals),
        })
        .collect()
}

fn codec(c: &mut Criterion) {
    let keys: Vec<Vec<u8>> = (0..100)
        .map(|i| format!("cpu,host=h{i}#!~#usage").into_bytes())
        .collect();
    let ts: Vec<i64> = (0..10).map(|i| i * 10_000_000_000).collect();
    let vals: Vec<f64> = (0..10).map(|i| i as f64 * 0.25).collect();
    let recs = records(&keys, &ts, &vals);
    let mut group = c.benchmark_group("wal-codec");
    group.throughput(Throughput::Elements(1000));
    let mut payload = Vec::new();
    let mut frame = Vec::new();
    let mut enc = snap::raw::Encoder::new();
    group.bench_function("encode 100 keys x 10 values", |b| {
        b.iter(|| {
            payload.clear();
            frame.clear();
            encode_write_payload(&recs, &mut payload).unwrap();
            encode_frame(EntryKind::Write, &payload, &mut enc, &mut frame).unwrap();
        })
    });
    let mut entry = Entry::new();
    group.bench_function("decode 100 keys x 10 values", |b| {
        b.iter(|| entry.decode(frame[0], &frame[5..]).unwrap())
    });
    group.finish();
}

fn durable(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), WalOptions::default(), |_, _| {}).unwrap();
    let keys = [b"cpu,host=a#!~#usage".to_vec()];
    let mut t = 0i64;
    c.bench_function("wal write + fdatasync, 1 writer", |b| {
        b.iter(|| {
            t += 1;
            wal.write(&[Record {
                key: &keys[0],
                timestamps: &[t],
                values: ColumnRef::Float(&[1.0]),
            }])
            .unwrap();
        })
    });
}

criterion_group!(benches, codec, durable);
criterion_main!(benches);
