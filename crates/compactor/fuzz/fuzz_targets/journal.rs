//! Journal parsing never panics; whatever parses names only canonical TSM files and re-encodes
//! to text that parses to the same contents.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tsmdb_compactor::{encode_journal, parse_journal};

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.compaction");
    if let Ok(contents) = parse_journal(path, data) {
        for id in contents.inputs.iter().chain(&contents.outputs) {
            assert!(!id.tsm_name().contains('/'));
        }
        let again = parse_journal(path, encode_journal(&contents).as_bytes()).expect("round trip");
        assert_eq!(again, contents);
    }
});
