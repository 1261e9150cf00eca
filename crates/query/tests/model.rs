//! Query results checked against answers computed independently, in this test, from the same
//! generated data (plain loops over a list of points; no engine, no query code).

use std::collections::BTreeMap;

use tsmdb_engine::{Engine, Options};
use tsmdb_lineproto::Precision;
use tsmdb_query::{Value, execute};

const MIN: i64 = 60_000_000_000;
const HOSTS: usize = 6;
const POINTS: i64 = 90;

/// (host, region, time, usage, count): a deterministic pseudo-random walk.
fn data() -> Vec<(String, &'static str, i64, f64, i64)> {
    let mut out = Vec::new();
    let mut x = 12345u64;
    for h in 0..HOSTS {
        let region = if h % 2 == 0 { "eu" } else { "us" };
        for i in 0..POINTS {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let usage = ((x >> 33) % 10_000) as f64 / 100.0;
            let count = ((x >> 20) % 50) as i64;
            out.push((
                format!("host_{h}"),
                region,
                i * 20_000_000_000,
                usage,
                count,
            ));
        }
    }
    out
}

fn engine_with_data() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(dir.path(), Options::default().background(false)).unwrap();
    e.create_database("db", None).unwrap();
    let lp: String = data()
        .iter()
        .map(|(h, r, t, u, c)| format!("cpu,hostname={h},region={r} usage={u:?},count={c}i {t}\n"))
        .collect();
    let s = e
        .write_lp("db", lp.as_bytes(), Precision::Nanosecond)
        .unwrap();
    assert!(s.is_complete());
    // Half the data in TSM files, half in the cache: reads must merge both.
    e.snapshot_all().unwrap();
    (dir, e)
}

fn run(e: &Engine, q: &str) -> Vec<tsmdb_query::Series> {
    let mut r = execute(e, "db", q, 10 * 3600 * 1_000_000_000).unwrap();
    assert_eq!(r.len(), 1);
    let r = r.remove(0);
    assert_eq!(r.error, None, "{q}");
    r.series
}

fn f(v: &Value) -> f64 {
    match v {
        Value::Float(x) => *x,
        Value::Integer(x) => *x as f64,
        other => panic!("not a number: {other:?}"),
    }
}

#[test]
fn single_groupby_max_per_minute_for_one_host() {
    let (_d, e) = engine_with_data();
    let series = run(
        &e,
        "SELECT max(usage) FROM cpu WHERE hostname = 'host_3' AND time >= 0 AND time < 30m GROUP BY time(1m)",
    );
    assert_eq!(series.len(), 1);
    let mut want: BTreeMap<i64, f64> = BTreeMap::new();
    for (h, _, t, u, _) in data() {
        if h == "host_3" && t < 30 * MIN {
            let w = want.entry(t / MIN * MIN).or_insert(f64::MIN);
            *w = w.max(u);
        }
    }
    let got: Vec<(i64, f64)> = series[0]
        .values
        .iter()
        .map(|r| {
            (
                match r[0] {
                    Value::Time(t) => t,
                    _ => panic!(),
                },
                f(&r[1]),
            )
        })
        .collect();
    assert_eq!(got, want.into_iter().collect::<Vec<_>>());
}

#[test]
fn double_groupby_mean_by_host_and_window() {
    let (_d, e) = engine_with_data();
    let series = run(
        &e,
        "SELECT mean(usage) FROM cpu WHERE time >= 0 AND time < 30m GROUP BY time(10m), hostname",
    );
    assert_eq!(series.len(), HOSTS);
    for s in &series {
        let host = &s.tags[0].1;
        let mut sums: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
        for (h, _, t, u, _) in data() {
            if &h == host && t < 30 * MIN {
                let e = sums.entry(t / (10 * MIN) * 10 * MIN).or_default();
                e.0 += u;
                e.1 += 1.0;
            }
        }
        assert_eq!(s.values.len(), sums.len());
        for (row, (t, (sum, n))) in s.values.iter().zip(sums) {
            assert_eq!(row[0], Value::Time(t));
            assert!((f(&row[1]) - sum / n).abs() < 1e-9);
        }
    }
}

