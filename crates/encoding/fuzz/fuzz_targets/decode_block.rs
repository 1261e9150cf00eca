//! Any bytes as a whole block: values or a typed error (never a panic, never counts that
//! differ); a block that decodes re-encodes and decodes to the same timestamps and values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsmdb_encoding::{Column, FieldType, block_count, decode_block, encode_block};

fn same(a: &Column, b: &Column) -> bool {
    match (a, b) {
        (Column::Float(x), Column::Float(y)) => x
            .iter()
            .map(|f| f.to_bits())
            .eq(y.iter().map(|f| f.to_bits())),
        _ => a == b,
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = block_count(data);
    let (mut ts, mut values) = (Vec::new(), Column::empty(FieldType::Float));
    match decode_block(data, &mut ts, &mut values) {
        Ok(t) => {
            assert_eq!(t, values.field_type());
            assert_eq!(ts.len(), values.len(), "counts differ");
            let mut again = Vec::new();
            encode_block(&ts, values.as_ref(), &mut again).expect("decoded block re-encodes");
            let (mut ts2, mut values2) = (Vec::new(), Column::empty(FieldType::Integer));
            decode_block(&again, &mut ts2, &mut values2).expect("re-encoded block decodes");
            assert_eq!(ts2, ts);
            assert!(same(&values, &values2), "values changed in the round trip");
        }
        Err(e) => {
            assert!(e.offset().is_some(), "decode errors carry an offset: {e}");
            assert!(
                ts.is_empty() && values.is_empty(),
                "failed decode left values behind"
            );
        }
    }
});
