//! A failed WAL fsync must cost one write, not the shard: the write whose fsync failed gets an
//! error and leaves nothing behind, the next write reopens the WAL in place and succeeds, reads
//! never notice, and after a reopen of the engine — also after a power cut — every acknowledged
//! point is there and no failed one is. The WAL's segments live on the WAL crate's model of a
//! disk (`SimDisk`), which fails fsyncs the way Linux does (the pages are dropped, a retry
//! "succeeds") and loses everything unsynced at a power cut. The last test breaks a snapshot's
//! TSM write on the real file system and checks that nothing is lost.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tsmdb_encoding::Column;
use tsmdb_engine::{Engine, Error, FieldValue, Options, Point, Select, WalOpener};
use tsmdb_wal::WalError;
use tsmdb_wal::sim::{Faults, Rng, SimDisk};

/// A time in the first shard; `DAY` later is still in it (7-day shards), `8 * DAY` is not.
const T0: i64 = 1_600_000_000_000_000_000;
const DAY: i64 = 86_400_000_000_000;

/// Options that put every shard's WAL on `disk` and retry a failed reopen after `backoff`.
fn on_disk(disk: &SimDisk, backoff: Duration) -> Options {
    let disk = disk.clone();
    let mut opts = Options::default()
        .background(false)
        .wal_reopen_backoff(backoff);
    opts.wal_opener = Some(WalOpener(Arc::new(move |dir, options, visit| {
        disk.open_wal(dir, options, visit)
    })));
    opts
}

fn open(root: &Path, opts: Options) -> Engine {
    let e = Engine::open(root, opts).unwrap();
    e.create_database("db", None).unwrap();
    e
}

fn write(e: &Engine, times: &[i64]) -> Result<(), Error> {
    let points: Vec<Point> = times
        .iter()
        .map(|&t| {
            Point::new("cpu", t)
                .tag("host", "a")
                .field("v", FieldValue::Float(t as f64))
        })
        .collect();
    let summary = e.write_points("db", &points)?;
    assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
    Ok(())
}

/// Every stored time of `cpu`, sorted, with its value checked.
fn times(e: &Engine) -> Vec<i64> {
    let mut out = Vec::new();
    for s in e.select("db", &Select::all("cpu")).unwrap() {
        let Column::Float(values) = &s.values else {
            panic!("float values expected: {:?}", s.values);
        };
        for (t, v) in s.timestamps.iter().zip(values) {
            assert_eq!(*v, *t as f64, "value of {t}");
        }
        out.extend(s.timestamps);
    }
    out.sort_unstable();
    out
}

/// Fails the `n`-th (and further listed) `sync_data` on `disk` from now on.
fn fail_syncs(disk: &SimDisk, syncs: &[u64]) {
    disk.set_faults(Faults {
        fail_syncs: syncs.iter().copied().collect(),
        ..Faults::default()
    });
}

fn is_wal_failure(e: &Error) -> bool {
    matches!(e, Error::Wal(WalError::Failed(_) | WalError::Io { .. }))
}

/// Reopens the engine on `disk` after a power cut that keeps only what was synced (plus a torn
/// random prefix of the rest), and returns the stored times.
fn times_after_power_cut(root: &Path, disk: &SimDisk, seed: u64) -> Vec<i64> {
    disk.power_cut(&mut Rng::new(seed));
    let e = open(root, on_disk(disk, Duration::ZERO));
    times(&e)
}

#[test]
fn a_failed_fsync_fails_one_write_and_the_next_reopens_the_wal() {
    for seed in 0..6 {
        let dir = tempfile::tempdir().unwrap();
        let disk = SimDisk::new();
        let e = open(dir.path(), on_disk(&disk, Duration::ZERO));
        write(&e, &[T0 + 1, T0 + 2]).unwrap();
        write(&e, &[T0 + 3]).unwrap();

        fail_syncs(&disk, &[0]);
        let err = write(&e, &[T0 + 4]).unwrap_err();
        assert!(is_wal_failure(&err), "{err}");
        // Reads are not affected, and the failed point is nowhere.
        assert_eq!(times(&e), [T0 + 1, T0 + 2, T0 + 3]);
        assert_eq!(e.stats().wal_recoveries, 0);

        write(&e, &[T0 + 5]).unwrap();
        write(&e, &[T0 + 6]).unwrap();
        let stats = e.stats();
        assert_eq!(stats.wal_recoveries, 1, "one reopen per failure");
        assert_eq!(stats.wal_reopen_failures, 0);
        let why = stats.last_wal_failure.expect("the failure is recorded");
        assert!(why.contains("shard_"), "names the shard: {why}");
        let acked = [T0 + 1, T0 + 2, T0 + 3, T0 + 5, T0 + 6];
        assert_eq!(times(&e), acked);
        drop(e);

        // A clean reopen replays the WAL: same data, nothing applied twice.
        let e = open(dir.path(), on_disk(&disk, Duration::ZERO));
        assert_eq!(times(&e), acked);
        drop(e);
        assert_eq!(times_after_power_cut(dir.path(), &disk, seed), acked);
    }
}

