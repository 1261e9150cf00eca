//! Decoding: the upstream test schemas (spec §3.3), defaults, every error with its line.

use super::*;

fn parse(text: &str) -> Result<Schema> {
    parse_schema(text, "s.toml", None)
}

fn error(text: &str) -> SchemaError {
    match parse(text) {
        Ok(s) => panic!("expected an error, got {s:?}"),
        Err(e) => e,
    }
}

const UPSTREAM_TOML_TEST: &str = r#"
title = "example schema"
series-limit = 10

[[measurements]]
    name = "constant"
    series-limit = 5

    [[measurements.tags]]
        name   = "tag0"
        source = [ "host1", "host2" ]

    [[measurements.tags]]
        name   = "tag1"
        source = { type = "file", path = "foo.txt" }

    [[measurements.fields]]
        name   = "floatC"
        count  = 5000
        source = 0.5
        time-precision = "us"

    [[measurements.fields]]
        name   = "integerC"
        count  = 5000
        source = 3
        time-precision = "hour"

    [[measurements.fields]]
        name   = "stringC"
        count  = 5000
        source = "hello"
        time-interval = "60s"

    [[measurements.fields]]
        name   = "stringA"
        count  = 5000
        source = ["hello", "world"]

    [[measurements.fields]]
        name   = "boolf"
        count  = 5000
        source = false

[[measurements]]
name = "random"

    [[measurements.tags]]
        name   = "tagSeq"
        source = { type = "sequence", format = "value%s", start = 0, count = 100 }

    [[measurements.fields]]
        name   = "floatR"
        count  = 5000
        source = { type = "rand<float>", min = 0.5, max = 50.1, seed = 10 }
        time-precision = "us"

[[measurements]]
name = "array"

    [[measurements.tags]]
        name   = "tagSeq"
        source = { type = "sequence", format = "value%s", start = 0, count = 100 }

    [[measurements.tags]]
        name   = "tagFile"
        source = { type = "file", path = "foo.txt" }

    [[measurements.fields]]
        name   = "stringA"
        count  = 1000
        source = ["this", "that"]
        time-precision = "us"

    [[measurements.fields]]
        name   = "integerA"
        count  = 1000
        source = [5, 6, 7]
        time-interval = "90s"
"#;

#[test]
fn decodes_upstream_test_schema() {
    let s = parse(UPSTREAM_TOML_TEST).unwrap();
    assert_eq!(s.title, "example schema");
    assert_eq!(s.series_limit, Some(10));
    assert_eq!(s.measurements.len(), 3);
    let c = &s.measurements[0];
    assert_eq!(
        (c.name.as_str(), c.series_limit, c.sample),
        ("constant", Some(5), 0.5)
    );
    assert_eq!(
        c.tags[1].source,
        TagSource::File {
            path: "foo.txt".into()
        }
    );
    let f = |i: usize| (&c.fields[i].source, c.fields[i].timing);
    assert_eq!(
        f(0),
        (
            &FieldSource::Cycle(Literals::Float(vec![0.5])),
            Timing::Precision(1_000)
        )
    );
    assert_eq!(
        f(1),
        (
            &FieldSource::Cycle(Literals::Integer(vec![3])),
            Timing::Precision(3_600_000_000_000)
        )
    );
    assert_eq!(
        f(2),
        (
            &FieldSource::Cycle(Literals::String(vec!["hello".into()])),
            Timing::Interval(60_000_000_000)
        )
    );
    assert_eq!(
        f(3),
        (
            &FieldSource::Cycle(Literals::String(vec!["hello".into(), "world".into()])),
            Timing::Precision(1_000_000)
        )
    );
    assert_eq!(f(4).0, &FieldSource::Cycle(Literals::Boolean(vec![false])));
    assert_eq!(
        s.measurements[1].fields[0].source,
        FieldSource::RandFloat {
            seed: 10,
            min: 0.5,
            max: 50.1
        }
    );
    assert_eq!(
        s.measurements[1].tags[0].source,
        TagSource::Sequence {
            format: "value%s".into(),
            start: 0,
            count: 100
        }
    );
    let a = &s.measurements[2].fields[1];
    assert_eq!(
        (&a.source, a.timing),
        (
            &FieldSource::Cycle(Literals::Integer(vec![5, 6, 7])),
            Timing::Interval(90_000_000_000)
        )
    );
    assert!(s.warnings.is_empty());
}

#[test]
fn keys_are_case_insensitive_at_the_top_and_unknown_keys_warn() {
    let s = parse(
        "TITLE = \"t\"\nseed = 3\n[[Measurements]]\nNAME = \"m\"\nSample = 1.0\nbogus = 1\nfields = [{ name = \"f\", count = 1, source = 1, colour = \"red\" }]\n",
    )
    .unwrap();
    assert_eq!(s.title, "t");
    assert_eq!(s.measurements[0].name, "m");
    assert_eq!(s.measurements[0].sample, 1.0);
    let warnings: Vec<String> = s.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "warning: s.toml:2:1: seed: unknown key \"seed\" ignored",
            "warning: s.toml:6:1: Measurements[0].bogus: unknown key \"bogus\" ignored",
            "warning: s.toml:7:48: Measurements[0].fields[0].colour: unknown key \"colour\" ignored",
        ]
    );
}