#[test]
fn high_cpu_filters_rows_by_field_value() {
    let (_d, e) = engine_with_data();
    let series = run(
        &e,
        "SELECT usage FROM cpu WHERE usage > 90.0 AND region = 'eu'",
    );
    let want: Vec<f64> = {
        let mut v: Vec<(i64, f64)> = data()
            .into_iter()
            .filter(|(_, r, _, u, _)| *u > 90.0 && *r == "eu")
            .map(|(_, _, t, u, _)| (t, u))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        v.into_iter().map(|p| p.1).collect()
    };
    let mut got: Vec<(i64, f64)> = series[0]
        .values
        .iter()
        .map(|r| {
            (
                match r[0] {
                    Value::Time(t) => t,
                    _ => panic!(),
                },
                f(&r[1]),
            )
        })
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    assert_eq!(got.into_iter().map(|p| p.1).collect::<Vec<_>>(), want);
}

#[test]
fn lastpoint_and_aggregates_over_all_hosts() {
    let (_d, e) = engine_with_data();
    let series = run(&e, "SELECT last(usage) FROM cpu GROUP BY hostname");
    assert_eq!(series.len(), HOSTS);
    for s in &series {
        let (_, _, t, u, _) = data()
            .into_iter()
            .filter(|p| p.0 == s.tags[0].1)
            .max_by_key(|p| p.2)
            .unwrap();
        assert_eq!(s.values[0], vec![Value::Time(t), Value::Float(u)]);
    }
    let all = run(
        &e,
        "SELECT count(count), sum(count), min(count), spread(usage) FROM cpu",
    );
    let d = data();
    let sum: i64 = d.iter().map(|p| p.4).sum();
    let min = d.iter().map(|p| p.4).min().unwrap();
    let hi = d.iter().map(|p| p.3).fold(f64::MIN, f64::max);
    let lo = d.iter().map(|p| p.3).fold(f64::MAX, f64::min);
    let row = &all[0].values[0];
    assert_eq!(
        row[1..4],
        [
            Value::Integer(d.len() as i64),
            Value::Integer(sum),
            Value::Integer(min)
        ]
    );
    assert!((f(&row[4]) - (hi - lo)).abs() < 1e-9);
}

#[test]
fn groupby_orderby_limit_and_series_limits() {
    let (_d, e) = engine_with_data();
    let series = run(
        &e,
        "SELECT max(usage) FROM cpu WHERE time < 20m GROUP BY time(1m) ORDER BY time DESC LIMIT 5",
    );
    let times: Vec<Value> = series[0].values.iter().map(|r| r[0].clone()).collect();
    assert_eq!(
        times,
        (15..20)
            .rev()
            .map(|m| Value::Time(m * MIN))
            .collect::<Vec<_>>()
    );
    let limited = run(
        &e,
        "SELECT count(usage) FROM cpu GROUP BY hostname SLIMIT 2 SOFFSET 1",
    );
    let hosts: Vec<&str> = limited.iter().map(|s| s.tags[0].1.as_str()).collect();
    assert_eq!(hosts, ["host_1", "host_2"]);
}

#[test]
fn fill_modes_fill_empty_windows() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(dir.path(), Options::default().background(false)).unwrap();
    e.create_database("db", None).unwrap();
    e.write_lp("db", b"m v=1 0\nm v=5 40\n", Precision::Nanosecond)
        .unwrap();
    let q = |fill: &str| {
        run(&e, &format!("SELECT mean(v) FROM m WHERE time >= 0 AND time < 50 GROUP BY time(10ns) fill({fill})"))[0]
            .values
            .iter()
            .map(|r| r[1].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        q("null"),
        vec![
            Value::Float(1.0),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Float(5.0)
        ]
    );
    assert_eq!(q("none"), vec![Value::Float(1.0), Value::Float(5.0)]);
    assert_eq!(
        q("previous"),
        vec![
            Value::Float(1.0),
            Value::Float(1.0),
            Value::Float(1.0),
            Value::Float(1.0),
            Value::Float(5.0)
        ]
    );
    assert_eq!(
        q("linear"),
        vec![
            Value::Float(1.0),
            Value::Float(2.0),
            Value::Float(3.0),
            Value::Float(4.0),
            Value::Float(5.0)
        ]
    );
    assert_eq!(
        q("0"),
        vec![
            Value::Float(1.0),
            Value::Float(0.0),
            Value::Float(0.0),
            Value::Float(0.0),
            Value::Float(5.0)
        ]
    );
}

