//! Write, read, recover, snapshot, compact, delete, retain: the engine's paths end to end.

use std::time::Duration;

use tsmdb_encoding::Column;
use tsmdb_engine::{Engine, Error, Expr, FieldValue, Options, Point, Select};
use tsmdb_lineproto::Precision;

fn manual() -> Options {
    Options::default().background(false)
}

fn floats(engine: &Engine, db: &str, m: &str, field: &str) -> Vec<(String, Vec<(i64, f64)>)> {
    engine
        .select(db, &Select::all(m).fields([field]))
        .unwrap()
        .into_iter()
        .map(|s| {
            let Column::Float(v) = s.values else {
                panic!("not floats: {:?}", s.values)
            };
            (
                String::from_utf8(s.series_key).unwrap(),
                s.timestamps.into_iter().zip(v).collect(),
            )
        })
        .collect()
}

#[test]
fn writes_survive_reopen_snapshot_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let lp = b"cpu,host=b,region=eu usage=1 100\ncpu,host=a usage=2 100\ncpu,host=a usage=3 200\ncpu,host=a usage=4 100\n";
    {
        let e = Engine::open(dir.path(), manual()).unwrap();
        e.create_database("db", None).unwrap();
        let s = e.write_lp("db", lp, Precision::Nanosecond).unwrap();
        assert_eq!((s.points, s.values, s.series_created), (4, 4, 2));
        assert!(s.is_complete());
    }
    // Reopen: everything comes back from the WAL; the duplicate at t=100 keeps the last write.
    let want = vec![
        ("cpu,host=a".to_string(), vec![(100, 4.0), (200, 3.0)]),
        ("cpu,host=b,region=eu".to_string(), vec![(100, 1.0)]),
    ];
    let e = Engine::open(dir.path(), manual()).unwrap();
    assert_eq!(floats(&e, "db", "cpu", "usage"), want);
    assert_eq!(e.snapshot_all().unwrap(), 1);
    assert_eq!(floats(&e, "db", "cpu", "usage"), want);
    let stats = e.stats();
    assert_eq!((stats.tsm_files, stats.cache_bytes), (1, 0));
    // More snapshots, then compaction merges them; newer values win.
    for i in 0..3 {
        e.write_lp(
            "db",
            format!("cpu,host=a usage={} 200\n", 10 + i).as_bytes(),
            Precision::Nanosecond,
        )
        .unwrap();
        e.snapshot_all().unwrap();
    }
    assert_eq!(e.stats().tsm_files, 4);
    e.compact_all(true).unwrap();
    assert_eq!(e.stats().tsm_files, 1);
    let got = floats(&e, "db", "cpu", "usage");
    assert_eq!(got[0].1, vec![(100, 4.0), (200, 12.0)]);
    drop(e);
    let e = Engine::open(dir.path(), manual()).unwrap();
    assert_eq!(
        floats(&e, "db", "cpu", "usage")[0].1,
        vec![(100, 4.0), (200, 12.0)]
    );
    assert_eq!(e.stats().wal_bytes, 0, "snapshotted segments are removed");
}

#[test]
fn refused_points_are_explicit_and_never_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(dir.path(), manual()).unwrap();
    e.create_database("db", None).unwrap();
    let lp = b"m f=1 1\nm f=1i 2\nbad line\nm,time=x f=2 3\nm time=4 4\nm f=5 5\n";
    let s = e.write_lp("db", lp, Precision::Nanosecond).unwrap();
    assert_eq!(s.points, 2);
    let reasons: Vec<(u64, &str)> = s
        .rejected
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert_eq!(reasons[0].0, 2);
    assert!(
        reasons[0].1.contains("field type conflict"),
        "{}",
        reasons[0].1
    );
    assert!(
        reasons[0]
            .1
            .contains("is type integer, already exists as type float"),
        "{}",
        reasons[0].1
    );
    assert_eq!(
        reasons[1],
        (3, "unable to parse 'bad line': invalid field format")
    );
    assert!(reasons[2].1.contains("invalid tag key"));
    assert!(reasons[3].1.contains("invalid field name"));
    drop(e);
    let e = Engine::open(dir.path(), manual()).unwrap();
    assert_eq!(
        floats(&e, "db", "m", "f"),
        vec![("m".to_string(), vec![(1, 1.0), (5, 5.0)])]
    );
    assert_eq!(e.field_keys("db", b"m").unwrap().len(), 1);
}

