//! Replay and recovery: reopening, rotation, torn tails at every byte offset, flipped bytes,
//! strict and salvage policies, and the hole-after-truncate scenario InfluxDB gets wrong.

use std::fs;
use std::path::Path;

use tsmdb_wal::{
    ColumnRef, DamageKind, Entry, EntryKind, Record, RecoveryPolicy, Wal, WalError, WalOptions,
    read_segment, segment_file_name,
};

/// A distinct, recognisable entry for number `n`: values depend on `n`, sizes vary.
fn write_entry(wal: &Wal, n: i64) {
    let count = 1 + (n % 9) as usize;
    let timestamps: Vec<i64> = (0..count as i64).map(|i| n * 100 + i).collect();
    let values: Vec<i64> = timestamps.iter().map(|t| t * 7).collect();
    let key = format!("m,t={}#!~#f", n % 4);
    wal.write(&[Record {
        key: key.as_bytes(),
        timestamps: &timestamps,
        values: ColumnRef::Integer(&values),
    }])
    .unwrap();
}

/// The entry number of a replayed entry, checking its contents match what `write_entry` wrote.
fn entry_number(entry: &Entry) -> i64 {
    assert_eq!(entry.kind(), EntryKind::Write);
    let r = entry.records().next().unwrap();
    let n = r.timestamps[0] / 100;
    assert_eq!(r.key, format!("m,t={}#!~#f", n % 4).as_bytes());
    assert_eq!(r.timestamps.len(), 1 + (n % 9) as usize);
    let ColumnRef::Integer(v) = r.values else {
        panic!("wrong type")
    };
    for (i, (&t, &x)) in r.timestamps.iter().zip(v).enumerate() {
        assert_eq!(t, n * 100 + i as i64);
        assert_eq!(x, t * 7);
    }
    n
}

fn open(dir: &Path, options: WalOptions) -> Result<(Wal, Vec<i64>, tsmdb_wal::Recovery), WalError> {
    let mut seen = Vec::new();
    let (wal, rec) = Wal::open(dir, options, |_, e| seen.push(entry_number(e)))?;
    Ok((wal, seen, rec))
}

fn small_segments() -> WalOptions {
    WalOptions {
        segment_size: 300,
        ..WalOptions::default()
    }
}

#[test]
fn reopen_replays_everything_in_order_across_rotated_segments() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, seen, _) = open(dir.path(), small_segments()).unwrap();
    assert!(seen.is_empty());
    for n in 0..40 {
        write_entry(&wal, n);
    }
    wal.delete_range(&[b"m,t=1#!~#f", b"other"], -5, 5).unwrap();
    wal.delete(&[b"m,t=2#!~#f"]).unwrap();
    let closed = wal.segments();
    assert!(closed.len() > 3, "segments were not rotated: {closed:?}");
    // A segment exceeds the limit by at most one entry.
    assert!(closed.iter().all(|s| s.size <= 300 + 200), "{closed:?}");
    drop(wal);

    let mut kinds = Vec::new();
    let mut numbers = Vec::new();
    let (wal, rec) = Wal::open(dir.path(), small_segments(), |pos, e| {
        assert_eq!(pos.index as usize, kinds.len());
        kinds.push(e.kind());
        match e.kind() {
            EntryKind::Write => numbers.push(entry_number(e)),
            EntryKind::DeleteRange => {
                assert_eq!(e.time_range(), Some((-5, 5)));
                assert_eq!(e.keys().collect::<Vec<_>>(), [&b"m,t=1#!~#f"[..], b"other"]);
            }
            EntryKind::Delete => assert_eq!(e.keys().collect::<Vec<_>>(), [&b"m,t=2#!~#f"[..]]),
        }
    })
    .unwrap();
    assert!(rec.damage.is_empty());
    assert_eq!(numbers, (0..40).collect::<Vec<_>>());
    assert_eq!(kinds[40..], [EntryKind::DeleteRange, EntryKind::Delete]);
    // Appends go to a fresh segment after the highest ID.
    let max_id = wal.segments().last().unwrap().id;
    assert_eq!(wal.current_segment(), max_id + 1);
}

#[test]
fn roll_and_remove_segments_made_redundant_by_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _, _) = open(dir.path(), WalOptions::default()).unwrap();
    write_entry(&wal, 1);
    let upto = wal.roll().unwrap().unwrap();
    write_entry(&wal, 2);
    assert_eq!(wal.segments().len(), 1);
    // Rolling an empty segment does nothing.
    assert_eq!(wal.roll().unwrap(), Some(upto + 1));
    assert_eq!(wal.roll().unwrap(), Some(upto + 1));
    assert_eq!(wal.remove_segments_up_to(upto).unwrap(), 1);
    assert!(!dir.path().join(segment_file_name(upto)).exists());
    drop(wal);
    let (_wal, seen, _) = open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(seen, [2]);
}

