//! An immutable view of the cache's contents at snapshot time, read while it is written to TSM.

use parking_lot::RwLock;
use tsmdb_encoding::{Column, FieldType};

use crate::cache::ReadValues;
use crate::hash::{key_hash, partition_of_hash};
use crate::part::Part;

/// The cache's contents frozen by [`Cache::snapshot`](crate::Cache::snapshot). Every entry is
/// sorted and deduplicated. Its values do not change, except that deletes remove from it (so that
/// reads never see deleted values).
#[derive(Debug)]
pub struct Snapshot {
    partitions: Box<[RwLock<Part>]>,
}

impl Snapshot {
    pub(crate) fn new(maps: Vec<Part>) -> Self {
        Snapshot {
            partitions: maps.into_iter().map(RwLock::new).collect(),
        }
    }

    pub(crate) fn partition(&self, p: usize) -> &RwLock<Part> {
        &self.partitions[p]
    }

    pub(crate) fn field_type_in(&self, p: usize, hash: u64, key: &[u8]) -> Option<FieldType> {
        self.partitions
            .get(p)?
            .read()
            .get(hash, key)
            .map(|e| e.field_type())
    }

    /// Sorts and deduplicates every entry; returns the size estimate of the duplicates dropped.
    pub(crate) fn dedup_all(&self) -> u64 {
        let mut freed = 0;
        for p in self.partitions.iter() {
            for e in p.write().entries_mut() {
                freed += e.dedup();
            }
        }
        freed
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.partitions.iter().map(|p| p.read().len()).sum()
    }

    /// True when the snapshot holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every key in ascending byte order (the order TSM files need).
    pub fn sorted_keys(&self) -> Vec<Box<[u8]>> {
        let mut keys: Vec<Box<[u8]>> = self
            .partitions
            .iter()
            .flat_map(|p| p.read().iter().map(|(k, _)| k.into()).collect::<Vec<_>>())
            .collect();
        keys.sort_unstable();
        keys
    }

    /// Calls `f` with the type, timestamps and values of `key` without copying them; `None` if the
    /// snapshot does not hold the key.
    pub fn with_values<R>(
        &self,
        key: &[u8],
        f: impl FnOnce(FieldType, &[i64], &Column) -> R,
    ) -> Option<R> {
        let hash = key_hash(key);
        let p = self
            .partitions
            .get(partition_of_hash(hash, self.partitions.len()))?;
        let map = p.read();
        let e = map.get(hash, key)?;
        Some(f(e.field_type(), &e.timestamps, &e.values))
    }

    /// A copy of the values of `key`.
    pub fn read(&self, key: &[u8]) -> Option<ReadValues> {
        self.with_values(key, |_, timestamps, values| ReadValues {
            timestamps: timestamps.to_vec(),
            values: values.clone(),
        })
    }
}
