//! The cache: a ring of partitions, each a map from composite key to [`Entry`] behind its own lock.
//!
//! Lock order, everywhere: the creation lock, the gate, cache partitions in ascending index, the
//! snapshot slot, snapshot partitions. Writes hold the gate shared and lock one partition at a
//! time, in any order (holding one, they wait for no other; see the `write` module for why a
//! batch that passed its checks cannot fail halfway); snapshot, commit, rollback and deletes hold
//! it exclusively.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard, RwLock, RwLockWriteGuard};

mod write;
use tsmdb_encoding::{Column, FieldType};

use crate::entry::{Entry, push_from};
use crate::error::CacheError;
use crate::handle::KeyHandle;
use crate::hash::{key_hash, partition_of_hash};
use crate::part::Part;
use crate::record::Record;
use crate::snapshot::Snapshot;

/// Snapshot threshold default: 25 MiB, as in InfluxDB.
pub const DEFAULT_SNAPSHOT_SIZE: u64 = 25 * 1024 * 1024;
/// Hard limit default: 1 GiB, as in InfluxDB.
pub const DEFAULT_MAX_SIZE: u64 = 1024 * 1024 * 1024;

/// How a [`Cache`] is sized.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Number of partitions (at least 1).
    pub partitions: usize,
    /// Above this size [`WriteOutcome::needs_snapshot`] tells the engine to snapshot.
    pub snapshot_size: u64,
    /// Writes that would take the size above this are rejected (0 = no limit).
    pub max_size: u64,
    /// How long a write over the limit waits for a running snapshot to free memory before it is
    /// rejected.
    pub limit_wait: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            partitions: 16,
            snapshot_size: DEFAULT_SNAPSHOT_SIZE,
            max_size: DEFAULT_MAX_SIZE,
            limit_wait: Duration::from_millis(100),
        }
    }
}

/// What a successful write reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOutcome {
    /// The cache's size estimate after the write (live + snapshot).
    pub size: u64,
    /// True when the size is above the snapshot threshold: the engine should snapshot.
    pub needs_snapshot: bool,
}

/// Values of one key, sorted by time with unique timestamps.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadValues {
    /// Timestamps, strictly increasing.
    pub timestamps: Vec<i64>,
    /// One value per timestamp.
    pub values: Column,
}

impl ReadValues {
    pub(crate) fn new(field_type: FieldType) -> Self {
        ReadValues {
            timestamps: Vec::new(),
            values: Column::empty(field_type),
        }
    }
}

/// One partition of the live cache, on cache lines of its own (two writers busy in neighbouring
/// partitions must not bounce one line between them).
#[derive(Debug)]
#[repr(align(128))]
struct Partition {
    part: Mutex<Part>,
    /// A copy of `part`'s epoch that a write reads without the lock to validate key handles.
    /// An epoch only changes under the exclusive gate, and [`Exclusive`] refreshes this copy
    /// before the gate is released, so under the shared gate it always equals `part`'s.
    epoch: AtomicU64,
}

impl Partition {
    fn new() -> Self {
        let part = Part::default();
        Partition {
            epoch: AtomicU64::new(part.epoch()),
            part: Mutex::new(part),
        }
    }
}

/// The gate held exclusively; on release it first refreshes every partition's epoch copy.
struct Exclusive<'a> {
    partitions: &'a [Partition],
    _gate: RwLockWriteGuard<'a, ()>,
}

impl Drop for Exclusive<'_> {
    fn drop(&mut self) {
        // Runs before the gate guard (a field) is dropped, so no write sees an old copy.
        for p in self.partitions {
            p.epoch.store(p.part.lock().epoch(), Ordering::Relaxed);
        }
    }
}

/// The in-memory cache of recent writes. Share it between threads by reference.
#[derive(Debug)]
pub struct Cache {
    /// Held shared by a write from its checks to its last append, exclusively by the operations
    /// that move, forget or remove keys (snapshot, commit, rollback, deletes), so that what a
    /// write checked still holds when it applies.
    gate: RwLock<()>,
    /// Held by a write that creates keys no longer known anywhere (live or snapshot), from its
    /// checks to its last append, so two writes can never give a new key different types.
    creating: Mutex<()>,
    partitions: Box<[Partition]>,
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    live_size: AtomicU64,
    snapshot_size: AtomicU64,
    max_size: AtomicU64,
    snapshot_threshold: u64,
    limit_wait: Duration,
    freed_lock: Mutex<()>,
    freed: Condvar,
}

impl Default for Cache {
    fn default() -> Self {
        Cache::new(CacheConfig::default())
    }
}