#[test]
fn show_delete_and_drop_statements() {
    let (_d, e) = engine_with_data();
    let tv = run(&e, "SHOW TAG VALUES FROM cpu WITH KEY = region");
    assert_eq!(
        tv[0].values,
        vec![
            vec![Value::String("region".into()), Value::String("eu".into())],
            vec![Value::String("region".into()), Value::String("us".into())]
        ]
    );
    let fk = run(&e, "SHOW FIELD KEYS FROM cpu");
    assert_eq!(
        fk[0].values,
        vec![
            vec![
                Value::String("count".into()),
                Value::String("integer".into())
            ],
            vec![Value::String("usage".into()), Value::String("float".into())]
        ]
    );
    assert_eq!(
        run(&e, "SHOW SERIES FROM cpu WHERE region = 'us'")[0]
            .values
            .len(),
        HOSTS / 2
    );
    run(
        &e,
        "DELETE FROM cpu WHERE hostname = 'host_0' AND time < 10m",
    );
    let c = run(&e, "SELECT count(usage) FROM cpu WHERE hostname = 'host_0'");
    assert_eq!(c[0].values[0][1], Value::Integer(POINTS - 30));
    run(&e, "DROP SERIES FROM cpu WHERE hostname = 'host_1'");
    assert_eq!(run(&e, "SHOW SERIES FROM cpu")[0].values.len(), HOSTS - 1);
    let r = execute(
        &e,
        "db",
        "SELECT usage FROM cpu WHERE usage > 1 OR hostname = 'x'",
        0,
    )
    .unwrap();
    // OR over a field and a tag is evaluated row by row, as InfluxDB does: no row of the
    // non-existent host, so exactly the rows with usage > 1.
    assert!(r[0].error.is_none(), "{r:?}");
    let rows = &r[0].series[0].values;
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|row| matches!(row[1], Value::Float(u) if u > 1.0)),
        "{rows:?}"
    );
    run(&e, "DROP MEASUREMENT cpu");
    assert!(run(&e, "SHOW MEASUREMENTS").is_empty());
}

#[test]
fn series_whose_rows_are_all_filtered_out_make_no_group() {
    let (_d, e) = engine_with_data();
    let series = run(
        &e,
        "SELECT count(usage) FROM cpu WHERE usage > 1000 AND time >= 0 AND time < 10m GROUP BY time(1m), hostname",
    );
    assert!(series.is_empty(), "{series:?}");
    let r = execute(&e, "db", "DELETE FROM cpu WHERE time > 10 AND time < 5", 0).unwrap();
    assert_eq!(r[0].error, None);
    assert_eq!(
        run(&e, "SELECT count(usage) FROM cpu")[0].values[0][1],
        Value::Integer((HOSTS as i64) * POINTS)
    );
}