#[test]
fn typed_points_and_every_type_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(dir.path(), manual()).unwrap();
    e.create_database("db", None).unwrap();
    let p = Point::new("m", 7)
        .tag("t", "x y")
        .field("f", FieldValue::Float(-0.0))
        .field("i", FieldValue::Integer(i64::MIN))
        .field("u", FieldValue::Unsigned(u64::MAX))
        .field("b", FieldValue::Boolean(true))
        .field("s", FieldValue::String(b"\xffbytes".to_vec()));
    let nan = Point::new("m", 8).field("f", FieldValue::Float(f64::NAN));
    let s = e.write_points("db", &[p, nan]).unwrap();
    assert_eq!((s.points, s.values, s.rejected.len()), (1, 5, 1));
    e.snapshot_all().unwrap();
    let all = e.select("db", &Select::all("m")).unwrap();
    let by_field: Vec<(String, Column)> = all
        .into_iter()
        .map(|s| (String::from_utf8(s.field).unwrap(), s.values))
        .collect();
    assert_eq!(by_field[0], ("b".into(), Column::Boolean(vec![true])));
    assert!(matches!(&by_field[1].1, Column::Float(v) if v[0].to_bits() == (-0.0f64).to_bits()));
    assert_eq!(by_field[2], ("i".into(), Column::Integer(vec![i64::MIN])));
    assert_eq!(by_field[4], ("u".into(), Column::Unsigned(vec![u64::MAX])));
    let Column::String(s) = &by_field[3].1 else {
        panic!()
    };
    assert_eq!(s.get(0), Some(&b"\xffbytes"[..]));
    assert_eq!(
        e.series_keys("db", b"m", &Expr::all()).unwrap(),
        vec![b"m,t=x\\ y".to_vec()]
    );
}

#[test]
fn deletes_stay_deleted_across_snapshot_reopen_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let lp: String = (0..20)
        .map(|i| format!("cpu,host=h{} v={i} {}\n", i % 2, i * 10))
        .collect();
    {
        let e = Engine::open(dir.path(), manual()).unwrap();
        e.create_database("db", None).unwrap();
        e.write_lp("db", lp.as_bytes(), Precision::Nanosecond)
            .unwrap();
        e.snapshot_all().unwrap();
        e.write_lp("db", b"cpu,host=h0 v=100 50\n", Precision::Nanosecond)
            .unwrap();
        // Delete h0's values in [40, 120] (in a file and in the cache).
        let n = e
            .delete("db", b"cpu", &Expr::eq("host", "h0"), 40, 120)
            .unwrap();
        assert_eq!(n, 1);
        // Deleting series that do not exist returns at once and touches nothing.
        assert_eq!(
            e.delete("db", b"cpu", &Expr::eq("host", "nope"), i64::MIN, i64::MAX)
                .unwrap(),
            0
        );
    }
    let check = |e: &Engine| {
        let got = floats(e, "db", "cpu", "v");
        let h0: Vec<i64> = got[0].1.iter().map(|p| p.0).collect();
        assert_eq!(h0, vec![0, 20, 140, 160, 180]);
        assert_eq!(got[1].1.len(), 10);
    };
    let e = Engine::open(dir.path(), manual()).unwrap();
    check(&e);
    e.snapshot_all().unwrap();
    e.compact_all(true).unwrap();
    check(&e);
    drop(e);
    let e = Engine::open(dir.path(), manual()).unwrap();
    check(&e);
    e.drop_measurement("db", b"cpu").unwrap();
    assert!(e.select("db", &Select::all("cpu")).unwrap().is_empty());
    assert!(e.measurements("db").unwrap().is_empty());
}

#[test]
fn shards_split_time_and_retention_removes_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let day = 24 * 3600 * 1_000_000_000i64;
    let e = Engine::open(
        dir.path(),
        manual().shard_duration(Duration::from_secs(24 * 3600)),
    )
    .unwrap();
    e.create_database("db", None).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    let lp = format!(
        "m v=1 {}\nm v=2 {}\nm v=3 {}\n",
        now - 10 * day,
        now - 5 * day,
        now
    );
    e.write_lp("db", lp.as_bytes(), Precision::Nanosecond)
        .unwrap();
    assert_eq!(e.stats().shards, 3);
    e.set_retention("db", Some(Duration::from_secs(7 * 24 * 3600)))
        .unwrap();
    assert_eq!(e.enforce_retention().unwrap(), 1);
    assert_eq!(floats(&e, "db", "m", "v")[0].1.len(), 2);
    drop(e);
    // Retention is persisted.
    let e = Engine::open(dir.path(), manual()).unwrap();
    assert_eq!(e.enforce_retention().unwrap(), 0);
    assert_eq!(e.stats().shards, 2);
}

