//! Writer limits during compaction: a key passing 65,535 blocks continues in the next file, full
//! non-overlapping blocks are copied as bytes, and parallel runs respect the lease set.

mod common;

use common::{model, read_dir, simple, write_spec};
use tsmdb_compactor::{Compactor, CompactorConfig, Error, Plan, PlanKind, scan_dir};
use tsmdb_tsm_file::{FileId, MAX_INDEX_ENTRIES, TsmReader};

#[test]
fn key_over_65535_blocks_continues_in_next_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Two generations of one key, 40,000 one-value blocks each: 80,000 blocks in the output.
    let specs = [
        simple(FileId::new(1, 1), 1, 0, 40_000, 1),
        simple(FileId::new(2, 1), 1, 40_000, 40_000, 1),
    ];
    for s in &specs {
        write_spec(dir.path(), s, 1);
    }
    let compactor = Compactor::new(CompactorConfig {
        max_points_per_block: 1,
        throughput: 0,
        ..CompactorConfig::default()
    });
    let plan = Plan {
        kind: PlanKind::Full,
        files: scan_dir(dir.path(), 1).expect("scan"),
    };
    let report = compactor.compact(&plan).expect("compact");
    assert_eq!(report.outputs.len(), 2);
    let first = TsmReader::open(&report.outputs[0]).expect("open");
    assert_eq!(first.block_count(), MAX_INDEX_ENTRIES as u64);
    // Every block was full and alone: all copied without decoding.
    assert_eq!(report.merge.blocks_copied, 80_000);
    assert_eq!(report.merge.blocks_decoded, 0);
    assert_eq!(read_dir(dir.path()), model(&specs));
}

#[test]
fn held_files_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    for g in 1..=2 {
        write_spec(dir.path(), &simple(FileId::new(g, 1), 2, 0, 10, 1), 10);
    }
    let compactor = Compactor::default();
    let plan = Plan {
        kind: PlanKind::Full,
        files: scan_dir(dir.path(), 10).expect("scan"),
    };
    let lease = compactor
        .in_use()
        .try_acquire(vec![plan.files[1].path.clone()])
        .expect("free");
    assert!(
        compactor
            .in_use_ids(dir.path())
            .contains(&FileId::new(2, 1))
    );
    let err = compactor.compact(&plan).expect_err("in use");
    assert!(matches!(err, Error::InUse { .. }), "{err}");
    drop(lease);
    let results = compactor.run(vec![plan.clone(), plan]);
    // The same plan twice: the second either finds its files held or already gone.
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
}

#[test]
fn cached_descriptors_follow_tombstones_and_removals() {
    let dir = tempfile::tempdir().expect("tempdir");
    for g in 1..=2 {
        write_spec(dir.path(), &simple(FileId::new(g, 1), 2, 0, 10, 1), 10);
    }
    let compactor = Compactor::default();
    let first = compactor.scan_dir(dir.path()).expect("scan");
    assert_eq!(first, scan_dir(dir.path(), 1000).expect("fresh scan"));
    assert!(first.iter().all(|f| !f.has_tombstones));
    TsmReader::open(&first[0].path)
        .expect("open")
        .delete_range(&[b"cpu,host=h0#!~#v"], tsmdb_tsm_file::TimeRange::new(0, 3))
        .expect("delete");
    let second = compactor.scan_dir(dir.path()).expect("scan");
    assert!(second[0].has_tombstones && !second[1].has_tombstones);
    std::fs::remove_file(&first[1].path).expect("rm");
    assert_eq!(compactor.scan_dir(dir.path()).expect("scan").len(), 1);
}
