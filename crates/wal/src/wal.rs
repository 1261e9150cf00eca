//! The WAL itself: durable appends with group commit, segment rotation and removal.
//!
//! Durability protocol: a writer encodes and compresses its entry outside any lock, appends the
//! frame to the pending buffer under the lock and gets a sequence number. If no sync is running it
//! becomes the *leader*: it takes the whole pending buffer (its own entry and everyone else's),
//! writes it at the segment's end with `pwrite`, `fdatasync`s, and wakes every writer whose entry
//! was in it. Writers that arrive meanwhile queue up behind the next leader, so under load one
//! fsync serves many entries. Nothing returns `Ok` before its bytes are on stable storage.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::entry::{
    EncodeError, Entry, EntryKind, encode_delete_payload, encode_delete_range_payload,
    encode_frame_reusing, encode_write_payload,
};
use crate::error::WalError;
use crate::io::{RealStorage, SegmentFile, Storage};
use crate::reader::{
    Damage, EntryPosition, RecoveryPolicy, ScanInput, SegmentScan, read_file, scan_segment_bytes,
};
use crate::record::Record;
use crate::segment::{SegmentInfo, list_segments, list_segments_in, segment_file_name};

/// The default segment size limit: 10 MiB, as in InfluxDB.
pub const DEFAULT_SEGMENT_SIZE: u64 = 10 * 1024 * 1024;

/// How a [`Wal`] behaves.
#[derive(Debug, Clone)]
pub struct WalOptions {
    /// A new segment is started before a write when the current one holds more than this many
    /// bytes (so a segment can exceed it by one entry).
    pub segment_size: u64,
    /// How long a sync leader waits for more writers to join before it syncs. Zero (the default)
    /// syncs at once; a few hundred microseconds trades latency for fewer fsyncs.
    pub fsync_delay: Duration,
    /// What replay does with corruption.
    pub recovery: RecoveryPolicy,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_size: DEFAULT_SEGMENT_SIZE,
            fsync_delay: Duration::ZERO,
            recovery: RecoveryPolicy::Strict,
        }
    }
}

/// What opening a WAL replayed and repaired.
#[derive(Debug, Default)]
pub struct Recovery {
    /// Non-empty segments replayed.
    pub segments: usize,
    /// Entries delivered to the visitor.
    pub entries: u64,
    /// Every damaged range found (torn tails and, with [`RecoveryPolicy::Salvage`], skipped
    /// corruption). Empty after a clean shutdown.
    pub damage: Vec<Damage>,
}

/// Counters since the WAL was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalStats {
    /// Entries written (acknowledged or not yet).
    pub entries: u64,
    /// Frame bytes written.
    pub bytes: u64,
    /// `fdatasync` calls on segments.
    pub syncs: u64,
    /// Segments started.
    pub rolls: u64,
}

/// A write-ahead log directory open for appending. Share it between threads by reference.
#[derive(Debug)]
pub struct Wal {
    storage: Arc<dyn Storage>,
    dir: PathBuf,
    options: WalOptions,
    state: Mutex<State>,
    synced: Condvar,
    /// Serializes segment removals (without blocking writers).
    removing: Mutex<()>,
}

#[derive(Debug)]
struct State {
    segment: u64,
    path: PathBuf,
    file: Arc<dyn SegmentFile>,
    /// Bytes already handed to the file: the offset of the next `pwrite`.
    written: u64,
    /// Bytes of the file known to be on stable storage.
    synced_len: u64,
    /// Frames appended but not yet handed to a sync leader.
    pending: Vec<u8>,
    /// The leader's previous buffer, kept for its capacity.
    spare: Vec<u8>,
    /// Sequence number of the last appended entry.
    appended: u64,
    /// Every entry up to this sequence number is on stable storage.
    durable: u64,
    syncing: bool,
    failed: Option<String>,
    closed: bool,
    closed_segments: Vec<SegmentInfo>,
    stats: WalStats,
}

impl State {
    fn size(&self) -> u64 {
        self.written + self.pending.len() as u64
    }

