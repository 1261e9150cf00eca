//! The cache: a ring of partitions, each a map from composite key to [`Entry`] behind its own lock.
//!
//! Lock order, everywhere: cache partitions in ascending index, then the snapshot slot, then
//! snapshot partitions. A write batch locks every partition it touches at once, so checking and
//! applying see the same state and a rejected batch leaves nothing behind.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard, RwLock};
use tsmdb_encoding::{Column, FieldType};

use crate::entry::{Entry, push_from, values_size};
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

/// The in-memory cache of recent writes. Share it between threads by reference.
#[derive(Debug)]
pub struct Cache {
    partitions: Box<[Mutex<Part>]>,
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    live_size: AtomicU64,
    snapshot_size: AtomicU64,
    max_size: AtomicU64,
    snapshot_threshold: u64,
    limit_wait: Duration,
    freed_lock: Mutex<()>,
    freed: Condvar,
}

type Guards<'a> = Vec<Option<MutexGuard<'a, Part>>>;

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
            partitions: (0..n).map(|_| Mutex::new(Part::default())).collect(),
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
        self.partitions.iter().map(|p| p.lock().len()).sum()
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

    fn write_batch(
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
        let n = self.partitions.len();
        let mut scratch = Scratch::take();
        let hashes = match known {
            Some(h) => h,
            None => {
                scratch.hashes.extend(batch.iter().map(|r| key_hash(r.key)));
                &scratch.hashes
            }
        };
        scratch
            .parts
            .extend(hashes.iter().map(|&h| partition_of_hash(h, n)));
        let parts: &[usize] = &scratch.parts;
        if !apply {
            let guards = self.lock_partitions(parts);
            let snapshot = self.snapshot.read().clone();
            check_types(batch, hashes, parts, &guards, snapshot.as_deref())?;
            return Ok(WriteOutcome {
                size: self.size(),
                needs_snapshot: self.needs_snapshot(),
            });
        }
        let mut deadline = None;
        loop {
            let mut guards = self.lock_partitions(parts);
            let snapshot = self.snapshot.read().clone();
            // Optimistic: apply while checking (one map lookup per record), and undo everything
            // if a record conflicts or the batch does not fit. Every partition involved stays
            // locked throughout, so nobody can see the half-applied batch.
            let mut key_bytes = 0;
            let mut applied = 0;
            let mut conflict = None;
            for (i, ((r, &p), &h)) in batch.iter().zip(parts).zip(hashes).enumerate() {
                let handle = handles.as_deref_mut().and_then(|hs| hs.get_mut(i));
                if let Some(map) = guards[p].as_mut() {
                    match apply_record(map, r, h, p, snapshot.as_deref(), handle) {
                        Ok(new_key_bytes) => key_bytes += new_key_bytes,
                        Err(e) => {
                            conflict = Some(e);
                            break;
                        }
                    }
                }
                applied += 1;
            }
            let added = value_bytes + key_bytes;
            let refused = match conflict {
                Some(_) => None,
                None => self.reserve(added).err(),
            };
            if conflict.is_none() && refused.is_none() {
                drop(guards);
                let size = self.size();
                return Ok(WriteOutcome {
                    size,
                    needs_snapshot: size > self.snapshot_threshold,
                });
            }
            undo(&batch[..applied], parts, hashes, &mut guards);
            drop(guards);
            if let Some(e) = conflict {
                return Err(e);
            }
            let would_be = refused.unwrap_or(0);
            let deadline = *deadline.get_or_insert_with(|| Instant::now() + self.limit_wait);
            if self.wait_for_memory(added, deadline) {
                continue;
            }
            return Err(CacheError::MemoryLimit {
                would_be,
                limit: self.max_size.load(Ordering::Acquire),
            });
        }
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

    fn lock_partitions(&self, parts: &[usize]) -> Guards<'_> {
        let mut needed = vec![false; self.partitions.len()];
        for &p in parts {
            needed[p] = true;
        }
        // Ascending order, so two batches can never wait for each other in a cycle.
        needed
            .iter()
            .zip(self.partitions.iter())
            .map(|(&n, p)| n.then(|| p.lock()))
            .collect()
    }

    fn lock_all(&self) -> Vec<MutexGuard<'_, Part>> {
        self.partitions.iter().map(|p| p.lock()).collect()
    }

    /// The values of `key` with `min <= t <= max`, merged from the snapshot and the live cache,
    /// sorted and deduplicated (on equal timestamps the newest write wins, live beats snapshot).
    pub fn read(&self, key: &[u8], min: i64, max: i64) -> Option<ReadValues> {
        let hash = key_hash(key);
        let p = self.partition_of_hash(hash);
        let mut live_map = self.partitions[p].lock();
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
        for key in keys {
            let hash = key_hash(key);
            let p = self.partition_of_hash(hash);
            let mut live = self.partitions[p].lock();
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
        // Sorting happens after the locks are released, so writers are not held up by it.
        sub(&self.snapshot_size, snapshot.dedup_all());
        Ok(snapshot)
    }

    /// Drops a snapshot whose contents are now in TSM files, freeing its memory.
    pub fn commit(&self, snapshot: &Arc<Snapshot>) -> Result<(), CacheError> {
        let mut slot = self.snapshot.write();
        if !slot.as_ref().is_some_and(|s| Arc::ptr_eq(s, snapshot)) {
            return Err(CacheError::UnknownSnapshot);
        }
        *slot = None;
        self.snapshot_size.store(0, Ordering::Release);
        drop(slot);
        self.notify_freed();
        Ok(())
    }

    /// Merges a snapshot that could not be written back into the live cache; values written
    /// since the snapshot stay newer (they win on equal timestamps).
    pub fn rollback(&self, snapshot: &Arc<Snapshot>) -> Result<(), CacheError> {
        let mut guards = self.lock_all();
        let mut slot = self.snapshot.write();
        if !slot.as_ref().is_some_and(|s| Arc::ptr_eq(s, snapshot)) {
            return Err(CacheError::UnknownSnapshot);
        }
        let mut double_counted_keys = 0;
        for (p, live) in guards.iter_mut().enumerate() {
            let taken = snapshot.partition(p).write().take();
            for slot in taken.into_slots() {
                let mut older = slot.entry;
                match live.get_mut(slot.hash, &slot.key) {
                    Some(newer) => {
                        older.append_entry(newer);
                        *newer = older;
                        double_counted_keys += slot.key.len() as u64;
                    }
                    None => {
                        live.insert_new(slot.hash, slot.key, older);
                    }
                }
            }
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

thread_local! {
    /// Per-thread buffers of [`Scratch`], so a write allocates no per-batch vectors once they
    /// have grown.
    static SCRATCH: std::cell::RefCell<(Vec<u64>, Vec<usize>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// A write's per-record hashes and partitions, borrowed from the thread's buffers and given
/// back (emptied) when dropped.
struct Scratch {
    hashes: Vec<u64>,
    parts: Vec<usize>,
}

impl Scratch {
    fn take() -> Scratch {
        let (hashes, parts) = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
        Scratch { hashes, parts }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let mut hashes = std::mem::take(&mut self.hashes);
        let mut parts = std::mem::take(&mut self.parts);
        hashes.clear();
        parts.clear();
        SCRATCH.with(|s| *s.borrow_mut() = (hashes, parts));
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

/// Appends one record if its type matches its key's type (live, else snapshot); returns the size
/// of the key if the record created it. A valid `handle` skips the lookup; the handle is left
/// naming the key's slot.
fn apply_record(
    map: &mut Part,
    r: &Record<'_>,
    hash: u64,
    partition: usize,
    snapshot: Option<&Snapshot>,
    handle: Option<&mut KeyHandle>,
) -> Result<u64, CacheError> {
    if r.values.is_empty() {
        return Ok(0);
    }
    let attempted = r.values.field_type();
    let conflict = |existing| CacheError::FieldTypeConflict {
        key: lossy(r.key),
        existing,
        attempted,
    };
    let epoch = map.epoch();
    let known = handle
        .as_ref()
        .filter(|h| h.epoch == epoch)
        .map(|h| h.slot)
        .filter(|&slot| map.slot_mut(slot, hash).is_some());
    let slot = match known.or_else(|| map.find(hash, r.key)) {
        Some(slot) => slot,
        None => {
            if let Some(t) = snapshot.and_then(|s| s.field_type_in(partition, hash, r.key))
                && t != attempted
            {
                return Err(conflict(t));
            }
            let mut e = Entry::with_room(attempted, map.room().max(r.values.len()));
            e.append(r.timestamps, &r.values);
            let slot = map.insert_new(hash, r.key.into(), e);
            if let Some(h) = handle {
                *h = KeyHandle { epoch, slot };
            }
            return Ok(r.key.len() as u64);
        }
    };
    let Some(e) = map.slot_mut(slot, hash) else {
        debug_assert!(false, "a slot just found is there");
        return Ok(0);
    };
    if e.field_type() != attempted {
        return Err(conflict(e.field_type()));
    }
    e.append(r.timestamps, &r.values);
    if let Some(h) = handle {
        *h = KeyHandle { epoch, slot };
    }
    Ok(0)
}

/// Takes back the records of `applied` (all of which were appended), newest first; a key left
/// without values was created by the batch and is removed.
fn undo(applied: &[Record<'_>], parts: &[usize], hashes: &[u64], guards: &mut Guards<'_>) {
    for (i, r) in applied.iter().enumerate().rev() {
        let Some(map) = guards[parts[i]].as_mut() else {
            continue;
        };
        if r.values.is_empty() {
            continue;
        }
        let emptied = match map.get_mut(hashes[i], r.key) {
            Some(e) => {
                e.truncate_last(r.values.len());
                e.len() == 0
            }
            None => false,
        };
        if emptied {
            map.remove(hashes[i], r.key);
        }
    }
}

/// Checks every record's type against its key's type in the live map, the snapshot or earlier in
/// the batch. Returns the size of the keys the batch would create.
fn check_types(
    batch: &[Record<'_>],
    hashes: &[u64],
    parts: &[usize],
    guards: &Guards<'_>,
    snapshot: Option<&Snapshot>,
) -> Result<u64, CacheError> {
    let mut new_keys: HashMap<&[u8], FieldType, crate::hash::KeyHashBuilder> = HashMap::default();
    let mut key_bytes = 0;
    for ((r, &p), &h) in batch.iter().zip(parts).zip(hashes) {
        if r.values.is_empty() {
            continue;
        }
        let attempted = r.values.field_type();
        let Some(map) = guards[p].as_ref() else {
            continue;
        };
        let existing = match map.get(h, r.key) {
            Some(e) => Some(e.field_type()),
            None => snapshot
                .and_then(|s| s.field_type_in(p, h, r.key))
                .or_else(|| new_keys.get(r.key).copied()),
        };
        match existing {
            Some(t) if t != attempted => {
                return Err(CacheError::FieldTypeConflict {
                    key: lossy(r.key),
                    existing: t,
                    attempted,
                });
            }
            Some(_) => {}
            None => {
                new_keys.insert(r.key, attempted);
                key_bytes += r.key.len() as u64;
            }
        }
    }
    Ok(key_bytes)
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
