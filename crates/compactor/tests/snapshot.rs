//! Cache snapshots become a level-1 generation: sorted keys, deduplicated values, blocks of at
//! most the block size, rolling to new files at the size limit, installed atomically.

use std::sync::Arc;

use tsmdb_cache::{Cache, CacheConfig, ColumnRef, Record};
use tsmdb_compactor::{Compactor, CompactorConfig, Error, Step, cleanup_dir, tsm_paths};
use tsmdb_encoding::Column;
use tsmdb_tsm_file::{FileId, TimeRange, TsmReader, Values as FileValues};

fn filled_cache() -> Cache {
    let cache = Cache::new(CacheConfig::default());
    let times: Vec<i64> = (0..2500).rev().map(|i| i * 7).collect();
    let floats: Vec<f64> = times.iter().map(|&t| t as f64 / 2.0).collect();
    let ints: Vec<i64> = times.iter().map(|&t| -t).collect();
    let bools: Vec<bool> = times.iter().map(|&t| t % 3 == 0).collect();
    let strings: Vec<&[u8]> = times
        .iter()
        .map(|&t| {
            if t % 2 == 0 {
                b"even".as_slice()
            } else {
                b"odd"
            }
        })
        .collect();
    let strings = tsmdb_encoding::StringColumn::from_iter(strings);
    cache
        .write(&[
            Record {
                key: b"m,h=b#!~#f",
                timestamps: &times,
                values: ColumnRef::Float(&floats),
            },
            Record {
                key: b"m,h=a#!~#i",
                timestamps: &times,
                values: ColumnRef::Integer(&ints),
            },
            Record {
                key: b"m,h=c#!~#b",
                timestamps: &times[..10],
                values: ColumnRef::Boolean(&bools[..10]),
            },
            Record {
                key: b"m,h=c#!~#s",
                timestamps: &times,
                values: ColumnRef::String(strings.as_slice()),
            },
        ])
        .expect("write");
    // Rewrites: the last write wins.
    cache
        .write(&[Record {
            key: b"m,h=a#!~#i",
            timestamps: &[0, 7],
            values: ColumnRef::Integer(&[100, 200]),
        }])
        .expect("write");
    cache
}

fn read_file_set(dir: &std::path::Path, key: &[u8]) -> (Vec<i64>, Column) {
    let mut times = Vec::new();
    let mut column: Option<Column> = None;
    let mut v = FileValues::new();
    for (_, p) in tsm_paths(dir).expect("ls") {
        let r = TsmReader::open(&p).expect("open");
        if !r.read_values(key, TimeRange::ALL, &mut v).expect("read") {
            continue;
        }
        times.extend_from_slice(&v.timestamps);
        match (&mut column, &v.values) {
            (None, c) => column = Some(c.clone()),
            (Some(Column::Float(a)), Column::Float(b)) => a.extend_from_slice(b),
            (Some(Column::Integer(a)), Column::Integer(b)) => a.extend_from_slice(b),
            (Some(Column::Boolean(a)), Column::Boolean(b)) => a.extend_from_slice(b),
            (Some(Column::String(a)), Column::String(b)) => b.iter().for_each(|s| a.push(s)),
            _ => panic!("type changed between files"),
        }
    }
    (times, column.expect("key present"))
}

#[test]
fn snapshot_round_trips_every_type_and_rolls_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = filled_cache();
    let snapshot = cache.snapshot().expect("snapshot");
    let compactor = Compactor::new(CompactorConfig {
        max_file_size: 2 << 10,
        throughput: 0,
        ..CompactorConfig::default()
    });
    let report = compactor
        .write_snapshot(dir.path(), 7, &snapshot)
        .expect("write");
    assert_eq!(report.merge.keys, 4);
    assert_eq!(report.merge.values_out, 2500 * 3 + 10);
    let ids: Vec<FileId> = tsm_paths(dir.path())
        .expect("ls")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert!(
        ids.len() > 1,
        "expected the size limit to split the snapshot: {ids:?}"
    );
    assert!(
        ids.iter()
            .enumerate()
            .all(|(i, id)| *id == FileId::new(7, i as u32 + 1))
    );
    for key in [
        b"m,h=a#!~#i".as_slice(),
        b"m,h=b#!~#f",
        b"m,h=c#!~#b",
        b"m,h=c#!~#s",
    ] {
        let want = cache.read(key, i64::MIN, i64::MAX).expect("in cache");
        let (times, values) = read_file_set(dir.path(), key);
        assert_eq!(times, want.timestamps, "{}", key.escape_ascii());
        assert_eq!(values, want.values, "{}", key.escape_ascii());
    }
    // Blocks hold at most 1000 values.
    for (_, p) in tsm_paths(dir.path()).expect("ls") {
        let r = TsmReader::open(&p).expect("open");
        for (k, e) in r.blocks() {
            assert!(
                tsmdb_encoding::block_count(r.block(k.key, &e).expect("block")).expect("count")
                    <= 1000
            );
        }
    }
    cache.commit(&snapshot).expect("commit");
}

#[test]
fn interrupted_snapshot_is_rolled_forward_or_dropped() {
    for (step, survives) in [
        (Step::Staged, false),
        (Step::Committed, true),
        (Step::Renamed(0), true),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = filled_cache();
        let snapshot = cache.snapshot().expect("snapshot");
        let fp: tsmdb_compactor::Failpoint = Arc::new(move |s| s == step);
        let compactor = Compactor::new(CompactorConfig {
            max_file_size: 2 << 10,
            throughput: 0,
            failpoint: Some(fp),
            ..CompactorConfig::default()
        });
        let err = compactor
            .write_snapshot(dir.path(), 1, &snapshot)
            .expect_err("stopped");
        assert!(matches!(err, Error::Injected(_)));
        cleanup_dir(dir.path()).expect("cleanup");
        let files = tsm_paths(dir.path()).expect("ls");
        if survives {
            let (times, _) = read_file_set(dir.path(), b"m,h=b#!~#f");
            assert_eq!(times.len(), 2500, "{step:?}");
        } else {
            assert!(files.is_empty(), "{step:?}: {files:?}");
        }
    }
}

#[test]
fn empty_snapshot_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = Cache::new(CacheConfig::default());
    let snapshot = cache.snapshot().expect("snapshot");
    let report = Compactor::default()
        .write_snapshot(dir.path(), 1, &snapshot)
        .expect("write");
    assert!(report.outputs.is_empty());
    assert!(std::fs::read_dir(dir.path()).expect("ls").next().is_none());
}