#[test]
fn a_write_that_runs_out_of_space_half_way_is_cut_off_and_the_next_succeeds() {
    for written in [0, 7, 100] {
        let dir = tempfile::tempdir().unwrap();
        let disk = SimDisk::new();
        let e = open(dir.path(), on_disk(&disk, Duration::ZERO));
        write(&e, &[T0 + 1]).unwrap();
        // The next segment write stops with ENOSPC after `written` bytes of the entry.
        disk.set_faults(Faults {
            fail_write: Some((0, written)),
            ..Faults::default()
        });
        assert!(is_wal_failure(&write(&e, &[T0 + 2, T0 + 3]).unwrap_err()));
        write(&e, &[T0 + 4]).unwrap();
        assert_eq!(e.stats().wal_recoveries, 1);
        assert_eq!(times(&e), [T0 + 1, T0 + 4]);
        drop(e);
        // No half entry in the middle of the log: the reopen replays cleanly.
        let e = open(dir.path(), on_disk(&disk, Duration::ZERO));
        assert!(
            e.open_report()
                .shards
                .iter()
                .all(|s| s.wal_damage.is_empty()),
            "{:?}",
            e.open_report().shards
        );
        assert_eq!(times(&e), [T0 + 1, T0 + 4]);
        drop(e);
        assert_eq!(
            times_after_power_cut(dir.path(), &disk, written as u64),
            [T0 + 1, T0 + 4]
        );
    }
}

