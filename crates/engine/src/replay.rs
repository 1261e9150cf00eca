//! WAL replay at shard open: puts every logged entry back into the cache, the index and the
//! schema, in log order.
//!
//! The WAL holds the same keys over and over (one record per key per logged batch), so the
//! per-key work — parsing the series key, inserting the series in the index, checking the
//! field's type against the schema, hashing the key — is done once per key per open and
//! remembered; each write entry then reaches the cache as one batch. The outcome is exactly the
//! record-by-record replay's: entries apply in order (deletes between the writes they were
//! logged between), later records win on equal timestamps (the cache applies a batch in order),
//! and a record whose type the schema or the cache refuses is dropped and counted alone.

use std::collections::{HashMap, HashSet};

use tsmdb_cache::{Cache, KeyHashBuilder, Record, key_hash};
use tsmdb_encoding::FieldType;
use tsmdb_index_grid::Index;
use tsmdb_wal::{Entry, EntryKind};

use crate::error::Result;
use crate::keys::{parse_series_key, split_key};
use crate::schema::Schema;

/// What is already known about one composite key during this replay.
struct KnownKey {
    /// `key_hash` of the key, handed to the cache.
    hash: u64,
    /// The type the schema accepted for the key's field; `None` for a key whose series key does
    /// not parse (it is neither indexed nor type-checked, as before batching).
    accepted: Option<FieldType>,
}

/// Replays WAL entries into one shard's cache, index and (database) schema.
pub(crate) struct Replayer<'a> {
    index: &'a Index,
    schema: &'a Schema,
    cache: &'a Cache,
    keys: HashMap<Box<[u8]>, KnownKey, KeyHashBuilder>,
    /// Series keys already inserted in the index. Replay never removes a series from the index
    /// (deletes touch the cache only), so an inserted series stays inserted.
    series: HashSet<Box<[u8]>, KeyHashBuilder>,
    hashes: Vec<u64>,
    /// Values dropped because the schema or the cache refused their type.
    pub dropped: u64,
}

impl<'a> Replayer<'a> {
    /// A replayer that knows no key yet.
    pub(crate) fn new(index: &'a Index, schema: &'a Schema, cache: &'a Cache) -> Self {
        Replayer {
            index,
            schema,
            cache,
            keys: HashMap::default(),
            series: HashSet::default(),
            hashes: Vec::new(),
            dropped: 0,
        }
    }

    /// Applies one entry. An error (the index refused a series) stops the replay.
    pub(crate) fn apply(&mut self, entry: &Entry) -> Result<()> {
        match entry.kind() {
            EntryKind::Write => self.write(entry),
            EntryKind::Delete => {
                let keys: Vec<&[u8]> = entry.keys().collect();
                self.cache.delete(&keys);
                Ok(())
            }
            EntryKind::DeleteRange => {
                let keys: Vec<&[u8]> = entry.keys().collect();
                if let Some((min, max)) = entry.time_range() {
                    self.cache.delete_range(&keys, min, max);
                }
                Ok(())
            }
        }
    }

    fn write(&mut self, entry: &Entry) -> Result<()> {
        let mut batch: Vec<Record<'_>> = Vec::with_capacity(entry.records().len());
        self.hashes.clear();
        for rec in entry.records() {
            let t = rec.values.field_type();
            let hash = match self.keys.get(rec.key) {
                Some(k) if k.accepted.is_none_or(|a| a == t) => k.hash,
                _ => match self.admit(rec.key, t)? {
                    Some(hash) => hash,
                    None => {
                        self.dropped += rec.values.len() as u64;
                        continue;
                    }
                },
            };
            batch.push(Record {
                key: rec.key,
                timestamps: rec.timestamps,
                values: rec.values,
            });
            self.hashes.push(hash);
        }
        if batch.is_empty() || self.cache.write_hashed(&batch, &self.hashes).is_ok() {
            return Ok(());
        }
        // The batch is all or nothing and left no trace: apply it record by record so that
        // only the refused records are dropped, as a record-by-record replay would.
        for (r, &h) in batch.iter().zip(&self.hashes) {
            if self
                .cache
                .write_hashed(std::slice::from_ref(r), &[h])
                .is_err()
            {
                self.dropped += r.values.len() as u64;
            }
        }
        Ok(())
    }

