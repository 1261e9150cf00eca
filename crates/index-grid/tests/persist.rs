//! P8/P9/P10: persistence round trips, determinism, the change log, damaged files.

type Owned = (Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>);
type Borrowed<'a> = (&'a [u8], Vec<(&'a [u8], &'a [u8])>);

use tsmdb_index_grid::{Error, Expr, INDEX_FILE, Index, LOG_FILE, Policy, SeriesId};

fn workload(ix: &Index) -> Vec<SeriesId> {
    let mut ids = Vec::new();
    for i in 0..300u32 {
        let host = format!("host{i}");
        let region = format!("r{}", i % 5);
        let dc = format!("d{}", i % 3);
        let t: Vec<(&[u8], &[u8])> = if i % 7 == 0 {
            vec![(b"host", host.as_bytes()), (b"region", region.as_bytes())]
        } else {
            vec![
                (b"dc", dc.as_bytes()),
                (b"host", host.as_bytes()),
                (b"region", region.as_bytes()),
            ]
        };
        let m: &[u8] = if i % 11 == 0 { b"mem" } else { b"cpu" };
        ids.push(ix.insert(m, &t).unwrap().0);
    }
    for id in ids.iter().step_by(13) {
        assert!(ix.delete(*id).unwrap());
    }
    ids
}

fn answers(ix: &Index) -> Vec<Vec<SeriesId>> {
    let qs = [
        Expr::all(),
        Expr::eq("region", "r1"),
        Expr::And(vec![Expr::eq("region", "r2"), Expr::eq("dc", "d1")]),
        Expr::regex("host", "7$").unwrap(),
        Expr::not_exists("dc"),
    ];
    let mut out = Vec::new();
    for m in [&b"cpu"[..], b"mem"] {
        for q in &qs {
            out.push(ix.query(m, q).to_vec());
        }
    }
    out
}

#[test]
fn round_trip_is_byte_identical_and_deterministic() {
    let a = Index::default();
    let ids = workload(&a);
    let b = Index::default();
    assert_eq!(workload(&b), ids, "same inserts, same ids");
    let bytes = a.to_bytes();
    assert_eq!(b.to_bytes(), bytes, "same inserts, same file");
    let back = Index::from_bytes(&bytes).unwrap();
    assert_eq!(back.to_bytes(), bytes);
    assert_eq!(answers(&back), answers(&a));
    for id in &ids {
        assert_eq!(back.tags_of(*id), a.tags_of(*id));
    }
    // deletes survive, and a re-insert gets a new id
    let dead = ids[0];
    assert!(back.tags_of(dead).is_none());
    let (again, _) = back
        .insert(b"mem", &[(b"host", b"host0"), (b"region", b"r0")])
        .unwrap();
    assert!(again > dead && !ids.contains(&again));
}

#[test]
fn rebuild_is_deterministic_whatever_the_input_order() {
    let keys: Vec<Owned> = (0..200)
        .map(|i| {
            (
                b"cpu".to_vec(),
                vec![
                    (b"host".to_vec(), format!("h{i}").into_bytes()),
                    (b"zone".to_vec(), format!("z{}", i % 4).into_bytes()),
                ],
            )
        })
        .collect();
    fn as_refs(v: &[Owned]) -> Vec<Borrowed<'_>> {
        v.iter()
            .map(|(m, t)| {
                (
                    &m[..],
                    t.iter().map(|(k, v)| (&k[..], &v[..])).collect::<Vec<_>>(),
                )
            })
            .collect()
    }
    let a = Index::rebuild(Policy::default(), as_refs(&keys)).unwrap();
    let mut shuffled = keys.clone();
    shuffled.reverse();
    shuffled.extend(keys.iter().take(50).cloned()); // duplicates
    let b = Index::rebuild(Policy::default(), as_refs(&shuffled)).unwrap();
    assert_eq!(a.to_bytes(), b.to_bytes());
    assert_eq!(a.len(), 200);
}

#[test]
fn open_replays_the_log_and_checkpoint_compacts_it() {
    let dir = tempfile::tempdir().unwrap();
    let mem = Index::default();
    let ids = workload(&mem);
    {
        let (ix, rep) = Index::open(dir.path(), Policy::default()).unwrap();
        assert!(!rep.snapshot_loaded);
        assert_eq!(workload(&ix), ids);
        ix.sync().unwrap();
    }
    let (ix, rep) = Index::open(dir.path(), Policy::default()).unwrap();
    assert!(rep.log_records > 300);
    assert_eq!(
        ix.to_bytes(),
        mem.to_bytes(),
        "replay rebuilds identical state"
    );
    ix.checkpoint().unwrap();
    let (extra, _) = ix.insert(b"cpu", &[(b"host", b"new")]).unwrap();
    ix.sync().unwrap();
    drop(ix);
    let (ix, rep) = Index::open(dir.path(), Policy::default()).unwrap();
    assert!(rep.snapshot_loaded);
    assert_eq!(rep.log_records, 1);
    assert_eq!(
        ix.lookup(b"cpu", &[(b"host", b"new")]).unwrap(),
        Some(extra)
    );
    assert_eq!(
        answers(&ix),
        answers(&mem)
            .iter()
            .zip(answers(&ix))
            .map(|(_, b)| b)
            .collect::<Vec<_>>()
    );
}

