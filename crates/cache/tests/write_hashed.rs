//! `write_hashed` and `write_handles`: the same result as `write`, with handles kept up to date.

use tsmdb_cache::{Cache, CacheError, ColumnRef, KeyHandle, Record, key_hash};

#[test]
fn known_hashes_give_the_same_cache_as_hashing_here() {
    let keys: Vec<Vec<u8>> = (0..50)
        .map(|i| format!("cpu,host=h{i}#!~#usage").into_bytes())
        .collect();
    let values: Vec<f64> = (0..50).map(|i| i as f64).collect();
    let times = [10i64];
    let batch: Vec<Record<'_>> = keys
        .iter()
        .zip(&values)
        .map(|(k, v)| Record {
            key: k,
            timestamps: &times,
            values: ColumnRef::Float(std::slice::from_ref(v)),
        })
        .collect();
    let hashes: Vec<u64> = keys.iter().map(|k| key_hash(k)).collect();
    let (a, b) = (Cache::default(), Cache::default());
    a.write(&batch).unwrap();
    b.write_hashed(&batch, &hashes).unwrap();
    assert_eq!(a.size(), b.size());
    for k in &keys {
        assert_eq!(a.read(k, i64::MIN, i64::MAX), b.read(k, i64::MIN, i64::MAX));
        assert!(b.read(k, i64::MIN, i64::MAX).is_some());
    }
    let err = b.write_hashed(&batch, &hashes[1..]).unwrap_err();
    assert!(matches!(err, CacheError::LengthMismatch { .. }), "{err}");
}

#[test]
fn handles_are_filled_in_and_refreshed_after_a_snapshot() {
    let keys: Vec<Vec<u8>> = (0..40)
        .map(|i| format!("cpu,host=h{i}#!~#usage").into_bytes())
        .collect();
    let hashes: Vec<u64> = keys.iter().map(|k| key_hash(k)).collect();
    let batch = |t: &'static [i64]| -> Vec<Record<'_>> {
        keys.iter()
            .map(|k| Record {
                key: k,
                timestamps: t,
                values: ColumnRef::Integer(&[7]),
            })
            .collect()
    };
    let cache = Cache::default();
    let mut handles = vec![KeyHandle::NONE; keys.len()];
    cache
        .write_handles(&batch(&[1]), &hashes, &mut handles)
        .unwrap();
    assert!(handles.iter().all(|&h| h != KeyHandle::NONE));
    let first = handles.clone();
    cache
        .write_handles(&batch(&[2]), &hashes, &mut handles)
        .unwrap();
    assert_eq!(handles, first, "valid handles stay as they are");

    let snap = cache.snapshot().unwrap();
    cache
        .write_handles(&batch(&[3]), &hashes, &mut handles)
        .unwrap();
    assert!(
        handles.iter().zip(&first).all(|(a, b)| a != b),
        "stale handles are refreshed"
    );
    cache.rollback(&snap).unwrap();
    // Handles from another cache are stale there, never wrong.
    let other = Cache::default();
    other
        .write_handles(&batch(&[9]), &hashes, &mut handles)
        .unwrap();
    for k in &keys {
        assert_eq!(
            cache.read(k, i64::MIN, i64::MAX).unwrap().timestamps,
            [1, 2, 3]
        );
        assert_eq!(other.read(k, i64::MIN, i64::MAX).unwrap().timestamps, [9]);
    }
    let err = cache
        .write_handles(&batch(&[4]), &hashes, &mut handles[1..])
        .unwrap_err();
    assert!(matches!(err, CacheError::LengthMismatch { .. }), "{err}");
}

fn float(v: &f64) -> ColumnRef<'_> {
    ColumnRef::Float(std::slice::from_ref(v))
}

