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
