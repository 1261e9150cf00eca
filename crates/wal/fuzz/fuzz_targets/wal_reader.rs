//! Fuzzes the WAL reader: arbitrary segment bytes under every policy must never panic, must
//! account for every byte (good entries and damage, in order, without overlap), and every entry
//! that decodes must survive a re-encode / decode round trip unchanged.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tsmdb_wal::{
    ColumnRef, Entry, EntryKind, RecoveryPolicy, ScanInput, encode_delete_payload,
    encode_delete_range_payload, encode_write_payload, scan_segment_bytes,
};

fn round_trip(entry: &Entry) {
    let mut payload = Vec::new();
    match entry.kind() {
        EntryKind::Write => {
            let records: Vec<_> = entry.records().collect();
            encode_write_payload(&records, &mut payload).expect("decoded records re-encode");
        }
        EntryKind::Delete => {
            let keys: Vec<&[u8]> = entry.keys().collect();
            // A lone empty key and "no keys" share the empty payload; both decode to no keys.
            encode_delete_payload(&keys, &mut payload).expect("decoded keys re-encode");
        }
        EntryKind::DeleteRange => {
            let keys: Vec<&[u8]> = entry.keys().collect();
            let (min, max) = entry.time_range().expect("range");
            encode_delete_range_payload(&keys, min, max, &mut payload).expect("re-encode");
        }
    }
    let block = snap::raw::Encoder::new()
        .compress_vec(&payload)
        .expect("compress");
    let mut again = Entry::new();
    again
        .decode(entry.kind().type_byte(), &block)
        .expect("our own encoding decodes");
    assert_eq!(again.kind(), entry.kind());
    assert_eq!(
        again.keys().collect::<Vec<_>>(),
        entry.keys().collect::<Vec<_>>()
    );
    assert_eq!(again.time_range(), entry.time_range());
    assert_eq!(again.records().len(), entry.records().len());
    for (a, b) in again.records().zip(entry.records()) {
        assert_eq!(a.key, b.key);
        assert_eq!(a.timestamps, b.timestamps);
        match (a.values, b.values) {
            (ColumnRef::Float(x), ColumnRef::Float(y)) => {
                assert!(x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits()))
            }
            (ColumnRef::Integer(x), ColumnRef::Integer(y)) => assert_eq!(x, y),
            (ColumnRef::Unsigned(x), ColumnRef::Unsigned(y)) => assert_eq!(x, y),
            (ColumnRef::Boolean(x), ColumnRef::Boolean(y)) => assert_eq!(x, y),
            (ColumnRef::String(x), ColumnRef::String(y)) => {
                assert!(x.iter().eq(y.iter()))
            }
            _ => panic!("type changed in round trip"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut entry = Entry::new();
    for is_last in [true, false] {
        for policy in [RecoveryPolicy::Strict, RecoveryPolicy::Salvage] {
            let input = ScanInput {
                data,
                path: Path::new("_00001.wal"),
                id: 1,
                is_last,
            };
            let mut delivered = 0u64;
            let scan = scan_segment_bytes(input, policy, 0, &mut entry, &mut |_, e| {
                delivered += 1;
                round_trip(e);
            });
            assert_eq!(scan.entries, delivered);
            // Good ranges and damage ranges are ordered, disjoint and inside the data.
            let mut ranges: Vec<_> = scan
                .good
                .iter()
                .cloned()
                .chain(scan.damage.iter().map(|d| d.bytes.clone()))
                .collect();
            ranges.sort_by_key(|r| r.start);
            let mut end = 0;
            for r in &ranges {
                assert!(r.start >= end && r.start < r.end && r.end <= data.len() as u64);
                end = r.end;
            }
            if policy == RecoveryPolicy::Salvage || scan.damage.is_empty() {
                // Every byte is accounted for, unless strict stopped early.
                let covered: u64 = ranges.iter().map(|r| r.end - r.start).sum();
                assert_eq!(covered, data.len() as u64);
            }
            if scan.torn_tail_at.is_some() {
                assert!(is_last);
            }
        }
    }
});
