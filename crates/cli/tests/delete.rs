//! `tsmdb delete` end to end through the binary.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use tsmdb_engine::{Engine, Options, Select};

fn tsmdb(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tsmdb"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("TSMDB_DB")
        .output()
        .expect("run tsmdb")
}

/// Four hosts, one value a minute for an hour from 2020-01-01T00:00:00Z.
fn setup(db: &Path) {
    let mut lp = String::new();
    for host in 0..4 {
        for minute in 0..60i64 {
            let t = 1_577_836_800_000_000_000 + minute * 60_000_000_000;
            lp += &format!("cpu,host=h{host},region=r{} v={minute} {t}\n", host % 2);
        }
    }
    let file = db.with_extension("lp");
    std::fs::write(&file, lp).unwrap();
    let o = tsmdb(db, &["write", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
}

/// Values left per host, and the first and last time of each.
fn left(db: &Path) -> BTreeMap<String, (usize, i64, i64)> {
    let engine = Engine::open(db, Options::default()).unwrap();
    let mut out = BTreeMap::new();
    for s in engine.select("db", &Select::all("cpu")).unwrap() {
        let host = s.tags.iter().find(|(k, _)| k == b"host").unwrap().1.clone();
        let ts = &s.timestamps;
        out.insert(
            String::from_utf8(host).unwrap(),
            (ts.len(), ts[0], ts[ts.len() - 1]),
        );
    }
    engine.close().unwrap();
    out
}

#[test]
fn deletes_the_matching_series_in_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data");
    setup(&db);
    let o = tsmdb(
        &db,
        &[
            "delete",
            "--measurement",
            "cpu",
            "--where",
            "region = 'r1'",
            "--start",
            "2020-01-01T00:30:00Z",
            "--end",
            "1577839800000000000", // 00:50
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("2 series touched"), "{err}");
    let t0 = 1_577_836_800_000_000_000i64;
    let last = t0 + 59 * 60_000_000_000;
    let left = left(&db);
    assert_eq!(left["h0"], (60, t0, last));
    assert_eq!(left["h2"], (60, t0, last));
    // Minutes 30..50 are gone from the r1 hosts.
    assert_eq!(left["h1"], (40, t0, last));
    assert_eq!(left["h3"], (40, t0, last));
}

#[test]
fn without_a_condition_every_value_of_the_measurement_goes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data");
    setup(&db);
    let o = tsmdb(&db, &["delete", "--measurement", "cpu"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(left(&db).is_empty());
}

#[test]
fn bad_times_and_unknown_databases_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data");
    setup(&db);
    let o = tsmdb(&db, &["delete", "--measurement", "cpu", "--start", "soon"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8(o.stderr).unwrap().contains("--start"));
    let o = tsmdb(
        &db,
        &["delete", "--database", "nope", "--measurement", "cpu"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(left(&db).len(), 4);
}
