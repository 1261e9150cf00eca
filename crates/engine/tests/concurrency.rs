//! Writers, readers, snapshots and compactions at once: readers always see sorted, unique,
//! correctly written values, and at the end every value is there exactly once.

use std::sync::atomic::{AtomicBool, Ordering};

use tsmdb_encoding::Column;
use tsmdb_engine::{Engine, Options, Select};
use tsmdb_lineproto::Precision;

const WRITERS: i64 = 3;
const BATCHES: i64 = 60;
const LINES: i64 = 25;

#[test]
fn writers_readers_snapshots_and_compactions_together() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options::default()
        .background(false)
        .max_points_per_block(16);
    let engine = Engine::open(dir.path(), options).unwrap();
    engine.create_database("db", None).unwrap();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let engine = &engine;
                s.spawn(move || {
                    for b in 0..BATCHES {
                        // Each writer owns one series; value = time, so any reader can check it.
                        let lp: String = (0..LINES)
                            .map(|i| {
                                let t = b * LINES + i;
                                format!("m,writer=w{w} v={t}i {t}\n")
                            })
                            .collect();
                        let summary = engine
                            .write_lp("db", lp.as_bytes(), Precision::Nanosecond)
                            .unwrap();
                        assert!(summary.is_complete());
                    }
                })
            })
            .collect();
        let maintenance = s.spawn(|| {
            let mut rounds = 0;
            while !done.load(Ordering::Acquire) || rounds < 3 {
                engine.snapshot_all().unwrap();
                engine.compact_all(rounds % 2 == 1).unwrap();
                rounds += 1;
            }
        });
        let reader = s.spawn(|| {
            let mut reads = 0;
            while !done.load(Ordering::Acquire) || reads < 3 {
                for series in engine.select("db", &Select::all("m")).unwrap() {
                    let Column::Integer(values) = &series.values else {
                        panic!("type")
                    };
                    assert!(
                        series.timestamps.windows(2).all(|w| w[0] < w[1]),
                        "unsorted or duplicated times"
                    );
                    assert_eq!(
                        &series.timestamps, values,
                        "a value was read at the wrong time"
                    );
                }
                reads += 1;
            }
        });
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, Ordering::Release);
        maintenance.join().unwrap();
        reader.join().unwrap();
    });
    let all = engine.select("db", &Select::all("m")).unwrap();
    assert_eq!(all.len(), WRITERS as usize);
    for series in all {
        assert_eq!(series.timestamps, (0..BATCHES * LINES).collect::<Vec<_>>());
    }
    assert!(engine.stats().snapshots > 0 || engine.stats().tsm_files > 0);
}
