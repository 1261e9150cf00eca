//! The write path: check a batch, reserve its memory, then apply it, one partition at a time.
//!
//! Why a batch that passed its checks cannot fail halfway, although two writes run at once and
//! each holds only one partition lock at a time:
//! * A write holds the cache's `gate` shared from its first check to its last append. Whatever
//!   moves, forgets or removes keys (snapshot, commit, rollback, deletes) holds the gate
//!   exclusively, so while a write runs no key it saw goes away, no slot changes meaning (slots
//!   are only ever appended), and the snapshot it checked against stays as it was.
//! * Other writes may append to the same keys or create keys meanwhile. A key that exists (live
//!   or in the snapshot) keeps its type while the gate is held. A key that exists nowhere can be
//!   given a type by whoever creates it first, so a write that creates such keys holds the
//!   cache's `creating` lock from its checks to its last append: two writes can never both find
//!   a key new and give it different types. A write without it may still create the live entry
//!   of a key that only the snapshot holds, with the snapshot's type, which every write checks.
//! * Memory is reserved with one atomic update of the live size after the checks and before the
//!   first append, so a refusal also happens before anything is applied.
//! * A record with a valid [`KeyHandle`] is checked without its partition's lock: the handle
//!   names a slot, the epoch it was issued in, and the hash and type of its key. Epochs change
//!   only under the exclusive gate, which refreshes each partition's lock-free copy of its epoch
//!   before it is released, so under the shared gate a handle whose epoch and hash match still
//!   names its key's slot, and that key still has the handle's type.
//!
//! Throughput, not correctness: a write holds one partition lock at a time and takes the
//! partitions it needs in whatever order they are free (`each_partition`), so two writers do
//! not fall into step behind each other.
//!
//! So a rejected batch leaves nothing behind, and nobody ever sees any of it. An accepted batch
//! may be seen while it is applied (some partitions done, others not), as any multi-key write.

use std::sync::atomic::Ordering;
use std::time::Instant;

use hashbrown::HashTable;

use super::{Cache, WriteOutcome, lossy, sub};
use crate::entry::{Entry, values_size};
use crate::error::CacheError;
use crate::handle::KeyHandle;
use crate::hash::{key_hash, partition_of_hash};
use crate::part::{FRESH_VALUE_SIZE, FreshShare, Part};
use crate::record::Record;
use crate::snapshot::Snapshot;

/// `slots[i]` of a record whose key the live cache does not hold, the batch's first for its key
/// (its key's size was reserved).
const ABSENT_FIRST: u32 = u32::MAX;
/// `slots[i]` of a later record of such a key (the first one creates it).
const ABSENT_AGAIN: u32 = u32::MAX - 1;
/// `slots[i]` of a record not yet checked (its handle was stale or missing); every slot number
/// below this one names a slot.
const LOOKUP: u32 = u32::MAX - 2;

/// How many records ahead the apply loop prefetches a slot's column ends (enough to cover a
/// memory load at about 250 instructions per record; more only evicts sooner).
const PREFETCH_AHEAD: usize = 4;

/// What the checks found.
struct Checked {
    /// Size of the keys the batch will create (some may be created concurrently by another
    /// write; the apply gives their size back).
    key_bytes: u64,
    /// True if some key exists nowhere yet.
    creates: bool,
}

/// A batch's records grouped by partition: `order[starts[p]..starts[p + 1]]` are the indexes of
/// the records of partition `p`, in batch order.
struct Groups<'s> {
    order: &'s [u32],
    starts: &'s [u32],
}

impl Groups<'_> {
    fn of(&self, p: usize) -> &[u32] {
        let (Some(&a), Some(&b)) = (self.starts.get(p), self.starts.get(p + 1)) else {
            return &[];
        };
        self.order.get(a as usize..b as usize).unwrap_or(&[])
    }

    /// Fills `todo` with the partitions that have records.
    fn nonempty(&self, todo: &mut Vec<u32>) {
        todo.clear();
        let counts = self.starts.windows(2).map(|w| w[1] - w[0]);
        todo.extend((0..).zip(counts).filter(|&(_, n)| n > 0).map(|(p, _)| p));
    }
}

