//! `write_hashed`: the same result as `write` when given the keys' hashes.

use tsmdb_cache::{Cache, CacheError, ColumnRef, Record, key_hash};

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