impl Cache {
    /// An empty cache.
    pub fn new(config: CacheConfig) -> Self {
        let n = config.partitions.max(1);
        Cache {
            gate: RwLock::new(()),
            creating: Mutex::new(()),
            partitions: (0..n).map(|_| Partition::new()).collect(),
            snapshot: RwLock::new(None),
            live_size: AtomicU64::new(0),
            snapshot_size: AtomicU64::new(0),
            max_size: AtomicU64::new(config.max_size),
            snapshot_threshold: config.snapshot_size,
            limit_wait: config.limit_wait,
            freed_lock: Mutex::new(()),
            freed: Condvar::new(),
        }
    }

    /// Size estimate: live values and keys plus the snapshot being written.
    pub fn size(&self) -> u64 {
        self.live_size.load(Ordering::Acquire) + self.snapshot_size.load(Ordering::Acquire)
    }

    /// Size estimate of the snapshot being written (0 without one).
    pub fn snapshot_size(&self) -> u64 {
        self.snapshot_size.load(Ordering::Acquire)
    }

    /// Changes the hard limit (0 = none); replay runs without one, as in InfluxDB.
    pub fn set_max_size(&self, max_size: u64) {
        self.max_size.store(max_size, Ordering::Release);
    }

    /// True when the size is above the snapshot threshold.
    pub fn needs_snapshot(&self) -> bool {
        self.size() > self.snapshot_threshold
    }

    /// Number of keys with live (not snapshotted) values.
    pub fn live_keys(&self) -> usize {
        self.partitions.iter().map(|p| p.part.lock().len()).sum()
    }

    fn partition_of_hash(&self, hash: u64) -> usize {
        partition_of_hash(hash, self.partitions.len())
    }