impl Cache {
    pub(super) fn write_batch(
        &self,
        batch: &[Record<'_>],
        known: Option<&[u64]>,
        mut handles: Option<&mut [KeyHandle]>,
        apply: bool,
    ) -> Result<WriteOutcome, CacheError> {
        let mut value_bytes = 0;
        for r in batch {
            if r.timestamps.len() != r.values.len() {
                return Err(CacheError::LengthMismatch {
                    key: lossy(r.key),
                    timestamps: r.timestamps.len(),
                    values: r.values.len(),
                });
            }
            value_bytes += values_size(&r.values);
        }
        let mut scratch = Scratch::take();
        let Buffers {
            hashes: own_hashes,
            order,
            starts,
            slots,
            absent,
            todo,
        } = &mut scratch.0;
        let hashes: &[u64] = match known {
            Some(h) => h,
            None => {
                own_hashes.extend(batch.iter().map(|r| key_hash(r.key)));
                own_hashes
            }
        };
        group_by_partition(hashes, self.partitions.len(), order, starts);
        let groups = Groups { order, starts };
        let batch = Batch {
            records: batch,
            hashes,
            groups,
        };

        let mut creating = None;
        let mut deadline = None;
        loop {
            let gate = self.gate.read();
            let snapshot = self.snapshot.read().clone();
            let checked = self.check_batch(
                &batch,
                handles.as_deref(),
                snapshot.as_deref(),
                slots,
                absent,
                todo,
            )?;
            if apply && checked.creates && creating.is_none() {
                // The checks of new keys only hold while no other write creates keys: start
                // again holding the creation lock (taken before the gate, as everywhere).
                drop(gate);
                creating = Some(self.creating.lock());
                continue;
            }
            if !apply {
                break;
            }
            let added = value_bytes + checked.key_bytes;
            if let Err(would_be) = self.reserve(added) {
                drop(gate);
                drop(creating.take());
                let deadline = *deadline.get_or_insert_with(|| Instant::now() + self.limit_wait);
                if self.wait_for_memory(added, deadline) {
                    continue;
                }
                return Err(CacheError::MemoryLimit {
                    would_be,
                    limit: self.max_size.load(Ordering::Acquire),
                });
            }
            let unused = self.apply_batch(&batch, handles.as_deref_mut(), slots, todo);
            sub(&self.live_size, unused);
            break;
        }
        let size = self.size();
        Ok(WriteOutcome {
            size,
            needs_snapshot: size > self.snapshot_threshold,
        })
    }

    /// Checks every record's type against its key's (live, snapshot, or earlier in the batch)
    /// and notes in `slots` where each record goes.
    ///
    /// A record with a valid handle is checked from the handle alone: its epoch is the
    /// partition's (whose copy in [`Partition`](super::Partition) is exact under the gate), so
    /// its slot still holds the key of its hash, with the type the handle recorded. Only the
    /// partitions with other records are locked.
    fn check_batch(
        &self,
        batch: &Batch<'_, '_>,
        handles: Option<&[KeyHandle]>,
        snapshot: Option<&Snapshot>,
        slots: &mut Vec<u32>,
        absent: &mut HashTable<u32>,
        todo: &mut Vec<u32>,
    ) -> Result<Checked, CacheError> {
        slots.clear();
        slots.resize(batch.records.len(), LOOKUP);
        match handles {
            Some(handles) => self.check_handles(batch, handles, slots, todo)?,
            None => batch.groups.nonempty(todo),
        }
        let mut checked = Checked {
            key_bytes: 0,
            creates: false,
        };
        // Keys of this batch the live cache does not hold: record indexes by hash.
        absent.clear();
        self.each_partition(todo, |p, part| {
            batch.check_lookups(p, part, snapshot, slots, absent, &mut checked)
        })?;
        Ok(checked)
    }

    /// Checks the records whose handle is valid; fills `todo` with the partitions of the others.
    fn check_handles(
        &self,
        batch: &Batch<'_, '_>,
        handles: &[KeyHandle],
        slots: &mut [u32],
        todo: &mut Vec<u32>,
    ) -> Result<(), CacheError> {
        todo.clear();
        for (p, partition) in self.partitions.iter().enumerate() {
            let group = batch.groups.of(p);
            let epoch = partition.epoch.load(Ordering::Relaxed);
            let mut lookups = false;
            for &i in group {
                let i = i as usize;
                let (Some(r), Some(&h), Some(k), Some(slot)) = (
                    batch.records.get(i),
                    batch.hashes.get(i),
                    handles.get(i),
                    slots.get_mut(i),
                ) else {
                    // (lengths are checked by the caller) a record without a handle is looked
                    // up and checked under the lock, never applied unchecked
                    lookups = true;
                    continue;
                };
                if k.epoch != epoch || k.hash != h || k.slot >= LOOKUP {
                    lookups = true;
                    continue;
                }
                if r.values.is_empty() {
                    continue;
                }
                let attempted = r.values.field_type();
                if k.field_type != attempted {
                    return Err(CacheError::FieldTypeConflict {
                        key: lossy(r.key),
                        existing: k.field_type,
                        attempted,
                    });
                }
                *slot = k.slot;
            }
            if lookups {
                todo.push(p as u32);
            }
        }
        Ok(())
    }

    /// Appends every record where the checks said; returns the size of the keys reserved but
    /// not created here (another write created them first).
    fn apply_batch(
        &self,
        batch: &Batch<'_, '_>,
        mut handles: Option<&mut [KeyHandle]>,
        slots: &[u32],
        todo: &mut Vec<u32>,
    ) -> u64 {
        let mut unused = 0;
        let fresh = FreshShare {
            values: self.snapshot_threshold / FRESH_VALUE_SIZE,
            partitions: self.partitions.len(),
            batch_keys: batch.records.len(),
        };
        batch.groups.nonempty(todo);
        let applied: Result<(), std::convert::Infallible> = self.each_partition(todo, |p, part| {
            unused += batch.apply_to(p, part, handles.as_deref_mut(), slots, &fresh);
            Ok(())
        });
        let Ok(()) = applied;
        unused
    }

    /// Runs `f` on each partition of `todo` (emptying it) under the partition's lock, taking
    /// first the partitions nobody holds. Two writers walking the partitions in the same order
    /// would soon move in step, one always waiting for the partition the other is in; this way
    /// each takes whatever is free and blocks only when every partition it still needs is held.
    /// A write holds one partition lock at a time, so the order cannot deadlock.
    fn each_partition<E>(
        &self,
        todo: &mut Vec<u32>,
        mut f: impl FnMut(usize, &mut Part) -> Result<(), E>,
    ) -> Result<(), E> {
        while !todo.is_empty() {
            let mut k = 0;
            let mut progressed = false;
            while let Some(&p) = todo.get(k) {
                let p = p as usize;
                match self.partitions.get(p).map(|x| x.part.try_lock()) {
                    Some(Some(mut part)) => {
                        f(p, &mut part)?;
                        todo.swap_remove(k);
                        progressed = true;
                    }
                    Some(None) => k += 1,
                    None => drop(todo.swap_remove(k)),
                }
            }
            if !progressed && let Some(p) = todo.pop() {
                let p = p as usize;
                if let Some(partition) = self.partitions.get(p) {
                    f(p, &mut partition.part.lock())?;
                }
            }
        }
        Ok(())
    }
}

/// A batch with its hashes and its records grouped by partition.
struct Batch<'b, 's> {
    records: &'b [Record<'b>],
    hashes: &'b [u64],
    groups: Groups<'s>,
}