#[test]
fn defaults() {
    let s = parse("[[measurements]]\nname = \"m\"\nfields = [{ name = \"f\", count = 2, source = { type = \"rand<float>\" } }]\ntags = [{ name = \"t\", source = { type = \"sequence\", count = 3 } }]").unwrap();
    let m = &s.measurements[0];
    assert_eq!(m.sample, 0.5);
    assert_eq!(m.series_limit, None);
    assert_eq!(m.fields[0].timing, Timing::Precision(1_000_000));
    assert_eq!(
        m.fields[0].source,
        FieldSource::RandFloat {
            seed: 0,
            min: 0.0,
            max: 1.0
        }
    );
    assert_eq!(
        m.tags[0].source,
        TagSource::Sequence {
            format: "value%s".into(),
            start: 0,
            count: 3
        }
    );
}

#[test]
fn scalar_tag_sources_become_strings() {
    let s = parse("[[measurements]]\nname = \"m\"\ntags = [{ name = \"a\", source = 2.5 }, { name = \"b\", source = 7 }, { name = \"c\", source = true }, { name = \"d\", source = [1.0, 2.0] }]").unwrap();
    let values: Vec<_> = s.measurements[0]
        .tags
        .iter()
        .map(|t| t.source.clone())
        .collect();
    assert_eq!(
        values,
        [
            TagSource::Values(vec!["2.5".into()]),
            TagSource::Values(vec!["7".into()]),
            TagSource::Values(vec!["true".into()]),
            TagSource::Values(vec!["1".into(), "2".into()]),
        ]
    );
}

#[test]
fn interval_overrides_precision() {
    let s = parse("[[measurements]]\nname = \"m\"\nfields = [{ name = \"f\", count = 2, source = 1, time-interval = \"1h30m\", time-precision = \"s\" }]").unwrap();
    assert_eq!(
        s.measurements[0].fields[0].timing,
        Timing::Interval(5_400_000_000_000)
    );
}

#[test]
fn zipf_source() {
    let s = parse("[[measurements]]\nname = \"m\"\nfields = [{ name = \"f\", count = 2, source = { type = \"zipf<integer>\", seed = 4, s = 2, v = 1.5, imax = 9 } }]").unwrap();
    assert_eq!(
        s.measurements[0].fields[0].source,
        FieldSource::Zipf {
            seed: 4,
            s: 2.0,
            v: 1.5,
            imax: 9
        }
    );
}

