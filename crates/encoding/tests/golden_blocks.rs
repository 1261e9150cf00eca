//! Every block of the fixture TSM files (NAME.tsm.blocks): decodes to the values in
//! NAME.tsm.dump (where there is one), and re-encodes to the same bytes (string value sections:
//! decode-equal, since snappy bytes may differ).

mod common;

use common::*;
use tsmdb_encoding::*;

struct Row {
    key: String,
    field_type: FieldType,
    count: usize,
    ts_enc: u8,
    val_enc: u8,
    block: Vec<u8>,
}

fn blocks(name: &str) -> Vec<Row> {
    let text = std::fs::read_to_string(fixtures().join(format!("{name}.tsm.blocks"))).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Row {
                key: f[0].to_string(),
                field_type: FieldType::from_name(f[1]).unwrap(),
                count: f[7].parse().unwrap(),
                ts_enc: u8::from_str_radix(f[9], 16).unwrap(),
                val_enc: u8::from_str_radix(f[11], 16).unwrap(),
                block: from_hex(f[12]),
            }
        })
        .collect()
}

/// The dump's (key, time, value text) rows, in index order.
fn dump(name: &str) -> Vec<(String, FieldType, i64, String)> {
    let text = std::fs::read_to_string(fixtures().join(format!("{name}.tsm.dump"))).unwrap();
    text.lines()
        .map(|l| {
            let mut f = l.splitn(4, '\t');
            let key = f.next().unwrap().to_string();
            let t = FieldType::from_name(f.next().unwrap()).unwrap();
            let time = f.next().unwrap().parse().unwrap();
            (key, t, time, f.next().unwrap().to_string())
        })
        .collect()
}

fn value_matches(column: &Column, i: usize, text: &str) -> bool {
    match column {
        Column::Float(v) => v[i].to_bits() == parse_float(text).to_bits(),
        Column::Integer(v) => v[i] == text.parse::<i64>().unwrap(),
        Column::Unsigned(v) => v[i] == text.parse::<u64>().unwrap(),
        Column::Boolean(v) => v[i] == parse_bool(text),
        Column::String(v) => v.get(i) == Some(go_unquote(text).as_slice()),
    }
}

fn check_file(name: &str, with_dump: bool) -> usize {
    let rows = blocks(name);
    let expected = if with_dump { dump(name) } else { Vec::new() };
    let mut next = 0;
    let mut ts = Vec::new();
    let mut values = Column::empty(FieldType::Float);
    for row in &rows {
        let t = decode_block(&row.block, &mut ts, &mut values)
            .unwrap_or_else(|e| panic!("{name} {}: {e}", row.key));
        assert_eq!(t, row.field_type);
        assert_eq!(ts.len(), row.count, "{name} {}", row.key);
        assert_eq!(block_count(&row.block).unwrap(), row.count);
        let parts = split_block(&row.block).unwrap();
        assert_eq!(parts.timestamps[0], row.ts_enc);
        assert_eq!(parts.values[0], row.val_enc);
        if with_dump {
            for (i, &time) in ts.iter().enumerate() {
                let (key, dt, dtime, text) = &expected[next];
                assert_eq!((key, *dt, *dtime), (&row.key, t, time), "{name} row {next}");
                assert!(
                    value_matches(&values, i, text),
                    "{name} {key} at {time}: dump says {text}, decoded {values:?}"
                );
                next += 1;
            }
        }
        let mut again = Vec::new();
        encode_block(&ts, values.as_ref(), &mut again).unwrap();
        if t == FieldType::String {
            let ours = split_block(&again).unwrap();
            assert_eq!(ours.timestamps, parts.timestamps, "{name} {}", row.key);
            let mut back = StringColumn::new();
            decode_strings(ours.values, &mut back).unwrap();
            assert_eq!(Column::String(back), values);
        } else {
            assert_eq!(to_hex(&again), to_hex(&row.block), "{name} {}", row.key);
        }
    }
    if with_dump {
        assert_eq!(
            next,
            expected.len(),
            "{name}: dump rows not covered by blocks"
        );
    }
    rows.len()
}

#[test]
fn small() {
    assert_eq!(check_file("small", true), 41);
}

#[test]
fn small_uint() {
    assert_eq!(check_file("small.uint", true), 42);
}

#[test]
fn edge() {
    assert!(check_file("edge", true) > 30);
}

#[test]
fn medium() {
    assert_eq!(check_file("medium", false), 1000);
}
