//! Runs a WAL against the disk model through generations of steps (concurrent writers, rotations,
//! snapshot removals), each ending in a power cut (losing unsynced data, tearing it at sector
//! boundaries, losing unsynced directory entries) or a process kill, with failed fsyncs and failed
//! writes on the way, and checks every reopen.
//!
//! The rules checked after every reopen:
//! * every acknowledged entry replays, unless a snapshot that started after it covered it;
//! * every entry a previous open replayed replays again (open made it durable);
//! * nothing replays that was never attempted, nothing twice, nothing from a segment whose removal
//!   was acknowledged;
//! * an entry acknowledged before another was attempted replays before it;
//! * damage is only ever a torn tail of the last segment (strict open never fails);
//! * once a write or roll failed, every later one fails with [`WalError::Failed`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tsmdb_encoding::ColumnRef;

use super::{Faults, Rng, SimDisk};
use crate::entry::{Entry, EntryKind};
use crate::error::WalError;
use crate::reader::DamageKind;
use crate::record::Record;
use crate::wal::{Recovery, Wal, WalOptions};

pub(crate) const DIR: &str = "/db/wal";

pub(crate) fn options() -> WalOptions {
    WalOptions {
        segment_size: 1500,
        ..WalOptions::default()
    }
}

/// Entry `id`'s contents: size and values depend on `id`, so a replayed entry proves which write
/// it came from and that it is whole.
pub(crate) fn write_entry(wal: &Wal, id: u64) -> Result<(), WalError> {
    let count = 1 + (id % 23) as usize;
    let timestamps: Vec<i64> = (0..count as i64).map(|i| id as i64 * 1000 + i).collect();
    let values: Vec<i64> = timestamps.iter().map(|t| t.wrapping_mul(3)).collect();
    let key = entry_key(id);
    wal.write(&[Record {
        key: key.as_bytes(),
        timestamps: &timestamps,
        values: ColumnRef::Integer(&values),
    }])
}

pub(crate) fn entry_key(id: u64) -> String {
    format!(
        "m,host=h{},pad={}#!~#f",
        id % 5,
        "x".repeat((id % 61) as usize)
    )
}