    /// Adds a batch, all or nothing: if any value's type differs from its key's type (in the
    /// cache, the snapshot or earlier in the batch), or the batch would take the cache over its
    /// hard limit, nothing of it is applied.
    pub fn write(&self, batch: &[Record<'_>]) -> Result<WriteOutcome, CacheError> {
        self.write_batch(batch, None, None, true)
    }

    /// [`Cache::write`] for a caller that already knows each key's hash: `hashes[i]` must be
    /// [`key_hash`]`(batch[i].key)` (an engine that keeps its keys across batches computes it
    /// once per key, not once per write). A wrong hash would file the key under the wrong
    /// partition, so debug builds check every one; a length mismatch is refused.
    pub fn write_hashed(
        &self,
        batch: &[Record<'_>],
        hashes: &[u64],
    ) -> Result<WriteOutcome, CacheError> {
        if hashes.len() != batch.len() {
            return Err(CacheError::LengthMismatch {
                key: "(hashes of the batch)".to_string(),
                timestamps: batch.len(),
                values: hashes.len(),
            });
        }
        debug_assert!(batch.iter().zip(hashes).all(|(r, &h)| key_hash(r.key) == h));
        self.write_batch(batch, Some(hashes), None, true)
    }

    /// [`Cache::write_hashed`] for a caller that also keeps a [`KeyHandle`] per key:
    /// `handles[i]` belongs to `batch[i].key`. A valid handle takes the record straight to its
    /// key's values (no hashing, probing or key comparison); a stale or default one falls back to
    /// a lookup. Every record the batch applies leaves its handle naming its key's slot, so the
    /// next batch of the same keys takes the fast path. A rejected batch may leave some handles
    /// stale, never wrong.
    pub fn write_handles(
        &self,
        batch: &[Record<'_>],
        hashes: &[u64],
        handles: &mut [KeyHandle],
    ) -> Result<WriteOutcome, CacheError> {
        if hashes.len() != batch.len() || handles.len() != batch.len() {
            return Err(CacheError::LengthMismatch {
                key: "(hashes or handles of the batch)".to_string(),
                timestamps: batch.len(),
                values: hashes.len().min(handles.len()),
            });
        }
        debug_assert!(batch.iter().zip(hashes).all(|(r, &h)| key_hash(r.key) == h));
        self.write_batch(batch, Some(hashes), Some(handles), true)
    }

    /// Checks a batch exactly as [`Cache::write`] would, without applying it (so an engine can
    /// validate, log to the WAL, then apply).
    pub fn check(&self, batch: &[Record<'_>]) -> Result<(), CacheError> {
        self.write_batch(batch, None, None, false).map(|_| ())
    }

    /// Adds `added` to the live size unless that takes the total over the limit; on refusal
    /// returns the would-be size.
    fn reserve(&self, added: u64) -> Result<(), u64> {
        let limit = self.max_size.load(Ordering::Acquire);
        if limit == 0 {
            self.live_size.fetch_add(added, Ordering::AcqRel);
            return Ok(());
        }
        let snap = self.snapshot_size.load(Ordering::Acquire);
        self.live_size
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |live| {
                (live + snap + added <= limit).then_some(live + added)
            })
            .map(|_| ())
            .map_err(|live| live + snap + added)
    }

    /// Waits (at most until `deadline`) for memory to be freed; true if `added` now fits.
    fn wait_for_memory(&self, added: u64, deadline: Instant) -> bool {
        let fits = || {
            let limit = self.max_size.load(Ordering::Acquire);
            limit == 0 || self.size() + added <= limit
        };
        let mut g = self.freed_lock.lock();
        loop {
            if fits() {
                return true;
            }
            if self.freed.wait_until(&mut g, deadline).timed_out() {
                return fits();
            }
        }
    }

    fn notify_freed(&self) {
        let _g = self.freed_lock.lock();
        self.freed.notify_all();
    }

    /// Takes the gate exclusively (see [`Exclusive`]).
    fn exclusive(&self) -> Exclusive<'_> {
        Exclusive {
            partitions: &self.partitions,
            _gate: self.gate.write(),
        }
    }

    fn lock_all(&self) -> Vec<MutexGuard<'_, Part>> {
        self.partitions.iter().map(|p| p.part.lock()).collect()
    }

    /// The values of `key` with `min <= t <= max`, merged from the snapshot and the live cache,
    /// sorted and deduplicated (on equal timestamps the newest write wins, live beats snapshot).
    pub fn read(&self, key: &[u8], min: i64, max: i64) -> Option<ReadValues> {
        let hash = key_hash(key);
        let p = self.partition_of_hash(hash);
        let mut live_map = self.partitions[p].part.lock();
        let snapshot = self.snapshot.read().clone();
        let live = live_map.get_mut(hash, key).map(|e| {
            sub(&self.live_size, e.dedup());
            &*e
        });
        let snap_map = snapshot.as_ref().map(|s| s.partition(p).read());
        let snap_entry = snap_map.as_ref().and_then(|m| m.get(hash, key));
        let deduped_snap;
        let snap = match snap_entry {
            Some(e) if !e.ordered => {
                let mut copy = e.clone();
                let _ = copy.dedup();
                deduped_snap = copy;
                Some(&deduped_snap)
            }
            other => other,
        };
        let field_type = live.or(snap)?.field_type();
        let snap = snap.filter(|s| s.field_type() == field_type);
        Some(merge(snap, live, min, max, field_type))
    }

    /// Removes the values of `keys` with `min <= t <= max` from the live cache and the snapshot;
    /// a key left without values is removed.
    pub fn delete_range(&self, keys: &[&[u8]], min: i64, max: i64) {
        let whole = min == i64::MIN && max == i64::MAX;
        let mut freed_any = false;
        let gate = self.exclusive();
        for key in keys {
            let hash = key_hash(key);
            let p = self.partition_of_hash(hash);
            let mut live = self.partitions[p].part.lock();
            let freed = delete_from(&mut live, hash, key, min, max, whole);
            sub(&self.live_size, freed);
            let snapshot = self.snapshot.read().clone();
            if let Some(s) = snapshot {
                let freed_snap =
                    delete_from(&mut s.partition(p).write(), hash, key, min, max, whole);
                sub(&self.snapshot_size, freed_snap);
                freed_any |= freed_snap > 0;
            }
            freed_any |= freed > 0;
        }
        drop(gate);
        if freed_any {
            self.notify_freed();
        }
    }

    /// Removes `keys` entirely (a WAL delete entry).
    pub fn delete(&self, keys: &[&[u8]]) {
        self.delete_range(keys, i64::MIN, i64::MAX);
    }

    /// Freezes the live contents into an immutable snapshot that reads still see while it is
    /// written out; the live cache starts empty. Fails if a snapshot is already outstanding
    /// (commit or roll it back first).
    pub fn snapshot(&self) -> Result<Arc<Snapshot>, CacheError> {
        let gate = self.exclusive();
        let mut guards = self.lock_all();
        let mut slot = self.snapshot.write();
        if slot.is_some() {
            return Err(CacheError::SnapshotInProgress);
        }
        let maps = guards.iter_mut().map(|g| g.take()).collect();
        let snapshot = Arc::new(Snapshot::new(maps));
        let size = self.live_size.swap(0, Ordering::AcqRel);
        self.snapshot_size.store(size, Ordering::Release);
        *slot = Some(Arc::clone(&snapshot));
        drop(slot);
        drop(guards);
        drop(gate);
        // Sorting happens after the locks are released, so writers are not held up by it.
        sub(&self.snapshot_size, snapshot.dedup_all());
        Ok(snapshot)
    }

    /// Drops a snapshot whose contents are now in TSM files, freeing its memory.
    pub fn commit(&self, snapshot: &Arc<Snapshot>) -> Result<(), CacheError> {
        let gate = self.exclusive();
        let mut slot = self.snapshot.write();
        if !slot.as_ref().is_some_and(|s| Arc::ptr_eq(s, snapshot)) {
            return Err(CacheError::UnknownSnapshot);
        }
        *slot = None;
        self.snapshot_size.store(0, Ordering::Release);
        drop(slot);
        drop(gate);
        self.notify_freed();
        Ok(())
    }

    /// Merges a snapshot that could not be written back into the live cache; values written
    /// since the snapshot stay newer (they win on equal timestamps).
    pub fn rollback(&self, snapshot: &Arc<Snapshot>) -> Result<(), CacheError> {
        let _gate = self.exclusive();
        let mut guards = self.lock_all();
        let mut slot = self.snapshot.write();
        if !slot.as_ref().is_some_and(|s| Arc::ptr_eq(s, snapshot)) {
            return Err(CacheError::UnknownSnapshot);
        }
        let mut double_counted_keys = 0;
        for (p, live) in guards.iter_mut().enumerate() {
            let taken = snapshot.partition(p).write().take();
            taken.drain(|hash, key, mut older| match live.get_mut(hash, key) {
                Some(newer) => {
                    older.append_entry(newer);
                    *newer = older;
                    double_counted_keys += key.len() as u64;
                }
                None => {
                    live.insert_new(hash, key, older);
                }
            });
        }
        let moved = self.snapshot_size.swap(0, Ordering::AcqRel);
        self.live_size
            .fetch_add(moved.saturating_sub(double_counted_keys), Ordering::AcqRel);
        *slot = None;
        Ok(())
    }

    /// The outstanding snapshot, if any.
    pub fn current_snapshot(&self) -> Option<Arc<Snapshot>> {
        self.snapshot.read().clone()
    }
}

/// Subtracts from a size counter without wrapping (a delete racing a commit may try to free
/// memory that the commit already released).
fn sub(counter: &AtomicU64, n: u64) {
    if n > 0 {
        let _ = counter.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
            Some(v.saturating_sub(n))
        });
    }
}

