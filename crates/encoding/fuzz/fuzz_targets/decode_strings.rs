//! Any bytes given to the strings decoder: values or a typed error, never a panic; whatever decodes
//! re-encodes and decodes to the same values.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut values = tsmdb_encoding::StringColumn::new();
    if tsmdb_encoding::decode_strings(data, &mut values).is_ok() {
        let mut again = Vec::new();
        tsmdb_encoding::encode_strings(values.as_slice(), &mut again)
            .expect("decoded values re-encode");
        let mut back = tsmdb_encoding::StringColumn::new();
        tsmdb_encoding::decode_strings(&again, &mut back).expect("re-encoded section decodes");
        assert!(back == values, "round trip changed the values");
    } else {
        // Decoders roll back on error: nothing may be left appended.
        assert!(values.is_empty(), "failed decode left values behind");
    }
});