/// (schema, line, message) for every rejection the spec names.
#[test]
fn errors_name_line_and_problem() {
    let m = "[[measurements]]\nname = \"m\"\n";
    let cases: Vec<(String, usize, &str)> = vec![
        (
            "[[measurements]]\nsample = 0.5\n".into(),
            1,
            "missing measurement name",
        ),
        (
            format!("{m}sample = -0.1\n"),
            3,
            "sample: must be 0 < sample ≤ 1.0",
        ),
        (
            format!("{m}sample = 1\n"),
            3,
            "sample: must be a float, found integer",
        ),
        (
            format!("{m}tags = [{{ source = [\"a\"] }}]\n"),
            3,
            "tag: missing or invalid value for name",
        ),
        (
            format!("{m}tags = [{{ name = \"t\" }}]\n"),
            3,
            "missing source for tag \"t\"",
        ),
        (
            format!("{m}tags = [{{ name = \"t\", source = [] }}]\n"),
            3,
            "empty array source",
        ),
        (
            format!("{m}tags = [{{ name = \"t\", source = [\"a\", 1] }}]\n"),
            3,
            "array source: mixed element types",
        ),
        (
            format!("{m}tags = [{{ name = \"t\", source = {{ count = 3 }} }}]\n"),
            3,
            "missing type field",
        ),
        (
            format!("{m}tags = [{{ name = \"t\", source = {{ type = \"x\" }} }}]\n"),
            3,
            "invalid type field \"x\"",
        ),
        (
            format!("{m}tags = [{{ name = \"t\", source = 1979-05-27 }}]\n"),
            3,
            "invalid source for tag \"t\": datetime",
        ),
        (
            format!("{m}tags = [{{ name = \"t\", source = {{ type = \"sequence\" }} }}]\n"),
            3,
            "tag.sequence: missing count",
        ),
        (
            format!(
                "{m}tags = [{{ name = \"t\", source = {{ type = \"sequence\", count = -1 }} }}]\n"
            ),
            3,
            "tag.sequence: count must be ≥ 0",
        ),
        (
            format!(
                "{m}tags = [{{ name = \"t\", source = {{ type = \"sequence\", count = 1, start = -1 }} }}]\n"
            ),
            3,
            "tag.sequence: start must be ≥ 0",
        ),
        (
            format!(
                "{m}tags = [{{ name = \"t\", source = {{ type = \"sequence\", count = 1, format = \"x\" }} }}]\n"
            ),
            3,
            "tag.sequence: format must contain %s exactly once",
        ),
        (
            format!("{m}tags = [{{ name = \"t\", source = {{ type = \"file\" }} }}]\n"),
            3,
            "file: missing path",
        ),
        (
            format!("{m}fields = [{{ count = 1, source = 1 }}]\n"),
            3,
            "field: missing or invalid value for name",
        ),
        (
            format!("{m}fields = [{{ name = \"f\", count = 1 }}]\n"),
            3,
            "missing source for field \"f\"",
        ),
        (
            format!("{m}fields = [{{ name = \"f\", source = 1 }}]\n"),
            3,
            "field: missing value for count",
        ),
        (
            format!("{m}fields = [{{ name = \"f\", count = 0, source = 1 }}]\n"),
            3,
            "field: count must be > 0",
        ),
        (
            format!("{m}fields = [{{ name = \"f\", count = true, source = 1 }}]\n"),
            3,
            "field: invalid count, expected an integer, found boolean",
        ),
        (
            format!(
                "{m}fields = [{{ name = \"f\", count = 1, source = 1, time-precision = \"d\" }}]\n"
            ),
            3,
            "invalid precision, expect one of (ns, ms, s, m, h): d",
        ),
        (
            format!(
                "{m}fields = [{{ name = \"f\", count = 1, source = 1, time-interval = \"0s\" }}]\n"
            ),
            3,
            "field \"f\": time-interval must be > 0",
        ),
        (
            format!("{m}fields = [{{ name = \"f\", count = 1, source = [] }}]\n"),
            3,
            "empty array",
        ),
        (
            format!(
                "{m}fields = [{{ name = \"f\", count = 1, source = {{ type = \"rand<int>\" }} }}]\n"
            ),
            3,
            "invalid type field \"rand<int>\"",
        ),
        (
            format!(
                "{m}fields = [{{ name = \"f\", count = 1, source = {{ type = \"rand<float>\", min = 2, max = 1 }} }}]\n"
            ),
            3,
            "rand<float>: min ≤ max",
        ),
        (
            format!(
                "{m}fields = [{{ name = \"f\", count = 1, source = {{ type = \"zipf<integer>\", v = 1, imax = 3 }} }}]\n"
            ),
            3,
            "zipf<integer>: missing value for s",
        ),
        (
            format!(
                "{m}fields = [{{ name = \"f\", count = 1, source = {{ type = \"zipf<integer>\", s = 1, v = 1, imax = 3 }} }}]\n"
            ),
            3,
            "zipf<integer>: invalid value for s (s > 1)",
        ),
        (
            format!(
                "{m}fields = [{{ name = \"f\", count = 1, source = {{ type = \"zipf<integer>\", s = 2, v = 0.5, imax = 3 }} }}]\n"
            ),
            3,
            "zipf<integer>: invalid value for v (v ≥ 1)",
        ),
        (
            format!(
                "{m}fields = [{{ name = \"f\", count = 1, source = {{ type = \"zipf<integer>\", s = 2, v = 1 }} }}]\n"
            ),
            3,
            "zipf<integer>: missing value for imax",
        ),
        (
            format!(
                "{m}tags = [{{ name = \"t\", source = {{ type = \"sequence\", count = 10000001 }} }}]\n"
            ),
            3,
            "tag.sequence: count must be ≤ 10000000",
        ),
        (
            format!("{m}fields = [{{ name = \"f\", count = 1, source = nan }}]\n"),
            3,
            "expected a finite number, found NaN",
        ),
        (
            format!("{m}fields = [{{ name = \"f\", count = 1, source = [1.0, inf] }}]\n"),
            3,
            "expected a finite number, found inf",
        ),
        (
            "series-limit = 1.5\n".into(),
            1,
            "series-limit: invalid value (expected an integer, found float)",
        ),
        ("series-limit = -1\n".into(), 1, "series-limit: must be ≥ 0"),
        (
            "measurements = 3\n".into(),
            1,
            "expected an array of tables, found integer",
        ),
        ("x = [\n".into(), 1, "invalid TOML"),
    ];
    for (text, line, message) in cases {
        let e = error(&text);
        assert_eq!(e.location.line, line, "{text}: {e}");
        assert!(
            e.message.starts_with(message),
            "{text}: got {:?}, want {message:?}",
            e.message
        );
        assert!(!e.to_string().contains('\n'), "one line: {e}");
    }
}

#[test]
fn field_array_of_tables_is_unsupported() {
    let e = error(
        "[[measurements]]\nname = \"m\"\nfields = [{ name = \"f\", count = 1, source = [{ a = 1 }] }]\n",
    );
    assert!(
        e.message.starts_with("unsupported field source data type"),
        "{e}"
    );
}

#[test]
fn error_display_names_file_line_column_and_key() {
    let e = error(
        "[[measurements]]\nname = \"m\"\nfields = [\n  { name = \"f\", count = -3, source = 1 },\n]\n",
    );
    assert_eq!(
        e.to_string(),
        "s.toml:4:25: measurements[0].fields[0].count: field: count must be > 0"
    );
}