    fn usable(&self) -> Result<(), WalError> {
        if let Some(why) = &self.failed {
            return Err(WalError::Failed(why.clone()));
        }
        if self.closed {
            return Err(WalError::Closed);
        }
        Ok(())
    }
}

/// Per-thread encode buffers, so the hot path does not allocate once they have grown.
struct EncodeBuffers {
    payload: Vec<u8>,
    frame: Vec<u8>,
    encoder: snap::raw::Encoder,
}

thread_local! {
    static BUFFERS: RefCell<EncodeBuffers> = RefCell::new(EncodeBuffers {
        payload: Vec::new(),
        frame: Vec::new(),
        encoder: snap::raw::Encoder::new(),
    });
}

impl Wal {
    /// Opens (creating if needed) the WAL in `dir`: replays every segment in ID order through
    /// `visit`, cuts off a torn tail (truncate + fsync) and, per `options.recovery`, fails on or
    /// skips corruption. Appends then go to a fresh segment (highest ID + 1), never after a
    /// truncated end.
    pub fn open(
        dir: impl AsRef<Path>,
        options: WalOptions,
        visit: impl FnMut(EntryPosition, &Entry),
    ) -> Result<(Wal, Recovery), WalError> {
        Wal::open_in(Arc::new(RealStorage), dir.as_ref(), options, visit)
    }

