//! Shared data for the compactor benches: TSBS-like `cpu` keys (hosts × fields) with random-walk
//! float values every 10 s, written as generations of TSM files.

#![allow(dead_code)]

use std::path::Path;

use tsmdb_encoding::ColumnRef;
use tsmdb_tsm_file::{FileId, TsmWriter};

/// Ten seconds in nanoseconds: the TSBS interval.
pub const STEP: i64 = 10_000_000_000;
/// The fields of TSBS `cpu`.
pub const FIELDS: [&str; 10] = [
    "usage_guest",
    "usage_guest_nice",
    "usage_idle",
    "usage_iowait",
    "usage_irq",
    "usage_nice",
    "usage_softirq",
    "usage_steal",
    "usage_system",
    "usage_user",
];

/// Composite keys of `hosts` hosts × 10 fields, sorted.
pub fn keys(hosts: usize) -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = (0..hosts)
        .flat_map(|h| {
            FIELDS.iter().map(move |f| {
                format!("cpu,hostname=host_{h},region=eu-west-1,service=9#!~#{f}").into_bytes()
            })
        })
        .collect();
    keys.sort();
    keys
}

/// `n` points of key number `k` from point index `first`: times every 10 s, values a random walk
/// in [0, 100] with two decimals (deterministic).
pub fn points(k: usize, first: i64, n: usize) -> (Vec<i64>, Vec<f64>) {
    let mut state = (k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ first as u64;
    let mut v = 50.0f64;
    let mut times = Vec::with_capacity(n);
    let mut values = Vec::with_capacity(n);
    for i in 0..n as i64 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let step = (state % 200) as f64 / 100.0 - 1.0;
        v = (v + step).clamp(0.0, 100.0);
        times.push(1_600_000_000_000_000_000 + (first + i) * STEP);
        values.push((v * 100.0).round() / 100.0);
    }
    (times, values)
}

/// Writes generation `id` holding points `first .. first + n` of every key; returns its bytes.
pub fn write_generation(dir: &Path, id: FileId, keys: &[Vec<u8>], first: i64, n: usize) -> u64 {
    let mut w = TsmWriter::create(dir.join(id.tsm_name())).expect("create");
    for (k, key) in keys.iter().enumerate() {
        let (t, v) = points(k, first, n);
        let _ = w
            .write_values(key, &t, ColumnRef::Float(&v))
            .expect("write");
    }
    w.finish().expect("finish").size
}

/// Copies every file of `from` into a fresh temporary directory.
pub fn copy_dir(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().expect("tempdir");
    for e in std::fs::read_dir(from).expect("ls") {
        let p = e.expect("entry").path();
        std::fs::copy(&p, to.path().join(p.file_name().expect("name"))).expect("copy");
    }
    to
}

/// The codec ceiling: decode every block of the files in `dir` and re-encode it, in memory.
/// Returns (input block bytes, values).
pub fn decode_encode_all(dir: &Path) -> (u64, u64) {
    let mut times = Vec::new();
    let mut values = tsmdb_encoding::Column::empty(tsmdb_encoding::FieldType::Float);
    let mut out = Vec::new();
    let (mut bytes, mut count) = (0u64, 0u64);
    for (_, p) in tsmdb_compactor::tsm_paths(dir).expect("ls") {
        let r = tsmdb_tsm_file::TsmReader::open(&p).expect("open");
        for (k, e) in r.blocks() {
            r.decode_block(&k, &e, &mut times, &mut values)
                .expect("decode");
            out.clear();
            tsmdb_encoding::encode_block(&times, values.as_ref(), &mut out).expect("encode");
            bytes += u64::from(e.size);
            count += times.len() as u64;
        }
    }
    std::hint::black_box(&out);
    (bytes, count)
}
