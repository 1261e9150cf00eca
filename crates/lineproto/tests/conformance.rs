//! Spec §10.5 / §10.6: InfluxDB's parser tests (models/points_test.go) ported, one case per
//! error path, with the exact reason texts.

use tsmdb_lineproto::{ErrorKind, FieldValue, ParseOptions, ParsedPoint, Precision, parse_batch};

fn opts() -> ParseOptions {
    ParseOptions::default()
}

fn one(line: &str) -> Result<ParsedPoint<'_>, String> {
    let b = parse_batch(line.as_bytes(), &opts());
    match (b.points.len(), b.errors.len()) {
        (1, 0) => Ok(b.points.into_iter().next().unwrap()),
        (0, 1) => Err(b.errors[0].kind.to_string()),
        other => panic!("{line:?}: {other:?}"),
    }
}

fn reason(line: &str) -> String {
    match one(line) {
        Ok(p) => panic!("{line:?} parsed: {p:?}"),
        Err(r) => r,
    }
}

fn key(line: &str) -> String {
    String::from_utf8(one(line).expect(line).series_key.to_vec()).unwrap()
}

#[test]
fn error_table_of_spec_10_5() {
    let cases = [
        (",a=b f=1", "missing measurement"),
        ("cpu", "missing fields"),
        ("cpu, f=1", "missing tag key"),
        ("cpu,a f=1", "missing tag value"),
        ("cpu,a= f=1", "missing tag value"),
        ("cpu,a=b=c f=1", "invalid tag format"),
        ("cpu,a=1,a=2 f=1", "duplicate tags"),
        ("cpu,b=1,a=2,b=3 f=1", "duplicate tags"),
        ("cpu =1", "missing field key"),
        ("cpu f=1,=2", "missing field key"),
        ("cpu f=", "missing field value"),
        ("cpu f=,g=1", "missing field value"),
        ("cpu f=\"x", "unbalanced quotes"),
        ("cpu f=1,g", "invalid field format"),
        (
            "cpu,host=server01 1434055562000000000",
            "invalid field format",
        ),
        ("cpu f=1 abc", "bad timestamp"),
        ("a v=1 0\\", "bad timestamp"),
        ("cpu f=1 1 x", "point is invalid"),
        ("cpu f=1.1.1", "invalid number"),
        ("cpu f=NaN", "invalid number"),
        ("cpu f=1e400", "invalid float"),
        ("cpu f=tru", "invalid boolean"),
        ("cpu f=+1", "invalid boolean"),
        ("cpu f=inf", "invalid boolean"),
        (
            "cpu f=1 9223372036854775807",
            "time outside range -9223372036854775806 - 9223372036854775806",
        ),
        (
            "cpu f=9223372036854775808i",
            "unable to parse integer 9223372036854775808: strconv.ParseInt: parsing \"9223372036854775808\": value out of range",
        ),
        (
            "cpu f=18446744073709551616u",
            "unable to parse unsigned 18446744073709551616: strconv.ParseUint: parsing \"18446744073709551616\": value out of range",
        ),
    ];
    for (line, want) in cases {
        assert_eq!(reason(line), want, "{line:?}");
    }
}

#[test]
fn no_fields() {
    for line in [
        "cpu_load_short,host=server01,region=us-west",
        "cpu",
        "cpu,host==",
        "=",
    ] {
        assert_eq!(reason(line), "missing fields", "{line:?}");
    }
}

#[test]
fn empty_and_blank_inputs_give_nothing() {
    for input in [
        "",
        " ",
        "\n\n",
        "  \t \n",
        "# comment\n   # indented comment\n",
    ] {
        let b = parse_batch(input.as_bytes(), &opts());
        assert!(b.points.is_empty() && b.errors.is_empty(), "{input:?}");
    }
}

#[test]
fn nul_bytes_are_whitespace() {
    let mut input = vec![0u8; 350_000];
    input.extend_from_slice(b"cpu value=1");
    let b = parse_batch(&input, &opts());
    assert_eq!(b.points.len(), 1);
    assert!(b.errors.is_empty());
}