    /// [`Wal::open`] on any [`Storage`] (the real file system, or a model of a disk in tests).
    pub(crate) fn open_in(
        storage: Arc<dyn Storage>,
        dir: &Path,
        options: WalOptions,
        mut visit: impl FnMut(EntryPosition, &Entry),
    ) -> Result<(Wal, Recovery), WalError> {
        let dir = dir.to_path_buf();
        let created = storage
            .create_dir_all(&dir)
            .map_err(|e| WalError::io("creating", &dir, e))?;
        if created {
            // The new directory's own entry must survive a crash too.
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(&*storage, parent)?;
            }
        }
        remove_leftover_temp_files(&*storage, &dir)?;
        let segments = list_segments_in(&*storage, &dir)?;
        let last_non_empty = segments.iter().rev().find(|s| s.size > 0).map(|s| s.id);
        let mut recovery = Recovery::default();
        let mut closed = Vec::new();
        let mut empty = Vec::new();
        let mut buf = Vec::new();
        let mut entry = Entry::new();
        for seg in &segments {
            if seg.size == 0 {
                empty.push(seg);
                continue;
            }
            storage
                .read(&seg.path, &mut buf)
                .map_err(|e| WalError::io("reading", &seg.path, e))?;
            let is_last = Some(seg.id) == last_non_empty;
            let input = ScanInput {
                data: &buf,
                path: &seg.path,
                id: seg.id,
                is_last,
            };
            let scan = scan_segment_bytes(
                input,
                options.recovery,
                recovery.entries,
                &mut entry,
                &mut visit,
            );
            if let (RecoveryPolicy::Strict, Some(bad)) = (options.recovery, scan.first_corruption())
            {
                return Err(WalError::Corrupt {
                    segment: bad.segment.clone(),
                    offset: bad.bytes.start,
                    reason: bad.reason.clone(),
                });
            }
            let size = repair(&*storage, &dir, seg, &buf, &scan, is_last)?;
            recovery.segments += 1;
            recovery.entries += scan.entries;
            recovery.damage.extend(scan.damage);
            closed.push(SegmentInfo {
                id: seg.id,
                path: seg.path.clone(),
                size,
            });
        }
        // The new segment is created (and its entry synced) before empty ones are removed, so a
        // crash in between can never leave the directory without its highest ID: IDs only grow.
        let next = segments.last().map_or(1, |s| s.id + 1);
        let (path, file) = create_segment(&*storage, &dir, next)?;
        for seg in &empty {
            storage
                .remove(&seg.path)
                .map_err(|e| WalError::io("removing", &seg.path, e))?;
        }
        if !empty.is_empty() {
            sync_dir(&*storage, &dir)?;
        }
        let wal = Wal {
            storage,
            dir,
            options,
            state: Mutex::new(State {
                segment: next,
                path,
                file,
                written: 0,
                synced_len: 0,
                pending: Vec::new(),
                spare: Vec::new(),
                appended: 0,
                durable: 0,
                syncing: false,
                failed: None,
                closed: false,
                closed_segments: closed,
                stats: WalStats {
                    rolls: 1,
                    ..WalStats::default()
                },
            }),
            synced: Condvar::new(),
            removing: Mutex::new(()),
        };
        Ok((wal, recovery))
    }

    /// The WAL directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes one write entry holding `records` and returns once it is on stable storage.
    pub fn write(&self, records: &[Record<'_>]) -> Result<(), WalError> {
        self.append(EntryKind::Write, |out| encode_write_payload(records, out))
    }

    /// Writes a delete entry (whole keys) and returns once it is on stable storage.
    pub fn delete(&self, keys: &[&[u8]]) -> Result<(), WalError> {
        self.append(EntryKind::Delete, |out| encode_delete_payload(keys, out))
    }

    /// Writes a delete-range entry (`min..=max` of `keys`) and returns once it is durable.
    pub fn delete_range(&self, keys: &[&[u8]], min: i64, max: i64) -> Result<(), WalError> {
        self.append(EntryKind::DeleteRange, |out| {
            encode_delete_range_payload(keys, min, max, out)
        })
    }

    fn append(
        &self,
        kind: EntryKind,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
    ) -> Result<(), WalError> {
        BUFFERS.with(|cell| {
            let mut guard = cell.borrow_mut();
            let bufs = &mut *guard;
            bufs.payload.clear();
            encode(&mut bufs.payload)?;
            let len =
                encode_frame_reusing(kind, &bufs.payload, &mut bufs.encoder, &mut bufs.frame)?;
            self.commit(&bufs.frame[..len])
        })
    }

    fn commit(&self, frame: &[u8]) -> Result<(), WalError> {
        let seq = self.enqueue(frame)?;
        self.wait_durable(seq)
    }

    /// Queues one frame for the next fsync round; returns its ticket.
    fn enqueue(&self, frame: &[u8]) -> Result<u64, WalError> {
        let mut st = self.state.lock();
        st.usable()?;
        if st.size() > self.options.segment_size {
            self.roll_locked(&mut st)?;
        }
        st.pending.extend_from_slice(frame);
        st.appended += 1;
        st.stats.entries += 1;
        st.stats.bytes += frame.len() as u64;
        Ok(st.appended)
    }

    /// Queues a write entry and returns its ticket for [`Wal::wait_durable`] without waiting:
    /// the entry's place in the log is fixed when this returns, so a caller that must order its
    /// entries can let the next writer in while this one's fsync is still running (group
    /// commit then syncs both at once). Nothing is acknowledged until `wait_durable` returns.
    pub fn append_write(&self, records: &[Record<'_>]) -> Result<u64, WalError> {
        BUFFERS.with(|cell| {
            let mut guard = cell.borrow_mut();
            let bufs = &mut *guard;
            bufs.payload.clear();
            encode_write_payload(records, &mut bufs.payload)?;
            let len = encode_frame_reusing(
                EntryKind::Write,
                &bufs.payload,
                &mut bufs.encoder,
                &mut bufs.frame,
            )?;
            self.enqueue(&bufs.frame[..len])
        })
    }

    /// Waits until the entry with ticket `seq` (from [`Wal::append_write`]) is on stable storage,
    /// leading an fsync round if none is running.
    pub fn wait_durable(&self, seq: u64) -> Result<(), WalError> {
        let mut st = self.state.lock();
        loop {
            if st.durable >= seq {
                return Ok(());
            }
            if let Some(why) = &st.failed {
                return Err(WalError::Failed(why.clone()));
            }
            if st.syncing {
                self.synced.wait(&mut st);
            } else {
                self.lead_sync(&mut st);
            }
        }
    }

    /// Writes and syncs everything pending, releasing the lock during the I/O so that other writers
    /// can queue up for the next round.
    fn lead_sync(&self, st: &mut MutexGuard<'_, State>) {
        st.syncing = true;
        if !self.options.fsync_delay.is_zero() {
            let deadline = Instant::now() + self.options.fsync_delay;
            while !self.synced.wait_until(st, deadline).timed_out() {}
        }
        let spare = std::mem::take(&mut st.spare);
        let mut batch = std::mem::replace(&mut st.pending, spare);
        let target = st.appended;
        let offset = st.written;
        let batch_len = batch.len() as u64;
        st.written += batch_len;
        let file = Arc::clone(&st.file);
        let path = st.path.clone();
        let result = MutexGuard::unlocked(st, || {
            file.write_all_at(&batch, offset)
                .and_then(|()| file.sync_data())
                .map_err(|e| WalError::io("writing and syncing", &path, e))
        });
        batch.clear();
        st.spare = batch;
        st.syncing = false;
        st.stats.syncs += 1;
        match result {
            Ok(()) => {
                st.durable = target;
                st.synced_len = st.synced_len.max(offset + batch_len);
                self.synced.notify_all();
            }
            Err(e) => self.poison(st, &e),
        }
    }

    /// Refuses every later write after a failed write or fsync, and wakes the writers waiting on
    /// the failed group so they get the error. A retried fsync is no proof: after a failed
    /// writeback Linux marks the pages clean, so the retry "succeeds" while the data is gone
    /// (PostgreSQL's fsyncgate). The file is also cut back to its last synced byte, so entries that
    /// were never acknowledged (whole, or half written by a failed `pwrite`) are not replayed by
    /// a reopen from the page cache and cannot be followed by good entries. That cut is best
    /// effort: if it fails too, reopening treats what is left as a torn tail.
    fn poison(&self, st: &mut State, err: &WalError) {
        st.failed = Some(err.to_string());
        let _best_effort = st
            .file
            .set_len(st.synced_len)
            .and_then(|()| st.file.sync_data());
        self.synced.notify_all();
    }

    /// Closes the current segment (making everything in it durable) and starts the next one.
    /// Runs under the lock; it happens once per segment, so blocking writers briefly is fine.
    fn roll_locked(&self, st: &mut MutexGuard<'_, State>) -> Result<(), WalError> {
        while st.syncing {
            self.synced.wait(st);
        }
        st.usable()?;
        if !st.pending.is_empty() {
            let offset = st.written;
            let result = st
                .file
                .write_all_at(&st.pending, offset)
                .and_then(|()| st.file.sync_data());
            st.stats.syncs += 1;
            if let Err(e) = result {
                let err = WalError::io("writing and syncing", &st.path, e);
                self.poison(st, &err);
                return Err(err);
            }
            st.written += st.pending.len() as u64;
            st.synced_len = st.written;
            st.pending.clear();
            st.durable = st.appended;
            self.synced.notify_all();
        }
        let next = st.segment + 1;
        let (path, file) = match create_segment(&*self.storage, &self.dir, next) {
            Ok(created) => created,
            Err(e) => {
                // The file may exist without a durable entry; a retry would trip over it. Reopening
                // sorts it out (an empty segment is removed).
                self.poison(st, &e);
                return Err(e);
            }
        };
        let old = SegmentInfo {
            id: st.segment,
            path: std::mem::replace(&mut st.path, path),
            size: st.written,
        };
        st.closed_segments.push(old);
        st.segment = next;
        st.file = file;
        st.written = 0;
        st.synced_len = 0;
        st.stats.rolls += 1;
        Ok(())
    }

    /// Starts a new segment if the current one holds anything, so that everything written so far
    /// is in closed segments (call it when the cache is snapshotted). Returns the ID of the newest
    /// closed segment, if there is one.
    pub fn roll(&self) -> Result<Option<u64>, WalError> {
        let mut st = self.state.lock();
        st.usable()?;
        if st.size() > 0 {
            self.roll_locked(&mut st)?;
        }
        Ok(st.closed_segments.last().map(|s| s.id))
    }

    /// The closed segments (everything but the one being written), oldest first.
    pub fn segments(&self) -> Vec<SegmentInfo> {
        self.state.lock().closed_segments.clone()
    }

    /// The ID of the segment being written.
    pub fn current_segment(&self) -> u64 {
        self.state.lock().segment
    }

    /// Deletes the closed segments with ID ≤ `id` (their data is in TSM files now), oldest first,
    /// syncing the directory after each. The segment being written is never removed. Returns how
    /// many were removed.
    pub fn remove_segments_up_to(&self, id: u64) -> Result<usize, WalError> {
        // One segment at a time, oldest first, each removal made durable before the next: after a
        // power cut the segments left are always a suffix of the log. Were an older segment to
        // survive a newer one's removal, replay would bring back its writes without the later
        // delete that had removed them.
        let _one_at_a_time = self.removing.lock();
        let mut removed = 0;
        loop {
            let seg = match self.state.lock().closed_segments.first() {
                Some(seg) if seg.id <= id => seg.clone(),
                _ => break,
            };
            match self.storage.remove(&seg.path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(WalError::io("removing", &seg.path, e)),
            }
            sync_dir(&*self.storage, &self.dir)?;
            self.state.lock().closed_segments.retain(|s| s.id != seg.id);
            removed += 1;
        }
        Ok(removed)
    }

    /// Counters since open.
    pub fn stats(&self) -> WalStats {
        self.state.lock().stats
    }

    /// Waits for pending syncs and refuses further writes. Every acknowledged write was already
    /// durable; this only makes the shutdown explicit.
    pub fn close(&self) -> Result<(), WalError> {
        let mut st = self.state.lock();
        while st.syncing {
            self.synced.wait(&mut st);
        }
        st.closed = true;
        Ok(())
    }
}

fn sync_dir(storage: &dyn Storage, dir: &Path) -> Result<(), WalError> {
    storage
        .sync_dir(dir)
        .map_err(|e| WalError::io("syncing directory", dir, e))
}

/// Creates segment `id` (failing if it exists) and makes its directory entry durable.
fn create_segment(
    storage: &dyn Storage,
    dir: &Path,
    id: u64,
) -> Result<(PathBuf, Arc<dyn SegmentFile>), WalError> {
    let path = dir.join(segment_file_name(id));
    let file = storage
        .create_new(&path)
        .map_err(|e| WalError::io("creating", &path, e))?;
    sync_dir(storage, dir)?;
    Ok((path, file))
}

/// Writes a whole file under a temporary name, syncs it, renames it into place and syncs the
/// directory: after a crash `path` holds either its old contents or all of `data`.
fn write_file_durably(
    storage: &dyn Storage,
    dir: &Path,
    path: &Path,
    data: &[u8],
) -> Result<(), WalError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let file = storage
        .create(&tmp)
        .map_err(|e| WalError::io("creating", &tmp, e))?;
    file.write_all_at(data, 0)
        .and_then(|()| file.sync_data())
        .map_err(|e| WalError::io("writing", &tmp, e))?;
    storage
        .rename(&tmp, path)
        .map_err(|e| WalError::io("renaming", &tmp, e))?;
    sync_dir(storage, dir)
}

