//! `tsmdb generate` end to end through the binary.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::{Command, Output};

use tsmdb_engine::{Engine, Options, Select};

const RANGE: [&str; 4] = [
    "--start-time",
    "2020-01-01T00:00:00Z",
    "--end-time",
    "2020-01-02T00:00:00Z",
];

fn tsmdb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tsmdb"))
        .args(args)
        .env_remove("TSMDB_DB")
        .output()
        .expect("run tsmdb")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

fn example(name: &str) -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/schemas/").to_string() + name
}

/// The number after a `--print` label such as `Total series`.
fn printed(text: &str, label: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(label))
        .and_then(|rest| rest.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {label:?} in:\n{text}"))
}

/// The TOTAL row of the `--print` table: (series, field series, points).
fn printed_totals(text: &str) -> (u64, u64, u64) {
    let row = text
        .lines()
        .find(|l| l.starts_with("TOTAL"))
        .unwrap_or_else(|| panic!("no TOTAL row in:\n{text}"));
    let n: Vec<u64> = row
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect();
    (n[0], n[1], n[2])
}

fn series_of(lp: &str) -> HashSet<&str> {
    lp.lines()
        .map(|l| l.split_once(' ').expect("key and fields").0)
        .collect()
}

#[test]
fn simple_lp_has_one_line_per_value_and_the_product_of_cardinalities_series() {
    let mut args = vec!["generate", "simple", "--t", "3,4,2", "--p", "5", "--lp"];
    args.extend(RANGE);
    let o = tsmdb(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let lp = stdout(&o);
    assert_eq!(lp.lines().count(), 3 * 4 * 2 * 5);
    assert_eq!(series_of(&lp).len(), 24);
    assert!(lp.lines().all(|l| l.contains(" v0=1 ")));
    assert!(
        stderr(&o).contains("generated 24 series, 120 values"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn simple_defaults_match_upstream() {
    let mut args = vec!["generate", "simple", "--print"];
    args.extend(RANGE);
    let o = tsmdb(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("Tag cardinalities        [10,10,10]\n"),
        "{text}"
    );
    assert_eq!(printed(&text, "Points per series"), 100);
    assert_eq!(printed(&text, "Total series"), 1000);
    assert_eq!(printed(&text, "Total points"), 100_000);
}

#[test]
fn print_totals_agree_with_generated_data() {
    // Sampling, a block limit, two merged blocks and several field types; one hour, so that
    // the hourly fields have a value and every printed series appears in the output.
    let schema = example("iot.toml");
    let range = [
        "--start-time",
        "2020-01-01T00:00:00Z",
        "--end-time",
        "2020-01-01T01:00:00Z",
    ];
    let mut print_args = vec!["generate", schema.as_str(), "--print"];
    print_args.extend(range);
    let plan = tsmdb(&print_args);
    assert!(plan.status.success(), "{}", stderr(&plan));
    let (series, _field_series, points) = printed_totals(&stdout(&plan));

    let mut lp_args = vec!["generate", schema.as_str(), "--lp"];
    lp_args.extend(range);
    let data = tsmdb(&lp_args);
    assert!(data.status.success(), "{}", stderr(&data));
    let lp = stdout(&data);
    assert_eq!(lp.lines().count() as u64, points);
    assert_eq!(series_of(&lp).len() as u64, series);
    let estimate = stdout(&plan)
        .lines()
        .find_map(|l| l.strip_prefix("Estimated line protocol"))
        .and_then(|r| r.split('(').nth(1))
        .and_then(|r| r.split(' ').next())
        .map(|n| n.parse::<u64>().unwrap())
        .expect("estimate in bytes");
    let actual = lp.len() as u64;
    assert!(
        estimate.abs_diff(actual) * 20 < actual,
        "estimate {estimate} vs actual {actual}"
    );
}

#[test]
fn output_is_deterministic_and_can_go_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.lp");
    let schema = example("documented.toml");
    let mut args = vec!["generate", schema.as_str(), "--format", "lp"];
    args.extend(RANGE);
    let first = tsmdb(&args);
    assert!(first.status.success(), "{}", stderr(&first));
    args.extend(["--output", file.to_str().unwrap()]);
    let second = tsmdb(&args);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(second.stdout.is_empty());
    assert_eq!(std::fs::read(&file).unwrap(), first.stdout);
    assert!(!first.stdout.is_empty());
}

#[test]
fn bad_schema_gives_one_line_error_with_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[[measurements]]\nname = \"m\"\nfields = [\n  { name = \"f\", count = 0, source = 1 },\n]\n",
    )
    .unwrap();
    let o = tsmdb(&["generate", path.to_str().unwrap(), "--lp"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("bad.toml:4:") && err.contains("field: count must be > 0"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn unknown_keys_warn_but_generate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.toml");
    std::fs::write(
        &path,
        "seed = 1\n[[measurements]]\nname = \"m\"\nfields = [{ name = \"f\", count = 2, source = 1 }]\n",
    )
    .unwrap();
    let mut args = vec!["generate", path.to_str().unwrap(), "--lp"];
    args.extend(RANGE);
    let o = tsmdb(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: ") && stderr(&o).contains("unknown key \"seed\" ignored")
    );
    assert_eq!(stdout(&o).lines().count(), 2);
}

/// Values per (series key, field) in line protocol written one field per line.
fn lp_counts(lp: &str) -> BTreeMap<(String, String), u64> {
    let mut counts = BTreeMap::new();
    for line in lp.lines() {
        let (key, rest) = line.split_once(' ').expect("key and fields");
        let field = rest.split_once('=').expect("field=value").0;
        *counts
            .entry((key.to_string(), field.to_string()))
            .or_default() += 1;
    }
    counts
}

/// Values per (series key, field) stored in a data directory.
fn stored_counts(db: &Path, database: &str) -> BTreeMap<(String, String), u64> {
    let engine = Engine::open(db, Options::default()).expect("open the data directory");
    let mut counts = BTreeMap::new();
    for m in engine.measurements(database).expect("measurements") {
        for s in engine.select(database, &Select::all(m)).expect("select") {
            assert_eq!(s.timestamps.len(), s.values.len());
            let key = (
                String::from_utf8(s.series_key).unwrap(),
                String::from_utf8(s.field).unwrap(),
            );
            *counts.entry(key).or_default() += s.timestamps.len() as u64;
        }
    }
    engine.close().expect("close");
    counts
}

#[test]
fn default_output_writes_the_plan_into_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data");
    let db_arg = db.to_str().unwrap();
    let schema = example("documented.toml");
    let range = [
        "--start-time",
        "2020-01-01T00:00:00Z",
        "--end-time",
        "2020-01-01T00:10:00Z",
    ];
    let mut args = vec!["--db", db_arg, "generate", &schema, "--database", "gen"];
    args.extend(range);
    let o = tsmdb(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let tsm_files = std::fs::read_dir(db.join("gen"))
        .unwrap()
        .flat_map(|shard| {
            std::fs::read_dir(shard.unwrap().path())
                .into_iter()
                .flatten()
        })
        .filter(|f| f.as_ref().unwrap().path().extension() == Some("tsm".as_ref()))
        .count();
    assert!(tsm_files > 0, "the generated data is snapshot to TSM files");

    let mut print = vec!["generate", &schema, "--print"];
    print.extend(range);
    let plan = tsmdb(&print);
    let (series, field_series, points) = printed_totals(&stdout(&plan));
    let mut lp = vec!["generate", &schema, "--lp"];
    lp.extend(range);
    let lp = tsmdb(&lp);
    let expected = lp_counts(&stdout(&lp));

    let stored = stored_counts(&db, "gen");
    assert_eq!(stored, expected);
    assert_eq!(stored.values().sum::<u64>(), points);
    assert_eq!(stored.len() as u64, field_series);
    let keys: HashSet<&String> = stored.keys().map(|(k, _)| k).collect();
    assert_eq!(keys.len() as u64, series);
}

#[test]
fn devops_preset_writes_into_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data");
    let common = [
        "generate",
        "--preset",
        "devops",
        "--scale",
        "3",
        "--seed",
        "7",
        "--start-time",
        "2016-01-01T00:00:00Z",
        "--end-time",
        "2016-01-01T00:10:00Z",
    ];
    let o = tsmdb(&[&["--db", db.to_str().unwrap()][..], &common].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lp = tsmdb(&[&common[..], &["--lp"]].concat());
    // TSBS rows carry every field on one line: count each field of each row.
    let mut expected = BTreeMap::new();
    for line in stdout(&lp).lines() {
        let mut parts = line.split(' ');
        // The engine stores keys with their tags sorted (TSBS keeps its own tag order).
        let mut tags: Vec<&str> = parts.next().unwrap().split(',').collect();
        tags[1..].sort_unstable();
        let key = tags.join(",");
        for field in parts.next().unwrap().split(',') {
            let name = field.split_once('=').unwrap().0;
            *expected
                .entry((key.clone(), name.to_string()))
                .or_insert(0u64) += 1;
        }
    }
    assert_eq!(expected.len(), 30);
    assert_eq!(stored_counts(&db, "db"), expected);
}

#[test]
fn devops_preset_matches_tsbs() {
    let o = tsmdb(&[
        "generate", "--preset", "devops", "--scale", "2", "--seed", "123", "--lp",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lp = stdout(&o);
    assert_eq!(lp.lines().count(), 2 * 8640);
    let first: Vec<&str> = lp.lines().take(2).collect();
    assert_eq!(
        first,
        [
            "cpu,hostname=host_0,region=eu-central-1,datacenter=eu-central-1a,rack=6,os=Ubuntu15.10,arch=x86,team=SF,service=19,service_version=1,service_environment=test usage_user=58i,usage_system=2i,usage_idle=24i,usage_nice=61i,usage_iowait=22i,usage_irq=63i,usage_softirq=6i,usage_steal=44i,usage_guest=80i,usage_guest_nice=38i 1451606400000000000",
            "cpu,hostname=host_1,region=us-west-1,datacenter=us-west-1a,rack=41,os=Ubuntu15.10,arch=x64,team=NYC,service=9,service_version=1,service_environment=staging usage_user=84i,usage_system=11i,usage_idle=53i,usage_nice=87i,usage_iowait=29i,usage_irq=20i,usage_softirq=54i,usage_steal=77i,usage_guest=53i,usage_guest_nice=74i 1451606400000000000",
        ]
    );
    let plan = tsmdb(&[
        "generate", "--preset", "devops", "--scale", "2", "--seed", "123", "--print",
    ]);
    assert_eq!(printed(&stdout(&plan), "Total rows"), 2 * 8640);
    assert_eq!(printed(&stdout(&plan), "Total points"), 2 * 8640 * 10);
}

#[test]
fn devops_accepts_tsbs_flag_names_and_ramps_hosts() {
    let o = tsmdb(&[
        "generate",
        "--preset",
        "devops",
        "--scale",
        "4",
        "--initial-scale",
        "1",
        "--seed",
        "7",
        "--timestamp-start",
        "2016-01-01T00:00:00Z",
        "--timestamp-end",
        "2016-01-01T00:00:40Z",
        "--lp",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lp = stdout(&o);
    let per_epoch: Vec<usize> = ["1451606400", "1451606410", "1451606420", "1451606430"]
        .iter()
        .map(|t| {
            lp.lines()
                .filter(|l| l.ends_with(&format!(" {t}000000000")))
                .count()
        })
        .collect();
    assert_eq!(per_epoch, [1, 2, 3, 4]);
}

#[test]
fn help_schema_prints_the_documented_schema() {
    let o = tsmdb(&["generate", "help-schema"]);
    assert!(o.status.success());
    let expected = std::fs::read_to_string(Path::new(&example("documented.toml"))).unwrap();
    assert_eq!(stdout(&o), expected);
}

#[test]
fn bad_flags_are_reported() {
    let o = tsmdb(&["generate", "simple", "--t", "10,x", "--lp"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot parse tag cardinality: x"));
    let o = tsmdb(&["generate", "simple", "--lp", "--start-time", "yesterday"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--start-time"), "{}", stderr(&o));
    let o = tsmdb(&["generate", "--lp"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing schema file"));
}

/// Every stored series with its values, and the WAL bytes left in the data directory.
fn stored_values(db: &Path, database: &str) -> (Vec<tsmdb_engine::SeriesValues>, u64) {
    let engine = Engine::open(db, Options::default()).expect("open the data directory");
    let mut all = Vec::new();
    for m in engine.measurements(database).expect("measurements") {
        all.extend(engine.select(database, &Select::all(m)).expect("select"));
    }
    let wal = engine.stats().wal_bytes;
    engine.close().expect("close");
    (all, wal)
}

#[test]
fn bulk_load_and_via_wal_store_the_same_values() {
    let dir = tempfile::tempdir().unwrap();
    let schema = example("documented.toml");
    let mut stored = Vec::new();
    for via_wal in [false, true] {
        let db = dir.path().join(format!("data-{via_wal}"));
        let mut args = vec![
            "--db",
            db.to_str().unwrap(),
            "generate",
            &schema,
            "--start-time",
            "2020-01-01T00:00:00Z",
            "--end-time",
            "2020-01-01T00:10:00Z",
        ];
        if via_wal {
            args.push("--via-wal");
        }
        let o = tsmdb(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stored.push(stored_values(&db, "db"));
    }
    assert!(!stored[0].0.is_empty());
    assert_eq!(stored[0].0, stored[1].0);
    assert_eq!(stored[0].1, 0, "a bulk load writes nothing to the WAL");
}

#[test]
fn devops_bulk_load_and_via_wal_store_the_same_values() {
    let dir = tempfile::tempdir().unwrap();
    let mut stored = Vec::new();
    for via_wal in [false, true] {
        let db = dir.path().join(format!("data-{via_wal}"));
        let mut args = vec![
            "--db",
            db.to_str().unwrap(),
            "generate",
            "--preset",
            "devops",
            "--scale",
            "5",
            "--seed",
            "11",
            "--start-time",
            "2016-01-01T00:00:00Z",
            "--end-time",
            "2016-01-01T01:00:00Z",
        ];
        if via_wal {
            args.push("--via-wal");
        }
        let o = tsmdb(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stored.push(stored_values(&db, "db"));
    }
    assert_eq!(stored[0].0.len(), 50);
    assert_eq!(stored[0].0, stored[1].0);
    assert_eq!(stored[0].1, 0, "a bulk load writes nothing to the WAL");
}
