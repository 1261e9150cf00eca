//! Any bytes given to the floats decoder: values or a typed error, never a panic; whatever decodes
//! re-encodes and decodes to the same values.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut values = Vec::<f64>::new();
    if tsmdb_encoding::decode_floats(data, &mut values).is_ok() {
        let mut again = Vec::new();
        tsmdb_encoding::encode_floats(&values, &mut again).expect("decoded values re-encode");
        let mut back = Vec::<f64>::new();
        tsmdb_encoding::decode_floats(&again, &mut back).expect("re-encoded section decodes");
        assert!(
            back.iter()
                .map(|f| f.to_bits())
                .eq(values.iter().map(|f| f.to_bits())),
            "round trip changed the values"
        );
    } else {
        // Decoders roll back on error: nothing may be left appended.
        assert!(values.is_empty(), "failed decode left values behind");
    }
});