#[test]
fn tags_sorted_and_escapes_kept() {
    assert_eq!(key("cpu,b=2,a=1 f=1"), "cpu,a=1,b=2");
    assert_eq!(key("cpu,last=1,first=2 value=1i"), "cpu,first=2,last=1");
    assert_eq!(key(r"cpu\ x,t\ k=v\,w f\ k=1"), r"cpu\ x,t\ k=v\,w");
    let p = one(r#"cpu\ x,t\ k=v\,w f\ k="v" 5"#).unwrap();
    assert_eq!(&*p.fields[0].key(), b"f k");
    assert_eq!(p.time, 5);
    assert_eq!(
        p.composite_key(&p.fields[0]),
        br"cpu\ x,t\ k=v\,w#!~#f k".to_vec()
    );
    // `cpu,host=serverA,\ =us-east value=1i` is valid: the tag key is an escaped space.
    assert_eq!(
        key(r"cpu,host=serverA,\ =us-east value=1i"),
        r"cpu,\ =us-east,host=serverA"
    );
    // `a\ =123i`: an escaped space may end a field key.
    assert_eq!(&*one(r"cpu a\ =123i").unwrap().fields[0].key(), b"a ");
}

#[test]
fn invalid_tag_formats() {
    assert_eq!(reason("cpu,host=f=o, value=1"), "invalid tag format");
    assert_eq!(reason(r"cpu,host=f\==o,t=1 value=1"), "invalid tag format");
    // A value may start with `=` (InfluxDB only checks the first byte for `,` and space).
    let p = one("cpu,a==b f=1").unwrap();
    assert_eq!(p.tags[0].value_raw, b"=b");
}

#[test]
fn tag_value_ending_in_backslash() {
    // `east\\ ` : the first space is escaped, so the value is `east\ ` once unescaped.
    let p = one(r"cpu,regions=east\\  value=1.0").unwrap();
    assert_eq!(&*p.tags[0].value(), br"east\ ");
}

#[test]
fn bad_numbers() {
    for v in [
        "-", "-i", "-.", ".", "1.0i", "1ii", "1a", "42+3", "-123u", "1i2",
    ] {
        assert_eq!(reason(&format!("cpu value={v} 1")), "invalid number", "{v}");
    }
    assert_eq!(reason("cpu value=-e-e-e 1"), "invalid float");
    // empty value
    assert_eq!(reason("cpu value= 1"), "missing field value");
}

#[test]
fn number_limits() {
    fn f(line: &str) -> FieldValue<'_> {
        one(line).unwrap().fields[0].value
    }
    assert_eq!(
        f("cpu v=9223372036854775807i"),
        FieldValue::Integer(i64::MAX)
    );
    assert_eq!(
        f("cpu v=-9223372036854775808i"),
        FieldValue::Integer(i64::MIN)
    );
    assert!(reason("cpu v=-9223372036854775809i").starts_with("unable to parse integer"));
    assert_eq!(
        f("cpu v=18446744073709551615u"),
        FieldValue::Unsigned(u64::MAX)
    );
    assert_eq!(f("cpu v=0u"), FieldValue::Unsigned(0));
    assert_eq!(f("cpu v=0000u"), FieldValue::Unsigned(0));
    assert_eq!(
        f("cpu v=1.7976931348623157e308"),
        FieldValue::Float(f64::MAX)
    );
    assert_eq!(
        f("cpu v=-1.7976931348623157e308"),
        FieldValue::Float(f64::MIN)
    );
    assert_eq!(f("cpu v=5e-324"), FieldValue::Float(5e-324));
    // 400 digits is out of range even without an exponent.
    assert_eq!(
        reason(&format!("cpu v=1{}", "0".repeat(400))),
        "invalid float"
    );
}

#[test]
fn unsigned_switch() {
    let b = parse_batch(b"m u=42u", &ParseOptions::influxdb_1_6());
    assert_eq!(b.errors[0].kind, ErrorKind::InvalidNumber);
    assert_eq!(
        one("m u=42u").unwrap().fields[0].value,
        FieldValue::Unsigned(42)
    );
}

#[test]
fn booleans() {
    for (v, want) in [
        ("t", true),
        ("T", true),
        ("true", true),
        ("True", true),
        ("TRUE", true),
        ("f", false),
        ("F", false),
        ("false", false),
        ("False", false),
        ("FALSE", false),
    ] {
        assert_eq!(
            one(&format!("m b={v}")).unwrap().fields[0].value,
            FieldValue::Boolean(want)
        );
    }
    for v in ["tRUE", "fAlse", "yes", "tr", "truee"] {
        assert_eq!(reason(&format!("m b={v}")), "invalid boolean", "{v}");
    }
}

