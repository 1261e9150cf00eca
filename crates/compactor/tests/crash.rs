//! Crash injection: a failpoint stops the compaction at each step of the install protocol, as a
//! crash would; after `cleanup_dir` (what the engine runs at open) the directory holds exactly the
//! old set or exactly the new set, and reads return what they returned before the compaction.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{Spec, ids, model, read_dir, simple, write_spec};
use tsmdb_compactor::{
    Compactor, CompactorConfig, Error, Plan, PlanKind, Step, cleanup_dir, scan_dir,
};
use tsmdb_tsm_file::{FileId, TimeRange, TsmReader};

const BLOCK: usize = 10;

/// Three overlapping generations with tombstones, compacted into two output files.
fn setup(dir: &std::path::Path) -> Vec<Spec> {
    let mut specs = vec![
        simple(FileId::new(1, 1), 6, 0, 100, 10),
        simple(FileId::new(2, 1), 6, 500, 100, 10),
        simple(FileId::new(3, 1), 4, 950, 100, 5),
    ];
    specs[0]
        .deletes
        .push((b"cpu,host=h1#!~#v".to_vec(), 100, 300));
    specs[1]
        .deletes
        .push((b"cpu,host=h2#!~#v".to_vec(), i64::MIN, i64::MAX));
    for s in &specs {
        write_spec(dir, s, BLOCK);
    }
    specs
}

fn compactor(failpoint: Option<tsmdb_compactor::Failpoint>) -> Compactor {
    Compactor::new(CompactorConfig {
        max_points_per_block: BLOCK,
        // Small files, so the output is split and renames happen one by one.
        max_file_size: 4 << 10,
        throughput: 0,
        failpoint,
        ..CompactorConfig::default()
    })
}

fn full_plan(dir: &std::path::Path) -> Plan {
    Plan {
        kind: PlanKind::Full,
        files: scan_dir(dir, BLOCK).expect("scan"),
    }
}

#[test]
fn every_crash_point_leaves_old_or_new_set() {
    // Learn the new set from an uninterrupted run.
    let reference = tempfile::tempdir().expect("tempdir");
    let specs = setup(reference.path());
    let expected = model(&specs);
    let old_ids = ids(reference.path());
    let report = compactor(None)
        .compact(&full_plan(reference.path()))
        .expect("compact");
    let new_ids = ids(reference.path());
    assert!(
        report.outputs.len() >= 2,
        "want a split output, got {report:?}"
    );
    assert_eq!(read_dir(reference.path()), expected);

    let mut steps = vec![Step::Staged, Step::Committed];
    steps.extend((0..report.outputs.len()).map(Step::Renamed));
    steps.push(Step::Installed);
    steps.extend((0..old_ids.len()).map(Step::InputRemoved));
    steps.push(Step::InputsRemoved);

    for step in steps {
        let dir = tempfile::tempdir().expect("tempdir");
        setup(dir.path());
        let fp: tsmdb_compactor::Failpoint = Arc::new(move |s| s == step);
        let err = compactor(Some(fp))
            .compact(&full_plan(dir.path()))
            .expect_err("the failpoint stops it");
        assert!(matches!(err, Error::Injected(s) if s == step), "{err}");

        // "Reopen".
        let cleaned = cleanup_dir(dir.path()).expect("cleanup");
        let now = ids(dir.path());
        let committed = step != Step::Staged;
        assert_eq!(cleaned.rolled_forward, usize::from(committed), "{step:?}");
        assert_eq!(
            &now,
            if committed { &new_ids } else { &old_ids },
            "{step:?}"
        );
        assert_eq!(read_dir(dir.path()), expected, "{step:?}");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names
                .iter()
                .all(|n| n.ends_with(".tsm") || n.ends_with(".tombstone")),
            "{step:?}: {names:?}"
        );
        // Tombstones belong to the old files only.
        let tombstones = names.iter().filter(|n| n.ends_with(".tombstone")).count();
        assert_eq!(tombstones, if committed { 0 } else { 2 }, "{step:?}");
        // A second recovery changes nothing.
        assert_eq!(cleanup_dir(dir.path()).expect("again"), Default::default());
    }
}

#[test]
fn crash_while_writing_leaves_only_temporaries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let specs = setup(dir.path());
    // What a crash in the middle of writing leaves: a partial `.tsm.tmp.tmp`, a spilled index.
    std::fs::write(
        dir.path().join("000000003-000000002.tsm.tmp.tmp"),
        b"\x16\xd1\x16\xd1\x01partial",
    )
    .expect("write");
    std::fs::write(dir.path().join("000000003-000000002.tsm.idx.tmp"), b"index").expect("write");
    std::fs::write(
        dir.path().join("000000003-000000002.tsm.tmp"),
        b"staged, uncommitted",
    )
    .expect("write");
    let report = cleanup_dir(dir.path()).expect("cleanup");
    assert_eq!(report.tmp_removed, 3);
    assert_eq!(report.rolled_forward, 0);
    assert_eq!(read_dir(dir.path()), model(&specs));
}

#[test]
fn damaged_journal_is_reported_and_nothing_is_touched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let specs = setup(dir.path());
    let fp: tsmdb_compactor::Failpoint = Arc::new(|s| s == Step::Committed);
    compactor(Some(fp))
        .compact(&full_plan(dir.path()))
        .expect_err("stopped");
    let journal = std::fs::read_dir(dir.path())
        .expect("ls")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "compaction"))
        .expect("a journal");
    let mut text = std::fs::read(&journal).expect("read");
    text[30] ^= 1;
    std::fs::write(&journal, &text).expect("write");
    let before = ids(dir.path());
    let err = cleanup_dir(dir.path()).expect_err("corrupt journal");
    assert!(matches!(err, Error::CorruptJournal { .. }), "{err}");
    assert!(err.to_string().contains("compaction"), "{err}");
    assert_eq!(ids(dir.path()), before);
    assert_eq!(read_dir(dir.path()), model(&specs));
}

#[test]
fn delete_during_compaction_discards_outputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut specs = setup(dir.path());
    let path = dir.path().join(FileId::new(2, 1).tsm_name());
    let deleted = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&deleted);
    // The "delete" lands after the merge read the inputs, before the install.
    let fp: tsmdb_compactor::Failpoint = Arc::new(move |s| {
        if s == Step::Staged && !flag.swap(true, Ordering::SeqCst) {
            let r = TsmReader::open(&path).expect("open");
            r.delete_range(&[b"cpu,host=h3#!~#v"], TimeRange::new(600, 700))
                .expect("delete");
        }
        false
    });
    let before = ids(dir.path());
    let err = compactor(Some(fp))
        .compact(&full_plan(dir.path()))
        .expect_err("tombstones changed");
    assert!(matches!(err, Error::TombstonesChanged { .. }), "{err}");
    assert!(deleted.load(Ordering::SeqCst));
    assert_eq!(ids(dir.path()), before);
    specs[1]
        .deletes
        .push((b"cpu,host=h3#!~#v".to_vec(), 600, 700));
    let expected = model(&specs);
    assert_eq!(read_dir(dir.path()), expected);
    // Planned again, it succeeds and the deleted values stay deleted.
    compactor(None)
        .compact(&full_plan(dir.path()))
        .expect("retry");
    assert_eq!(read_dir(dir.path()), expected);
    assert!(std::fs::read_dir(dir.path()).expect("ls").all(|e| {
        !e.expect("entry")
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp")
    }));
}
