//! Data sets shared by the criterion benches and the report bench.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use tsmdb_encoding::{ColumnRef, FieldType};
use tsmdb_tsm_file::{BlockWrite, TsmReader, TsmWriter};

/// Composite key number `i` (TSBS-like).
pub fn key(i: usize) -> Vec<u8> {
    format!(
        "cpu,hostname=host_{:07},region=eu-west-1,service=9#!~#usage_{}",
        i / 10,
        i % 10
    )
    .into_bytes()
}

/// A value series like a CPU gauge: jittered floats at 10 s steps.
pub fn series(n: usize, seed: u64) -> (Vec<i64>, Vec<f64>) {
    let mut x = seed | 1;
    let mut v = 50.0f64;
    let mut times = Vec::with_capacity(n);
    let mut values = Vec::with_capacity(n);
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v = (v + ((x % 200) as f64 - 100.0) / 100.0).clamp(0.0, 100.0);
        times.push(1_600_000_000_000_000_000 + i as i64 * 10_000_000_000);
        values.push((v * 100.0).round() / 100.0);
    }
    (times, values)
}

/// Writes `keys` keys of `values` float values each; returns the path.
pub fn write_values_file(dir: &Path, name: &str, keys: usize, values: usize) -> PathBuf {
    let path = dir.join(name);
    let mut w = TsmWriter::create(&path).expect("create");
    for k in 0..keys {
        let (t, v) = series(values, k as u64 + 1);
        let r = w
            .write_values(&key(k), &t, ColumnRef::Float(&v))
            .expect("write");
        assert_eq!(r, tsmdb_tsm_file::ValuesWrite::All);
    }
    w.finish().expect("finish");
    path
}

/// Writes `keys` keys, each with one block of `block_len` bytes (contents opaque, type float):
/// a file whose index has `keys` records and whose data size is chosen freely.
pub fn write_raw_file(dir: &Path, name: &str, keys: usize, block_len: usize) -> PathBuf {
    let path = dir.join(name);
    let mut w = TsmWriter::create(&path).expect("create");
    let mut block = vec![0xA5u8; block_len.max(2)];
    block[0] = FieldType::Float.block_type();
    for k in 0..keys {
        let r = w
            .write_block(&key(k), FieldType::Float, k as i64, k as i64 + 1, &block)
            .expect("write");
        assert_eq!(r, BlockWrite::Written);
    }
    w.finish().expect("finish");
    path
}

/// Every block of a file, as (key position, raw block bytes).
pub fn all_blocks(reader: &TsmReader) -> Vec<Vec<u8>> {
    reader
        .blocks()
        .map(|(k, e)| reader.block(k.key, &e).expect("block").to_vec())
        .collect()
}
