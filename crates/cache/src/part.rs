//! One partition's keys: a slab of slots (where its key is, its hash, its [`Entry`]), an arena of
//! key bytes, and a hash table of slot numbers.
//!
//! Why a slab rather than a `HashMap<key, Entry>`: a slot number is a stable address a caller can
//! keep (a [`KeyHandle`](crate::KeyHandle)) and use next batch without hashing or comparing the
//! key again. Slot numbers keep their meaning until a key is removed or the partition is taken
//! by a snapshot; both give the partition a new *epoch*, which is what makes older handles stale.
//! Epochs come from one process-wide counter, so an epoch names one partition of one cache at one
//! time, and a handle can never be mistaken for one issued by another cache or partition.
//!
//! Keys live back to back in one byte arena per partition, in slot order, not in an allocation
//! each: creating a key costs no allocation, and a batch that looks up its keys in the order
//! they were created (the usual case: the same series, batch after batch) reads the arena
//! front to back instead of chasing a pointer per key. The bytes of a removed key stay until
//! they are more than half of the arena, which is then compacted.

use std::sync::atomic::{AtomicU64, Ordering};

use hashbrown::HashTable;

use crate::entry::Entry;

/// The source of epochs; 0 is never issued (it marks a handle that names nothing).
static EPOCHS: AtomicU64 = AtomicU64::new(1);

fn next_epoch() -> u64 {
    EPOCHS.fetch_add(1, Ordering::Relaxed)
}

/// One key of a partition.
#[derive(Debug, Clone)]
struct Slot {
    /// `key_hash(key)`, kept so that lookups and table growth never hash the key again.
    hash: u64,
    /// Where the key's bytes are in the partition's arena.
    key_at: usize,
    key_len: usize,
    entry: Entry,
}

impl Slot {
    fn key<'a>(&self, arena: &'a [u8]) -> &'a [u8] {
        arena
            .get(self.key_at..self.key_at.saturating_add(self.key_len))
            .unwrap_or_default()
    }
}

/// One partition's (or one snapshot partition's) keys.
#[derive(Debug)]
pub(crate) struct Part {
    table: HashTable<u32>,
    slots: Vec<Slot>,
    /// Every slot's key, back to back (plus the bytes of removed keys, `garbage` of them).
    keys: Vec<u8>,
    garbage: usize,
    epoch: u64,
    /// Values per key, on average, when the partition was last taken by a snapshot (at most
    /// [`MAX_PERIOD`]); 0 before the first snapshot.
    ///
    /// A new key's columns get room for a quarter of it, and grow straight to all of it when
    /// full (see `Entry::append`), so a cache that holds `n` values per key between snapshots
    /// allocates each key's columns twice per period, to the size they need, instead of growing
    /// them about log2(n) times (each a copy) to up to twice that. Only a quarter up front,
    /// because the new period's columns are reserved while the snapshot is still in memory:
    /// reserving all of it up front raised the engine's peak RSS by about a fifth in the TSBS
    /// ingest bench.
    period: usize,
}

/// The most values per key [`Part::take`] plans the next period for, so one burst of values
/// cannot make every key of the next period reserve a lot.
const MAX_PERIOD: usize = 1024;

/// How far a full column grows before a partition knows its period (before its first snapshot):
/// to the key's share of the snapshot threshold.
///
/// Without it a fresh key's columns double from one value (1, 4, 8, 16, 32, 64: five copies
/// and frees each, for the 50 values a TSBS key gets) on the busiest path of a fresh cache.
/// The share is the threshold (in values of [`FRESH_VALUE_SIZE`] bytes) divided over the keys
/// the cache holds: about as many values as a key gets before the engine snapshots, if keys are
/// written evenly. Only a column that filled up grows to it, and the keys counted include every
/// record of the batch being applied, so the columns of one batch's keys together reserve at
/// most about one threshold: a fresh cache holds at most about the snapshot threshold more than
/// its size estimate says, on top of the usual doubling slack, whatever is written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FreshShare {
    /// The snapshot threshold in values.
    pub(crate) values: u64,
    /// Partitions of the cache (a partition's keys times this estimates the cache's keys).
    pub(crate) partitions: usize,
    /// Records of the batch being applied (an upper bound of the keys it creates).
    pub(crate) batch_keys: usize,
}

