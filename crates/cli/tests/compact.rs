//! `tsmdb compact` end to end: small TSM files written with tsm-file, compacted by the binary,
//! values checked through the library.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use tsmdb_encoding::{Column, ColumnRef};
use tsmdb_tsm_file::{FileId, TimeRange, TsmReader, TsmWriter, Values};

const KEY: &[u8] = b"cpu,host=a#!~#usage";

/// Generation `g`: times g*100 .. g*100+150 (overlapping the next), values time*10+g.
fn write_generation(dir: &Path, g: u32) {
    let mut w = TsmWriter::create(dir.join(FileId::new(g, 1).tsm_name())).expect("create");
    let times: Vec<i64> = (0..150).map(|i| i64::from(g) * 100 + i).collect();
    let values: Vec<i64> = times.iter().map(|t| t * 10 + i64::from(g)).collect();
    let _ = w
        .write_values(KEY, &times, ColumnRef::Integer(&values))
        .expect("write");
    w.finish().expect("finish");
}

fn read_all(dir: &Path) -> BTreeMap<i64, i64> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("ls")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "tsm"))
        .collect();
    paths.sort();
    let mut out = BTreeMap::new();
    let mut values = Values::new();
    for p in paths {
        TsmReader::open(&p)
            .expect("open")
            .read_values(KEY, TimeRange::ALL, &mut values)
            .expect("read");
        let Column::Integer(v) = &values.values else {
            panic!("integers")
        };
        out.extend(values.timestamps.iter().copied().zip(v.iter().copied()));
    }
    out
}

fn tsmdb(args: &[&str], db: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tsmdb"))
        .args(args)
        .env("TSMDB_DB", db)
        .output()
        .expect("run tsmdb")
}

#[test]
fn compacts_every_shard_directory_under_db() {
    let db = tempfile::tempdir().expect("tempdir");
    let shards = [
        db.path().join("db0/autogen/1"),
        db.path().join("db0/autogen/2"),
    ];
    for (n, shard) in shards.iter().enumerate() {
        std::fs::create_dir_all(shard).expect("mkdir");
        for g in 1..=(3 + n as u32) {
            write_generation(shard, g);
        }
    }
    let before: Vec<_> = shards.iter().map(|s| read_all(s)).collect();
    // Newest generation wins on overlaps: t=250 comes from generation 2.
    assert_eq!(before[0].get(&250), Some(&2502));

    let out = tsmdb(&["compact", "--full"], db.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("3 files"), "{stdout}");
    assert!(stdout.contains("-> 1 files"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("total:")), "{stdout}");
    for (shard, expected) in shards.iter().zip(&before) {
        assert_eq!(&read_all(shard), expected);
        let names: Vec<String> = std::fs::read_dir(shard)
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
    let last = FileId::new(4, 2).tsm_name();
    assert!(shards[1].join(last).exists());
}

#[test]
fn explicit_directory_without_full_runs_level_plans() {
    let dir = tempfile::tempdir().expect("tempdir");
    for g in 1..=9 {
        write_generation(dir.path(), g);
    }
    let before = read_all(dir.path());
    let out = tsmdb(
        &["compact", &dir.path().display().to_string()],
        Path::new("/nonexistent"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Level 1 takes generations 1–8 into 8-2; generation 9 waits for more company.
    assert_eq!(read_all(dir.path()), before);
    assert!(dir.path().join(FileId::new(8, 2).tsm_name()).exists());
    assert!(dir.path().join(FileId::new(9, 1).tsm_name()).exists());
    assert!(!dir.path().join(FileId::new(1, 1).tsm_name()).exists());
}

#[test]
fn missing_directory_is_an_error() {
    let out = tsmdb(
        &["compact", "/definitely/not/here"],
        Path::new("/nonexistent"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a directory"));
}
