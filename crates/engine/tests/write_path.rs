//! The write path's rules: retention refusals, series keys that must round-trip, reused batches
//! that must notice deletes and dropped measurements, and the cache limit under concurrency.

use std::time::Duration;

use tsmdb_engine::{Engine, Expr, FieldValue, Options, Point, Select, parse_series_key};
use tsmdb_lineproto::Precision;

fn manual() -> Options {
    Options::default().background(false)
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

fn times(engine: &Engine, m: &str) -> Vec<i64> {
    engine
        .select("db", &Select::all(m))
        .unwrap()
        .into_iter()
        .flat_map(|s| s.timestamps)
        .collect()
}

#[test]
fn points_older_than_the_retention_are_refused_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(dir.path(), manual()).unwrap();
    e.create_database("db", Some(Duration::from_secs(3600)))
        .unwrap();
    let now = now_ns();
    let hour = 3_600_000_000_000i64;
    let lp = format!(
        "m v=1 {}\nm v=2 {}\nm v=3 {}\n",
        now - 2 * hour,
        now - hour / 2,
        now - 3 * hour
    );
    let s = e
        .write_lp("db", lp.as_bytes(), Precision::Nanosecond)
        .unwrap();
    assert_eq!((s.points, s.values), (1, 1));
    let refused: Vec<(u64, &str)> = s
        .rejected
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    assert_eq!(
        refused,
        [
            (1, "points beyond retention policy"),
            (3, "points beyond retention policy")
        ]
    );
    assert_eq!(times(&e, "m"), [now - hour / 2]);

    // Typed points follow the same rule, and without a retention everything is kept.
    let old = Point::new("t", now - 2 * hour).field("v", FieldValue::Integer(1));
    let s = e.write_points("db", std::slice::from_ref(&old)).unwrap();
    assert_eq!(s.rejected.len(), 1);
    e.set_retention("db", None).unwrap();
    let s = e.write_points("db", &[old]).unwrap();
    assert!(s.is_complete());
    assert_eq!(times(&e, "t"), [now - 2 * hour]);
}

#[test]
fn typed_names_ending_in_a_backslash_are_refused_and_others_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(dir.path(), manual()).unwrap();
    e.create_database("db", None).unwrap();
    let v = FieldValue::Float(1.0);
    let points = [
        // Would make `m,a=x\,b=y`, which splits back as one tag `a` = `x,b=y`.
        Point::new("m", 1)
            .tag("a", "x\\")
            .tag("b", "y")
            .field("v", v.clone()),
        Point::new("m", 2).tag("a\\", "x").field("v", v.clone()),
        Point::new("m\\", 3).tag("a", "x").field("v", v.clone()),
        // Backslashes elsewhere are fine.
        Point::new("m", 4)
            .tag("a", "x\\y")
            .tag("b", "c,d=e f")
            .field("v", v.clone()),
    ];
    let s = e.write_points("db", &points).unwrap();
    let lines: Vec<u64> = s.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, [1, 2, 3], "{:?}", s.rejected);
    assert!(s.rejected.iter().all(|r| r.reason.contains("backslash")));
    let series = e.select("db", &Select::all("m")).unwrap();
    assert_eq!(series.len(), 1);
    let (m, tags) = parse_series_key(&series[0].series_key).unwrap();
    assert_eq!(&*m, b"m");
    let tags: Vec<(&[u8], &[u8])> = tags.iter().map(|(k, v)| (&**k, &**v)).collect();
    assert_eq!(tags, [(&b"a"[..], &b"x\\y"[..]), (b"b", b"c,d=e f")]);
    assert_eq!(series[0].timestamps, [4]);
}

#[test]
fn a_long_write_notices_series_dropped_while_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(dir.path(), manual()).unwrap();
    e.create_database("db", None).unwrap();
    let lp: String = (1..=60).map(|t| format!("m,h=a v={t} {t}\n")).collect();
    let mut batches = 0;
    let total = e
        .write_reader("db", lp.as_bytes(), Precision::Nanosecond, 1, |_| {
            batches += 1;
            if batches == 5 {
                // The writer's batches remember that `m,h=a` is indexed; after this they must
                // insert it again, or the values written next would be invisible.
                e.drop_series("db", b"m", &Expr::all()).unwrap();
            }
        })
        .unwrap();
    assert_eq!(total.values, 60);
    let got = times(&e, "m");
    assert!(got.contains(&60), "{got:?}");
    assert!(!got.contains(&1), "{got:?}");
    assert_eq!(e.stats().series, 1);
}

#[test]
fn a_long_write_notices_a_measurement_dropped_while_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(dir.path(), manual()).unwrap();
    e.create_database("db", None).unwrap();
    let lp: String = (1..=60).map(|t| format!("m v={t} {t}\n")).collect();
    let mut batches = 0;
    e.write_reader("db", lp.as_bytes(), Precision::Nanosecond, 1, |_| {
        batches += 1;
        if batches == 5 {
            // This forgets that `v` is a float; the writer's later batches must record it
            // again rather than trust what they remembered.
            e.drop_measurement("db", b"m").unwrap();
        }
    })
    .unwrap();
    assert!(times(&e, "m").contains(&60));
    let s = e
        .write_lp("db", b"m v=1i 1000", Precision::Nanosecond)
        .unwrap();
    assert_eq!(s.rejected.len(), 1, "{s:?}");
    assert!(
        s.rejected[0].reason.starts_with("field type conflict"),
        "{s:?}"
    );
}

#[test]
fn concurrent_writers_never_take_the_cache_over_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let limit = 40_000;
    let opts = manual().cache_max_size(limit).cache_snapshot_size(u64::MAX);
    let e = Engine::open(
        dir.path(),
        Options {
            cache_full_wait: Duration::from_millis(1),
            ..opts
        },
    )
    .unwrap();
    e.create_database("db", None).unwrap();
    std::thread::scope(|s| {
        for w in 0..4 {
            let e = &e;
            s.spawn(move || {
                for b in 0..40 {
                    let lp: String = (0..20)
                        .map(|i| format!("m,w={w} v={i} {}\n", b * 100 + i))
                        .collect();
                    // Refusals (cache full) are expected; overshooting is not.
                    let _ = e.write_lp("db", lp.as_bytes(), Precision::Nanosecond);
                    let size = e.stats().cache_bytes;
                    assert!(size <= limit, "cache at {size} > {limit}");
                }
            });
        }
    });
    assert!(e.stats().cache_bytes <= limit);
    assert!(e.stats().write_errors > 0, "the limit was never reached");
}