/// `ORDER BY time DESC LIMIT n` reads only the newest windows; its answer must be the first n
/// rows of the same query without LIMIT, also for series with no value in those windows (they
/// still make a group of null or 0 rows) and for an open range start.
#[test]
fn desc_limit_equals_the_head_of_the_full_answer() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(dir.path(), Options::default().background(false)).unwrap();
    e.create_database("db", None).unwrap();
    let mut lp = String::new();
    for i in 0..60i64 {
        lp.push_str(&format!("m,host=a v={i}i {}\n", i * 10 * 1_000_000_000));
        // host b stops after two minutes; host c only has old points too, in an integer field
        // the query does not select as well.
        if i < 12 {
            lp.push_str(&format!(
                "m,host=b v={}i {}\n",
                i * 3,
                i * 10 * 1_000_000_000
            ));
            lp.push_str(&format!("m,host=c w={i}i {}\n", i * 10 * 1_000_000_000));
        }
    }
    e.write_lp("db", lp.as_bytes(), Precision::Nanosecond)
        .unwrap();
    e.snapshot_all().unwrap();
    for (select, range, fill) in [
        ("count(v)", "time < 10m", ""),
        ("max(v), sum(v)", "time >= 30s AND time < 9m", " fill(-2)"),
        ("mean(v)", "time < 20m", " fill(null)"),
    ] {
        for group in ["", ", host"] {
            for (limit, offset) in [(1, 0), (3, 0), (2, 3)] {
                let base = format!(
                    "SELECT {select} FROM m WHERE {range} GROUP BY time(1m){group}{fill} ORDER BY time DESC"
                );
                let full = run(&e, &base);
                let limited = run(&e, &format!("{base} LIMIT {limit} OFFSET {offset}"));
                let want: Vec<tsmdb_query::Series> = full
                    .into_iter()
                    .map(|mut s| {
                        s.values = s.values.into_iter().skip(offset).take(limit).collect();
                        s
                    })
                    .filter(|s| !s.values.is_empty())
                    .collect();
                assert_eq!(limited, want, "{base} LIMIT {limit} OFFSET {offset}");
            }
        }
    }
}

/// An open time range ends at now(), so over old data `GROUP BY time` spans millions of
/// windows. InfluxDB answers with LIMIT (the first windows) and with fill(none) (only the
/// windows holding data); both must not be refused for the window count.
#[test]
fn open_ranges_to_a_distant_now_are_answered_with_limit_or_fill_none() {
    let (_d, e) = engine_with_data();
    let far_now = 10 * 365 * 24 * 3600 * 1_000_000_000i64;
    let one = |q: &str| {
        let mut r = execute(&e, "db", q, far_now).unwrap();
        let r = r.remove(0);
        assert_eq!(r.error, None, "{q}");
        r.series
    };
    let data = data();
    let host0: Vec<&(String, &str, i64, f64, i64)> =
        data.iter().filter(|p| p.0 == "host_0").collect();

    // LIMIT 2 OFFSET 1: the second and third one-minute windows (three points each).
    let s = one(
        "SELECT max(usage) FROM cpu WHERE hostname = 'host_0' GROUP BY time(1m) LIMIT 2 OFFSET 1",
    );
    assert_eq!(s.len(), 1);
    let want: Vec<Vec<Value>> = (1..3)
        .map(|w: i64| {
            let max = host0
                .iter()
                .filter(|p| p.2 / MIN == w)
                .map(|p| p.3)
                .fold(f64::MIN, f64::max);
            vec![Value::Time(w * MIN), Value::Float(max)]
        })
        .collect();
    assert_eq!(s[0].values, want);

    // fill(none), one-second windows, no LIMIT: one row per point, nothing else.
    let s =
        one("SELECT count(usage) FROM cpu WHERE hostname = 'host_0' GROUP BY time(1s) fill(none)");
    assert_eq!(s[0].values.len(), host0.len());
    assert!(
        s[0].values
            .iter()
            .zip(&host0)
            .all(|(row, p)| row == &vec![Value::Time(p.2), Value::Integer(1)]),
        "{:?}",
        &s[0].values[..3]
    );

    // Without either, the walk would be unbounded: still a clear error, not a hang.
    let r = execute(
        &e,
        "db",
        "SELECT count(usage) FROM cpu GROUP BY time(1s)",
        far_now,
    )
    .unwrap();
    assert!(
        r[0].error.as_deref().is_some_and(|m| m.contains("windows")),
        "{r:?}"
    );
}