/// The bytes a value counts for when [`FreshShare`] turns the threshold into values (a float or
/// integer value with its timestamp, as in the size estimate).
pub(crate) const FRESH_VALUE_SIZE: u64 = 16;

impl FreshShare {
    /// The share of one key of a partition holding `part_keys` keys (at most [`MAX_PERIOD`]).
    fn of(&self, part_keys: usize) -> usize {
        let keys = part_keys
            .saturating_mul(self.partitions)
            .saturating_add(self.batch_keys)
            .max(1);
        (self.values / keys as u64).min(MAX_PERIOD as u64) as usize
    }
}

impl Default for Part {
    fn default() -> Self {
        Part {
            table: HashTable::new(),
            slots: Vec::new(),
            keys: Vec::new(),
            garbage: 0,
            epoch: next_epoch(),
            period: 0,
        }
    }
}

impl Part {
    /// Number of keys.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// The epoch handles into this partition must carry to be valid.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The slot of `key` (whose hash is `hash`).
    pub(crate) fn find(&self, hash: u64, key: &[u8]) -> Option<u32> {
        let (slots, arena) = (&self.slots, &self.keys);
        self.table
            .find(hash, |&i| {
                slots
                    .get(i as usize)
                    .is_some_and(|s| s.hash == hash && s.key(arena) == key)
            })
            .copied()
    }

    pub(crate) fn get(&self, hash: u64, key: &[u8]) -> Option<&Entry> {
        let i = self.find(hash, key)?;
        self.slots.get(i as usize).map(|s| &s.entry)
    }

    pub(crate) fn get_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut Entry> {
        let i = self.find(hash, key)?;
        self.slots.get_mut(i as usize).map(|s| &mut s.entry)
    }

    /// The entry of slot `i` if it holds the key of hash `hash`.
    pub(crate) fn slot(&self, i: u32, hash: u64) -> Option<&Entry> {
        self.slots
            .get(i as usize)
            .filter(|s| s.hash == hash)
            .map(|s| &s.entry)
    }

    /// The slot `i` if it holds the key of hash `hash` (a handle's check; the hash makes a
    /// handle used with the wrong key fall back to a lookup instead of writing elsewhere).
    pub(crate) fn slot_mut(&mut self, i: u32, hash: u64) -> Option<&mut Entry> {
        self.slots
            .get_mut(i as usize)
            .filter(|s| s.hash == hash)
            .map(|s| &mut s.entry)
    }

    /// Starts loading what an append to slot `i` writes (see `Entry::prefetch_end`).
    #[inline(always)]
    pub(crate) fn prefetch(&self, i: u32) {
        if let Some(s) = self.slots.get(i as usize) {
            s.entry.prefetch_end();
        }
    }

    /// Adds a key the caller knows is absent; returns its slot.
    pub(crate) fn insert_new(&mut self, hash: u64, key: &[u8], entry: Entry) -> u32 {
        let i = self.slots.len() as u32;
        let slots = &self.slots;
        self.table
            .insert_unique(hash, i, |&j| slots.get(j as usize).map_or(0, |s| s.hash));
        let key_at = self.keys.len();
        self.keys.extend_from_slice(key);
        self.slots.push(Slot {
            hash,
            key_at,
            key_len: key.len(),
            entry,
        });
        i
    }

