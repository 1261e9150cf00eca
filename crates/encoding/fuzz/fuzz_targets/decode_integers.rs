//! Any bytes given to the integers decoder: values or a typed error, never a panic; whatever decodes
//! re-encodes and decodes to the same values.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut values = Vec::<i64>::new();
    if tsmdb_encoding::decode_integers(data, &mut values).is_ok() {
        let mut again = Vec::new();
        tsmdb_encoding::encode_integers(&values, &mut again).expect("decoded values re-encode");
        let mut back = Vec::<i64>::new();
        tsmdb_encoding::decode_integers(&again, &mut back).expect("re-encoded section decodes");
        assert!(back == values, "round trip changed the values");
    } else {
        // Decoders roll back on error: nothing may be left appended.
        assert!(values.is_empty(), "failed decode left values behind");
    }
});
