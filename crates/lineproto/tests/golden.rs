//! Golden tests: our parse of InfluxDB 1.6.7's inputs, rendered like its `parsed.tsv`, must
//! match value for value (errors included).

mod common;

use common::{fixture, tsv_error, tsv_rows};
use tsmdb_lineproto::{ParseOptions, Parser, StreamOptions, parse_reader};

fn render(input: &[u8], opts: ParseOptions) -> Vec<String> {
    let mut rows = Vec::new();
    Parser::new(opts).parse(input, |r| match r {
        Ok(p) => tsv_rows(&p, &mut rows),
        Err(e) => rows.push(tsv_error(&e)),
    });
    rows
}

fn expected(name: &str) -> Vec<String> {
    String::from_utf8(fixture(name))
        .expect("utf8 tsv")
        .lines()
        .map(str::to_string)
        .collect()
}

fn assert_same(got: &[String], want: &[String]) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g, w, "row {} differs", i + 1);
    }
    assert_eq!(got.len(), want.len(), "row count");
}

#[test]
fn small_matches_influxdb_without_unsigned() {
    let got = render(&fixture("small.lp"), ParseOptions::influxdb_1_6());
    assert_same(&got, &expected("small.parsed.tsv"));
}

#[test]
fn small_matches_influxdb_with_unsigned() {
    let got = render(&fixture("small.lp"), ParseOptions::default());
    assert_same(&got, &expected("small.uint.parsed.tsv"));
}

#[test]
fn edge_matches_influxdb() {
    let got = render(&fixture("edge.lp"), ParseOptions::influxdb_1_6());
    assert_same(&got, &expected("edge.parsed.tsv"));
}

#[test]
fn medium_parses_cleanly() {
    let input = fixture("medium.lp");
    let s = Parser::new(ParseOptions::default()).parse(&input, |r| {
        assert!(r.is_ok(), "{:?}", r.err());
    });
    // medium.ingest.log: 10000 lines, 10000 points, 100000 field values.
    assert_eq!(
        (s.lines, s.points, s.values, s.rejected),
        (10_000, 10_000, 100_000, 0)
    );
}

#[test]
fn small_error_lines_and_columns() {
    let input = fixture("small.lp");
    let mut errs = Vec::new();
    Parser::new(ParseOptions::influxdb_1_6()).parse(&input, |r| {
        if let Err(e) = r {
            errs.push(e);
        }
    });
    // Every error carries the physical line it starts on: check against the file itself.
    let lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    for e in &errs {
        let line = lines[(e.line - 1) as usize];
        assert!(
            e.text.starts_with(line.trim_ascii_start())
                || line.trim_ascii_start().starts_with(&e.text),
            "line {} is {:?}, error text {:?}",
            e.line,
            String::from_utf8_lossy(line),
            String::from_utf8_lossy(&e.text)
        );
        assert!(e.column >= 1 && e.column <= e.text.len() + 1 + 3, "{e:?}");
    }
    assert_eq!(errs.len(), 15);
}

#[test]
fn streaming_in_tiny_chunks_matches_whole_parse() {
    for name in ["small.lp", "edge.lp"] {
        let input = fixture(name);
        let want = render(&input, ParseOptions::default());
        for chunk_size in [1, 7, 64, 4096] {
            let mut rows = Vec::new();
            let summary = parse_reader(
                &input[..],
                &ParseOptions::default(),
                &StreamOptions {
                    chunk_size,
                    max_line: 1 << 20,
                },
                |r| match r {
                    Ok(p) => tsv_rows(&p, &mut rows),
                    Err(e) => rows.push(tsv_error(&e)),
                },
            )
            .expect("reading a slice");
            assert_same(&rows, &want);
            assert!(summary.points > 0);
        }
    }
}