    /// Removes a key (the last slot moves into its place, so the epoch changes).
    pub(crate) fn remove(&mut self, hash: u64, key: &[u8]) -> Option<Entry> {
        let (slots, arena) = (&self.slots, &self.keys);
        let found = self
            .table
            .find_entry(hash, |&i| {
                slots
                    .get(i as usize)
                    .is_some_and(|s| s.hash == hash && s.key(arena) == key)
            })
            .ok()?;
        let (i, _) = found.remove();
        self.epoch = next_epoch();
        let removed = self.slots.swap_remove(i as usize);
        let last = self.slots.len() as u32;
        if let Some(moved) = self.slots.get(i as usize)
            && let Some(j) = self.table.find_mut(moved.hash, |&j| j == last)
        {
            *j = i;
        }
        self.garbage += removed.key_len;
        if self.garbage > self.keys.len() / 2 {
            self.compact_keys();
        }
        Some(removed.entry)
    }

    /// Rewrites the key arena without the bytes of removed keys.
    fn compact_keys(&mut self) {
        let mut keys = Vec::with_capacity(self.keys.len() - self.garbage);
        for s in &mut self.slots {
            let at = keys.len();
            keys.extend_from_slice(s.key(&self.keys));
            s.key_at = at;
        }
        self.keys = keys;
        self.garbage = 0;
    }