    /// First sight of `key` (or of `key` with another type): indexes its series and checks its
    /// type. Returns the key's hash, or `None` when the schema refuses the type.
    fn admit(&mut self, key: &[u8], t: FieldType) -> Result<Option<u64>> {
        let (series, field) = split_key(key);
        let accepted = match parse_series_key(series) {
            Some((m, tags)) => {
                if !self.series.contains(series) {
                    let tags: Vec<(&[u8], &[u8])> =
                        tags.iter().map(|(k, v)| (&**k, &**v)).collect();
                    self.index.insert(&m, &tags)?;
                    self.series.insert(series.into());
                }
                if self.schema.learn(&m, field, t).is_err() {
                    return Ok(None);
                }
                Some(t)
            }
            None => None,
        };
        let hash = key_hash(key);
        self.keys.insert(key.into(), KnownKey { hash, accepted });
        Ok(Some(hash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tsmdb_cache::CacheConfig;
    use tsmdb_index_grid::Policy;
    use tsmdb_wal::{
        ColumnRef, HEADER_LEN, encode_delete_payload, encode_delete_range_payload, encode_frame,
        encode_write_payload,
    };

    /// Composite keys the generated entries use: two measurements, a field written with two
    /// types, a key whose series key does not parse, a key without tags.
    const KEYS: [&[u8]; 6] = [
        b"cpu,host=a#!~#v",
        b"cpu,host=b#!~#v",
        b"cpu,host=a#!~#w",
        b"mem,host=a#!~#v",
        b"cpu,novalue#!~#v",
        b"disk#!~#v",
    ];

    #[derive(Debug, Clone)]
    enum Op {
        /// (key, integer or float, timestamps) per record.
        Write(Vec<(usize, bool, Vec<i64>)>),
        Delete(Vec<usize>),
        DeleteRange(Vec<usize>, i64, i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        let keys = proptest::collection::vec(0..KEYS.len(), 1..4);
        prop_oneof![
            6 => proptest::collection::vec(
                (0..KEYS.len(), any::<bool>(), proptest::collection::vec(0i64..8, 1..5)),
                1..6,
            )
            .prop_map(Op::Write),
            1 => keys.clone().prop_map(Op::Delete),
            1 => (keys, 0i64..8, 0i64..8).prop_map(|(k, a, b)| Op::DeleteRange(k, a.min(b), a.max(b))),
        ]
    }

    /// Encodes `op` as a WAL frame and decodes it back, as the WAL reader hands it to replay.
    /// Values differ per op and record so that which write won is visible.
    fn entry_of(op: &Op, seq: usize) -> Entry {
        let mut payload = Vec::new();
        let kind = match op {
            Op::Write(recs) => {
                let ints: Vec<Vec<i64>> = recs
                    .iter()
                    .enumerate()
                    .map(|(i, (_, _, ts))| {
                        ts.iter().map(|t| t + 100 * (seq * 8 + i) as i64).collect()
                    })
                    .collect();
                let floats: Vec<Vec<f64>> = ints
                    .iter()
                    .map(|v| v.iter().map(|&x| x as f64).collect())
                    .collect();
                let records: Vec<tsmdb_wal::Record<'_>> = recs
                    .iter()
                    .enumerate()
                    .map(|(i, (k, int, ts))| tsmdb_wal::Record {
                        key: KEYS[*k],
                        timestamps: ts,
                        values: if *int {
                            ColumnRef::Integer(&ints[i])
                        } else {
                            ColumnRef::Float(&floats[i])
                        },
                    })
                    .collect();
                encode_write_payload(&records, &mut payload).unwrap();
                EntryKind::Write
            }
            Op::Delete(keys) => {
                let keys: Vec<&[u8]> = keys.iter().map(|&k| KEYS[k]).collect();
                encode_delete_payload(&keys, &mut payload).unwrap();
                EntryKind::Delete
            }
            Op::DeleteRange(keys, min, max) => {
                let keys: Vec<&[u8]> = keys.iter().map(|&k| KEYS[k]).collect();
                encode_delete_range_payload(&keys, *min, *max, &mut payload).unwrap();
                EntryKind::DeleteRange
            }
        };
        let mut frame = Vec::new();
        encode_frame(kind, &payload, &mut snap::raw::Encoder::new(), &mut frame).unwrap();
        let mut entry = Entry::new();
        entry.decode(frame[0], &frame[HEADER_LEN..]).unwrap();
        entry
    }

    /// The replay before batching, record by record: the reference the batched replay must match.
    fn unbatched(entry: &Entry, index: &Index, schema: &Schema, cache: &Cache, dropped: &mut u64) {
        match entry.kind() {
            EntryKind::Write => {
                for rec in entry.records() {
                    let (series, field) = split_key(rec.key);
                    if let Some((m, tags)) = parse_series_key(series) {
                        let tags: Vec<(&[u8], &[u8])> =
                            tags.iter().map(|(k, v)| (&**k, &**v)).collect();
                        index.insert(&m, &tags).unwrap();
                        if schema.learn(&m, field, rec.values.field_type()).is_err() {
                            *dropped += rec.values.len() as u64;
                            continue;
                        }
                    }
                    let one = [Record {
                        key: rec.key,
                        timestamps: rec.timestamps,
                        values: rec.values,
                    }];
                    if cache.write(&one).is_err() {
                        *dropped += rec.values.len() as u64;
                    }
                }
            }
            EntryKind::Delete => cache.delete(&entry.keys().collect::<Vec<_>>()),
            EntryKind::DeleteRange => {
                if let Some((min, max)) = entry.time_range() {
                    cache.delete_range(&entry.keys().collect::<Vec<_>>(), min, max);
                }
            }
        }
    }

    fn parts() -> (Index, Schema, Cache) {
        (
            Index::new(Policy::default()),
            Schema::default(),
            Cache::new(CacheConfig::default()),
        )
    }

    proptest! {
        #[test]
        fn batched_replay_matches_record_by_record(ops in proptest::collection::vec(op(), 1..25)) {
            let entries: Vec<Entry> = ops.iter().enumerate().map(|(i, op)| entry_of(op, i)).collect();
            let (ref_index, ref_schema, ref_cache) = parts();
            let mut ref_dropped = 0;
            for e in &entries {
                unbatched(e, &ref_index, &ref_schema, &ref_cache, &mut ref_dropped);
            }
            let (index, schema, cache) = parts();
            let mut replayer = Replayer::new(&index, &schema, &cache);
            for e in &entries {
                replayer.apply(e).unwrap();
            }
            prop_assert_eq!(replayer.dropped, ref_dropped);
            prop_assert_eq!(index.len(), ref_index.len());
            prop_assert_eq!(cache.size(), ref_cache.size());
            for key in KEYS {
                prop_assert_eq!(cache.read(key, i64::MIN, i64::MAX), ref_cache.read(key, i64::MIN, i64::MAX));
            }
        }
    }

    #[test]
    fn a_conflicting_record_drops_alone_and_later_writes_win() {
        // One entry: cpu v as integer, then as float (refused by the schema), then cpu v again
        // at the same timestamp; an unparseable key written with two types (refused by the
        // cache, so the entry's batch falls back to record by record).
        let entries = [
            entry_of(
                &Op::Write(vec![
                    (0, true, vec![1]),
                    (0, false, vec![2]),
                    (0, true, vec![1]),
                ]),
                0,
            ),
            entry_of(
                &Op::Write(vec![
                    (4, true, vec![1]),
                    (4, false, vec![2]),
                    (1, true, vec![3]),
                ]),
                1,
            ),
        ];
        let (index, schema, cache) = parts();
        let mut replayer = Replayer::new(&index, &schema, &cache);
        for e in &entries {
            replayer.apply(e).unwrap();
        }
        assert_eq!(replayer.dropped, 2);
        let cpu_a = cache.read(KEYS[0], i64::MIN, i64::MAX).unwrap();
        assert_eq!(cpu_a.timestamps, vec![1]);
        // The third record (value 1 + 100 * 2) replaced the first (value 1).
        assert_eq!(cpu_a.values, tsmdb_encoding::Column::Integer(vec![201]));
        let bad = cache.read(KEYS[4], i64::MIN, i64::MAX).unwrap();
        assert_eq!(bad.timestamps, vec![1]);
        let cpu_b = cache.read(KEYS[1], i64::MIN, i64::MAX).unwrap();
        assert_eq!(cpu_b.timestamps, vec![3]);
        assert_eq!(index.len(), 2);
    }
}