#[test]
fn torn_log_tail_is_reported_and_cut() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (ix, _) = Index::open(dir.path(), Policy::default()).unwrap();
        workload(&ix);
        ix.sync().unwrap();
    }
    let log = dir.path().join(LOG_FILE);
    let len = std::fs::metadata(&log).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&log).unwrap();
    f.set_len(len - 3).unwrap();
    drop(f);
    let (ix, rep) = Index::open(dir.path(), Policy::default()).unwrap();
    assert!(rep.torn_tail.is_some());
    assert!(!ix.is_empty());
    // a flipped byte in the middle of the log is corruption, not a torn tail
    ix.sync().unwrap();
    drop(ix);
    let mut bytes = std::fs::read(&log).unwrap();
    bytes[40] ^= 0x55;
    std::fs::write(&log, &bytes).unwrap();
    match Index::open(dir.path(), Policy::default()) {
        Err(Error::Corrupt { file, .. }) => assert!(file.ends_with(LOG_FILE)),
        other => panic!("expected corruption, got {:?}", other.map(|r| r.1)),
    }
}

#[test]
fn damaged_length_early_in_the_log_is_corruption_not_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (ix, _) = Index::open(dir.path(), Policy::default()).unwrap();
        workload(&ix);
        ix.sync().unwrap();
    }
    let log = dir.path().join(LOG_FILE);
    let mut bytes = std::fs::read(&log).unwrap();
    assert!(
        bytes.len() > 4096,
        "the workload must leave many records after the damage"
    );
    // The first record starts after the 16-byte header: its length field (bytes 17..21) now
    // claims more than the file holds, which alone looks like an incomplete last record.
    bytes[17..21].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&log, &bytes).unwrap();
    match Index::open(dir.path(), Policy::default()) {
        Err(Error::Corrupt { file, offset, .. }) => {
            assert!(file.ends_with(LOG_FILE));
            assert_eq!(offset, 16);
        }
        other => panic!("expected corruption, got {:?}", other.map(|r| r.1)),
    }
}

#[test]
fn damaged_snapshots_are_errors_never_panics() {
    let ix = Index::default();
    workload(&ix);
    let good = ix.to_bytes();
    let want = answers(&ix);
    for cut in 0..good.len() {
        assert!(
            Index::from_bytes(&good[..cut]).is_err(),
            "truncated at {cut}"
        );
    }
    let mut flipped = 0;
    for pos in (0..good.len()).step_by(3) {
        let mut bad = good.clone();
        bad[pos] ^= 1 << (pos % 8);
        match Index::from_bytes(&bad) {
            Err(Error::Corrupt { offset, .. }) => {
                assert!(offset <= good.len() as u64);
                flipped += 1;
            }
            Err(Error::UnsupportedVersion { .. }) => flipped += 1,
            Err(e) => panic!("unexpected error {e}"),
            Ok(back) => assert_eq!(
                answers(&back),
                want,
                "undetected flip at {pos} changed data"
            ),
        }
    }
    assert!(flipped > 0);
    let mut v4 = good.clone();
    v4[8] = 4;
    assert!(matches!(
        Index::from_bytes(&v4),
        Err(Error::UnsupportedVersion { version: 4, .. })
    ));
    assert!(Index::from_bytes(&[]).is_err());
}

#[test]
fn corrupt_file_on_disk_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let ix = Index::default();
    workload(&ix);
    ix.save_to(dir.path()).unwrap();
    let path = dir.path().join(INDEX_FILE);
    let mut b = std::fs::read(&path).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0xff;
    std::fs::write(&path, &b).unwrap();
    let err = Index::open(dir.path(), Policy::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(INDEX_FILE) && msg.contains("offset"), "{msg}");
}

