//! Value-level golden tests: every fixture's values read back exactly as its `.tsm.dump` says, and
//! files written from those values match InfluxDB's byte for byte (string blocks, whose snappy
//! bytes may differ, are compared by value).

mod common;

use common::{column_values, dump_by_key, parse_blocks, parse_dump};
use tsmdb_encoding::FieldType;
use tsmdb_tsm_file::{TimeRange, TsmReader, TsmWriter, Values, ValuesWrite};

/// Fixtures with a `.tsm.dump` file.
const DUMPED: [&str; 3] = ["small", "small.uint", "edge"];

#[test]
fn every_fixture_value_reads_back_as_dumped() {
    for name in DUMPED {
        let dump = parse_dump(name);
        let reader = TsmReader::open(common::fixture(&format!("{name}.tsm"))).unwrap();
        let mut got = Vec::new();
        let mut values = Values::new();
        for k in reader.keys() {
            assert!(
                reader
                    .read_values(k.key, TimeRange::ALL, &mut values)
                    .unwrap()
            );
            assert_eq!(values.values.field_type(), k.field_type);
            for (t, v) in values.timestamps.iter().zip(column_values(&values.values)) {
                got.push((k.key.to_vec(), k.field_type, *t, v));
            }
        }
        let want: Vec<_> = dump
            .iter()
            .map(|r| (r.key.clone(), r.field_type, r.time, r.value.clone()))
            .collect();
        assert_eq!(got.len(), want.len(), "{name}");
        for (g, w) in got.iter().zip(&want) {
            // compare floats by bits so -0 and 0 differ
            match (&g.3, &w.3) {
                (common::DumpValue::Float(a), common::DumpValue::Float(b)) => {
                    assert_eq!(a.to_bits(), b.to_bits(), "{name} {g:?}")
                }
                _ => assert_eq!(g, w, "{name}"),
            }
        }
    }
}

#[test]
fn time_ranges_select_exactly_the_values_inside() {
    let reader = TsmReader::open(common::fixture("edge.tsm")).unwrap();
    let mut all = Values::new();
    let mut part = Values::new();
    for k in reader.keys() {
        reader.read_values(k.key, TimeRange::ALL, &mut all).unwrap();
        let n = all.timestamps.len();
        let (a, b) = (all.timestamps[n / 3], all.timestamps[(2 * n) / 3]);
        reader
            .read_values(k.key, TimeRange::new(a, b), &mut part)
            .unwrap();
        let want: Vec<i64> = all
            .timestamps
            .iter()
            .copied()
            .filter(|t| (a..=b).contains(t))
            .collect();
        assert_eq!(part.timestamps, want);
        assert_eq!(part.values.len(), want.len());
    }
}

#[test]
fn writing_the_dumped_values_reproduces_influxdb_files() {
    let dir = tempfile::tempdir().unwrap();
    for name in DUMPED {
        let path = dir.path().join(format!("{name}.tsm"));
        let mut w = TsmWriter::create(&path).unwrap();
        for (key, _, times, column) in dump_by_key(&parse_dump(name)) {
            assert_eq!(
                w.write_values(&key, &times, column.as_ref()).unwrap(),
                ValuesWrite::All
            );
        }
        w.finish().unwrap();
        let (_, rows) = parse_blocks(name);
        let ours = TsmReader::open(&path).unwrap();
        let ours_blocks: Vec<_> = ours.blocks().collect();
        assert_eq!(ours_blocks.len(), rows.len(), "{name}");
        let has_strings = rows.iter().any(|r| r.field_type == FieldType::String);
        for ((k, e), row) in ours_blocks.iter().zip(&rows) {
            assert_eq!(k.key, row.key.as_slice());
            assert_eq!((e.min_time, e.max_time), (row.min_time, row.max_time));
            if row.field_type != FieldType::String {
                assert_eq!(
                    ours.block(k.key, e).unwrap(),
                    row.block.as_slice(),
                    "{name} {}",
                    row.key.escape_ascii()
                );
            }
        }
        if !has_strings {
            let theirs = std::fs::read(common::fixture(&format!("{name}.tsm"))).unwrap();
            assert!(
                std::fs::read(&path).unwrap() == theirs,
                "{name} not byte-identical"
            );
        }
    }
}

#[test]
fn copying_every_fixture_value_by_value_gives_influxdb_bytes_where_no_strings() {
    let dir = tempfile::tempdir().unwrap();
    for name in common::FIXTURES {
        let src = TsmReader::open(common::fixture(&format!("{name}.tsm"))).unwrap();
        let path = dir.path().join(format!("copy-{name}.tsm"));
        let mut w = TsmWriter::create(&path).unwrap();
        let mut v = Values::new();
        let mut strings = false;
        for k in src.keys() {
            src.read_values(k.key, TimeRange::ALL, &mut v).unwrap();
            strings |= k.field_type == FieldType::String;
            assert_eq!(
                w.write_values(k.key, &v.timestamps, v.values.as_ref())
                    .unwrap(),
                ValuesWrite::All
            );
        }
        w.finish().unwrap();
        let ours = std::fs::read(&path).unwrap();
        let theirs = std::fs::read(common::fixture(&format!("{name}.tsm"))).unwrap();
        if !strings {
            assert!(ours == theirs, "{name}: copy differs from InfluxDB's file");
        } else {
            eprintln!(
                "{name}: has string blocks; byte-identical = {}",
                ours == theirs
            );
        }
    }
}
