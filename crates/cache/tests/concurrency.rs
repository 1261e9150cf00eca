//! Multi-threaded stress (writers, readers, a snapshotter, a conflicting writer; scoped threads,
//! no sleeps) and the memory limits.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tsmdb_cache::{Cache, CacheConfig, CacheError, ColumnRef, KeyHandle, Record, key_hash};
use tsmdb_encoding::{Column, FieldType};

const KEYS: usize = 64;
const WRITERS: usize = 3;
const ROUNDS: i64 = 2000;

fn key(k: usize) -> Vec<u8> {
    format!("cpu,host=h{k}#!~#usage").into_bytes()
}

#[test]
fn writers_readers_and_snapshots_never_see_torn_or_mixed_state() {
    let cache = Cache::new(CacheConfig {
        partitions: 8,
        max_size: 0,
        ..CacheConfig::default()
    });
    let keys: Vec<Vec<u8>> = (0..KEYS).map(key).collect();
    let writers_done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let (cache, keys) = (&cache, &keys);
            writers.push(s.spawn(move || {
                for round in 0..ROUNDS {
                    // Each writer owns timestamps ≡ w (mod WRITERS); the value encodes the time.
                    let t = round * WRITERS as i64 + w as i64;
                    let ts = [t];
                    let v = [t as f64 * 2.0];
                    let batch: Vec<Record> = keys
                        .iter()
                        .map(|k| Record {
                            key: k,
                            timestamps: &ts,
                            values: ColumnRef::Float(&v),
                        })
                        .collect();
                    cache.write(&batch).unwrap();
                }
            }));
        }
        // Always conflicts on its second record, so its brand-new first key must never appear.
        s.spawn(|| {
            while !writers_done.load(Ordering::Acquire) {
                let err = cache
                    .write(&[
                        Record {
                            key: b"never#!~#f",
                            timestamps: &[1],
                            values: ColumnRef::Integer(&[1]),
                        },
                        Record {
                            key: &keys[0],
                            timestamps: &[1],
                            values: ColumnRef::Integer(&[1]),
                        },
                    ])
                    .unwrap_err();
                assert!(matches!(err, CacheError::FieldTypeConflict { .. }));
                assert!(cache.read(b"never#!~#f", i64::MIN, i64::MAX).is_none());
            }
        });
        // Snapshots rolled back: nothing may be lost or duplicated by the round trip.
        s.spawn(|| {
            while !writers_done.load(Ordering::Acquire) {
                if let Ok(snap) = cache.snapshot() {
                    cache.rollback(&snap).unwrap();
                }
            }
        });
        for r in 0..2 {
            let (cache, keys, done) = (&cache, &keys, &writers_done);
            s.spawn(move || {
                let mut last_len = vec![0; KEYS];
                let mut k = r;
                while !done.load(Ordering::Acquire) {
                    k = (k + 7) % KEYS;
                    let Some(read) = cache.read(&keys[k], i64::MIN, i64::MAX) else {
                        continue;
                    };
                    assert!(read.timestamps.windows(2).all(|w| w[0] < w[1]));
                    let Column::Float(v) = &read.values else {
                        panic!("type changed")
                    };
                    for (t, x) in read.timestamps.iter().zip(v) {
                        assert_eq!(*x, *t as f64 * 2.0);
                    }
                    // Nothing is removed (snapshots are rolled back), so a key never shrinks.
                    assert!(read.timestamps.len() >= last_len[k]);
                    last_len[k] = read.timestamps.len();
                }
            });
        }
        for w in writers {
            w.join().unwrap();
        }
        writers_done.store(true, Ordering::Release);
    });
    let all: Vec<i64> = (0..ROUNDS * WRITERS as i64).collect();
    for k in &keys {
        let read = cache.read(k, i64::MIN, i64::MAX).unwrap();
        assert_eq!(read.timestamps, all);
    }
}

fn one(key: &[u8], t: i64) -> Record<'_> {
    Record {
        key,
        timestamps: std::slice::from_ref(&TIMES[t as usize]),
        values: ColumnRef::Float(std::slice::from_ref(&VALUES[0])),
    }
}

static TIMES: [i64; 4] = [0, 1, 2, 3];
static VALUES: [f64; 1] = [1.5];

#[test]
fn hard_limit_rejects_the_whole_batch_with_influxdb_message() {
    // key "k" (1 byte) + one float (16) = 17 per first value.
    let cache = Cache::new(CacheConfig {
        max_size: 40,
        snapshot_size: 20,
        limit_wait: Duration::ZERO,
        ..CacheConfig::default()
    });
    let out = cache.write(&[one(b"k", 0)]).unwrap();
    assert_eq!(out.size, 17);
    assert!(!out.needs_snapshot);
    let out = cache.write(&[one(b"k", 1)]).unwrap();
    assert_eq!(out.size, 33);
    assert!(out.needs_snapshot);
    let err = cache.write(&[one(b"k", 2)]).unwrap_err();
    assert_eq!(err.to_string(), "cache-max-memory-size exceeded: (49/40)");
    assert_eq!(cache.size(), 33);
    // The batch that failed left nothing, not even its new key.
    let err = cache.write(&[one(b"j", 0), one(b"k", 2)]).unwrap_err();
    assert!(matches!(err, CacheError::MemoryLimit { .. }));
    assert!(cache.read(b"j", 0, 10).is_none());
}