fn lossy(key: &[u8]) -> String {
    String::from_utf8_lossy(key).into_owned()
}

/// Deletes a key's values in a range from one map; returns the size estimate freed.
fn delete_from(map: &mut Part, hash: u64, key: &[u8], min: i64, max: i64, whole: bool) -> u64 {
    let Some(e) = map.get_mut(hash, key) else {
        return 0;
    };
    if whole {
        let freed = e.size() + key.len() as u64;
        map.remove(hash, key);
        return freed;
    }
    let freed = e.delete_range(min, max);
    if e.len() == 0 {
        map.remove(hash, key);
        return freed + key.len() as u64;
    }
    freed
}

/// Merges the in-range parts of two deduplicated entries; on equal timestamps `newer` wins.
fn merge(
    older: Option<&Entry>,
    newer: Option<&Entry>,
    min: i64,
    max: i64,
    field_type: FieldType,
) -> ReadValues {
    let mut out = ReadValues::new(field_type);
    let a = older.map_or(0..0, |e| e.range(min, max));
    let b = newer.map_or(0..0, |e| e.range(min, max));
    let (mut i, mut j) = (a.start, b.start);
    while i < a.end || j < b.end {
        let ta = (i < a.end)
            .then(|| older.map(|e| e.timestamps[i]))
            .flatten();
        let tb = (j < b.end)
            .then(|| newer.map(|e| e.timestamps[j]))
            .flatten();
        match (ta, tb, older, newer) {
            (Some(x), Some(y), _, Some(n)) if y <= x => {
                if x == y {
                    i += 1;
                }
                out.timestamps.push(y);
                push_from(&mut out.values, &n.values, j);
                j += 1;
            }
            (Some(x), _, Some(o), _) => {
                out.timestamps.push(x);
                push_from(&mut out.values, &o.values, i);
                i += 1;
            }
            (None, Some(y), _, Some(n)) => {
                out.timestamps.push(y);
                push_from(&mut out.values, &n.values, j);
                j += 1;
            }
            _ => break,
        }
    }
    out
}