    /// Every key and entry, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry)> {
        self.slots.iter().map(|s| (s.key(&self.keys), &s.entry))
    }

    /// Every entry, mutably.
    pub(crate) fn entries_mut(&mut self) -> impl Iterator<Item = &mut Entry> {
        self.slots.iter_mut().map(|s| &mut s.entry)
    }

    /// How many values a new key's columns should have room for.
    pub(crate) fn room(&self) -> usize {
        self.period / 4
    }

    /// How many values a key held on average in the previous period (0 if unknown).
    #[cfg(test)]
    pub(crate) fn period(&self) -> usize {
        self.period
    }

    /// How many values a full column grows to (see `Entry::append`): the previous period's
    /// average, or before the first one, a key's share of the snapshot threshold.
    pub(crate) fn growth_target(&self, fresh: &FreshShare) -> usize {
        match self.period {
            0 => fresh.of(self.len()),
            known => known,
        }
    }

    /// Takes every key out, leaving an empty partition with a new epoch that plans new keys for
    /// as many values as the taken keys held on average.
    pub(crate) fn take(&mut self) -> Part {
        let values: usize = self.slots.iter().map(|s| s.entry.len()).sum();
        let period = values
            .checked_div(self.slots.len())
            .map_or(self.period, |n| n.min(MAX_PERIOD));
        let taken = std::mem::take(self);
        self.period = period;
        taken
    }

    /// Calls `f` with the hash, key and entry of every slot, consuming the partition.
    pub(crate) fn drain(self, mut f: impl FnMut(u64, &[u8], Entry)) {
        for s in self.slots {
            f(s.hash, s.key(&self.keys), s.entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::key_hash;
    use tsmdb_encoding::FieldType;

    fn insert(p: &mut Part, key: &[u8]) -> u32 {
        p.insert_new(key_hash(key), key, Entry::new(FieldType::Float))
    }

    #[test]
    fn removal_moves_the_last_slot_and_changes_the_epoch() {
        let mut p = Part::default();
        let keys: Vec<Vec<u8>> = (0..100).map(|i| format!("k{i}").into_bytes()).collect();
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(insert(&mut p, k), i as u32);
        }
        let epoch = p.epoch();
        assert!(p.remove(key_hash(&keys[3]), &keys[3]).is_some());
        assert!(p.remove(key_hash(&keys[3]), &keys[3]).is_none());
        assert_ne!(p.epoch(), epoch);
        assert_eq!(p.len(), 99);
        // The last key now lives in slot 3, and every other key is still found.
        assert_eq!(p.find(key_hash(&keys[99]), &keys[99]), Some(3));
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(p.find(key_hash(k), k).is_some(), i != 3, "key {i}");
        }
        // Removing the last slot moves nothing.
        assert!(p.remove(key_hash(&keys[98]), &keys[98]).is_some());
        assert_eq!(p.find(key_hash(&keys[99]), &keys[99]), Some(3));
    }

    #[test]
    fn removed_keys_bytes_are_compacted_away_and_every_other_key_is_still_found() {
        let mut p = Part::default();
        let keys: Vec<Vec<u8>> = (0..100)
            .map(|i| format!("key{i:03}").into_bytes())
            .collect();
        for k in &keys {
            insert(&mut p, k);
        }
        for k in keys.iter().step_by(3).chain(keys.iter().skip(1).step_by(3)) {
            assert!(p.remove(key_hash(k), k).is_some());
        }
        let left: Vec<&Vec<u8>> = keys.iter().skip(2).step_by(3).collect();
        assert_eq!(p.len(), left.len());
        assert!(p.garbage <= p.keys.len() / 2, "compacted when over half");
        for k in &left {
            let s = p.find(key_hash(k), k).unwrap();
            assert_eq!(p.iter().nth(s as usize).map(|(key, _)| key), Some(&k[..]));
        }
        let mut listed: Vec<&[u8]> = p.iter().map(|(k, _)| k).collect();
        listed.sort_unstable();
        assert_eq!(listed, left.iter().map(|k| &k[..]).collect::<Vec<_>>());
        let mut drained = Vec::new();
        p.drain(|h, k, _| drained.push((h, k.to_vec())));
        assert!(drained.iter().all(|(h, k)| key_hash(k) == *h));
        assert_eq!(drained.len(), left.len());
    }

    #[test]
    fn a_fresh_partition_grows_columns_to_a_keys_share_of_the_threshold() {
        // 16,000 values over 4 partitions: a partition of 10 keys stands for 40 keys.
        let fresh = |batch_keys| FreshShare {
            values: 16_000,
            partitions: 4,
            batch_keys,
        };
        let mut p = Part::default();
        assert_eq!(p.growth_target(&fresh(0)), MAX_PERIOD, "no keys: capped");
        for i in 0..10 {
            insert(&mut p, format!("k{i}").as_bytes());
        }
        assert_eq!(p.growth_target(&fresh(0)), 16_000 / 40);
        // The batch's records count as keys it may create, so its keys share one threshold.
        assert_eq!(p.growth_target(&fresh(160)), 16_000 / 200);
        assert_eq!(p.growth_target(&fresh(usize::MAX)), 0, "doubling as usual");
        let no_threshold = FreshShare {
            values: 0,
            ..fresh(0)
        };
        assert_eq!(p.growth_target(&no_threshold), 0);
        // Once the partition knows its period, the threshold plays no part.
        assert!(p.slot_mut(0, key_hash(b"k0")).unwrap().append(
            &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
            &tsmdb_encoding::ColumnRef::Float(&[1.0; 11]),
            0,
        ));
        drop(p.take());
        assert_eq!(p.growth_target(&fresh(0)), 1, "11 values over 10 keys");
    }

    #[test]
    fn a_slot_is_only_given_for_the_matching_hash() {
        let mut p = Part::default();
        let i = insert(&mut p, b"a");
        assert!(p.slot_mut(i, key_hash(b"a")).is_some());
        assert!(p.slot_mut(i, key_hash(b"b")).is_none());
        assert!(p.slot_mut(i + 1, key_hash(b"a")).is_none());
        assert!(p.slot_mut(i, key_hash(b"a")).unwrap().append(
            &[1, 2, 3, 4, 5, 6, 7, 8, 9],
            &tsmdb_encoding::ColumnRef::Float(&[1.0; 9]),
            0,
        ));
        insert(&mut p, b"b");
        let taken = p.take();
        assert_ne!(taken.epoch(), p.epoch());
        assert_eq!(p.len(), 0);
        assert_eq!(p.period(), 4, "9 values over 2 keys");
        assert_eq!(p.room(), 1, "a quarter of the period");
        // An empty partition keeps the room it had.
        assert_eq!(p.take().len(), 0);
        assert_eq!(p.room(), 1);
    }
}
