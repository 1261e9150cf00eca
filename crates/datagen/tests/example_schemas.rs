//! Every schema in `examples/schemas/` parses without warnings, plans, and generates series whose
//! counts agree with the plan summary.

use std::path::PathBuf;

use tsmdb_datagen::{
    Generator, LineProtocolWriter, Plan, PlanSummary, TimeRange, read_schema_file,
};

const S: i64 = 1_000_000_000;

fn example(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/schemas"
    ))
    .join(name)
}

fn load(name: &str, range: TimeRange) -> Plan {
    let schema = read_schema_file(&example(name)).unwrap_or_else(|e| panic!("{e}"));
    assert!(schema.warnings.is_empty(), "{:?}", schema.warnings);
    Plan::new(&schema, range).unwrap_or_else(|e| panic!("{e}"))
}

/// Generates everything and checks it against the summary; returns the LP text.
fn generate_and_check(plan: &Plan) -> String {
    let summary = PlanSummary::new(plan);
    let mut w = LineProtocolWriter::new(Vec::new());
    let totals = Generator::new(plan)
        .for_each_block(|b| {
            assert!(b.timestamps.len() <= 1000 && b.timestamps.len() == b.values.len());
            assert!(b.timestamps.windows(2).all(|t| t[0] < t[1]));
            w.write_block(b)
        })
        .unwrap();
    assert_eq!(totals.series, summary.total(|m| m.series));
    assert_eq!(totals.pairs, summary.total(|m| m.field_series));
    assert_eq!(totals.values, summary.total(|m| m.points));
    let text = String::from_utf8(w.finish().unwrap()).unwrap();
    assert_eq!(text.lines().count() as u64, totals.values);
    text
}

#[test]
fn documented_schema() {
    // One hour keeps the test fast; the schema's counts are reduced by the range.
    let plan = load(
        "documented.toml",
        TimeRange {
            start: 0,
            end: 3600 * S,
        },
    );
    let summary = PlanSummary::new(&plan);
    let names: Vec<&str> = summary
        .measurements
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(names, ["cpu", "mem"]);
    // cpu: 5 hosts × 3 racks (from files/racks.txt) × 3 regions.
    assert_eq!(summary.measurements[0].tag_combos, 45);
    assert_eq!(
        summary.measurements[0].tags,
        [
            ("host".to_string(), 5),
            ("rack".to_string(), 3),
            ("region".to_string(), 3)
        ]
    );
    assert_eq!(summary.measurements[1].series, 7);
    let text = generate_and_check(&plan);
    assert!(text.contains("cpu,host=host-0,rack=rack-1,region=us-east system=2.5 0\n"));
}

#[test]
fn devops_schema() {
    let plan = load(
        "devops.toml",
        TimeRange {
            start: 0,
            end: 600 * S,
        },
    );
    let summary = PlanSummary::new(&plan);
    assert_eq!(summary.total(|m| m.series), 100);
    assert_eq!(summary.total(|m| m.field_series), 1000);
    assert_eq!(summary.total(|m| m.points), 1000 * 60);
    let text = generate_and_check(&plan);
    assert!(text.starts_with("cpu,hostname=host_00 usage_guest="));
    // Over the full day the schema gives TSBS's point count: 100 hosts × 10 fields × 8640.
    let day = load(
        "devops.toml",
        TimeRange {
            start: 0,
            end: 86_400 * S,
        },
    );
    assert_eq!(PlanSummary::new(&day).total(|m| m.points), 8_640_000);
}

#[test]
fn iot_schema() {
    let plan = load(
        "iot.toml",
        TimeRange {
            start: 0,
            end: 3600 * S,
        },
    );
    let summary = PlanSummary::new(&plan);
    assert_eq!(summary.measurements.len(), 1);
    let m = &summary.measurements[0];
    assert_eq!(m.tag_combos, 6 * 10 * 200 + 6 * 4);
    assert_eq!(m.fields, 5);
    // The sensor block is capped at 5000 combinations per field; the gateway block adds 24 keys.
    assert_eq!(m.series, 5000 + 24);
    assert_eq!(m.field_series, 5000 * 5 + 24);
    let text = generate_and_check(&plan);
    // One hour at hour precision leaves one status value per series: the first, "ok".
    assert!(text.lines().any(|l| l.contains("status=\"ok\"")));
    assert!(
        text.lines()
            .any(|l| l.starts_with("sensor,gateway=gw0,site=ams online=true "))
    );
}

/// The TSM size estimate of `--print` is within 25% of the real encoded blocks plus their index
/// entries (the estimate uses per-type bit rates, not the codecs; it is within 7% here).
#[test]
fn tsm_estimate_is_close_to_encoded_size() {
    for name in ["documented.toml", "devops.toml", "iot.toml"] {
        let plan = load(
            name,
            TimeRange {
                start: 0,
                end: 3600 * S,
            },
        );
        let estimate = PlanSummary::new(&plan).total(|m| m.tsm_bytes);
        let mut actual = 0u64;
        let mut block = Vec::new();
        Generator::new(&plan)
            .for_each_block(|b| {
                block.clear();
                tsmdb_encoding::encode_block(b.timestamps, b.values.as_ref(), &mut block)?;
                // block + CRC, index entry; key bytes once per key and field
                actual += block.len() as u64 + 4 + 28;
                if b.first_of_pair {
                    actual += b.series_key.len() as u64 + 4 + b.field.len() as u64 + 5;
                }
                Ok::<(), tsmdb_encoding::Error>(())
            })
            .unwrap();
        assert!(
            estimate.abs_diff(actual) * 4 <= actual,
            "{name}: estimate {estimate}, encoded {actual}"
        );
    }
}
