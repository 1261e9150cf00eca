//! Arbitrary bytes as a tombstone file: parse must never panic or allocate unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((_, records)) =
        tsmdb_tsm_file::parse_tombstones(std::path::Path::new("fuzz.tombstone"), data)
    {
        for r in records {
            assert!(r.key.len() <= tsmdb_tsm_file::MAX_KEY_LEN);
        }
    }
});
