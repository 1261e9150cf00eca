//! Property tests: writer round trip, parallel and streaming parses equal the plain parse,
//! no panic on any input, composite keys split back.

use std::borrow::Cow;

use proptest::prelude::*;
use tsmdb_lineproto::{
    FieldValue, ParseOptions, Parser, StreamOptions, Value, composite_key, parse_batch,
    parse_batch_parallel_with, parse_reader, split_composite_key, write_line,
};

/// Names drawn from an alphabet rich in the bytes line protocol treats specially.
fn name() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(vec![
            b'a', b'b', b'z', b'0', b',', b' ', b'=', b'"', b'\\', b'#', b'\t', b'-', b'.', 0xC3,
            0xA9,
        ]),
        1..8,
    )
}

fn value() -> impl Strategy<Value = Value<'static>> {
    prop_oneof![
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::Float),
        any::<i64>().prop_map(Value::Integer),
        any::<u64>().prop_map(Value::Unsigned),
        any::<bool>().prop_map(Value::Boolean),
        prop::collection::vec(any::<u8>(), 0..12).prop_map(|v| Value::String(Cow::Owned(v))),
    ]
}

type Tags = Vec<(Vec<u8>, Vec<u8>)>;
type Fields = Vec<(Vec<u8>, Value<'static>)>;

fn point() -> impl Strategy<Value = (Vec<u8>, Tags, Fields, Option<i64>)> {
    (
        name(),
        prop::collection::vec((name(), prop::collection::vec(b'a'..=b'c', 0..3)), 0..4),
        prop::collection::vec((name(), value()), 1..4),
        prop::option::of(tsmdb_lineproto::MIN_TIME..=tsmdb_lineproto::MAX_TIME),
    )
}

fn same_value(a: &Value<'_>, b: &FieldValue<'_>) -> bool {
    match (a, b) {
        (Value::Float(x), FieldValue::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Integer(x), FieldValue::Integer(y)) => x == y,
        (Value::Unsigned(x), FieldValue::Unsigned(y)) => x == y,
        (Value::Boolean(x), FieldValue::Boolean(y)) => x == y,
        (Value::String(x), FieldValue::String(y)) => **x == *y.unescape(),
        _ => false,
    }
}

/// Lines mixing good points, bad lines, comments, multi-line strings and stray quotes.
fn messy_input() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        Just(b"cpu,host=a,region=b usage=1.5,count=3i 1000".to_vec()),
        Just(b"cpu,z=1,a=2 v=2 2000".to_vec()),
        Just(b"m s=\"multi\nline, string\" 5".to_vec()),
        Just(b"m s=\"unterminated 6".to_vec()),
        Just(b"m,t=\"q v=1".to_vec()),
        Just(b"# comment".to_vec()),
        Just(b"".to_vec()),
        Just(b"bad line".to_vec()),
        Just(b"m v=tru".to_vec()),
        Just(b"esc\\ m,t\\,k=v\\ x f\\=k=\"a\\\"b\" 7".to_vec()),
        prop::collection::vec(any::<u8>(), 0..20),
    ];
    prop::collection::vec(line, 0..40).prop_map(|lines| lines.join(&b'\n'))
}

fn render(input: &[u8]) -> Vec<String> {
    let mut rows = Vec::new();
    Parser::new(ParseOptions::default()).parse(input, |r| {
        rows.push(match r {
            Ok(p) => format!("{} {:?} {}", p.line(), p.to_parsed(), p.time()),
            Err(e) => format!("{} {e:?}", e.line),
        })
    });
    rows
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn written_points_parse_back((m, tags, fields, time) in point()) {
        let tag_refs: Vec<(&[u8], &[u8])> = tags.iter().map(|(k, v)| (&k[..], &v[..])).collect();
        let field_refs: Vec<(&[u8], Value<'_>)> =
            fields.iter().map(|(k, v)| (&k[..], v.clone())).collect();
        let mut line = Vec::new();
        let written = write_line(&mut line, &m, &tag_refs, &field_refs, time);
        prop_assume!(written.is_ok());
        let b = parse_batch(&line, &ParseOptions::default());
        prop_assert!(b.errors.is_empty(), "{:?} -> {:?}", String::from_utf8_lossy(&line), b.errors);
        prop_assert_eq!(b.points.len(), 1);
        let p = &b.points[0];
        prop_assert_eq!(&*p.measurement(), &m[..]);
        let mut want_tags: Vec<(Vec<u8>, Vec<u8>)> =
            tags.iter().filter(|(_, v)| !v.is_empty()).cloned().collect();
        want_tags.sort();
        let mut got_tags: Vec<(Vec<u8>, Vec<u8>)> =
            p.tags.iter().map(|t| (t.key().into_owned(), t.value().into_owned())).collect();
        got_tags.sort();
        prop_assert_eq!(got_tags, want_tags);
        prop_assert_eq!(p.fields.len(), fields.len());
        for ((k, v), f) in fields.iter().zip(&p.fields) {
            prop_assert_eq!(&*f.key(), &k[..]);
            prop_assert!(same_value(v, &f.value), "{:?} vs {:?}", v, f.value);
        }
        prop_assert_eq!(p.time, time.unwrap_or(0));
    }

    #[test]
    fn parallel_equals_sequential(input in messy_input(), piece in 1usize..64) {
        let seq = parse_batch(&input, &ParseOptions::default());
        let par = parse_batch_parallel_with(&input, &ParseOptions::default(), piece);
        prop_assert_eq!(par, seq);
    }

    #[test]
    fn streaming_equals_whole(input in messy_input(), chunk in 1usize..50) {
        let want = render(&input);
        let mut rows = Vec::new();
        parse_reader(&input[..], &ParseOptions::default(),
            &StreamOptions { chunk_size: chunk, max_line: 1 << 20 },
            |r| rows.push(match r {
                Ok(p) => format!("{} {:?} {}", p.line(), p.to_parsed(), p.time()),
                Err(e) => format!("{} {e:?}", e.line),
            })).unwrap();
        prop_assert_eq!(rows, want);
    }

    #[test]
    fn never_panics(input in prop::collection::vec(any::<u8>(), 0..200)) {
        let b = parse_batch(&input, &ParseOptions::default());
        for e in &b.errors {
            prop_assert!(e.column >= 1);
        }
    }

    #[test]
    fn composite_keys_split_back(series in name(), field in name()) {
        prop_assume!(memchr::memmem::find(&series, b"#!~#").is_none());
        let k = composite_key(&series, &field);
        prop_assert_eq!(split_composite_key(&k), (&series[..], &field[..]));
    }
}
