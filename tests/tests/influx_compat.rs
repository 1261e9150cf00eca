//! Differential test of query results: the same line protocol (`medium.lp`, 10,000 TSBS `cpu`
//! points) is loaded into tsmdb and into a real InfluxDB 1.x server, the same InfluxQL runs in
//! both, and the JSON answers must agree value for value (times as integer nanoseconds).
//!
//! Skips, printing why, when `influxd` is neither installed nor installable. Differences that are
//! deliberate are listed in `docs/compatibility.md` ("Query results") and in [`SKIPPED`].

use serde_json::Value as J;
use tsmdb_engine::{Engine, Options};
use tsmdb_lineproto::Precision;
use tsmdb_query::{Epoch, execute, to_json};
use tsmdb_tests::influxd::{Influxd, find_or_install_influxd};
use tsmdb_tests::read_fixture;

const DB: &str = "compat";

/// How two answers are compared.
#[derive(Clone, Copy, PartialEq)]
enum Cmp {
    /// Every value equal (floats bit for bit, as printed by each side).
    Exact,
    /// Floats within a relative 1e-9: sums, means and deviations depend on summation order.
    Tolerant,
}

use Cmp::{Exact, Tolerant};

/// `(name, query, comparison)`, run in order; the DELETE cases come last.
const CASES: &[(&str, &str, Cmp)] = &[
    // TSBS shapes
    (
        "single-groupby-1-1-1",
        "SELECT max(usage_user) FROM cpu WHERE hostname = 'host_1' AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:12:00Z' GROUP BY time(1m)",
        Exact,
    ),
    (
        "single-groupby-5-8-1",
        "SELECT max(usage_user),max(usage_system),max(usage_idle),max(usage_nice),max(usage_iowait) FROM cpu WHERE (hostname = 'host_1' OR hostname = 'host_9' OR hostname = 'host_23' OR hostname = 'host_42' OR hostname = 'host_77' OR hostname = 'host_80' OR hostname = 'host_91' OR hostname = 'host_99') AND time >= '2018-01-01T00:01:00Z' AND time < '2018-01-01T00:13:00Z' GROUP BY time(1m)",
        Exact,
    ),
    (
        "cpu-max-all-1",
        "SELECT max(usage_user),max(usage_system),max(usage_idle),max(usage_nice),max(usage_iowait),max(usage_irq),max(usage_softirq),max(usage_steal),max(usage_guest),max(usage_guest_nice) FROM cpu WHERE hostname = 'host_3' AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T08:00:00Z' GROUP BY time(1h)",
        Exact,
    ),
    (
        "cpu-max-all-5m",
        "SELECT max(usage_user),max(usage_system),max(usage_idle),max(usage_nice),max(usage_iowait),max(usage_irq),max(usage_softirq),max(usage_steal),max(usage_guest),max(usage_guest_nice) FROM cpu WHERE hostname = 'host_3' AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:20:00Z' GROUP BY time(5m)",
        Exact,
    ),
    (
        "double-groupby-1",
        "SELECT mean(usage_user) FROM cpu WHERE time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T02:00:00Z' GROUP BY time(1h),hostname",
        Tolerant,
    ),
    (
        "double-groupby-5m-3",
        "SELECT mean(usage_user),mean(usage_system),mean(usage_guest) FROM cpu WHERE time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:20:00Z' GROUP BY time(5m),hostname",
        Tolerant,
    ),
    (
        "high-cpu-all",
        "SELECT * FROM cpu WHERE usage_user > 90.0 AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:10:00Z'",
        Exact,
    ),
    (
        "high-cpu-1",
        "SELECT * FROM cpu WHERE usage_user > 90.0 AND hostname = 'host_5' AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T01:00:00Z'",
        Exact,
    ),
    ("lastpoint", "SELECT last(*) FROM cpu GROUP BY *", Exact),
    (
        "lastpoint-field",
        "SELECT last(usage_user) FROM cpu GROUP BY hostname",
        Exact,
    ),
    (
        "groupby-orderby-limit",
        "SELECT max(usage_user) FROM cpu WHERE time < '2018-01-01T00:10:00Z' GROUP BY time(1m) ORDER BY time DESC LIMIT 5",
        Exact,
    ),
    // metadata
    ("show-measurements", "SHOW MEASUREMENTS", Exact),
    ("show-tag-keys", "SHOW TAG KEYS", Exact),
    (
        "show-tag-values-region",
        "SHOW TAG VALUES WITH KEY = region",
        Exact,
    ),
    (
        "show-tag-values-where",
        "SHOW TAG VALUES FROM cpu WITH KEY = hostname WHERE region = 'eu-west-1'",
        Exact,
    ),
    ("show-field-keys", "SHOW FIELD KEYS", Exact),
    ("show-series", "SHOW SERIES", Exact),
    // aggregates, float and integer fields, whole range and windows
    (
        "count",
        "SELECT count(usage_user),count(usage_guest) FROM cpu",
        Exact,
    ),
    (
        "count-window",
        "SELECT count(usage_user) FROM cpu WHERE time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:20:00Z' GROUP BY time(3m)",
        Exact,
    ),
    (
        "sum",
        "SELECT sum(usage_user),sum(usage_guest) FROM cpu WHERE hostname = 'host_7'",
        Tolerant,
    ),
    (
        "mean",
        "SELECT mean(usage_user),mean(usage_guest) FROM cpu GROUP BY region",
        Tolerant,
    ),
    (
        "min-max",
        "SELECT min(usage_user),max(usage_guest) FROM cpu WHERE hostname = 'host_7'",
        Exact,
    ),
    (
        "min-selector",
        "SELECT min(usage_user) FROM cpu WHERE hostname = 'host_7'",
        Exact,
    ),
    (
        "spread",
        "SELECT spread(usage_user),spread(usage_guest) FROM cpu GROUP BY datacenter",
        Exact,
    ),
    (
        "stddev",
        "SELECT stddev(usage_user),stddev(usage_guest) FROM cpu WHERE hostname = 'host_8'",
        Tolerant,
    ),
    (
        "percentile",
        "SELECT percentile(usage_user, 90) FROM cpu WHERE hostname = 'host_8'",
        Exact,
    ),
    (
        "percentile-int",
        "SELECT percentile(usage_guest, 50) FROM cpu WHERE hostname = 'host_8'",
        Exact,
    ),
    (
        "median",
        "SELECT median(usage_user),median(usage_guest) FROM cpu WHERE hostname = 'host_8'",
        Exact,
    ),
    (
        "first-last",
        "SELECT first(usage_user),last(usage_user) FROM cpu WHERE hostname = 'host_8'",
        Exact,
    ),
    (
        "first-selector",
        "SELECT first(usage_guest) FROM cpu WHERE hostname = 'host_8'",
        Exact,
    ),
    (
        "aggregates-by-host-window",
        "SELECT count(usage_idle),sum(usage_idle),min(usage_idle),max(usage_idle),spread(usage_idle) FROM cpu WHERE hostname =~ /^host_1[0-9]$/ AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:20:00Z' GROUP BY time(4m),hostname",
        Tolerant,
    ),
    (
        "column-names-with-alias",
        "SELECT max(usage_user),max(usage_system) AS max_1,max(usage_idle),mean(usage_user) AS max FROM cpu WHERE hostname = 'host_4'",
        Tolerant,
    ),
    ("count-star", "SELECT count(*) FROM cpu", Exact),
    (
        "mean-star-window",
        "SELECT mean(*) FROM cpu WHERE time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:20:00Z' GROUP BY time(10m)",
        Tolerant,
    ),
    (
        "group-by-time-offset",
        "SELECT min(usage_nice) FROM cpu WHERE hostname = 'host_6' AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:20:00Z' GROUP BY time(2m, 30s)",
        Exact,
    ),
    (
        "field-or",
        "SELECT usage_user,usage_system FROM cpu WHERE hostname = 'host_9' AND (usage_user > 95 OR usage_system < 5)",
        Exact,
    ),
    (
        "tag-regex-not",
        "SELECT max(usage_steal) FROM cpu WHERE hostname !~ /^host_[0-8]/ GROUP BY region",
        Exact,
    ),
    (
        "field-or-tag",
        "SELECT count(usage_user) FROM cpu WHERE usage_user > 99 OR hostname = 'host_3' GROUP BY hostname",
        Exact,
    ),
    ("show-tag-keys-from", "SHOW TAG KEYS FROM cpu", Exact),
    ("show-field-keys-from", "SHOW FIELD KEYS FROM cpu", Exact),
    (
        "show-series-where",
        "SHOW SERIES FROM cpu WHERE region = 'us-west-1'",
        Exact,
    ),
    // LIMIT and OFFSET of SHOW statements; WITH KEY operators
    (
        "show-series-limit-offset",
        "SHOW SERIES FROM cpu LIMIT 2 OFFSET 1",
        Exact,
    ),
    (
        "show-series-offset-past-end",
        "SHOW SERIES LIMIT 1 OFFSET 200",
        Exact,
    ),
    (
        "show-measurements-limit-0",
        "SHOW MEASUREMENTS LIMIT 0",
        Exact,
    ),
    (
        "show-measurements-with-regex",
        "SHOW MEASUREMENTS WITH MEASUREMENT =~ /c.u/ LIMIT 1",
        Exact,
    ),
    (
        "show-measurements-with-name",
        "SHOW MEASUREMENTS WITH MEASUREMENT = cpu",
        Exact,
    ),
    (
        "show-measurements-with-no-match",
        "SHOW MEASUREMENTS WITH MEASUREMENT =~ /^nothing$/",
        Exact,
    ),
    (
        "show-tag-keys-limit-offset",
        "SHOW TAG KEYS FROM cpu LIMIT 1 OFFSET 1",
        Exact,
    ),
    (
        "show-field-keys-limit-offset",
        "SHOW FIELD KEYS FROM cpu LIMIT 2 OFFSET 1",
        Exact,
    ),
    (
        "show-tag-values-in-limit-offset",
        "SHOW TAG VALUES WITH KEY IN (region, datacenter) LIMIT 2 OFFSET 1",
        Exact,
    ),
    (
        "show-tag-values-key-regex",
        "SHOW TAG VALUES WITH KEY =~ /reg.*/ LIMIT 3",
        Exact,
    ),
    (
        "show-tag-values-key-not-equal",
        "SHOW TAG VALUES WITH KEY != region",
        Exact,
    ),
    (
        "show-tag-values-key-not-regex",
        "SHOW TAG VALUES WITH KEY !~ /reg.*|host.*/ LIMIT 2",
        Exact,
    ),
    // no time range: GROUP BY time runs from the first point to now(); LIMIT keeps it short
    (
        "groupby-time-open-range-limit",
        "SELECT mean(usage_user) FROM cpu GROUP BY time(1m) LIMIT 2",
        Tolerant,
    ),
    (
        "groupby-time-open-range-fill-none",
        "SELECT max(usage_user) FROM cpu WHERE hostname = 'host_3' GROUP BY time(1m) fill(none)",
        Exact,
    ),
    // time conditions in SHOW (InfluxDB 1.6.7's own behaviour decides)
    (
        "show-series-time-after-data",
        "SHOW SERIES FROM cpu WHERE time > '2019-01-01T00:00:00Z'",
        Exact,
    ),
    (
        "show-series-tag-and-time",
        "SHOW SERIES FROM cpu WHERE region = 'us-west-1' AND time < '2017-01-01T00:00:00Z'",
        Exact,
    ),
    (
        "show-series-time-in-shard-after-points",
        "SHOW SERIES FROM cpu WHERE hostname = 'host_3' AND time > '2018-01-01T00:30:00Z'",
        Exact,
    ),
    (
        "show-tag-values-time-after-data",
        "SHOW TAG VALUES FROM cpu WITH KEY = region WHERE time > '2019-01-01T00:00:00Z'",
        Exact,
    ),
    (
        "show-tag-values-tag-and-time",
        "SHOW TAG VALUES FROM cpu WITH KEY = hostname WHERE region = 'eu-west-1' AND time >= '2018-01-01T00:05:00Z'",
        Exact,
    ),
    // fill modes: the field condition leaves empty windows
    (
        "fill-null",
        "SELECT max(usage_user) FROM cpu WHERE hostname = 'host_1' AND usage_user > 85 AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:17:00Z' GROUP BY time(30s)",
        Exact,
    ),
    (
        "fill-none",
        "SELECT max(usage_user) FROM cpu WHERE hostname = 'host_1' AND usage_user > 85 AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:17:00Z' GROUP BY time(30s) fill(none)",
        Exact,
    ),
    (
        "fill-zero",
        "SELECT max(usage_user) FROM cpu WHERE hostname = 'host_1' AND usage_user > 85 AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:17:00Z' GROUP BY time(30s) fill(0)",
        Exact,
    ),
    (
        "fill-previous",
        "SELECT max(usage_user) FROM cpu WHERE hostname = 'host_1' AND usage_user > 85 AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:17:00Z' GROUP BY time(30s) fill(previous)",
        Exact,
    ),
    (
        "fill-linear",
        "SELECT max(usage_user) FROM cpu WHERE hostname = 'host_1' AND usage_user > 85 AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:17:00Z' GROUP BY time(30s) fill(linear)",
        Tolerant,
    ),
    (
        "fill-value",
        "SELECT count(usage_user) FROM cpu WHERE hostname = 'host_1' AND usage_user > 85 AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:17:00Z' GROUP BY time(30s) fill(-1)",
        Exact,
    ),
    (
        "fill-integer-field",
        "SELECT max(usage_guest) FROM cpu WHERE hostname = 'host_1' AND usage_user > 85 AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:17:00Z' GROUP BY time(30s) fill(7)",
        Exact,
    ),
    (
        "fill-decimal-integer-field",
        "SELECT sum(usage_guest) FROM cpu WHERE hostname = 'host_1' AND usage_user > 85 AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:17:00Z' GROUP BY time(30s) fill(2.5)",
        Exact,
    ),
    (
        "fill-integer-float-field",
        "SELECT max(usage_user) FROM cpu WHERE hostname = 'host_1' AND usage_user > 85 AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:17:00Z' GROUP BY time(30s) fill(3)",
        Exact,
    ),
    // the first()/last() fast path (one value per key) and DESC LIMIT windows
    ("last-all-series", "SELECT last(usage_user) FROM cpu", Exact),
    (
        "first-star-by-region",
        "SELECT first(*) FROM cpu GROUP BY region",
        Exact,
    ),
    (
        "last-range",
        "SELECT last(usage_idle),last(usage_guest) FROM cpu WHERE time < '2018-01-01T00:05:00Z' GROUP BY hostname SLIMIT 4",
        Exact,
    ),
    (
        "groupby-orderby-limit-offset",
        "SELECT mean(usage_user),count(usage_guest) FROM cpu WHERE time >= '2018-01-01T00:01:00Z' AND time < '2018-01-01T00:15:00Z' GROUP BY time(1m),datacenter ORDER BY time DESC LIMIT 3 OFFSET 2",
        Tolerant,
    ),
    (
        "groupby-orderby-limit-fill",
        "SELECT max(usage_user) FROM cpu WHERE time < '2018-01-01T00:40:00Z' GROUP BY time(4m) fill(-1) ORDER BY time DESC LIMIT 8",
        Exact,
    ),
    (
        "desc-groups-slimit",
        "SELECT usage_user FROM cpu WHERE time < '2018-01-01T00:00:30Z' GROUP BY hostname ORDER BY time DESC LIMIT 2 SLIMIT 3 SOFFSET 1",
        Exact,
    ),
    (
        "raw-all-series",
        "SELECT usage_user,hostname FROM cpu WHERE time < '2018-01-01T00:00:20Z' AND hostname =~ /^host_1/",
        Exact,
    ),
    (
        "desc-raw-all-series",
        "SELECT usage_user,hostname FROM cpu WHERE time < '2018-01-01T00:00:20Z' AND hostname =~ /^host_1/ ORDER BY time DESC",
        Exact,
    ),
    // raw selections, limits
    (
        "raw-fields-and-tag",
        "SELECT usage_user,usage_guest,region FROM cpu WHERE hostname = 'host_2' AND time < '2018-01-01T00:02:00Z'",
        Exact,
    ),
    (
        "raw-limit-offset",
        "SELECT usage_user FROM cpu WHERE hostname = 'host_2' LIMIT 3 OFFSET 2",
        Exact,
    ),
    (
        "raw-order-desc",
        "SELECT usage_user FROM cpu WHERE hostname = 'host_2' ORDER BY time DESC LIMIT 4",
        Exact,
    ),
    (
        "slimit",
        "SELECT count(usage_user) FROM cpu GROUP BY hostname SLIMIT 3 SOFFSET 2",
        Exact,
    ),
    (
        "tag-not-equal",
        "SELECT count(usage_user) FROM cpu WHERE region != 'eu-west-1' GROUP BY region",
        Exact,
    ),
    // deletes, then counts
    (
        "delete-host",
        "DELETE FROM cpu WHERE hostname = 'host_1'",
        Exact,
    ),
    (
        "delete-range",
        "DELETE FROM cpu WHERE time >= '2018-01-01T00:10:00Z' AND time < '2018-01-01T00:12:00Z'",
        Exact,
    ),
    (
        "count-after-delete",
        "SELECT count(usage_user) FROM cpu GROUP BY hostname",
        Exact,
    ),
    ("show-series-after-delete", "SHOW SERIES", Exact),
];

