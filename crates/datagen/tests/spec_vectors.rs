//! The worked examples and vectors of spec §3–4, end to end through the public API.

use std::convert::Infallible;

use tsmdb_datagen::{
    Combinations, Generator, LineProtocolWriter, Plan, PlanSummary, SeriesWalker, TimeRange,
    parse_schema, sample_seed,
};

const S: i64 = 1_000_000_000;

fn plan(text: &str, range: TimeRange) -> Plan {
    let schema = parse_schema(text, "test.toml", None).expect("schema");
    Plan::new(&schema, range).expect("plan")
}

fn lp(plan: &Plan) -> String {
    let mut w = LineProtocolWriter::new(Vec::new());
    Generator::new(plan)
        .for_each_block(|b| w.write_block(b))
        .expect("write to a Vec");
    String::from_utf8(w.finish().unwrap()).unwrap()
}

fn pairs(plan: &Plan) -> Vec<String> {
    let mut walker = SeriesWalker::new(plan);
    let mut out = Vec::new();
    while let Some(p) = walker.next_pair() {
        out.push(format!(
            "{} {}",
            String::from_utf8_lossy(p.key),
            plan.specs[p.spec].field
        ));
    }
    out
}

/// Spec §3.5: the annotated example with its exact values and timestamps.
#[test]
fn annotated_example_exact_output() {
    let text = r#"
title = "annotated"
series-limit = 1000

[[measurements]]
name = "cpu"
sample = 1.0
tags = [
  { name = "host",   source = { type = "sequence", format = "host-%s", count = 3 } },
  { name = "region", source = ["west", "east", "west"] },
]
fields = [
  { name = "user",   count = 3, time-interval = "10s",
    source = { type = "rand<float>", seed = 10 } },
  { name = "system", count = 3, time-interval = "10s", source = 2.5 },
]
"#;
    let start = 1_577_836_800 * S;
    let p = plan(
        text,
        TimeRange {
            start,
            end: start + 60 * S,
        },
    );
    let out = lp(&p);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 36);
    let user = [
        (
            "host-0",
            "east",
            [0.5660920659323543, 0.41765200380165207, 0.925128845219594],
        ),
        (
            "host-0",
            "west",
            [0.42157058562840155, 0.48924257454472525, 0.9167074899036827],
        ),
        (
            "host-1",
            "east",
            [0.36832994780378014, 0.7434673863639695, 0.8626564105921588],
        ),
        (
            "host-1",
            "west",
            [0.027115744632158528, 0.838731378864137, 0.18629884992437365],
        ),
        (
            "host-2",
            "east",
            [0.7125611076588594, 0.6333402875097828, 0.9509561978377322],
        ),
        (
            "host-2",
            "west",
            [0.5588867210642816, 0.9084455030937538, 0.2738418304689928],
        ),
    ];
    let mut expected = Vec::new();
    for (host, region, values) in user {
        for (i, ts) in [1577836830, 1577836840, 1577836850].iter().enumerate() {
            let _ = i;
            expected.push(format!(
                "cpu,host={host},region={region} system=2.5 {ts}000000000"
            ));
        }
        for (v, ts) in values.iter().zip([1577836830, 1577836840, 1577836850]) {
            expected.push(format!(
                "cpu,host={host},region={region} user={v} {ts}000000000"
            ));
        }
    }
    assert_eq!(lines, expected);
    let summary = PlanSummary::new(&p);
    assert_eq!(summary.total(|m| m.series), 6);
    assert_eq!(summary.total(|m| m.field_series), 12);
    assert_eq!(summary.total(|m| m.points), 36);
}

/// Spec §4.3: which combination indexes sampling keeps.
#[test]
fn sampling_vectors() {
    assert_eq!(sample_seed(0.5), 2305843009213693952);
    assert_eq!(sample_seed(0.25), 1152921504606846976);
    assert_eq!(sample_seed(0.1), 461168601842738816);
    assert_eq!(sample_seed(0.75), 3458764513820540928);
    assert_eq!(sample_seed(0.9), 4150517416584649216);
    assert_eq!(sample_seed(0.3333), 1537074949941848320);
    let kept = |count: usize, sample: f64| -> Vec<u64> {
        let text = format!(
            "[[measurements]]\nname = \"m\"\nsample = {sample:?}\ntags = [{{ name = \"t\", source = {{ type = \"sequence\", count = {count} }} }}]\nfields = [{{ name = \"f\", count = 1, source = 1 }}]\n"
        );
        let p = plan(&text, TimeRange { start: 0, end: S });
        Combinations::new(&p.specs[0]).collect()
    };
    assert_eq!(kept(20, 0.5), [0, 1, 2, 3, 7, 8, 10, 15, 16, 18, 19]);
    assert_eq!(kept(20, 0.25), [0, 1, 6, 13]);
    assert_eq!(kept(15, 0.5), [0, 1, 2, 3, 7, 8, 10]);
    assert_eq!(kept(15, 1.0), (0..15).collect::<Vec<_>>());
}

