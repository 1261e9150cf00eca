//! Bulk load (`Engine::bulk_load`): same reads as the WAL path, newest-wins ordering against the
//! WAL and cache, and crash safety (injected failpoints and a killed child process).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use proptest::prelude::*;
use tsmdb_encoding::{Column, ColumnRef, StringColumn};
use tsmdb_engine::{BulkStep, Engine, FieldValue, Options, Point, Select, SeriesValues};

fn options() -> Options {
    // Shards of 1000 ns, so small timestamps spread a load over several shards.
    Options::default()
        .background(false)
        .shard_duration(Duration::from_nanos(1000))
}

/// One key's data: series key, field, timestamps (strictly increasing), values.
type KeyData = (String, String, Vec<i64>, Column);

fn value_at(c: &Column, i: usize) -> FieldValue {
    match c {
        Column::Float(v) => FieldValue::Float(v[i]),
        Column::Integer(v) => FieldValue::Integer(v[i]),
        Column::Unsigned(v) => FieldValue::Unsigned(v[i]),
        Column::Boolean(v) => FieldValue::Boolean(v[i]),
        Column::String(v) => FieldValue::String(v.get(i).unwrap().to_vec()),
    }
}

fn write_via_wal(engine: &Engine, data: &[KeyData]) {
    let mut points = Vec::new();
    for (series, field, ts, values) in data {
        let (m, tags) = tsmdb_engine::parse_series_key(series.as_bytes()).unwrap();
        let tags: Vec<(Vec<u8>, Vec<u8>)> =
            tags.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
        for (i, &t) in ts.iter().enumerate() {
            points.push(Point {
                measurement: m.to_vec(),
                tags: tags.clone(),
                fields: vec![(field.as_bytes().to_vec(), value_at(values, i))],
                time: t,
            });
        }
    }
    let s = engine.write_points("db", &points).unwrap();
    assert!(s.is_complete(), "{:?}", s.rejected);
}

fn write_bulk(engine: &Engine, data: &[KeyData]) -> tsmdb_engine::BulkSummary {
    let mut load = engine.bulk_load("db").unwrap();
    for (series, field, ts, values) in data {
        // In pieces of at most 3 values, as a generator hands out blocks.
        for start in (0..ts.len()).step_by(3) {
            let end = (start + 3).min(ts.len());
            load.write(
                series.as_bytes(),
                field.as_bytes(),
                &ts[start..end],
                values.as_ref().slice(start..end),
            )
            .unwrap();
        }
    }
    load.commit().unwrap()
}

fn read_all(engine: &Engine) -> Vec<SeriesValues> {
    let mut out = Vec::new();
    for m in engine.measurements("db").unwrap() {
        out.extend(engine.select("db", &Select::all(m)).unwrap());
    }
    out
}

fn open(dir: &Path) -> Engine {
    let e = Engine::open(dir, options()).unwrap();
    e.create_database("db", None).unwrap();
    e
}

/// Series keys chosen so that (series key, field) order and composite-key byte order disagree
/// (`!` sorts before `#`), which makes a load start new files.
fn series_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("cpu,host=a".to_string()),
        Just("cpu,host=a!".to_string()),
        Just("cpu,host=ab".to_string()),
        Just("cpu,dc=x,host=a".to_string()),
        Just(r"disk\ io,path=/a\,b".to_string()),
        Just("mem".to_string()),
    ]
}

fn column_for(field: &str, values: &[i64]) -> Column {
    match field {
        "f" => Column::Float(values.iter().map(|&v| v as f64 / 4.0).collect()),
        "i" => Column::Integer(values.to_vec()),
        "u" => Column::Unsigned(values.iter().map(|&v| v.unsigned_abs()).collect()),
        "b" => Column::Boolean(values.iter().map(|&v| v % 2 == 0).collect()),
        _ => {
            let mut s = StringColumn::default();
            for v in values {
                s.push(format!("s{v}").as_bytes());
            }
            Column::String(s)
        }
    }
}