/// Cases that differ deliberately or are not fixed yet, with the reason (see
/// docs/compatibility.md, "Query results").
const SKIPPED: &[(&str, &str)] = &[
    (
        "percentile-int",
        "the value matches; among equal values InfluxDB returns the time of whichever point its \
         unstable sort put at the rank, tsmdb that of another point with the same value",
    ),
    (
        "first-star-by-region",
        "not fixed yet: first() over several series with points at the same time; InfluxDB's \
         choice among them differs field by field and follows no order we could pin down, \
         tsmdb takes the first series in key order",
    ),
    (
        "raw-all-series",
        "not fixed yet: raw rows of several series at the same time come in InfluxDB in another \
         order than series key order (the values and times match)",
    ),
    (
        "desc-raw-all-series",
        "not fixed yet: as raw-all-series, in descending time",
    ),
];

#[test]
fn query_results_match_influxd() {
    let binary = match find_or_install_influxd() {
        Ok(b) => b,
        Err(why) => {
            println!("SKIPPED: {why}; the influxd comparison did not run");
            return;
        }
    };
    let lp = read_fixture("influxdb-1.6.7/medium.lp");

    let server = Influxd::start(&binary).expect("starting influxd");
    server.create_database(DB).expect("CREATE DATABASE");
    server
        .write_lp(DB, &lp)
        .expect("loading medium.lp into influxd");

    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(dir.path(), Options::default()).expect("open engine");
    engine.create_database(DB, None).expect("create database");
    let summary = engine
        .write_lp(DB, &lp, Precision::Nanosecond)
        .expect("loading medium.lp into tsmdb");
    assert!(
        summary.rejected.is_empty(),
        "rejected: {:?}",
        summary.rejected
    );

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0);
    let mut failures = Vec::new();
    let mut matched = 0;
    let mut run = |phase: &str, engine: &Engine, cases: &[(&str, &str, Cmp)]| {
        for &(name, q, cmp) in cases {
            let theirs = server.query(DB, q).expect("influxd query");
            let ours = match execute(engine, DB, q, now) {
                Ok(r) => to_json(&r, Epoch::Nanoseconds),
                Err(e) => format!("{{\"parse_error\":{:?}}}", e.to_string()),
            };
            if let Some((_, why)) = SKIPPED.iter().find(|(n, _)| *n == name) {
                println!("skipped {name} ({phase}): {why}");
                continue;
            }
            let theirs_json: J = serde_json::from_str(&theirs).expect("influxd JSON");
            let ours_json: J = serde_json::from_str(&ours).expect("our JSON");
            match diff(&theirs_json, &ours_json, cmp, "$") {
                None => matched += 1,
                Some(d) => failures.push(format!(
                    "{name} ({phase}): {q}\n  first difference: {d}\n  influxd: {}\n  tsmdb:   {}",
                    clip(&theirs),
                    clip(&ours)
                )),
            }
        }
    };
    // First with every point still in the cache (the DELETEs would change the data, so they wait),
    // then with every point in one fully compacted TSM file per shard, DELETEs included.
    let first_delete = CASES
        .iter()
        .position(|(n, _, _)| n.starts_with("delete-"))
        .unwrap_or(CASES.len());
    run("from the cache", &engine, &CASES[..first_delete]);
    engine.snapshot_all().expect("snapshot");
    engine.compact_all(true).expect("full compaction");
    run("from TSM files", &engine, CASES);
    let total = first_delete + CASES.len();
    println!("{matched} of {total} query runs match influxd");
    assert!(
        failures.is_empty(),
        "{} queries differ from influxd:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn clip(s: &str) -> String {
    if s.len() > 600 {
        format!(
            "{}... ({} bytes)",
            &s[..s.floor_char_boundary(600)],
            s.len()
        )
    } else {
        s.to_string()
    }
}