#[test]
fn write_over_the_limit_waits_for_a_running_snapshot_to_commit() {
    let cache = Cache::new(CacheConfig {
        max_size: 40,
        limit_wait: Duration::from_secs(60),
        ..CacheConfig::default()
    });
    cache.write(&[one(b"k", 0), one(b"k", 1)]).unwrap();
    let snap = cache.snapshot().unwrap();
    let blocked = AtomicBool::new(false);
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            blocked.store(true, Ordering::Release);
            cache.write(&[one(b"k", 2)])
        });
        // The commit may run before or after the writer starts waiting; either way the write
        // must succeed (it fits once the snapshot is gone) and must not time out.
        while !blocked.load(Ordering::Acquire) {
            std::hint::spin_loop();
        }
        cache.commit(&snap).unwrap();
        writer.join().unwrap().unwrap();
    });
    assert_eq!(cache.size(), 17);
}

#[test]
fn type_conflict_names_the_key_and_both_types_and_checks_the_snapshot_too() {
    let cache = Cache::default();
    cache.write(&[one(b"cpu#!~#x", 0)]).unwrap();
    let snap = cache.snapshot().unwrap();
    // The live cache is empty now, but the key's type is still float in the snapshot.
    let err = cache
        .write(&[Record {
            key: b"cpu#!~#x",
            timestamps: &[5],
            values: ColumnRef::Boolean(&[true]),
        }])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "field type conflict: key \"cpu#!~#x\" holds float values, the batch writes boolean"
    );
    // Within one batch, too.
    let err = cache
        .write(&[
            Record {
                key: b"new#!~#y",
                timestamps: &[5],
                values: ColumnRef::Unsigned(&[1]),
            },
            Record {
                key: b"new#!~#y",
                timestamps: &[6],
                values: ColumnRef::Integer(&[1]),
            },
        ])
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("holds unsigned values, the batch writes integer")
    );
    assert!(cache.check(&[one(b"new#!~#y", 0)]).is_ok());
    assert!(cache.read(b"new#!~#y", i64::MIN, i64::MAX).is_none());
    assert_eq!(
        cache.snapshot().unwrap_err(),
        CacheError::SnapshotInProgress
    );
    cache.commit(&snap).unwrap();
    assert_eq!(
        cache.commit(&snap).unwrap_err(),
        CacheError::UnknownSnapshot
    );
}

#[test]
fn racing_writers_never_give_a_new_key_two_types_nor_apply_half_a_batch() {
    // Four writers write the same brand-new keys in each round, two as floats and two as
    // integers, each in its own key order (so the conflict is found in different partitions);
    // whatever wins, every accepted batch is there whole and every rejected one not at all.
    const WRITERS: i64 = 4;
    const ROUNDS: usize = 6;
    const KEYS: usize = 20_000;
    let start = std::sync::Barrier::new(WRITERS as usize);
    let cache = Cache::new(CacheConfig {
        partitions: 4,
        max_size: 0,
        ..CacheConfig::default()
    });
    let keys: Vec<Vec<Vec<u8>>> = (0..ROUNDS)
        .map(|r| {
            (0..KEYS)
                .map(|k| format!("race{r},k={k}#!~#v").into_bytes())
                .collect()
        })
        .collect();
    let accepted: Vec<Vec<Option<bool>>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (cache, keys, start) = (&cache, &keys, &start);
                s.spawn(move || {
                    let times = [w];
                    let mut handles = vec![KeyHandle::NONE; KEYS];
                    (0..ROUNDS)
                        .map(|r| {
                            let batch: Vec<Record<'_>> = (0..KEYS)
                                .map(|i| {
                                    let k = (i + w as usize * 5) % KEYS;
                                    Record {
                                        key: &keys[r][k],
                                        timestamps: &times,
                                        values: if w % 2 == 0 {
                                            ColumnRef::Float(&[1.5])
                                        } else {
                                            ColumnRef::Integer(&[7])
                                        },
                                    }
                                })
                                .collect();
                            // Every round starts together, so the writers' checks overlap.
                            start.wait();
                            // A panic is caught and reported after the round, so that the other
                            // writers are not left waiting at the barrier.
                            let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
                                if r % 2 == 0 {
                                    cache.write(&batch)
                                } else {
                                    let hashes: Vec<u64> =
                                        batch.iter().map(|r| key_hash(r.key)).collect();
                                    cache.write_handles(&batch, &hashes, &mut handles)
                                }
                            }));
                            match result {
                                Ok(Ok(_)) => Some(true),
                                Ok(Err(CacheError::FieldTypeConflict { .. })) => Some(false),
                                Ok(Err(e)) => panic!("unexpected error {e}"),
                                Err(_) => None,
                            }
                        })
                        .collect()
                })
            })
            .collect();
        workers.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (r, round_keys) in keys.iter().enumerate() {
        let verdicts: Option<Vec<bool>> = accepted.iter().map(|a| a[r]).collect();
        let verdicts = verdicts.unwrap_or_else(|| panic!("round {r}: a write panicked"));
        let winners: Vec<i64> = (0..WRITERS).filter(|&w| verdicts[w as usize]).collect();
        assert!(
            !winners.is_empty(),
            "round {r}: the first writer always fits"
        );
        let float = winners[0] % 2 == 0;
        assert!(
            winners.iter().all(|w| (w % 2 == 0) == float),
            "round {r}: {winners:?}"
        );
        for key in round_keys {
            let read = cache.read(key, i64::MIN, i64::MAX).unwrap();
            assert_eq!(read.timestamps, winners, "round {r}");
            assert_eq!(
                read.values.field_type(),
                if float {
                    FieldType::Float
                } else {
                    FieldType::Integer
                }
            );
        }
    }
}