#[test]
fn writers_sharing_the_failed_fsync_all_fail_and_later_writers_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let disk = SimDisk::new();
    let e = open(dir.path(), on_disk(&disk, Duration::ZERO));
    write(&e, &[T0]).unwrap();
    // Several fsyncs fail in a row while four threads write: whatever groups form, a write
    // either fails or is durable, and every thread writes again afterwards.
    fail_syncs(&disk, &[0, 2, 3]);
    let outcomes: Vec<Vec<(i64, bool)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4i64)
            .map(|w| {
                let e = &e;
                s.spawn(move || {
                    (0..8i64)
                        .map(|i| {
                            let t = T0 + 1 + w * 100 + i;
                            (t, write(e, &[t]).is_ok())
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut acked: Vec<i64> = std::iter::once(T0)
        .chain(outcomes.iter().flatten().filter(|o| o.1).map(|o| o.0))
        .collect();
    acked.sort_unstable();
    let failed = outcomes.iter().flatten().filter(|o| !o.1).count();
    assert!(failed > 0, "an injected fsync failure failed some write");
    assert!(e.stats().wal_recoveries >= 1);
    assert_eq!(times(&e), acked);
    drop(e);
    assert_eq!(times_after_power_cut(dir.path(), &disk, 7), acked);
}

#[test]
fn a_streamed_write_fails_at_a_failed_fsync_and_what_it_reports_is_what_survives() {
    for failing in [0u64, 3, 6] {
        let dir = tempfile::tempdir().unwrap();
        let disk = SimDisk::new();
        let e = open(dir.path(), on_disk(&disk, Duration::ZERO));
        let lines: String = (0..40)
            .map(|i| format!("cpu,host=a v={} {}\n", (T0 + i) as f64, T0 + i))
            .collect();
        fail_syncs(&disk, &[failing]);
        let mut acked = 0;
        let result = e.write_reader(
            "db",
            lines.as_bytes(),
            tsmdb_lineproto::Precision::Nanosecond,
            2,
            |s| acked += s.points,
        );
        let err = result.unwrap_err();
        assert!(is_wal_failure(&err), "{err}");
        let shown = times(&e);
        // `progress` saw exactly the batches that were stored. They are usually the input's
        // first batches; a batch that was already being logged when the failure happened may
        // also be stored, once the WAL is reopened (it is reported, the call still fails).
        assert_eq!(shown.len() as u64, acked, "{shown:?}");
        assert!(shown.len() < 40, "the failed batch is not stored");
        for pair in shown.chunks(2) {
            assert!(
                pair.len() == 2 && (pair[0] - T0) % 2 == 0 && pair[1] == pair[0] + 1,
                "whole batches only: {shown:?}"
            );
        }
        // A second stream after the failure goes through whole.
        let more: String = (100..110)
            .map(|i| format!("cpu,host=a v={} {}\n", (T0 + i) as f64, T0 + i))
            .collect();
        let summary = e
            .write_reader(
                "db",
                more.as_bytes(),
                tsmdb_lineproto::Precision::Nanosecond,
                3,
                |_| {},
            )
            .unwrap();
        assert_eq!(summary.points, 10);
        let mut expected = shown.clone();
        expected.extend((100..110).map(|i| T0 + i));
        assert_eq!(times(&e), expected);
        drop(e);
        // What reads showed is exactly what the WAL holds: nothing more after a power cut.
        assert_eq!(times_after_power_cut(dir.path(), &disk, failing), expected);
    }
}

#[test]
fn a_failed_reopen_refuses_writes_naming_the_shard_until_one_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let disk = SimDisk::new();
    let e = open(dir.path(), on_disk(&disk, Duration::ZERO));
    write(&e, &[T0 + 1]).unwrap();
    // Sync 0: the write's fsync. Sync 1: the failed WAL cutting its segment back (succeeds).
    // Sync 2: the reopen rewriting the last segment — it fails, so the reopen fails.
    fail_syncs(&disk, &[0, 2]);
    assert!(is_wal_failure(&write(&e, &[T0 + 2]).unwrap_err()));
    let err = write(&e, &[T0 + 3]).unwrap_err();
    match &err {
        Error::WalUnavailable { shard, cause } => {
            assert!(shard.starts_with(dir.path()), "{}", shard.display());
            assert!(cause.contains("reopening it failed"), "{cause}");
        }
        other => panic!("expected WalUnavailable, got {other}"),
    }
    assert_eq!(e.stats().wal_reopen_failures, 1);
    assert_eq!(times(&e), [T0 + 1], "reads still work");
    // No backoff here: the next write tries again, and this reopen works.
    write(&e, &[T0 + 4]).unwrap();
    let stats = e.stats();
    assert_eq!((stats.wal_recoveries, stats.wal_reopen_failures), (1, 1));
    assert_eq!(times(&e), [T0 + 1, T0 + 4]);
    drop(e);
    assert_eq!(
        times_after_power_cut(dir.path(), &disk, 3),
        [T0 + 1, T0 + 4]
    );
}

#[test]
fn after_a_failed_reopen_writes_fail_fast_until_the_backoff_ends() {
    let dir = tempfile::tempdir().unwrap();
    let disk = SimDisk::new();
    let e = open(dir.path(), on_disk(&disk, Duration::from_secs(3600)));
    write(&e, &[T0 + 1]).unwrap();
    fail_syncs(&disk, &[0, 2]);
    assert!(is_wal_failure(&write(&e, &[T0 + 2]).unwrap_err()));
    for t in [T0 + 3, T0 + 4, T0 + 5] {
        let err = write(&e, &[t]).unwrap_err();
        assert!(matches!(err, Error::WalUnavailable { .. }), "{err}");
    }
    // Only the first of those tried to reopen; the others were refused during the backoff.
    assert_eq!(e.stats().wal_reopen_failures, 1);
    assert_eq!(e.stats().wal_recoveries, 0);
    assert_eq!(times(&e), [T0 + 1]);
    drop(e);
    // A restart recovers whatever the backoff said.
    let e = open(dir.path(), on_disk(&disk, Duration::ZERO));
    assert_eq!(times(&e), [T0 + 1]);
    write(&e, &[T0 + 6]).unwrap();
    assert_eq!(times(&e), [T0 + 1, T0 + 6]);
}

#[test]
fn a_batch_over_two_shards_keeps_the_part_whose_fsync_succeeded() {
    let dir = tempfile::tempdir().unwrap();
    let disk = SimDisk::new();
    let e = open(dir.path(), on_disk(&disk, Duration::ZERO));
    let later = T0 + 8 * DAY;
    write(&e, &[T0, later]).unwrap();
    // The batch is logged in both shards, then made durable shard by shard in time order:
    // sync 0 is the first shard's (succeeds), sync 1 the second's (fails).
    fail_syncs(&disk, &[1]);
    let err = write(&e, &[T0 + 1, later + 1]).unwrap_err();
    assert!(is_wal_failure(&err), "{err}");
    // The first shard's part is durable, so it is applied: the cache shows what the WAL will
    // replay. The second shard's part is gone.
    let acked = [T0, T0 + 1, later];
    assert_eq!(times(&e), acked);
    write(&e, &[T0 + 2, later + 2]).unwrap();
    assert_eq!(
        e.stats().wal_recoveries,
        1,
        "only the failed shard reopened"
    );
    let acked = [T0, T0 + 1, T0 + 2, later, later + 2];
    assert_eq!(times(&e), acked);
    drop(e);
    assert_eq!(times_after_power_cut(dir.path(), &disk, 11), acked);
}

#[test]
fn deletes_and_snapshots_after_a_failed_fsync_reopen_the_wal_too() {
    let dir = tempfile::tempdir().unwrap();
    let disk = SimDisk::new();
    let e = open(dir.path(), on_disk(&disk, Duration::ZERO));
    write(&e, &[T0 + 1, T0 + 2, T0 + 3]).unwrap();
    fail_syncs(&disk, &[0]);
    assert!(write(&e, &[T0 + 4]).is_err());
    // A snapshot rolls the WAL: it reopens it first, then writes the cache to a TSM file.
    assert_eq!(e.snapshot_all().unwrap(), 1);
    assert_eq!(e.stats().wal_recoveries, 1);
    fail_syncs(&disk, &[0]);
    assert!(write(&e, &[T0 + 5]).is_err());
    // A delete logs a WAL entry: it reopens the WAL first.
    let all = tsmdb_engine::Expr::all();
    e.delete("db", b"cpu", &all, T0 + 2, T0 + 2).unwrap();
    assert_eq!(e.stats().wal_recoveries, 2);
    write(&e, &[T0 + 6]).unwrap();
    let kept = [T0 + 1, T0 + 3, T0 + 6];
    assert_eq!(times(&e), kept);
    drop(e);
    assert_eq!(times_after_power_cut(dir.path(), &disk, 5), kept);
}

/// The shard directory of `root`'s database `db` (the only one).
fn only_shard(root: &Path) -> PathBuf {
    let mut shards: Vec<PathBuf> = std::fs::read_dir(root.join("db"))
        .unwrap()
        .map(|d| d.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(shards.len(), 1, "{shards:?}");
    shards.pop().unwrap()
}

fn wal_segments(shard: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(shard.join(tsmdb_engine::WAL_DIR))
        .unwrap()
        .map(|d| d.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wal"))
        .collect();
    names.sort();
    names
}

#[test]
fn a_failed_snapshot_write_rolls_the_cache_back_and_keeps_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path(), Options::default().background(false));
    write(&e, &[T0 + 1, T0 + 2]).unwrap();
    write(&e, &[T0 + 3]).unwrap();
    let shard = only_shard(dir.path());
    // A directory where the snapshot's first output is staged makes its creation fail.
    let staged = shard.join(format!(
        "{}.{}.tmp",
        tsmdb_tsm_file::FileId::new(1, 1),
        tsmdb_tsm_file::TSM_EXT
    ));
    std::fs::create_dir(&staged).unwrap();
    let segments = wal_segments(&shard);
    assert!(!segments.is_empty());
    assert!(e.snapshot_all().is_err());
    // Rolled back: the values are still served from the cache, and no segment was removed.
    assert!(e.stats().cache_bytes > 0);
    assert_eq!(e.stats().tsm_files, 0);
    assert_eq!(times(&e), [T0 + 1, T0 + 2, T0 + 3]);
    for s in &segments {
        assert!(wal_segments(&shard).contains(s), "{s} was removed");
    }
    write(&e, &[T0 + 4]).unwrap();
    drop(e);
    // The segments replay everything; the leftover staging directory is cleaned up at open.
    let e = open(dir.path(), Options::default().background(false));
    assert_eq!(times(&e), [T0 + 1, T0 + 2, T0 + 3, T0 + 4]);
    assert!(!staged.exists());
    // Now the snapshot goes through, and the data stays the same.
    assert_eq!(e.snapshot_all().unwrap(), 1);
    assert_eq!(e.stats().tsm_files, 1);
    assert_eq!(times(&e), [T0 + 1, T0 + 2, T0 + 3, T0 + 4]);
}