impl Batch<'_, '_> {
    /// Checks the records of partition `p` that no handle checked, by looking their keys up.
    fn check_lookups(
        &self,
        p: usize,
        part: &Part,
        snapshot: Option<&Snapshot>,
        slots: &mut [u32],
        absent: &mut HashTable<u32>,
        checked: &mut Checked,
    ) -> Result<(), CacheError> {
        let records = self.records;
        let hashes = self.hashes;
        for &i in self.groups.of(p) {
            let i = i as usize;
            let (Some(r), Some(&h), Some(planned)) = (records.get(i), hashes.get(i), slots.get(i))
            else {
                continue;
            };
            if *planned != LOOKUP || r.values.is_empty() {
                continue;
            }
            let attempted = r.values.field_type();
            let conflict = |existing| CacheError::FieldTypeConflict {
                key: lossy(r.key),
                existing,
                attempted,
            };
            if let Some(s) = part.find(h, r.key) {
                let t = part.slot(s, h).map_or(attempted, Entry::field_type);
                if t != attempted {
                    return Err(conflict(t));
                }
                slots[i] = s;
                continue;
            }
            let earlier = absent
                .find(h, |&j| {
                    records.get(j as usize).is_some_and(|o| o.key == r.key)
                })
                .copied();
            if let Some(j) = earlier {
                let t = records
                    .get(j as usize)
                    .map_or(attempted, |o| o.values.field_type());
                if t != attempted {
                    return Err(conflict(t));
                }
                slots[i] = ABSENT_AGAIN;
                continue;
            }
            match snapshot.and_then(|s| s.field_type_in(p, h, r.key)) {
                Some(t) if t != attempted => return Err(conflict(t)),
                Some(_) => {}
                None => checked.creates = true,
            }
            absent.insert_unique(h, i as u32, |&j| {
                hashes.get(j as usize).copied().unwrap_or(0)
            });
            checked.key_bytes += r.key.len() as u64;
            slots[i] = ABSENT_FIRST;
        }
        Ok(())
    }