/// LIMIT and OFFSET of SHOW statements page the rows of each result (InfluxDB's semantics;
/// `LIMIT 0` shows all), and `WITH KEY` takes `!=`, `=~` and `!~` too.
#[test]
fn show_statements_page_and_select_keys_as_influxdb_does() {
    let (_d, e) = engine_with_data();
    let strings = |series: &[tsmdb_query::Series]| -> Vec<Vec<String>> {
        series
            .iter()
            .flat_map(|s| &s.values)
            .map(|row| {
                row.iter()
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => panic!("not a string: {other:?}"),
                    })
                    .collect()
            })
            .collect()
    };
    let mut hosts: Vec<String> = data().into_iter().map(|p| p.0).collect();
    hosts.dedup();
    let series_keys: Vec<Vec<String>> = data()
        .iter()
        .map(|p| vec![format!("cpu,hostname={},region={}", p.0, p.1)])
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();

    assert_eq!(
        strings(&run(&e, "SHOW SERIES FROM cpu LIMIT 2 OFFSET 1")),
        series_keys[1..3]
    );
    assert!(run(&e, "SHOW SERIES LIMIT 1 OFFSET 100").is_empty());
    assert_eq!(
        strings(&run(&e, "SHOW MEASUREMENTS LIMIT 0")),
        [["cpu".to_string()]]
    );
    assert_eq!(
        strings(&run(&e, "SHOW TAG KEYS FROM cpu LIMIT 1 OFFSET 1")),
        [["region".to_string()]]
    );
    assert_eq!(
        strings(&run(&e, "SHOW FIELD KEYS FROM cpu LIMIT 1")),
        [["count".to_string(), "integer".to_string()]]
    );
    let host_rows = |range: std::ops::Range<usize>| -> Vec<Vec<String>> {
        hosts[range]
            .iter()
            .map(|h| vec!["hostname".to_string(), h.clone()])
            .collect()
    };
    // Every key but region, i.e. hostname; paged.
    assert_eq!(
        strings(&run(
            &e,
            "SHOW TAG VALUES WITH KEY != region LIMIT 3 OFFSET 2"
        )),
        host_rows(2..5)
    );
    assert_eq!(
        strings(&run(&e, "SHOW TAG VALUES FROM cpu WITH KEY =~ /^host/")),
        host_rows(0..HOSTS)
    );
    // Unanchored, as Go's regexp: /egio/ matches region; !~ keeps the others.
    assert_eq!(
        strings(&run(&e, "SHOW TAG VALUES WITH KEY =~ /egio/")),
        [["region", "eu"], ["region", "us"]]
    );
    assert_eq!(
        strings(&run(&e, "SHOW TAG VALUES WITH KEY !~ /egio/ LIMIT 1")),
        host_rows(0..1)
    );
    let r = execute(&e, "db", "SHOW TAG VALUES WITH KEY =~ /(/", 0).unwrap();
    assert!(
        r[0].error
            .as_deref()
            .is_some_and(|m| m.contains("invalid regex")),
        "{r:?}"
    );
}

/// `SHOW MEASUREMENTS WITH MEASUREMENT = m | =~ /re/` (what Grafana asks for completion).
#[test]
fn show_measurements_with_measurement_chooses_names() {
    let (_d, e) = engine_with_data();
    e.write_lp(
        "db",
        b"mem,hostname=host_0 used=1 0\ndisk,hostname=host_0 free=2 0\n",
        Precision::Nanosecond,
    )
    .unwrap();
    let names = |q: &str| -> Vec<Value> {
        run(&e, q)
            .iter()
            .flat_map(|s| s.values.iter().map(|r| r[0].clone()))
            .collect()
    };
    let s = |v: &str| Value::String(v.into());
    assert_eq!(names("SHOW MEASUREMENTS"), [s("cpu"), s("disk"), s("mem")]);
    assert_eq!(
        names("SHOW MEASUREMENTS WITH MEASUREMENT =~ /m/"),
        [s("mem")]
    );
    assert_eq!(
        names("SHOW MEASUREMENTS WITH MEASUREMENT =~ /^[cd]/ LIMIT 1 OFFSET 1"),
        [s("disk")]
    );
    assert_eq!(
        names("SHOW MEASUREMENTS WITH MEASUREMENT = cpu"),
        [s("cpu")]
    );
    assert!(run(&e, "SHOW MEASUREMENTS WITH MEASUREMENT = nosuch").is_empty());
}