/// The ID of a replayed entry, or `None` if it is not exactly what `write_entry` wrote.
pub(crate) fn entry_id(entry: &Entry) -> Option<u64> {
    if entry.kind() != EntryKind::Write || entry.records().len() != 1 {
        return None;
    }
    let r = entry.records().next()?;
    let id = u64::try_from(r.timestamps.first()? / 1000).ok()?;
    let ColumnRef::Integer(values) = r.values else {
        return None;
    };
    let whole = r.key == entry_key(id).as_bytes()
        && r.timestamps.len() == 1 + (id % 23) as usize
        && r.timestamps
            .iter()
            .zip(values)
            .enumerate()
            .all(|(i, (&t, &v))| t == id as i64 * 1000 + i as i64 && v == t.wrapping_mul(3));
    whole.then_some(id)
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt {
    pub(crate) start: u64,
    /// Logical time the write returned `Ok`, or the open that replayed it finished.
    pub(crate) ack: Option<u64>,
    /// Logical time the write returned (either way), or the open that replayed it finished.
    pub(crate) end: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot {
    roll_end: u64,
    newest_closed: u64,
    removed: bool,
}

/// What the "application" knows: every attempt, every snapshot, a logical clock.
#[derive(Debug, Default)]
pub(crate) struct Model {
    pub(crate) clock: AtomicU64,
    pub(crate) next_id: AtomicU64,
    pub(crate) attempts: Mutex<HashMap<u64, Attempt>>,
    pub(crate) snapshots: Mutex<Vec<Snapshot>>,
    /// Logical time the first write or roll of this generation failed.
    pub(crate) failed_at: Mutex<Option<u64>>,
    pub(crate) violations: Mutex<Vec<String>>,
    /// The group-commit delay of the next open.
    pub(crate) fsync_delay: Mutex<Duration>,
}

impl Model {
    pub(crate) fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::SeqCst)
    }

    pub(crate) fn violation(&self, what: String) {
        self.violations.lock().push(what);
    }

    pub(crate) fn failed(&self, at: u64) {
        let mut f = self.failed_at.lock();
        *f = Some(f.map_or(at, |f| f.min(at)));
    }

    /// Checks an operation that started at `start` against an earlier failure.
    pub(crate) fn check_after_failure<T: std::fmt::Debug>(
        &self,
        start: u64,
        result: &Result<T, WalError>,
    ) {
        let Some(failed) = *self.failed_at.lock() else {
            return;
        };
        if start > failed && !matches!(result, Err(WalError::Failed(_))) {
            self.violation(format!(
                "an operation started after a failure returned {result:?}, not WalError::Failed"
            ));
        }
    }

    pub(crate) fn write(&self, wal: &Wal) -> bool {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let start = self.tick();
        self.attempts.lock().insert(
            id,
            Attempt {
                start,
                ack: None,
                end: None,
            },
        );
        let result = write_entry(wal, id);
        let end = self.tick();
        self.check_after_failure(start, &result);
        if let Some(a) = self.attempts.lock().get_mut(&id) {
            a.end = Some(end);
        }
        match result {
            Ok(()) => {
                if let Some(a) = self.attempts.lock().get_mut(&id) {
                    a.ack = Some(end);
                }
                true
            }
            Err(_) => {
                self.failed(end);
                false
            }
        }
    }

    pub(crate) fn snapshot(&self, wal: &Wal) {
        let start = self.tick();
        let rolled = wal.roll();
        let roll_end = self.tick();
        self.check_after_failure(start, &rolled);
        let newest_closed = match rolled {
            Ok(Some(id)) => id,
            Ok(None) => return,
            Err(_) => {
                self.failed(roll_end);
                return;
            }
        };
        let index = {
            let mut snaps = self.snapshots.lock();
            snaps.push(Snapshot {
                roll_end,
                newest_closed,
                removed: false,
            });
            snaps.len() - 1
        };
        // Here the engine would write the snapshot's TSM file; then the segments go.
        if wal.remove_segments_up_to(newest_closed).is_ok() {
            self.snapshots.lock()[index].removed = true;
        }
    }

    /// Checks what an open replayed, then counts every replayed entry as acknowledged: it is in
    /// the cache now, so it must not vanish later.
    pub(crate) fn check_replay(&self, replayed: &[(u64, Option<u64>)], recovery: &Recovery) {
        let open_end = self.tick();
        let mut attempts = self.attempts.lock();
        let snaps = self.snapshots.lock();
        let removed_up_to = snaps
            .iter()
            .filter(|s| s.removed)
            .map(|s| s.newest_closed)
            .max();
        let mut position = HashMap::new();
        for (i, &(segment, id)) in replayed.iter().enumerate() {
            let Some(id) = id else {
                self.violation(format!("replayed entry {i} was never written"));
                continue;
            };
            if !attempts.contains_key(&id) {
                self.violation(format!("replayed entry {id} was never attempted"));
            }
            if position.insert(id, i).is_some() {
                self.violation(format!("entry {id} replayed twice"));
            }
            if removed_up_to.is_some_and(|r| segment <= r) {
                self.violation(format!(
                    "entry {id} replayed from segment {segment}, whose removal was acknowledged"
                ));
            }
        }
        for (&id, a) in attempts.iter() {
            let Some(ack) = a.ack else { continue };
            let covered = snaps.iter().any(|s| a.start < s.roll_end);
            if !covered && !position.contains_key(&id) {
                self.violation(format!("acknowledged entry {id} lost"));
            }
            let Some(&pos_a) = position.get(&id) else {
                continue;
            };
            for (&other, b) in attempts.iter() {
                if ack < b.start && position.get(&other).is_some_and(|&pos_b| pos_b < pos_a) {
                    self.violation(format!(
                        "entry {other} replayed before {id}, which was acknowledged before {other} was written"
                    ));
                }
            }
        }
        // No gaps: once an entry replays, every entry acknowledged after it was written replays
        // too, snapshot or not. (Segments removed out of order could bring back old writes
        // without the later delete that removed them.)
        for (&id, a) in attempts.iter() {
            let Some(end) = a.end.filter(|_| position.contains_key(&id)) else {
                continue;
            };
            for (&later, b) in attempts.iter() {
                if b.ack.is_some() && b.start > end && !position.contains_key(&later) {
                    self.violation(format!(
                        "entry {id} replayed but {later}, acknowledged after it, did not"
                    ));
                }
            }
        }
        for d in &recovery.damage {
            if d.kind != DamageKind::TornTail {
                self.violation(format!("damage that is not a torn tail: {d}"));
            }
        }
        for (_, id) in replayed {
            if let Some(a) = id.and_then(|id| attempts.get_mut(&id)) {
                a.ack.get_or_insert(open_end);
                a.end.get_or_insert(open_end);
            }
        }
    }
}