#[test]
fn strings() {
    let s = |line: &str| match one(line).unwrap().fields[0].value {
        FieldValue::String(s) => s.unescape().into_owned(),
        other => panic!("{other:?}"),
    };
    assert_eq!(s(r#"m s="a b, c=d""#), b"a b, c=d");
    assert_eq!(s("m s=\"multi\nline\""), b"multi\nline");
    assert_eq!(s(r#"m s="foo\,bar""#), br"foo\,bar");
    assert_eq!(s(r#"m s="say \"hi\"""#), br#"say "hi""#);
    assert_eq!(s(r#"m s="back\\slash""#), br"back\slash");
    assert_eq!(s("m s=\"日本語\""), "日本語".as_bytes());
    assert_eq!(s(r#"m s="""#), b"");
}

#[test]
fn quotes_in_measurement_and_tags_are_literal() {
    let p = one(r#""m",t="x" v=1"#).unwrap();
    assert_eq!(&*p.measurement(), br#""m""#);
    assert_eq!(&*p.tags[0].value(), br#""x""#);
    // An unbalanced quote in a tag does not swallow the next line.
    let b = parse_batch(b"m,t=\"x v=1\nm v=2\n", &opts());
    assert_eq!(b.points.len(), 2);
}

#[test]
fn unbalanced_quote_swallows_rest_of_body() {
    let b = parse_batch(b"a v=1\nm v=\"x 1\nn v=2\n", &opts());
    assert_eq!(b.points.len(), 1);
    assert_eq!(b.errors.len(), 1);
    assert_eq!(b.errors[0].line, 2);
    assert_eq!(&*b.errors[0].text, b"m v=\"x 1\nn v=2");
    assert_eq!(b.errors[0].kind, ErrorKind::UnbalancedQuotes);
}

#[test]
fn timestamps() {
    assert_eq!(one("m v=1 -1").unwrap().time, -1);
    assert_eq!(
        one("m v=1 9223372036854775806").unwrap().time,
        9223372036854775806
    );
    assert_eq!(
        one("m v=1 -9223372036854775806").unwrap().time,
        -9223372036854775806
    );
    assert_eq!(
        reason("m v=1 -9223372036854775807"),
        "time outside range -9223372036854775806 - 9223372036854775806"
    );
    assert_eq!(
        reason("m v=1 9223372036854775808"),
        "strconv.ParseInt: parsing \"9223372036854775808\": value out of range"
    );
    assert_eq!(
        reason("m v=1 -"),
        "strconv.ParseInt: parsing \"-\": invalid syntax"
    );
    for bad in ["-/", "-1?", "1-", "1.5"] {
        assert_eq!(reason(&format!("m v=1 {bad}")), "bad timestamp", "{bad}");
    }
    assert_eq!(reason("m v=1 1 2"), "point is invalid");
    assert_eq!(one("m v=1 1   ").unwrap().time, 1);
}

#[test]
fn precision_scaling_and_default_time() {
    let with = |p: Precision, t: i64| ParseOptions {
        precision: p,
        default_time: t,
        ..ParseOptions::default()
    };
    let b = parse_batch(b"m v=1 2", &with(Precision::Second, 0));
    assert_eq!(b.points[0].time, 2_000_000_000);
    let b = parse_batch(b"m v=1 2", &with(Precision::Hour, 0));
    assert_eq!(b.points[0].time, 7_200_000_000_000);
    let b = parse_batch(b"m v=1 3", &with(Precision::Microsecond, 0));
    assert_eq!(b.points[0].time, 3_000);
    let b = parse_batch(b"m v=1 3", &with(Precision::Millisecond, 0));
    assert_eq!(b.points[0].time, 3_000_000);
    let b = parse_batch(b"m v=1 3", &with(Precision::Minute, 0));
    assert_eq!(b.points[0].time, 180_000_000_000);
    // Overflow while scaling.
    let b = parse_batch(b"m v=1 9223372036854775", &with(Precision::Second, 0));
    assert_eq!(b.errors[0].kind, ErrorKind::TimeOutsideRange);
    // The default time is truncated to the precision.
    let b = parse_batch(b"m v=1", &with(Precision::Second, 1_234_567_890_123));
    assert_eq!(b.points[0].time, 1_234_000_000_000);
}

#[test]
fn crlf_is_rejected_like_influxdb_unless_stripped() {
    let b = parse_batch(b"m v=1 1\r\nm v=2\r\n", &opts());
    assert_eq!(b.errors.len(), 2);
    assert_eq!(b.errors[0].kind, ErrorKind::BadTimestamp);
    assert_eq!(b.errors[1].kind, ErrorKind::InvalidNumber);
    let strip = ParseOptions {
        strip_cr: true,
        ..opts()
    };
    let b = parse_batch(b"m v=1 1\r\n\r\nm v=2\r\n", &strip);
    assert!(b.errors.is_empty());
    assert_eq!(b.points.len(), 2);
}

#[test]
fn many_tags() {
    let mut line = String::from("m");
    for i in (0..255).rev() {
        line.push_str(&format!(",tag{i:03}=v{i}"));
    }
    line.push_str(" f=1");
    let p = one(&line).unwrap();
    assert_eq!(p.tags.len(), 255);
    assert!(p.tags.windows(2).all(|w| w[0].key_raw < w[1].key_raw));
}

#[test]
fn key_length_limits() {
    // Series key of exactly 65535 bytes is fine only without a field that pushes the
    // composite key over; the composite limit is len(key) + 4 + len(field) <= 65535.
    let m = "m".repeat(65535 - 4 - 1);
    assert!(one(&format!("{m} f=1")).is_ok());
    assert_eq!(
        reason(&format!("{m} ff=1")),
        "max key length exceeded: 65536 > 65535"
    );
    let m = "m".repeat(65536);
    assert_eq!(
        reason(&format!("{m} f=1")),
        "max key length exceeded: 65536 > 65535"
    );
}

#[test]
fn duplicate_fields_are_kept_in_order() {
    let p = one("m a=1,a=2i").unwrap();
    assert_eq!(p.fields.len(), 2);
    assert_eq!(p.fields[1].value, FieldValue::Integer(2));
}

#[test]
fn errors_carry_line_and_column() {
    let b = parse_batch(b"m v=1\n\n  m v=tru 1\nm v=2\n", &opts());
    assert_eq!(b.points.len(), 2);
    let e = &b.errors[0];
    assert_eq!(e.line, 3);
    assert_eq!(e.offset, 7);
    // `tru` ends at byte 10 of the line (1-based column 10 is the space after it).
    assert_eq!(e.column, 10);
    assert_eq!(
        e.to_string(),
        "unable to parse 'm v=tru 1': invalid boolean"
    );
}

#[test]
fn odd_field_sections_follow_influxdbs_iterator() {
    // A segment without `=` is balanced by an extra `=`: InfluxDB's validator accepts it and its
    // iterator then reads a field `b,c` with string content `x"=` (value `"x"=2`).
    let p = one(r#"m a=1,b,c="x"=2"#).unwrap();
    assert_eq!(p.fields.len(), 2);
    assert_eq!(&*p.fields[1].key(), b"b,c");
    match p.fields[1].value {
        FieldValue::String(s) => assert_eq!(s.raw(), br#"x"="#),
        other => panic!("{other:?}"),
    }
}

#[test]
fn stream_bounds_an_endless_line_and_resynchronises() {
    use tsmdb_lineproto::{StreamOptions, parse_reader};
    // An unbalanced quote would make the rest of the body one line; the stream reader caps it.
    let mut input = b"a v=1\nm s=\"open ".to_vec();
    input.extend(std::iter::repeat_n(b'x', 5000));
    input.extend_from_slice(b"\nafter v=2\n");
    let mut points = Vec::new();
    let mut errors = Vec::new();
    let summary = parse_reader(
        &input[..],
        &opts(),
        &StreamOptions {
            chunk_size: 256,
            max_line: 1024,
        },
        |r| match r {
            Ok(p) => points.push((p.line(), p.measurement().into_owned())),
            Err(e) => errors.push(e),
        },
    )
    .unwrap();
    assert_eq!(points, vec![(1, b"a".to_vec()), (3, b"after".to_vec())]);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 2);
    assert_eq!(errors[0].kind, ErrorKind::LineTooLong(1024));
    assert_eq!(summary.rejected, 1);
}

#[test]
fn error_message_joins_lines_like_influxdb() {
    let b = parse_batch(b"cpu\nm v=1\n,x=1 v=1\n", &opts());
    assert_eq!(
        b.error_message().unwrap(),
        "unable to parse 'cpu': missing fields\nunable to parse ',x=1 v=1': missing measurement"
    );
    assert_eq!(parse_batch(b"m v=1", &opts()).error_message(), None);
}
