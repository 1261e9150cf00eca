//! Any text: the InfluxQL tokenizer and parser never panic, and an error carries an offset
//! inside the statement (or none).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = tsmdb_query::tokenize(text);
    if let Err(e) = tsmdb_query::parse_statements(text, 1_514_764_800_000_000_000) {
        if let Some(pos) = e.position() {
            assert!(pos <= text.len(), "error offset {pos} past the end of {text:?}");
        }
    }
});
