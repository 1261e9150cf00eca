//! Model-based property test: random writes, deletes, snapshots, commits, rollbacks and reads
//! against a plain `BTreeMap` model of what the cache must return. Writes go through all three
//! entry points (`write`, `write_hashed`, `write_handles` with handles kept from op to op, so
//! they go stale across snapshots, rollbacks and deletes, and are sometimes swapped between keys
//! to check that a handle used with the wrong key never misfiles values).

use std::collections::BTreeMap;

use proptest::prelude::*;
use tsmdb_cache::{Cache, CacheConfig, CacheError, KeyHandle, Record, key_hash};
use tsmdb_encoding::{Column, FieldType, StringColumn};

const KEYS: [&[u8]; 5] = [b"a#!~#f", b"b#!~#f", b"cpu,h=1#!~#x", b"cpu,h=2#!~#x", b""];

#[derive(Debug, Clone, PartialEq)]
enum V {
    F(f64),
    I(i64),
    S(Vec<u8>),
    B(bool),
}

impl V {
    fn field_type(&self) -> FieldType {
        match self {
            V::F(_) => FieldType::Float,
            V::I(_) => FieldType::Integer,
            V::S(_) => FieldType::String,
            V::B(_) => FieldType::Boolean,
        }
    }
}

/// One generated record: key index, type index, (time, value seed) pairs.
type GenRecord = (usize, u8, Vec<(i64, u8)>);

#[derive(Debug, Clone)]
enum Op {
    /// Records and the entry point: 0 `write`, 1 `write_hashed`, 2 `write_handles`.
    Write(Vec<GenRecord>, u8),
    /// Gives key `.0` the handle of key `.1`.
    SwapHandles(usize, usize),
    Delete(Vec<usize>, i64, i64),
    DeleteKeys(Vec<usize>),
    Snapshot,
    Commit,
    Rollback,
    Read(usize, i64, i64),
}

fn value(ty: u8, seed: u8) -> V {
    match ty % 4 {
        0 => V::F(f64::from(seed) / 4.0),
        1 => V::I(i64::from(seed) - 100),
        2 => V::S(vec![b'x'; usize::from(seed % 5)]),
        _ => V::B(seed.is_multiple_of(2)),
    }
}

fn op() -> impl Strategy<Value = Op> {
    let record = (
        0..KEYS.len(),
        0u8..4,
        prop::collection::vec((-3i64..12, any::<u8>()), 1..5),
    );
    prop_oneof![
        5 => (prop::collection::vec(record, 1..4), 0u8..3).prop_map(|(r, m)| Op::Write(r, m)),
        2 => (0..KEYS.len(), 0..KEYS.len()).prop_map(|(a, b)| Op::SwapHandles(a, b)),
        1 => (prop::collection::vec(0..KEYS.len(), 1..3), -3i64..12, -3i64..12)
            .prop_map(|(k, a, b)| Op::Delete(k, a, b)),
        1 => prop::collection::vec(0..KEYS.len(), 1..3).prop_map(Op::DeleteKeys),
        1 => Just(Op::Snapshot),
        1 => Just(Op::Commit),
        1 => Just(Op::Rollback),
        3 => (0..KEYS.len(), -4i64..13, -4i64..13).prop_map(|(k, a, b)| Op::Read(k, a, b)),
    ]
}

type Store = BTreeMap<usize, BTreeMap<i64, V>>;

#[derive(Default)]
struct Model {
    live: Store,
    snap: Option<Store>,
}

impl Model {
    fn type_of(&self, key: usize) -> Option<FieldType> {
        let first = |s: &Store| {
            s.get(&key)
                .and_then(|m| m.values().next().map(V::field_type))
        };
        first(&self.live).or_else(|| self.snap.as_ref().and_then(first))
    }

    fn read(&self, key: usize, min: i64, max: i64) -> Vec<(i64, V)> {
        let mut out = BTreeMap::new();
        if min > max {
            return Vec::new();
        }
        for store in self.snap.iter().chain([&self.live]) {
            if let Some(m) = store.get(&key) {
                for (t, v) in m.range(min..=max) {
                    out.insert(*t, v.clone());
                }
            }
        }
        out.into_iter().collect()
    }

    fn delete(&mut self, key: usize, min: i64, max: i64) {
        for store in std::iter::once(&mut self.live).chain(self.snap.as_mut()) {
            if let Some(m) = store.get_mut(&key) {
                m.retain(|t, _| !(min..=max).contains(t));
                if m.is_empty() {
                    store.remove(&key);
                }
            }
        }
    }
}

fn actual(cache: &Cache, key: usize, min: i64, max: i64) -> Vec<(i64, V)> {
    let Some(r) = cache.read(KEYS[key], min, max) else {
        return Vec::new();
    };
    let values: Vec<V> = match &r.values {
        Column::Float(v) => v.iter().map(|&x| V::F(x)).collect(),
        Column::Integer(v) => v.iter().map(|&x| V::I(x)).collect(),
        Column::String(v) => v.iter().map(|x| V::S(x.to_vec())).collect(),
        Column::Boolean(v) => v.iter().map(|&x| V::B(x)).collect(),
        Column::Unsigned(_) => unreachable!("not written"),
    };
    assert_eq!(r.timestamps.len(), values.len());
    r.timestamps.iter().copied().zip(values).collect()
}

/// Owned columns for one record, so the batch can borrow them.
struct Owned {
    key: usize,
    ts: Vec<i64>,
    col: Column,
}