/// Makes a scanned segment hold only its good entries, durably: a torn tail is truncated in place;
/// a salvaged corrupt segment is first saved whole as `<segment>.corrupt`, then rewritten from its
/// good ranges. The last segment is made durable even when nothing was wrong with it: a process
/// that died after writing it may have left unsynced entries, and new entries are about to go
/// into a later segment — if those survived a power cut while these did not, a hole would open in
/// the middle of the log. It is rewritten, not only synced: after a failed fsync (whose cut-back
/// the dying process may not have finished) the kernel can hold pages it marked clean without
/// writing them, a plain fsync would "succeed" without writing them, and this open is about to
/// replay them as if they were durable. Rewriting what was just read dirties every page again.
/// Returns the segment's new size.
fn repair(
    storage: &dyn Storage,
    dir: &Path,
    seg: &SegmentInfo,
    data: &[u8],
    scan: &SegmentScan,
    is_last: bool,
) -> Result<u64, WalError> {
    if scan.first_corruption().is_some() {
        let mut keep = Vec::with_capacity(data.len());
        for r in &scan.good {
            keep.extend_from_slice(&data[r.start as usize..r.end as usize]);
        }
        let mut corrupt = seg.path.clone().into_os_string();
        corrupt.push(".corrupt");
        // The evidence is durable before the original is replaced.
        write_file_durably(storage, dir, Path::new(&corrupt), data)?;
        write_file_durably(storage, dir, &seg.path, &keep)?;
        return Ok(keep.len() as u64);
    }
    if scan.torn_tail_at.is_none() && !is_last {
        return Ok(seg.size);
    }
    // Same handle for truncate and fsync, and nothing is ever appended to this file again.
    let file = storage
        .open_write(&seg.path)
        .map_err(|e| WalError::io("opening", &seg.path, e))?;
    let size = match scan.torn_tail_at {
        Some(at) => {
            file.set_len(at)
                .map_err(|e| WalError::io("truncating", &seg.path, e))?;
            at
        }
        None => seg.size,
    };
    let kept = data.get(..size as usize).unwrap_or(data);
    file.write_all_at(kept, 0)
        .and_then(|()| file.sync_data())
        .map_err(|e| WalError::io("rewriting and syncing", &seg.path, e))?;
    Ok(size)
}

