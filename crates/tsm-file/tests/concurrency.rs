//! Many threads share one reader while deletes land: every read sees either the old or the new
//! state of a key, never a mix or a torn value list.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tsmdb_tsm_file::{TimeRange, TsmReader, Values};

#[test]
fn readers_share_one_file_while_deletes_are_applied() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("000000001-000000001.tsm");
    std::fs::copy(common::fixture("edge.tsm"), &path).unwrap();
    let reader = Arc::new(TsmReader::open(&path).unwrap());
    let keys: Vec<Vec<u8>> = reader.keys().map(|k| k.key.to_vec()).collect();
    let mut full = Vec::new();
    let mut v = Values::new();
    for k in &keys {
        reader.read_values(k, TimeRange::ALL, &mut v).unwrap();
        full.push(v.timestamps.clone());
    }
    let full = Arc::new(full);
    let done = Arc::new(AtomicBool::new(false));
    // the first half of every key's time span is deleted while readers run
    let cut: Vec<i64> = full.iter().map(|t| t[t.len() / 2]).collect();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (reader, full, done, keys, cut) = (
                reader.clone(),
                full.clone(),
                done.clone(),
                keys.clone(),
                cut.clone(),
            );
            std::thread::spawn(move || {
                let mut v = Values::new();
                let mut rounds = 0;
                while !done.load(Ordering::Acquire) || rounds < 3 {
                    for (i, k) in keys.iter().enumerate() {
                        reader.read_values(k, TimeRange::ALL, &mut v).unwrap();
                        let before = &full[i];
                        let after: Vec<i64> =
                            before.iter().copied().filter(|&t| t > cut[i]).collect();
                        assert!(v.timestamps == *before || v.timestamps == after);
                        assert_eq!(v.values.len(), v.timestamps.len());
                    }
                    rounds += 1;
                }
            })
        })
        .collect();
    for (k, c) in keys.iter().zip(&cut) {
        reader
            .delete_range(&[k.as_slice()], TimeRange::new(i64::MIN, *c))
            .unwrap();
    }
    done.store(true, Ordering::Release);
    for t in threads {
        t.join().unwrap();
    }
    let reopened = TsmReader::open(&path).unwrap();
    for (i, k) in keys.iter().enumerate() {
        reopened.read_values(k, TimeRange::ALL, &mut v).unwrap();
        assert!(v.timestamps.iter().all(|&t| t > cut[i]));
    }
}