#[test]
fn a_valid_handle_checks_the_type_and_a_conflict_rejects_the_whole_batch() {
    let keys: [&[u8]; 2] = [b"cpu#!~#a", b"cpu#!~#b"];
    let hashes: Vec<u64> = keys.iter().map(|k| key_hash(k)).collect();
    let cache = Cache::default();
    let mut handles = [KeyHandle::NONE; 2];
    let first: Vec<Record<'_>> = keys
        .iter()
        .map(|k| Record {
            key: k,
            timestamps: &[1],
            values: float(&1.0),
        })
        .collect();
    cache.write_handles(&first, &hashes, &mut handles).unwrap();
    let kept = handles;

    // `b` stays a float, `a` is written as an integer: the handle alone must catch it.
    let second = [
        Record {
            key: keys[1],
            timestamps: &[2],
            values: float(&2.0),
        },
        Record {
            key: keys[0],
            timestamps: &[2],
            values: ColumnRef::Integer(&[2]),
        },
    ];
    let mut swapped = [handles[1], handles[0]];
    let err = cache
        .write_handles(&second, &[hashes[1], hashes[0]], &mut swapped)
        .unwrap_err();
    match err {
        CacheError::FieldTypeConflict {
            key,
            existing,
            attempted,
        } => {
            assert_eq!(key, "cpu#!~#a");
            assert_eq!(existing, tsmdb_encoding::FieldType::Float);
            assert_eq!(attempted, tsmdb_encoding::FieldType::Integer);
        }
        other => panic!("expected a field type conflict, got {other}"),
    }
    for k in keys {
        assert_eq!(cache.read(k, i64::MIN, i64::MAX).unwrap().timestamps, [1]);
    }
    assert_eq!(handles, kept, "a rejected batch leaves valid handles valid");
}

#[test]
fn a_removed_key_takes_another_type_through_its_old_handle() {
    // One partition, so removing `a` moves `b` into `a`'s slot and changes the epoch.
    let cache = Cache::new(tsmdb_cache::CacheConfig {
        partitions: 1,
        ..Default::default()
    });
    let keys: [&[u8]; 2] = [b"cpu#!~#a", b"cpu#!~#b"];
    let hashes: Vec<u64> = keys.iter().map(|k| key_hash(k)).collect();
    let mut handles = [KeyHandle::NONE; 2];
    let floats: Vec<Record<'_>> = keys
        .iter()
        .map(|k| Record {
            key: k,
            timestamps: &[1],
            values: float(&1.0),
        })
        .collect();
    cache.write_handles(&floats, &hashes, &mut handles).unwrap();
    cache.delete(&[keys[0]]);

    let next = [
        Record {
            key: keys[0],
            timestamps: &[2],
            values: ColumnRef::Integer(&[5]),
        },
        Record {
            key: keys[1],
            timestamps: &[2],
            values: float(&2.0),
        },
    ];
    cache.write_handles(&next, &hashes, &mut handles).unwrap();
    let a = cache.read(keys[0], i64::MIN, i64::MAX).unwrap();
    assert_eq!(a.timestamps, [2]);
    assert_eq!(a.values, tsmdb_encoding::Column::Integer(vec![5]));
    let b = cache.read(keys[1], i64::MIN, i64::MAX).unwrap();
    assert_eq!(b.timestamps, [1, 2]);
    assert_eq!(b.values, tsmdb_encoding::Column::Float(vec![1.0, 2.0]));
}

#[test]
fn records_of_one_key_keep_their_batch_order_whatever_the_partition_order() {
    // 300 keys over 16 partitions; every key written three times at the same timestamp in one
    // batch, interleaved with the other keys: the last record of each key must win.
    let keys: Vec<Vec<u8>> = (0..300)
        .map(|i| format!("m,host=h{i}#!~#f").into_bytes())
        .collect();
    let values: Vec<f64> = (0..3 * keys.len()).map(|i| i as f64).collect();
    let mut batch = Vec::new();
    for round in 0..3 {
        for (k, key) in keys.iter().enumerate() {
            batch.push(Record {
                key,
                timestamps: &[7],
                values: float(&values[round * keys.len() + k]),
            });
        }
    }
    let hashes: Vec<u64> = batch.iter().map(|r| key_hash(r.key)).collect();
    for mode in 0..3 {
        let cache = Cache::default();
        let mut handles = vec![KeyHandle::NONE; batch.len()];
        for _ in 0..2 {
            // The second time every handle is valid (the fast path).
            match mode {
                0 => drop(cache.write(&batch).unwrap()),
                1 => drop(cache.write_hashed(&batch, &hashes).unwrap()),
                _ => drop(cache.write_handles(&batch, &hashes, &mut handles).unwrap()),
            }
        }
        for (k, key) in keys.iter().enumerate() {
            let read = cache.read(key, i64::MIN, i64::MAX).unwrap();
            assert_eq!(read.timestamps, [7], "mode {mode}, key {k}");
            let last = values[2 * keys.len() + k];
            assert_eq!(
                read.values,
                tsmdb_encoding::Column::Float(vec![last]),
                "mode {mode}"
            );
        }
    }
}
