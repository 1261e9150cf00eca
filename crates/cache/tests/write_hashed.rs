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