/// Small images (one per policy) round-trip; with `TSMDB_WRITE_FUZZ_SEEDS=DIR` they are also
/// written there as fuzz seeds.
#[test]
fn small_images_round_trip_and_seed_the_fuzzers() {
    let small = Index::default();
    for i in 0..6u32 {
        let h = format!("h{i}");
        let z = format!("z{}", i % 2);
        small
            .insert(b"m", &[(b"host", h.as_bytes()), (b"zone", z.as_bytes())])
            .unwrap();
    }
    assert!(small.delete(SeriesId(2)).unwrap());
    let compat = Index::new(Policy::Multiplier(tsmdb_index_grid::MultiplierPolicy::new(
        2, 2,
    )));
    for i in 0..5u32 {
        let v = i.to_string();
        compat
            .insert(b"m", &[(b"a", v.as_bytes()), (b"b", v.as_bytes())])
            .unwrap();
    }
    // key sets sharing a segment: absent keys, a key joining the union, a deleted series
    let mixed = Index::default();
    let sets: [&[(&[u8], &[u8])]; 5] = [
        &[(b"a", b"1")],
        &[(b"a", b"2"), (b"b", b"1")],
        &[(b"b", b"1")],
        &[(b"a", b"1"), (b"c", b"3")],
        &[(b"c", b"3")],
    ];
    for t in sets {
        mixed.insert(b"m", t).unwrap();
    }
    let (gone, _) = mixed.insert(b"m", &[(b"b", b"2")]).unwrap();
    assert!(mixed.delete(gone).unwrap());
    for (name, ix) in [
        ("adaptive_v3", &small),
        ("compat_v3", &compat),
        ("shared_v3", &mixed),
    ] {
        let bytes = ix.to_bytes();
        let back = Index::from_bytes(&bytes).unwrap();
        assert_eq!(back.to_bytes(), bytes);
        assert_eq!(back.series(b"m"), ix.series(b"m"));
        if let Ok(dir) = std::env::var("TSMDB_WRITE_FUZZ_SEEDS") {
            std::fs::write(format!("{dir}/{name}"), &bytes).unwrap();
        }
    }
}

/// Recomputes section CRCs, trailer and file CRC of a framed image, as the fuzz target does.
fn fix_checksums(data: &[u8]) -> Vec<u8> {
    let mut out = data[..data.len() - 24].to_vec();
    let mut pos = 16;
    let mut sections = 0u32;
    while pos < out.len() {
        let len = u64::from_le_bytes(out[pos + 1..pos + 9].try_into().unwrap()) as usize;
        let end = pos + 9 + len;
        let crc = crc32fast::hash(&out[pos..end]);
        out[end..end + 4].copy_from_slice(&crc.to_le_bytes());
        pos = end + 4;
        sections += 1;
    }
    let crc = crc32fast::hash(&out);
    let total = (out.len() + 24) as u64;
    out.extend_from_slice(&sections.to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(b"GRDEND01");
    out
}

/// Fuzz findings: files whose checksums are right but whose encoding is not the canonical one
/// (a roaring bitmap with altered container offsets, which the roaring reader ignores; a
/// non-minimal varint). They must be rejected, since they would not rewrite byte for byte.
#[test]
fn non_canonical_encodings_are_rejected() {
    let files: [&[u8]; 2] = [
        include_bytes!("regressions/bitmap_offsets_ignored.bin"),
        include_bytes!("regressions/non_minimal_varint.bin"),
    ];
    // a third finding: the same series live in two grids (lookups would disagree with tags_of)
    match Index::from_bytes(&fix_checksums(include_bytes!(
        "regressions/duplicate_series.bin"
    ))) {
        Err(Error::Corrupt { reason, .. }) => assert!(reason.contains("twice"), "{reason}"),
        Err(e) => panic!("unexpected {e}"),
        Ok(_) => panic!("duplicate series accepted"),
    }
    for data in files {
        let out = fix_checksums(data);
        match Index::from_bytes(&out) {
            Err(Error::Corrupt { reason, .. }) => {
                assert!(reason.contains("non-canonical"), "{reason}")
            }
            Err(e) => panic!("unexpected {e}"),
            Ok(ix) => panic!("accepted; rewrites identically: {}", ix.to_bytes() == out),
        }
    }
}

/// Live sets switch to run containers as they grow (re-chosen at each doubling): an index
/// saved half way, reloaded and continued must hold the same containers, and write the same
/// bytes, as one built in one go; and the runs must make a dense workload's file small.
#[test]
fn reloaded_and_continued_index_writes_the_bytes_of_a_straight_build() {
    let series: Vec<Vec<(Vec<u8>, Vec<u8>)>> = (0..5000u32)
        .map(|i| {
            vec![
                (b"a".to_vec(), (i / 1000).to_string().into_bytes()),
                (b"b".to_vec(), (i / 100 % 10).to_string().into_bytes()),
                (b"c".to_vec(), (i / 10 % 10).to_string().into_bytes()),
                (b"d".to_vec(), (i % 10).to_string().into_bytes()),
            ]
        })
        .collect();
    let insert = |ix: &Index, s: &[Vec<(Vec<u8>, Vec<u8>)>]| {
        for t in s {
            let b: Vec<(&[u8], &[u8])> = t.iter().map(|(k, v)| (&k[..], &v[..])).collect();
            ix.insert(b"m", &b).unwrap();
        }
    };
    let straight = Index::default();
    insert(&straight, &series);
    for half in [1000, 2048, 2500] {
        let first = Index::default();
        insert(&first, &series[..half]);
        let resumed = Index::from_bytes(&first.to_bytes()).unwrap();
        insert(&resumed, &series[half..]);
        assert_eq!(
            resumed.to_bytes(),
            straight.to_bytes(),
            "saved after {half}"
        );
    }
    // 5000 series at 2 bytes each would be 10,000 bytes of live sets alone
    assert!(
        straight.to_bytes().len() < 4000,
        "{}",
        straight.to_bytes().len()
    );
}