fn remove_leftover_temp_files(storage: &dyn Storage, dir: &Path) -> Result<(), WalError> {
    let names = storage
        .list(dir)
        .map_err(|e| WalError::io("listing", dir, e))?;
    for (name, _) in names {
        if name.ends_with(".wal.tmp") || name.ends_with(".wal.corrupt.tmp") {
            let path = dir.join(name);
            storage
                .remove(&path)
                .map_err(|e| WalError::io("removing", &path, e))?;
        }
    }
    Ok(())
}

/// Reads one segment file without changing it, calling `visit` for each valid entry. Damage is
/// reported in the result, never as an error; `is_last` allows a torn tail.
pub fn read_segment(
    path: &Path,
    is_last: bool,
    policy: RecoveryPolicy,
    mut visit: impl FnMut(EntryPosition, &Entry),
) -> Result<SegmentScan, WalError> {
    let mut buf = Vec::new();
    read_file(path, &mut buf)?;
    let id = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(crate::segment::parse_segment_file_name)
        .unwrap_or(0);
    let input = ScanInput {
        data: &buf,
        path,
        id,
        is_last,
    };
    Ok(scan_segment_bytes(
        input,
        policy,
        0,
        &mut Entry::new(),
        &mut visit,
    ))
}

/// Reads every segment of a WAL directory in ID order without changing anything. With
/// [`RecoveryPolicy::Strict`] each segment's scan stops at its first corruption (reported in
/// [`Recovery::damage`]) and later segments are still read.
pub fn read_dir(
    dir: &Path,
    policy: RecoveryPolicy,
    mut visit: impl FnMut(EntryPosition, &Entry),
) -> Result<Recovery, WalError> {
    let segments = list_segments(dir)?;
    let last_non_empty = segments.iter().rev().find(|s| s.size > 0).map(|s| s.id);
    let mut recovery = Recovery::default();
    let mut buf = Vec::new();
    let mut entry = Entry::new();
    for seg in segments.iter().filter(|s| s.size > 0) {
        read_file(&seg.path, &mut buf)?;
        let input = ScanInput {
            data: &buf,
            path: &seg.path,
            id: seg.id,
            is_last: Some(seg.id) == last_non_empty,
        };
        let scan = scan_segment_bytes(input, policy, recovery.entries, &mut entry, &mut visit);
        recovery.segments += 1;
        recovery.entries += scan.entries;
        recovery.damage.extend(scan.damage);
    }
    Ok(recovery)
}