#[test]
fn torn_tail_is_cut_before_new_writes_so_a_second_crash_loses_nothing() {
    // InfluxDB's bug: after truncating a torn tail it appended at the old end, leaving a hole
    // that made the next replay stop early.
    let dir = tempfile::tempdir().unwrap();
    let (wal, _, _) = open(dir.path(), WalOptions::default()).unwrap();
    for n in 0..5 {
        write_entry(&wal, n);
    }
    let seg = dir.path().join(segment_file_name(wal.current_segment()));
    drop(wal);
    let good_len = fs::metadata(&seg).unwrap().len();
    let mut bytes = fs::read(&seg).unwrap();
    bytes.extend_from_within(..20); // half an entry: a torn write
    fs::write(&seg, &bytes).unwrap();

    let (wal, seen, rec) = open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(seen, [0, 1, 2, 3, 4]);
    assert_eq!(rec.damage.len(), 1);
    assert_eq!(rec.damage[0].kind, DamageKind::TornTail);
    assert_eq!(rec.damage[0].bytes.start, good_len);
    assert_eq!(fs::metadata(&seg).unwrap().len(), good_len);
    for n in 5..8 {
        write_entry(&wal, n);
    }
    drop(wal); // every acknowledged write is already durable: this is a crash as far as data goes

    let (_wal, seen, rec) = open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(seen, (0..8).collect::<Vec<_>>());
    assert!(rec.damage.is_empty());
}

/// A segment of several entries and the offset where each entry ends.
fn sample_segment() -> (Vec<u8>, Vec<u64>) {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _, _) = open(dir.path(), WalOptions::default()).unwrap();
    let mut ends = Vec::new();
    let seg = dir.path().join(segment_file_name(wal.current_segment()));
    for n in 0..12 {
        write_entry(&wal, n);
        ends.push(fs::metadata(&seg).unwrap().len());
    }
    (fs::read(&seg).unwrap(), ends)
}

#[test]
fn truncation_at_every_offset_keeps_every_whole_entry_and_reports_the_cut() {
    let (bytes, ends) = sample_segment();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(segment_file_name(1));
    for cut in 0..=bytes.len() {
        fs::write(&path, &bytes[..cut]).unwrap();
        let whole = ends.iter().filter(|&&e| e <= cut as u64).count();
        let boundary = if whole == 0 { 0 } else { ends[whole - 1] };
        let mut seen = Vec::new();
        let scan = read_segment(&path, true, RecoveryPolicy::Strict, |_, e| {
            seen.push(entry_number(e))
        })
        .unwrap();
        assert_eq!(seen, (0..whole as i64).collect::<Vec<_>>(), "cut at {cut}");
        if boundary == cut as u64 {
            assert!(scan.damage.is_empty(), "cut at {cut}: {:?}", scan.damage);
        } else {
            assert_eq!(scan.torn_tail_at, Some(boundary), "cut at {cut}");
            assert_eq!(scan.damage[0].bytes, boundary..cut as u64);
        }
        // In a segment that is not the last, the same cut is corruption, not a torn tail.
        if boundary != cut as u64 {
            let scan = read_segment(&path, false, RecoveryPolicy::Strict, |_, _| {}).unwrap();
            assert_eq!(scan.first_corruption().unwrap().bytes.start, boundary);
        }
    }
}

#[test]
fn open_after_truncation_repairs_the_segment_and_keeps_appending() {
    let (bytes, ends) = sample_segment();
    for cut in (0..=bytes.len()).step_by(41) {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(segment_file_name(1)), &bytes[..cut]).unwrap();
        let whole = ends.iter().filter(|&&e| e <= cut as u64).count() as i64;
        let (wal, seen, _) = open(dir.path(), WalOptions::default()).unwrap();
        assert_eq!(seen, (0..whole).collect::<Vec<_>>(), "cut at {cut}");
        write_entry(&wal, 100);
        drop(wal);
        let (_wal, seen, rec) = open(dir.path(), WalOptions::default()).unwrap();
        let mut want: Vec<i64> = (0..whole).collect();
        want.push(100);
        assert_eq!(seen, want, "cut at {cut}");
        assert!(rec.damage.is_empty(), "cut at {cut}: {:?}", rec.damage);
    }
}