/// The first difference between two JSON documents, with its path.
fn diff(a: &J, b: &J, cmp: Cmp, path: &str) -> Option<String> {
    match (a, b) {
        (J::Number(x), J::Number(y)) => {
            let same = match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(i), Some(j), _, _) => i == j,
                (_, _, Some(i), Some(j)) => i == j,
                _ => {
                    let (f, g) = (
                        x.as_f64().unwrap_or(f64::NAN),
                        y.as_f64().unwrap_or(f64::NAN),
                    );
                    match cmp {
                        Exact => f == g,
                        Tolerant => f == g || (f - g).abs() <= 1e-9 * f.abs().max(g.abs()),
                    }
                }
            };
            (!same).then(|| format!("{path}: {x} vs {y}"))
        }
        (J::Array(x), J::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!("{path}: {} vs {} elements", x.len(), y.len()));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| diff(p, q, cmp, &format!("{path}[{i}]")))
        }
        (J::Object(x), J::Object(y)) => {
            let kx: Vec<_> = x.keys().collect();
            let ky: Vec<_> = y.keys().collect();
            if kx != ky {
                return Some(format!("{path}: keys {kx:?} vs {ky:?}"));
            }
            x.iter()
                .find_map(|(k, v)| diff(v, &y[k], cmp, &format!("{path}.{k}")))
        }
        _ => (a != b).then(|| format!("{path}: {a} vs {b}")),
    }
}