#[test]
fn a_second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _e = Engine::open(dir.path(), manual()).unwrap();
    let err = Engine::open(dir.path(), manual()).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err}");
    assert!(err.to_string().contains("in use by another process"));
}

#[test]
fn a_damaged_tsm_file_is_set_aside_and_the_rest_opens() {
    let dir = tempfile::tempdir().unwrap();
    {
        let e = Engine::open(dir.path(), manual()).unwrap();
        e.create_database("db", None).unwrap();
        e.write_lp("db", b"m v=1 1\n", Precision::Nanosecond)
            .unwrap();
        e.snapshot_all().unwrap();
        e.write_lp("db", b"m v=2 2\n", Precision::Nanosecond)
            .unwrap();
        e.snapshot_all().unwrap();
    }
    let shard = std::fs::read_dir(dir.path().join("db"))
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("shard_"))
        .unwrap()
        .path();
    let mut tsm: Vec<_> = std::fs::read_dir(&shard)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "tsm"))
        .collect();
    tsm.sort();
    std::fs::write(&tsm[0], b"garbage").unwrap();
    let e = Engine::open(dir.path(), manual()).unwrap();
    let report = e.open_report();
    assert_eq!(report.shards[0].bad_files.len(), 1, "{report:?}");
    assert_eq!(floats(&e, "db", "m", "v")[0].1, vec![(2, 2.0)]);
}

#[test]
fn cache_limit_refuses_writes_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(dir.path(), manual().cache_max_size(2000)).unwrap();
    e.create_database("db", None).unwrap();
    let big: String = (0..200).map(|i| format!("m v={i} {i}\n")).collect();
    let err = e
        .write_lp("db", big.as_bytes(), Precision::Nanosecond)
        .unwrap_err();
    assert!(matches!(err, Error::CacheFull { .. }), "{err}");
    assert!(e.select("db", &Select::all("m")).unwrap().is_empty());
    assert_eq!(e.stats().write_errors, 1);
}

#[test]
fn a_line_without_timestamp_gets_the_time_of_the_write() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(dir.path(), manual()).unwrap();
    e.create_database("db", None).unwrap();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as i64
    };
    let before = now();
    e.write_lp("db", b"m v=1\n", Precision::Nanosecond).unwrap();
    let after = now();
    let t = floats(&e, "db", "m", "v")[0].1[0].0;
    assert!(before <= t && t <= after, "{before} <= {t} <= {after}");
}

#[test]
fn one_field_twice_with_two_types_refuses_only_that_point() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(dir.path(), manual()).unwrap();
    e.create_database("db", None).unwrap();
    let s = e
        .write_lp("db", b"m x=1i,x=2 1\nm y=1 2\n", Precision::Nanosecond)
        .unwrap();
    assert_eq!(s.points, 1);
    assert_eq!(s.rejected.len(), 1);
    assert!(
        s.rejected[0].reason.contains("field type conflict"),
        "{:?}",
        s.rejected
    );
    assert!(
        e.field_keys("db", b"m")
            .unwrap()
            .iter()
            .all(|(f, _)| f != b"x")
    );
}

#[test]
fn dropped_series_stay_dropped_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let e = Engine::open(dir.path(), manual()).unwrap();
        e.create_database("db", None).unwrap();
        e.write_lp("db", b"m,h=a v=1 1\nm,h=b v=2 1\n", Precision::Nanosecond)
            .unwrap();
        e.drop_series("db", b"m", &Expr::eq("h", "a")).unwrap();
        assert_eq!(
            e.series_keys("db", b"m", &Expr::all()).unwrap(),
            vec![b"m,h=b".to_vec()]
        );
    }
    let e = Engine::open(dir.path(), manual()).unwrap();
    assert_eq!(
        e.series_keys("db", b"m", &Expr::all()).unwrap(),
        vec![b"m,h=b".to_vec()]
    );
    assert_eq!(floats(&e, "db", "m", "v").len(), 1);
}