fn build(records: &[GenRecord]) -> Vec<Owned> {
    records
        .iter()
        .map(|(k, ty, vals)| {
            let ts = vals.iter().map(|v| v.0).collect();
            let vs: Vec<V> = vals.iter().map(|&(_, s)| value(*ty, s)).collect();
            let col = match ty % 4 {
                0 => Column::Float(
                    vs.iter()
                        .map(|v| if let V::F(x) = v { *x } else { 0.0 })
                        .collect(),
                ),
                1 => Column::Integer(
                    vs.iter()
                        .map(|v| if let V::I(x) = v { *x } else { 0 })
                        .collect(),
                ),
                2 => {
                    let mut c = StringColumn::new();
                    vs.iter().for_each(|v| {
                        if let V::S(s) = v {
                            c.push(s)
                        }
                    });
                    Column::String(c)
                }
                _ => Column::Boolean(vs.iter().map(|v| matches!(v, V::B(true))).collect()),
            };
            Owned { key: *k, ts, col }
        })
        .collect()
}

fn records(owned: &[Owned]) -> Vec<Record<'_>> {
    owned
        .iter()
        .map(|o| Record {
            key: KEYS[o.key],
            timestamps: &o.ts,
            values: o.col.as_ref(),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]
    #[test]
    fn cache_matches_model(ops in prop::collection::vec(op(), 1..40)) {
        let cache = Cache::new(CacheConfig { partitions: 3, max_size: 0, ..CacheConfig::default() });
        let mut model = Model::default();
        let mut snapshot = None;
        let mut handles = [KeyHandle::NONE; KEYS.len()];
        for op in ops {
            match op {
                Op::SwapHandles(a, b) => handles[a] = handles[b],
                Op::Write(recs, mode) => {
                    // Expected verdict: the first record whose type differs from its key's type
                    // (in the cache or earlier in the batch) rejects the whole batch.
                    let mut types: BTreeMap<usize, FieldType> = BTreeMap::new();
                    let mut conflict = false;
                    for (k, ty, _) in &recs {
                        let t = value(*ty, 0).field_type();
                        let existing = model.type_of(*k).or(types.get(k).copied());
                        if existing.is_some_and(|e| e != t) { conflict = true; }
                        types.entry(*k).or_insert(t);
                    }
                    let owned = build(&recs);
                    let batch = records(&owned);
                    let hashes: Vec<u64> = batch.iter().map(|r| key_hash(r.key)).collect();
                    let result = match mode {
                        0 => cache.write(&batch),
                        1 => cache.write_hashed(&batch, &hashes),
                        _ => {
                            let mut hs: Vec<KeyHandle> = owned.iter().map(|o| handles[o.key]).collect();
                            let result = cache.write_handles(&batch, &hashes, &mut hs);
                            for (o, h) in owned.iter().zip(hs) { handles[o.key] = h; }
                            result
                        }
                    };
                    if conflict {
                        let err = result.unwrap_err();
                        prop_assert!(matches!(err, CacheError::FieldTypeConflict { .. }), "{err}");
                    } else {
                        result.unwrap();
                        for (k, ty, vals) in &recs {
                            let m = model.live.entry(*k).or_default();
                            for &(t, s) in vals { m.insert(t, value(*ty, s)); }
                        }
                    }
                }
                Op::Delete(keys, min, max) => {
                    let ks: Vec<&[u8]> = keys.iter().map(|&k| KEYS[k]).collect();
                    cache.delete_range(&ks, min, max);
                    for k in keys { model.delete(k, min, max); }
                }
                Op::DeleteKeys(keys) => {
                    let ks: Vec<&[u8]> = keys.iter().map(|&k| KEYS[k]).collect();
                    cache.delete(&ks);
                    for k in keys { model.delete(k, i64::MIN, i64::MAX); }
                }
                Op::Snapshot => match cache.snapshot() {
                    Ok(s) => {
                        prop_assert!(model.snap.is_none());
                        model.snap = Some(std::mem::take(&mut model.live));
                        // The snapshot holds exactly the model's frozen store, sorted.
                        let frozen = model.snap.as_ref().unwrap();
                        let keys: Vec<Box<[u8]>> = frozen.keys().map(|&k| KEYS[k].into()).collect();
                        let mut sorted = keys.clone();
                        sorted.sort();
                        prop_assert_eq!(s.sorted_keys(), sorted);
                        snapshot = Some(s);
                    }
                    Err(e) => {
                        prop_assert_eq!(e, CacheError::SnapshotInProgress);
                        prop_assert!(model.snap.is_some());
                    }
                },
                Op::Commit => {
                    if let Some(s) = snapshot.take() {
                        cache.commit(&s).unwrap();
                        prop_assert_eq!(cache.snapshot_size(), 0);
                        model.snap = None;
                    }
                }
                Op::Rollback => {
                    if let Some(s) = snapshot.take() {
                        cache.rollback(&s).unwrap();
                        let older = model.snap.take().unwrap();
                        for (k, m) in older {
                            let live = model.live.entry(k).or_default();
                            for (t, v) in m { live.entry(t).or_insert(v); }
                        }
                    }
                }
                Op::Read(k, min, max) => {
                    prop_assert_eq!(actual(&cache, k, min, max), model.read(k, min, max));
                }
            }
            for k in 0..KEYS.len() {
                prop_assert_eq!(actual(&cache, k, i64::MIN, i64::MAX), model.read(k, i64::MIN, i64::MAX));
            }
        }
        // Memory accounting returns to zero once everything is gone.
        if let Some(s) = snapshot.take() {
            cache.rollback(&s).unwrap();
        }
        cache.delete(&KEYS);
        prop_assert_eq!(cache.live_keys(), 0);
        prop_assert_eq!(cache.size(), 0);
    }
}