#[test]
fn flipped_bytes_never_lose_earlier_entries_and_damage_is_located() {
    let (bytes, ends) = sample_segment();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(segment_file_name(1));
    for pos in 0..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[pos] ^= 0xff;
        fs::write(&path, &damaged).unwrap();
        let hit = ends.iter().filter(|&&e| e <= pos as u64).count();
        let hit_start = if hit == 0 { 0 } else { ends[hit - 1] };
        for is_last in [true, false] {
            let mut numbers = Vec::new();
            let mut entry_offsets = Vec::new();
            let scan = read_segment(&path, is_last, RecoveryPolicy::Strict, |p, e| {
                entry_offsets.push(p.offset);
                // Entries before the flipped byte must replay unchanged; the hit entry may
                // still decode (the format has no checksum), so only its position is checked.
                if (p.offset as usize) < hit_start as usize {
                    numbers.push(entry_number(e));
                }
            })
            .unwrap();
            assert_eq!(
                numbers,
                (0..hit as i64).collect::<Vec<_>>(),
                "flip at {pos}"
            );
            if let Some(d) = scan.damage.first() {
                assert!(d.bytes.start >= hit_start, "flip at {pos}: {d:?}");
                assert!(
                    d.to_string()
                        .contains(&format!("at offset {}", d.bytes.start))
                );
                if !is_last {
                    assert_eq!(d.kind, DamageKind::Corrupt);
                }
            }
        }
    }
}

#[test]
fn strict_open_fails_on_mid_segment_corruption_naming_segment_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _, _) = open(dir.path(), WalOptions::default()).unwrap();
    for n in 0..4 {
        write_entry(&wal, n);
    }
    let seg = dir.path().join(segment_file_name(wal.current_segment()));
    drop(wal);
    let mut bytes = fs::read(&seg).unwrap();
    let first_len = 5 + u32::from_be_bytes(bytes[1..5].try_into().unwrap()) as usize;
    bytes[first_len] = 0x77; // second entry's type byte
    fs::write(&seg, &bytes).unwrap();

    let err = open(dir.path(), WalOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "wal: corrupt entry in {} at offset {first_len}: unknown wal entry type: 119",
            seg.display()
        )),
        "{msg}"
    );
    // Nothing was changed by the failed open.
    assert_eq!(fs::read(&seg).unwrap(), bytes);

    let salvage = WalOptions {
        recovery: RecoveryPolicy::Salvage,
        ..WalOptions::default()
    };
    let (wal, seen, rec) = open(dir.path(), salvage).unwrap();
    assert_eq!(seen, [0, 2, 3]);
    assert_eq!(rec.damage.len(), 1);
    assert_eq!(rec.damage[0].kind, DamageKind::Corrupt);
    assert_eq!(rec.damage[0].bytes.start, first_len as u64);
    let mut corrupt = seg.clone().into_os_string();
    corrupt.push(".corrupt");
    assert_eq!(fs::read(&corrupt).unwrap(), bytes);
    write_entry(&wal, 9);
    drop(wal);
    // The segment was rewritten with its good entries: strict replay is clean now.
    let (_wal, seen, rec) = open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(seen, [0, 2, 3, 9]);
    assert!(rec.damage.is_empty());
}

#[test]
fn concurrent_writers_share_fsyncs_and_all_entries_replay() {
    concurrent_writers(std::time::Duration::ZERO);
}

#[test]
fn concurrent_writers_with_an_fsync_delay_replay_everything() {
    concurrent_writers(std::time::Duration::from_micros(300));
}

fn concurrent_writers(fsync_delay: std::time::Duration) {
    let dir = tempfile::tempdir().unwrap();
    let options = WalOptions {
        segment_size: 4096,
        fsync_delay,
        ..WalOptions::default()
    };
    let (wal, _, _) = open(dir.path(), options.clone()).unwrap();
    let threads = 8;
    let per_thread = 40;
    std::thread::scope(|s| {
        for t in 0..threads {
            let wal = &wal;
            s.spawn(move || {
                for i in 0..per_thread {
                    write_entry(wal, (t * per_thread + i) as i64);
                }
            });
        }
    });
    let stats = wal.stats();
    assert_eq!(stats.entries, (threads * per_thread) as u64);
    assert!(stats.syncs <= stats.entries + stats.rolls);
    drop(wal);
    let (_wal, mut seen, rec) = open(dir.path(), options).unwrap();
    assert!(rec.damage.is_empty());
    seen.sort_unstable();
    assert_eq!(seen, (0..(threads * per_thread) as i64).collect::<Vec<_>>());
}

#[test]
fn closed_wal_refuses_writes_and_empty_segments_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _, _) = open(dir.path(), WalOptions::default()).unwrap();
    wal.close().unwrap();
    let err = wal
        .write(&[Record {
            key: b"k",
            timestamps: &[1],
            values: ColumnRef::Boolean(&[true]),
        }])
        .unwrap_err();
    assert!(matches!(err, WalError::Closed));
    drop(wal);
    // Reopening twice without writes leaves one (empty, current) segment, not a growing pile.
    let (wal, _, _) = open(dir.path(), WalOptions::default()).unwrap();
    drop(wal);
    let (wal, _, _) = open(dir.path(), WalOptions::default()).unwrap();
    assert!(wal.segments().is_empty());
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}
