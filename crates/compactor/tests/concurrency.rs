//! Reads during compactions see every value exactly once: readers keep their old files (mapped,
//! valid after unlink), and the file set is swapped while deletes are locked out.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::{Spec, model, read_readers, simple, write_spec};
use parking_lot::RwLock;
use tsmdb_compactor::{Compactor, CompactorConfig, Planner, scan_dir};
use tsmdb_tsm_file::{FileId, TsmReader};

#[test]
fn readers_see_each_value_once_while_plans_run_in_parallel() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 16 level-1 generations, overlapping: two level-1 plans that can run at once.
    let specs: Vec<Spec> = (1..=16)
        .map(|g| simple(FileId::new(g, 1), 20, i64::from(g) * 50, 200, 3))
        .collect();
    for s in &specs {
        write_spec(dir.path(), s, 100);
    }
    let expected = model(&specs);
    let open = |p: &std::path::Path| Arc::new(TsmReader::open(p).expect("open"));
    let set: RwLock<Vec<Arc<TsmReader>>> = RwLock::new(
        tsmdb_compactor::tsm_paths(dir.path())
            .expect("ls")
            .iter()
            .map(|(_, p)| open(p))
            .collect(),
    );
    let compactor = Compactor::new(CompactorConfig {
        max_points_per_block: 100,
        max_concurrent: 2,
        throughput: 0,
        ..CompactorConfig::default()
    });
    let files = scan_dir(dir.path(), 100).expect("scan");
    let plans = Planner::default().plan_level(&files, 1, &Default::default());
    assert_eq!(plans.len(), 2);

    let done = AtomicBool::new(false);
    let reads = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                // Keep reading until the compactions are over, and at least a few times.
                while !done.load(Ordering::SeqCst) || reads.load(Ordering::SeqCst) < 4 {
                    let current: Vec<Arc<TsmReader>> = set.read().clone();
                    let readers: Vec<TsmReader> = current
                        .iter()
                        .map(|r| TsmReader::open(r.path()).ok())
                        .collect::<Option<Vec<_>>>()
                        .unwrap_or_default();
                    // Old handles keep working even when their files are gone.
                    let via_handles = read_all(&current);
                    assert_eq!(via_handles, expected);
                    if !readers.is_empty() {
                        assert_eq!(read_readers(&readers), expected);
                    }
                    reads.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        std::thread::scope(|inner| {
            for plan in &plans {
                let set = &set;
                let compactor = &compactor;
                inner.spawn(move || {
                    compactor
                        .compact_with(plan, |report| {
                            // The engine's swap: outputs in, inputs out, in one step.
                            let mut s = set.write();
                            s.retain(|r| !report.inputs.iter().any(|p| p == r.path()));
                            s.extend(report.outputs.iter().map(|p| open(p)));
                            s.sort_by_key(|r| FileId::parse(r.path()).expect("name"));
                        })
                        .expect("compact");
                });
            }
        });
        done.store(true, Ordering::SeqCst);
    });
    assert_eq!(set.read().len(), 2);
    assert_eq!(common::read_dir(dir.path()), expected);
}

/// Reads through shared handles (which may point at unlinked files).
fn read_all(readers: &[Arc<TsmReader>]) -> common::Model {
    let owned: Vec<&TsmReader> = readers.iter().map(|r| r.as_ref()).collect();
    let mut m = common::Model::new();
    let mut values = tsmdb_tsm_file::Values::new();
    for r in owned {
        let keys: Vec<Vec<u8>> = r.keys().map(|k| k.key.to_vec()).collect();
        for key in keys {
            r.read_values(&key, tsmdb_tsm_file::TimeRange::ALL, &mut values)
                .expect("read");
            let tsmdb_encoding::Column::Integer(v) = &values.values else {
                panic!("integers");
            };
            let e = m.entry(key).or_default();
            for (t, x) in values.timestamps.iter().zip(v) {
                e.insert(*t, *x);
            }
        }
    }
    m
}