pub(crate) fn open(disk: &SimDisk, model: &Model) -> Result<Wal, WalError> {
    let mut replayed = Vec::new();
    let (wal, recovery) = Wal::open_in(
        Arc::new(disk.clone()),
        Path::new(DIR),
        WalOptions {
            fsync_delay: *model.fsync_delay.lock(),
            ..options()
        },
        |pos, entry| {
            replayed.push((pos.segment, entry_id(entry)));
        },
    )?;
    model.check_replay(&replayed, &recovery);
    *model.failed_at.lock() = None;
    Ok(wal)
}

/// One step of a generation.
#[derive(Debug, Clone)]
pub enum Step {
    /// `writers` threads write `each` entries; with `snapshot`, a snapshot runs meanwhile.
    Writes {
        /// Concurrent writer threads.
        writers: usize,
        /// Entries per writer.
        each: usize,
        /// Roll and remove the closed segments while the writers run.
        snapshot: bool,
    },
    /// Start a new segment.
    Roll,
    /// Roll, then remove the closed segments (as after writing a snapshot's TSM file).
    Snapshot,
}

/// One process lifetime: open, steps, then a power cut or a kill.
#[derive(Debug, Clone)]
pub struct Generation {
    /// What the process does.
    pub steps: Vec<Step>,
    /// Failures scheduled for this lifetime (counted from its open).
    pub faults: Faults,
    /// Group-commit delay of this generation's WAL.
    pub fsync_delay: Duration,
    /// Ends in a power cut (with this seed for what survives) or, with `None`, in the process
    /// being killed (the page cache survives).
    pub power_cut_seed: Option<u64>,
}

pub(crate) fn run_step(wal: &Wal, model: &Model, step: &Step) {
    match *step {
        Step::Writes {
            writers,
            each,
            snapshot,
        } => std::thread::scope(|s| {
            for _ in 0..writers {
                s.spawn(|| {
                    for _ in 0..each {
                        if !model.write(wal) {
                            break;
                        }
                    }
                });
            }
            if snapshot {
                model.snapshot(wal);
            }
        }),
        Step::Roll => {
            let start = model.tick();
            let result = wal.roll();
            let end = model.tick();
            model.check_after_failure(start, &result);
            if result.is_err() {
                model.failed(end);
            }
        }
        Step::Snapshot => model.snapshot(wal),
    }
}

/// Runs the generations (each ending in a power cut or a kill) and a final open; returns every
/// broken rule (empty: the WAL kept its promises).
pub fn run(generations: &[Generation]) -> Vec<String> {
    let disk = SimDisk::new();
    let model = Model::default();
    for g in generations {
        disk.set_faults(g.faults.clone());
        *model.fsync_delay.lock() = g.fsync_delay;
        let injected = !g.faults.fail_syncs.is_empty() || g.faults.fail_write.is_some();
        match open(&disk, &model) {
            Ok(wal) => {
                for s in &g.steps {
                    run_step(&wal, &model, s);
                }
            }
            // The power went or an injected I/O error hit open itself: the next open must cope.
            Err(WalError::Io { .. }) if disk.is_dead() || injected => {}
            Err(e) => model.violation(format!("open failed: {e}")),
        }
        match g.power_cut_seed {
            Some(seed) => disk.power_cut(&mut Rng::new(seed)),
            None => disk.restart_process(),
        }
    }
    if let Err(e) = open(&disk, &model) {
        model.violation(format!("final open failed: {e}"));
    }
    model.violations.into_inner()
}