fn data_strategy() -> impl Strategy<Value = Vec<KeyData>> {
    proptest::collection::vec(
        (
            series_strategy(),
            prop_oneof![Just("f"), Just("i"), Just("u"), Just("b"), Just("s")],
            proptest::collection::btree_map(0i64..4000, -50i64..50, 1..12),
        ),
        1..10,
    )
    .prop_map(|keys| {
        keys.into_iter()
            .map(|(series, field, points)| {
                let ts: Vec<i64> = points.keys().copied().collect();
                let vs: Vec<i64> = points.values().copied().collect();
                (series, field.to_string(), ts, column_for(field, &vs))
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any keys in any order (a key may repeat, also with earlier times): a bulk load reads
    /// back exactly as the same values written through the WAL, before and after a reopen and
    /// after a full compaction.
    #[test]
    fn bulk_load_reads_like_the_wal_path(data in data_strategy()) {
        let wal_dir = tempfile::tempdir().unwrap();
        let bulk_dir = tempfile::tempdir().unwrap();
        let via_wal = open(wal_dir.path());
        write_via_wal(&via_wal, &data);
        let expected = read_all(&via_wal);

        let bulk = open(bulk_dir.path());
        let summary = write_bulk(&bulk, &data);
        prop_assert_eq!(summary.values, data.iter().map(|d| d.2.len() as u64).sum::<u64>());
        prop_assert_eq!(&read_all(&bulk), &expected);
        prop_assert_eq!(bulk.stats().wal_bytes, 0);
        prop_assert_eq!(bulk.stats().values_written, summary.values);
        drop(bulk);
        let bulk = open(bulk_dir.path());
        prop_assert_eq!(&read_all(&bulk), &expected);
        bulk.compact_all(true).unwrap();
        prop_assert_eq!(&read_all(&bulk), &expected);
        prop_assert_eq!(
            bulk.series_keys("db", b"cpu", &tsmdb_engine::Expr::all()).unwrap(),
            via_wal.series_keys("db", b"cpu", &tsmdb_engine::Expr::all()).unwrap()
        );
    }
}

fn ints(series: &str, ts: &[i64], vs: &[i64]) -> KeyData {
    (
        series.to_string(),
        "v".to_string(),
        ts.to_vec(),
        Column::Integer(vs.to_vec()),
    )
}

fn values_of(engine: &Engine) -> Vec<(i64, i64)> {
    let s = engine
        .select("db", &Select::all("m").fields(["v"]))
        .unwrap();
    let Column::Integer(v) = &s[0].values else {
        panic!("type")
    };
    s[0].timestamps
        .iter()
        .copied()
        .zip(v.iter().copied())
        .collect()
}

#[test]
fn bulk_values_beat_earlier_writes_and_lose_to_later_ones() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    // Earlier: one value in a TSM file, one still in the cache.
    write_via_wal(&engine, &[ints("m,h=a", &[1], &[10])]);
    engine.snapshot_all().unwrap();
    write_via_wal(&engine, &[ints("m,h=a", &[2], &[20])]);
    write_bulk(&engine, &[ints("m,h=a", &[1, 2, 3], &[100, 200, 300])]);
    // Later: overwrites time 3.
    write_via_wal(&engine, &[ints("m,h=a", &[3], &[3000])]);
    let want = vec![(1, 100), (2, 200), (3, 3000)];
    assert_eq!(values_of(&engine), want);
    drop(engine);
    let engine = open(dir.path());
    assert_eq!(values_of(&engine), want);
    engine.snapshot_all().unwrap();
    engine.compact_all(true).unwrap();
    assert_eq!(values_of(&engine), want);
}

#[test]
fn type_conflicts_and_bad_input_are_errors_that_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    write_via_wal(&engine, &[ints("m,h=a", &[1], &[10])]);
    let mut load = engine.bulk_load("db").unwrap();
    let err = load
        .write(b"m,h=b", b"v", &[5], ColumnRef::Float(&[1.0]))
        .unwrap_err();
    assert!(err.to_string().contains("field type conflict"), "{err}");
    for (series, field, ts, v) in [
        (&b"m,h=b"[..], &b"v"[..], &[2i64, 2][..], &[1i64, 2][..]),
        (b"m,h", b"v", &[1], &[1]),
        (b"m,time=1", b"v", &[1], &[1]),
        (b"m", b"time", &[1], &[1]),
        (b"m", b"a#!~#b", &[1], &[1]),
        (b"m", b"v", &[i64::MIN], &[1]),
        (b"m", b"v", &[1, 2], &[1]),
    ] {
        assert!(
            load.write(series, field, ts, ColumnRef::Integer(v))
                .is_err(),
            "{series:?} {field:?} {ts:?}"
        );
    }
    assert!(
        load.write(b"m", b"f", &[1], ColumnRef::Float(&[f64::NAN]))
            .is_err()
    );
    let s = load.commit().unwrap();
    assert_eq!((s.values, s.files), (0, 0));
    assert_eq!(values_of(&engine), vec![(1, 10)]);
}

/// Every file name in the tree under `dir`, relative to it.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// 1000 values of 20 series, all in the shard [0, 1000): a commit is atomic per shard.
fn bulk_data() -> Vec<KeyData> {
    (0..20)
        .map(|h| {
            let ts: Vec<i64> = (0..50).map(|i| i * 20).collect();
            let vs: Vec<i64> = (0..50).map(|i| h * 1000 + i).collect();
            ints(&format!("m,h=h{h:02}"), &ts, &vs)
        })
        .collect()
}

fn load_with_failpoint(dir: &Path, fail: tsmdb_engine::BulkFailpoint) -> bool {
    let engine = open(dir);
    let mut load = engine.bulk_load("db").unwrap();
    load.set_failpoint(fail);
    for (series, field, ts, values) in bulk_data() {
        load.write(series.as_bytes(), field.as_bytes(), &ts, values.as_ref())
            .unwrap();
    }
    load.commit().is_ok()
}

fn count_values(engine: &Engine) -> usize {
    read_all(engine).iter().map(|s| s.timestamps.len()).sum()
}

#[test]
fn a_crash_before_the_journal_leaves_nothing_and_after_it_everything() {
    let cases: [(tsmdb_engine::BulkFailpoint, usize); 4] = [
        (|s| s == BulkStep::Staged, 0),
        (|s| s == BulkStep::Committed, 1000),
        (|s| s == BulkStep::Installed, 1000),
        (|_| false, 1000),
    ];
    for (i, (fail, want)) in cases.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let ok = load_with_failpoint(dir.path(), fail);
        assert_eq!(ok, i == 3);
        let engine = open(dir.path());
        assert_eq!(count_values(&engine), want, "case {i}");
        let series = engine
            .series_keys("db", b"m", &tsmdb_engine::Expr::all())
            .unwrap();
        assert_eq!(series.len(), if want == 0 { 0 } else { 20 }, "case {i}");
        drop(engine);
        let left: Vec<String> = files(dir.path())
            .into_iter()
            .filter(|f| f.ends_with(".tmp") || f.ends_with(".compaction"))
            .collect();
        assert!(left.is_empty(), "case {i}: {left:?}");
    }
}

#[test]
fn a_dropped_load_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let mut load = engine.bulk_load("db").unwrap();
    for (series, field, ts, values) in bulk_data() {
        load.write(series.as_bytes(), field.as_bytes(), &ts, values.as_ref())
            .unwrap();
    }
    drop(load);
    // The shard directory the load created stays, with no TSM or temporary file in it.
    let left: Vec<String> = files(dir.path())
        .into_iter()
        .filter(|f| f.contains(".tsm") || f.contains(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(count_values(&engine), 0);
}

const CHILD_DIR: &str = "TSMDB_BULK_CHILD_DIR";
const CHILD_STEP: &str = "TSMDB_BULK_CHILD_STEP";

/// The child's failpoint: announces each step and, at the step named by the parent, waits on
/// standard input (which the parent never writes) until it is killed.
fn announce_and_hold(step: BulkStep) -> bool {
    let mut out = std::io::stdout().lock();
    writeln!(out, "at {step:?}").unwrap();
    out.flush().unwrap();
    if std::env::var(CHILD_STEP).is_ok_and(|s| s == format!("{step:?}")) {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    }
    false
}

/// The child: one bulk load with `announce_and_hold` as failpoint. Not a test on its own
/// (ignored); the parent runs it in a separate process.
#[test]
#[ignore = "run as a child process by a_load_killed_at_each_step_is_all_or_nothing"]
fn bulk_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let engine = open(Path::new(&dir));
    let mut load = engine.bulk_load("db").unwrap();
    load.set_failpoint(announce_and_hold);
    for (series, field, ts, values) in bulk_data() {
        load.write(series.as_bytes(), field.as_bytes(), &ts, values.as_ref())
            .unwrap();
    }
    load.commit().unwrap();
    println!("done");
}

#[test]
fn a_load_killed_at_each_step_is_all_or_nothing() {
    let exe = std::env::current_exe().unwrap();
    for (step, want) in [
        (BulkStep::Staged, 0),
        (BulkStep::Committed, 1000),
        (BulkStep::Installed, 1000),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(&exe)
            .args(["--exact", "bulk_child", "--ignored", "--nocapture"])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_STEP, format!("{step:?}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let wanted = format!("at {step:?}");
        let reached = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .map_while(Result::ok)
            .any(|line| line == wanted);
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(reached, "the child never reached {step:?}");
        let engine = open(dir.path());
        assert_eq!(count_values(&engine), want, "killed at {step:?}");
        let series = engine
            .series_keys("db", b"m", &tsmdb_engine::Expr::all())
            .unwrap();
        assert_eq!(series.len(), want / 50, "killed at {step:?}");
    }
}

#[test]
fn blocks_hold_the_engines_max_points_per_block() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), options().max_points_per_block(4)).unwrap();
    engine.create_database("db", None).unwrap();
    let ts: Vec<i64> = (0..10).collect();
    let mut load = engine.bulk_load("db").unwrap();
    load.write(b"m,h=a", b"v", &ts, ColumnRef::Integer(&ts))
        .unwrap();
    load.commit().unwrap();
    let tsm: Vec<String> = files(dir.path())
        .into_iter()
        .filter(|f| f.ends_with(".tsm"))
        .collect();
    assert_eq!(tsm.len(), 1);
    let reader = tsmdb_tsm_file::TsmReader::open(dir.path().join(&tsm[0])).unwrap();
    assert_eq!(
        reader.blocks().count(),
        3,
        "10 values in blocks of at most 4"
    );
    assert_eq!(values_of(&engine).len(), 10);
}