/// Spec §3.1: the documented schema's `mem` block (5 × 3 combinations at the default 0.5).
#[test]
fn documented_mem_block() {
    let text = r#"
[[measurements]]
name = "mem"
tags = [
    { name = "host",   source = { type = "sequence", format = "host-%s", start = 0, count = 5 } },
    { name = "region", source = ["us-west-01","us-west-02","us-east"] },
]
fields = [
    { name = "free",    count = 100, source = [10,15,20,25,30,35,30], time-precision = "ms" },
    { name = "low_mem", count = 100, source = [false,true,true], time-precision = "ms" },
]
"#;
    let p = plan(
        text,
        TimeRange {
            start: 0,
            end: 7 * 86_400 * S,
        },
    );
    let keys: Vec<String> = pairs(&p)
        .into_iter()
        .filter(|k| k.ends_with(" free"))
        .collect();
    assert_eq!(
        keys,
        [
            "mem,host=host-0,region=us-east free",
            "mem,host=host-0,region=us-west-01 free",
            "mem,host=host-0,region=us-west-02 free",
            "mem,host=host-1,region=us-east free",
            "mem,host=host-2,region=us-west-01 free",
            "mem,host=host-2,region=us-west-02 free",
            "mem,host=host-3,region=us-west-01 free",
        ]
    );
    assert_eq!(p.specs[0].times.delta, 6048 * S);
    let out = lp(&p);
    // Arrays restart for every series: the first series' free values begin 10, 15, 20 ….
    let free: Vec<&str> = out
        .lines()
        .filter(|l| l.contains(" free="))
        .take(8)
        .collect();
    assert!(free[0].contains("free=10i "), "{}", free[0]);
    assert!(free[7].contains("free=10i "), "{}", free[7]);
    assert_eq!(out.lines().count(), 7 * 2 * 100);
}

/// Spec §4.5: merge order, duplicates, measurement order, top-level limit.
#[test]
fn merge_vectors() {
    let block = |name: &str, tags: &str| {
        format!(
            "[[measurements]]\nname = \"{name}\"\nsample = 1.0\ntags = [{tags}]\nfields = [{{ name = \"f0\", count = 1, source = 1 }}, {{ name = \"f1\", count = 1, source = 2 }}]\n"
        )
    };
    let tags = "{ name = \"t0\", source = { type = \"sequence\", count = 2 } }, { name = \"t1\", source = { type = \"sequence\", count = 1 } }";
    let range = TimeRange { start: 0, end: S };
    let one = plan(&block("cpu", tags), range);
    let expected = [
        "cpu,t0=value0,t1=value0 f0",
        "cpu,t0=value0,t1=value0 f1",
        "cpu,t0=value1,t1=value0 f0",
        "cpu,t0=value1,t1=value0 f1",
    ];
    assert_eq!(pairs(&one), expected);
    let twice = plan(&(block("cpu", tags) + &block("cpu", tags)), range);
    assert_eq!(pairs(&twice), expected);
    // Earliest block wins a duplicate: its values (1i/2i) are used, not the second block's.
    let second = block("cpu", tags).replace("source = 1 }", "source = 7 }");
    let mixed = plan(&(block("cpu", tags) + &second), range);
    assert!(lp(&mixed).lines().all(|l| !l.contains("=7i")));
    let ordered = plan(&(block("m1", tags) + &block("m0", tags)), range);
    let got = pairs(&ordered);
    assert!(
        got[..4].iter().all(|k| k.starts_with("m0,"))
            && got[4..].iter().all(|k| k.starts_with("m1,"))
    );
    let limited = plan(&format!("series-limit = 3\n{}", block("cpu", tags)), range);
    assert_eq!(pairs(&limited), expected[..3]);
}

/// Spec §4.4: a block limit counts combinations per field.
#[test]
fn block_series_limit() {
    let text = "[[measurements]]\nname = \"m\"\nsample = 1.0\nseries-limit = 2\ntags = [{ name = \"t\", source = [\"a\", \"b\", \"c\"] }]\nfields = [{ name = \"f\", count = 1, source = 1 }, { name = \"g\", count = 1, source = 1 }]\n";
    let p = plan(text, TimeRange { start: 0, end: S });
    assert_eq!(pairs(&p), ["m,t=a f", "m,t=a g", "m,t=b f", "m,t=b g"]);
    let zero = plan(
        &text.replace("series-limit = 2", "series-limit = 0"),
        TimeRange { start: 0, end: S },
    );
    assert!(pairs(&zero).is_empty());
}

