//! Any bytes: no panic; the parallel, streaming and plain parses agree; every point the writer
//! accepts parses back to itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tsmdb_lineproto::{
    ParseOptions, Parser, StreamOptions, Value, parse_batch, parse_batch_parallel_with,
    parse_reader, write_line,
};

fuzz_target!(|data: &[u8]| {
    let (knob, input) = match data.split_first() {
        Some((k, rest)) => (*k, rest),
        None => return,
    };
    let opts = ParseOptions {
        unsigned: knob & 1 == 0,
        strip_cr: knob & 2 != 0,
        ..ParseOptions::default()
    };
    let whole = parse_batch(input, &opts);

    let piece = usize::from(knob >> 2) + 1;
    let par = parse_batch_parallel_with(input, &opts, piece);
    assert_eq!(par, whole, "parallel parse differs");

    let mut streamed = Vec::new();
    parse_reader(
        input,
        &opts,
        &StreamOptions {
            chunk_size: piece,
            max_line: 1 << 20,
        },
        |r| streamed.push(r.map(|p| p.to_parsed().line).map_err(|e| e.line)),
    )
    .expect("reading a slice");
    let plain: Vec<Result<u64, u64>> = {
        let mut v = Vec::new();
        Parser::new(opts).parse(input, |r| v.push(r.map(|p| p.line()).map_err(|e| e.line)));
        v
    };
    assert_eq!(streamed, plain, "streaming parse differs");

    for p in &whole.points {
        let m = p.measurement();
        let tags: Vec<(Vec<u8>, Vec<u8>)> = p
            .tags
            .iter()
            .map(|t| (t.key().into_owned(), t.value().into_owned()))
            .collect();
        let tag_refs: Vec<(&[u8], &[u8])> = tags.iter().map(|(k, v)| (&k[..], &v[..])).collect();
        let fields: Vec<(Vec<u8>, Value<'_>)> = p
            .fields
            .iter()
            .map(|f| (f.key().into_owned(), Value::from(f.value)))
            .collect();
        let field_refs: Vec<(&[u8], Value<'_>)> =
            fields.iter().map(|(k, v)| (&k[..], v.clone())).collect();
        let mut line = Vec::new();
        if write_line(&mut line, &m, &tag_refs, &field_refs, Some(p.time)).is_err() {
            continue;
        }
        let again = parse_batch(&line, &ParseOptions::default());
        assert!(again.errors.is_empty(), "{:?}", String::from_utf8_lossy(&line));
        let q = &again.points[0];
        assert_eq!(q.measurement(), m);
        assert_eq!(q.time, p.time);
        assert_eq!(q.fields.len(), fields.len());
        for (f, (k, v)) in q.fields.iter().zip(&fields) {
            assert_eq!(&*f.key(), &k[..]);
            assert_eq!(Value::from(f.value), *v);
        }
    }
});
