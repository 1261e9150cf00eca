//! Shared helpers of the integration tests: writing generated files and reading a directory
//! the way the engine will (newest file wins, tombstones applied).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use tsmdb_encoding::{Column, ColumnRef};
use tsmdb_tsm_file::{FileId, TimeRange, TsmReader, TsmWriter, Values, ValuesWrite, WriterOptions};

/// key -> time -> value, for integer-valued keys.
pub type Model = BTreeMap<Vec<u8>, BTreeMap<i64, i64>>;

/// One generated input file.
#[derive(Debug, Clone)]
pub struct Spec {
    pub id: FileId,
    /// key -> sorted unique (time, value).
    pub data: BTreeMap<Vec<u8>, Vec<(i64, i64)>>,
    /// Tombstones: (key, min, max).
    pub deletes: Vec<(Vec<u8>, i64, i64)>,
}

/// Writes `spec` into `dir` with blocks of `block` values and applies its deletes.
pub fn write_spec(dir: &Path, spec: &Spec, block: usize) {
    let path = dir.join(spec.id.tsm_name());
    let options = WriterOptions {
        max_values_per_block: block,
        ..WriterOptions::default()
    };
    let mut w = TsmWriter::with_options(&path, options).expect("create");
    for (key, points) in &spec.data {
        let times: Vec<i64> = points.iter().map(|p| p.0).collect();
        let values: Vec<i64> = points.iter().map(|p| p.1).collect();
        let done = w
            .write_values(key, &times, ColumnRef::Integer(&values))
            .expect("write");
        assert_eq!(done, ValuesWrite::All);
    }
    w.finish().expect("finish");
    if !spec.deletes.is_empty() {
        let r = TsmReader::open(&path).expect("open");
        for (key, min, max) in &spec.deletes {
            r.delete_range(&[key], TimeRange::new(*min, *max))
                .expect("delete");
        }
    }
}

/// What reads must return: files in id order, each file's deletes hiding only its own values,
/// newer files overwriting older ones.
pub fn model(specs: &[Spec]) -> Model {
    let mut sorted: Vec<&Spec> = specs.iter().collect();
    sorted.sort_by_key(|s| s.id);
    let mut m = Model::new();
    for s in sorted {
        for (key, points) in &s.data {
            for &(t, v) in points {
                let deleted = s
                    .deletes
                    .iter()
                    .any(|(k, lo, hi)| k == key && *lo <= t && t <= *hi);
                if !deleted {
                    m.entry(key.clone()).or_default().insert(t, v);
                }
            }
        }
    }
    m.retain(|_, v| !v.is_empty());
    m
}

/// Reads through a set of open readers, oldest first.
pub fn read_readers(readers: &[TsmReader]) -> Model {
    let mut m = Model::new();
    let mut values = Values::new();
    for r in readers {
        let keys: Vec<Vec<u8>> = r.keys().map(|k| k.key.to_vec()).collect();
        for key in keys {
            r.read_values(&key, TimeRange::ALL, &mut values)
                .expect("read");
            let Column::Integer(v) = &values.values else {
                panic!("integer column expected");
            };
            let entry = m.entry(key).or_default();
            for (t, x) in values.timestamps.iter().zip(v) {
                entry.insert(*t, *x);
            }
        }
    }
    m.retain(|_, v| !v.is_empty());
    m
}

/// Opens every TSM file of `dir` in id order.
pub fn open_dir(dir: &Path) -> Vec<TsmReader> {
    tsmdb_compactor::tsm_paths(dir)
        .expect("list")
        .into_iter()
        .map(|(_, p)| TsmReader::open(p).expect("open"))
        .collect()
}

/// Reads `dir` as the engine would.
pub fn read_dir(dir: &Path) -> Model {
    read_readers(&open_dir(dir))
}

/// Ids of the TSM files of `dir`.
pub fn ids(dir: &Path) -> Vec<FileId> {
    tsmdb_compactor::tsm_paths(dir)
        .expect("list")
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

/// Every key's block value counts across the files of `dir`, in file then index order.
pub fn block_counts(dir: &Path) -> BTreeMap<Vec<u8>, Vec<usize>> {
    let mut out: BTreeMap<Vec<u8>, Vec<usize>> = BTreeMap::new();
    for r in open_dir(dir) {
        for k in r.keys() {
            for e in k.iter() {
                let block = r.block(k.key, &e).expect("block");
                let n = tsmdb_encoding::block_count(block).expect("count");
                out.entry(k.key.to_vec()).or_default().push(n);
            }
        }
    }
    out
}

/// A simple deterministic spec: `keys` keys, times `start..start+n*step` by `step`, value =
/// time * 10 + generation (so the winner of a duplicate is visible).
pub fn simple(id: FileId, keys: usize, start: i64, n: i64, step: i64) -> Spec {
    let data = (0..keys)
        .map(|k| {
            let key = format!("cpu,host=h{k}#!~#v").into_bytes();
            let points = (0..n)
                .map(|i| {
                    let t = start + i * step;
                    (t, t * 10 + i64::from(id.generation))
                })
                .collect();
            (key, points)
        })
        .collect();
    Spec {
        id,
        data,
        deletes: Vec::new(),
    }
}