/// Spec §3.4: the golden dataset (10 integer points 400 s apart).
#[test]
fn golden_dataset() {
    let text = "[[measurements]]\nname = \"m0\"\ntags = [\n  { name = \"tag0\", source = [ \"host1\" ] },\n]\nfields = [\n  { name = \"f0\", count = 10, source = 1 },\n]\n";
    let p = plan(
        text,
        TimeRange {
            start: 1_000_000_000_000,
            end: 5_000_000_000_000,
        },
    );
    let out = lp(&p);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 10);
    assert_eq!(lines[0], "m0,tag0=host1 f0=1i 1000000000000");
    assert_eq!(lines[9], "m0,tag0=host1 f0=1i 4600000000000");
}

/// Empty tag values are left out of the key; escaping applies to measurement, tags and field.
#[test]
fn keys_omit_empty_values_and_escape() {
    let text = "[[measurements]]\nname = \"my m,x\"\nsample = 1.0\ntags = [{ name = \"a b\", source = [\"\", \"x=y\"] }]\nfields = [{ name = \"f,1\", count = 1, source = \"s\\\"q\" }]\n";
    let p = plan(text, TimeRange { start: 0, end: S });
    assert_eq!(
        lp(&p),
        "my\\ m\\,x f\\,1=\"s\\\"q\" 0\nmy\\ m\\,x,a\\ b=x\\=y f\\,1=\"s\\\"q\" 0\n"
    );
}

/// A field whose range is shorter than one interval still registers its series, without points.
#[test]
fn zero_count_pairs_are_counted_but_empty() {
    let text = "[[measurements]]\nname = \"m\"\nsample = 1.0\ntags = [{ name = \"t\", source = [\"a\"] }]\nfields = [{ name = \"f\", count = 5, time-interval = \"1h\", source = 1 }]\n";
    let p = plan(
        text,
        TimeRange {
            start: 0,
            end: 60 * S,
        },
    );
    let totals = Generator::new(&p)
        .for_each_block(|_| Ok::<(), Infallible>(()))
        .unwrap();
    assert_eq!((totals.series, totals.pairs, totals.values), (1, 1, 0));
}

#[test]
fn type_conflicts_between_blocks_are_rejected() {
    let text = "[[measurements]]\nname = \"m\"\nfields = [{ name = \"f\", count = 1, source = 1 }]\n[[measurements]]\nname = \"m\"\nfields = [{ name = \"f\", count = 1, source = 1.5 }]\n";
    let schema = parse_schema(text, "t.toml", None).unwrap();
    let e = Plan::new(&schema, TimeRange { start: 0, end: S }).unwrap_err();
    assert_eq!(e.location.line, 6);
    assert!(
        e.message
            .ends_with("field \"m.f\" data-type conflict, found Integer and Float"),
        "{e}"
    );
}

#[test]
fn duplicate_tag_keys_and_field_names_are_rejected() {
    let dup_tag = "[[measurements]]\nname = \"m\"\ntags = [{ name = \"t\", source = \"a\" }, { name = \"t\", source = \"b\" }]\n";
    let schema = parse_schema(dup_tag, "t.toml", None).unwrap();
    let e = Plan::new(&schema, TimeRange { start: 0, end: S }).unwrap_err();
    assert!(e.message.contains("duplicate tag keys \"t\""), "{e}");
    let dup_field = "[[measurements]]\nname = \"m\"\nfields = [{ name = \"f\", count = 1, source = 1 }, { name = \"f\", count = 1, source = 2 }]\n";
    let schema = parse_schema(dup_field, "t.toml", None).unwrap();
    let e = Plan::new(&schema, TimeRange { start: 0, end: S }).unwrap_err();
    assert!(e.message.contains("duplicate field names \"f\""), "{e}");
}

/// `new_series` marks the first block of every key, even when the key's first field is empty.
#[test]
fn new_series_flags_the_first_block_of_each_key() {
    let text = "[[measurements]]\nname = \"m\"\nsample = 1.0\ntags = [{ name = \"t\", source = [\"a\", \"b\"] }]\nfields = [{ name = \"a\", count = 5, time-interval = \"1h\", source = 1 }, { name = \"b\", count = 2500, time-precision = \"ms\", source = 2 }]\n";
    let p = plan(
        text,
        TimeRange {
            start: 0,
            end: 60 * S,
        },
    );
    let mut flags = Vec::new();
    Generator::new(&p)
        .for_each_block(|b| {
            flags.push((
                String::from_utf8_lossy(b.series_key).into_owned(),
                b.field.to_string(),
                b.new_series,
                b.first_of_pair,
            ));
            Ok::<(), Infallible>(())
        })
        .unwrap();
    let expect = |k: &str, n: bool, f: bool| (k.to_string(), "b".to_string(), n, f);
    assert_eq!(
        flags,
        [
            expect("m,t=a", true, true),
            expect("m,t=a", false, false),
            expect("m,t=a", false, false),
            expect("m,t=b", true, true),
            expect("m,t=b", false, false),
            expect("m,t=b", false, false),
        ]
    );
}