    /// Appends the records of partition `p`; returns the size of keys reserved but created by
    /// another write meanwhile.
    fn apply_to(
        &self,
        p: usize,
        part: &mut Part,
        mut handles: Option<&mut [KeyHandle]>,
        slots: &[u32],
        fresh: &FreshShare,
    ) -> u64 {
        let mut unused = 0;
        let epoch = part.epoch();
        let period = part.growth_target(fresh);
        let group = self.groups.of(p);
        for (k, &i) in group.iter().enumerate() {
            // The slot a few records ahead: start loading its columns' ends now.
            if let Some(&ahead) = group.get(k + PREFETCH_AHEAD)
                && let Some(&s) = slots.get(ahead as usize)
                && s < LOOKUP
            {
                part.prefetch(s);
            }
            let i = i as usize;
            let (Some(r), Some(&h), Some(&planned)) =
                (self.records.get(i), self.hashes.get(i), slots.get(i))
            else {
                continue;
            };
            if r.values.is_empty() {
                continue;
            }
            let field_type = r.values.field_type();
            let mut slot = planned;
            let appended = planned < LOOKUP
                && part
                    .slot_mut(planned, h)
                    .is_some_and(|e| e.append(r.timestamps, &r.values, period));
            if !appended {
                debug_assert!(
                    planned >= LOOKUP,
                    "a checked slot keeps its key under the gate"
                );
                match part.find(h, r.key) {
                    Some(s) => {
                        if planned == ABSENT_FIRST {
                            // Another write created it between our checks and now.
                            unused += r.key.len() as u64;
                        }
                        let appended = part
                            .slot_mut(s, h)
                            .is_some_and(|e| e.append(r.timestamps, &r.values, period));
                        debug_assert!(appended, "type checked");
                        slot = s;
                    }
                    None => {
                        let room = part.room().max(r.values.len());
                        let mut e = Entry::with_room(field_type, room);
                        e.append(r.timestamps, &r.values, period);
                        slot = part.insert_new(h, r.key, e);
                    }
                }
            }
            if let Some(k) = handles.as_deref_mut().and_then(|hs| hs.get_mut(i)) {
                *k = KeyHandle {
                    epoch,
                    hash: h,
                    slot,
                    field_type,
                };
            }
        }
        unused
    }
}

/// Fills `order` and `starts` (see [`Groups`]) by a counting sort on the partition.
fn group_by_partition(hashes: &[u64], n: usize, order: &mut Vec<u32>, starts: &mut Vec<u32>) {
    starts.clear();
    starts.resize(n + 1, 0);
    for &h in hashes {
        if let Some(c) = starts.get_mut(partition_of_hash(h, n) + 1) {
            *c += 1;
        }
    }
    for p in 0..n {
        starts[p + 1] += starts[p];
    }
    // `starts[p]` is used as the next free position of partition `p`, then restored.
    order.clear();
    order.resize(hashes.len(), 0);
    for (i, &h) in hashes.iter().enumerate() {
        let p = partition_of_hash(h, n);
        if let Some(at) = starts.get_mut(p) {
            if let Some(o) = order.get_mut(*at as usize) {
                *o = i as u32;
            }
            *at += 1;
        }
    }
    for p in (1..=n).rev() {
        starts[p] = starts[p - 1];
    }
    starts[0] = 0;
}

thread_local! {
    /// Per-thread buffers of [`Scratch`], so a write allocates no per-batch vectors once they
    /// have grown.
    static BUFFERS: std::cell::RefCell<Buffers> = const {
        std::cell::RefCell::new(Buffers {
            hashes: Vec::new(),
            order: Vec::new(),
            starts: Vec::new(),
            slots: Vec::new(),
            absent: HashTable::new(),
            todo: Vec::new(),
        })
    };
}

/// A write's per-record buffers.
#[derive(Default)]
struct Buffers {
    hashes: Vec<u64>,
    order: Vec<u32>,
    starts: Vec<u32>,
    slots: Vec<u32>,
    /// See [`Cache::check_batch`].
    absent: HashTable<u32>,
    /// Partitions still to visit.
    todo: Vec<u32>,
}

/// The thread's [`Buffers`], borrowed for one write and given back when dropped.
struct Scratch(Buffers);

impl Scratch {
    fn take() -> Scratch {
        Scratch(BUFFERS.with(|b| std::mem::take(&mut *b.borrow_mut())))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let mut buffers = std::mem::take(&mut self.0);
        buffers.hashes.clear();
        BUFFERS.with(|b| *b.borrow_mut() = buffers);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::CacheConfig;
    use crate::hash::partition_index;
    use tsmdb_encoding::ColumnRef;

    /// A key of partition `p` among `n`.
    fn key_in(p: usize, n: usize) -> Vec<u8> {
        (0..)
            .map(|i| format!("cpu,host=h{i}#!~#f").into_bytes())
            .find(|k| partition_index(k, n) == p)
            .unwrap_or_default()
    }

    #[test]
    fn a_write_applies_free_partitions_while_another_is_held() {
        let cache = Cache::new(CacheConfig {
            partitions: 2,
            ..CacheConfig::default()
        });
        let keys = [key_in(0, 2), key_in(1, 2)];
        let hashes: Vec<u64> = keys.iter().map(|k| key_hash(k)).collect();
        let batch = |t: &'static [i64]| -> Vec<Record<'_>> {
            keys.iter()
                .map(|k| Record {
                    key: k,
                    timestamps: t,
                    values: ColumnRef::Float(&[1.0]),
                })
                .collect()
        };
        let mut handles = [KeyHandle::NONE; 2];
        cache
            .write_handles(&batch(&[1]), &hashes, &mut handles)
            .unwrap();

        // With partition 0 held, a write with valid handles checks without locks and applies
        // partition 1 first, then waits for partition 0.
        let held = cache.partitions[0].part.lock();
        std::thread::scope(|s| {
            let writer = s.spawn(|| {
                let mut handles = handles;
                cache
                    .write_handles(&batch(&[2]), &hashes, &mut handles)
                    .map(|_| ())
            });
            let applied = |k: &[u8]| {
                let p = &cache.partitions[partition_index(k, 2)].part;
                p.lock().get(key_hash(k), k).map_or(0, |e| e.len())
            };
            let mut seen = false;
            for _ in 0..1_000_000 {
                if applied(&keys[1]) == 2 {
                    seen = true;
                    break;
                }
                std::thread::yield_now();
            }
            drop(held);
            assert_eq!(writer.join().ok(), Some(Ok(())));
            assert!(
                seen,
                "partition 1 was not applied while partition 0 was held"
            );
            assert_eq!(applied(&keys[0]), 2);
        });
    }

    #[test]
    fn grouping_keeps_batch_order_inside_each_partition() {
        let hashes: Vec<u64> = (0..1000u64).map(|i| key_hash(&i.to_le_bytes())).collect();
        let (mut order, mut starts) = (Vec::new(), Vec::new());
        group_by_partition(&hashes, 7, &mut order, &mut starts);
        let groups = Groups {
            order: &order,
            starts: &starts,
        };
        let mut seen = vec![false; hashes.len()];
        for p in 0..7 {
            let group = groups.of(p);
            assert!(group.windows(2).all(|w| w[0] < w[1]), "partition {p}");
            for &i in group {
                assert_eq!(partition_of_hash(hashes[i as usize], 7), p);
                seen[i as usize] = true;
            }
        }
        assert!(seen.iter().all(|&s| s), "every record is in one group");
        let mut todo = Vec::new();
        groups.nonempty(&mut todo);
        assert_eq!(todo, (0..7).collect::<Vec<u32>>());
    }
}
