//! Crash test with real processes: a child process writes batches through the engine (with
//! snapshots and compactions running) and prints each batch's number after `write_lp` returned;
//! the parent kills it with SIGKILL after a varying number of acknowledgements, reopens the
//! directory, and checks that every acknowledged point is there, nothing unattempted is, and
//! every file opens. `cargo xtask soak engine` runs a longer version (TSMDB_CRASH_ROUNDS).

mod common;

use std::collections::BTreeSet;
use std::io::Write;

use common::crash::{Child, batch, options, verify};
use tsmdb_engine::Engine;
use tsmdb_lineproto::Precision;

const CHILD_DIR: &str = "TSMDB_CRASH_CHILD_DIR";
const CHILD_FIRST: &str = "TSMDB_CRASH_CHILD_FIRST";
const CHILD: Child<'static> = Child {
    test: "crash_child",
    dir_env: CHILD_DIR,
    first_env: CHILD_FIRST,
};

/// The child: not a test on its own (ignored); the parent runs it in a separate process.
#[test]
#[ignore = "run as a child process by killed_writers_lose_no_acknowledged_point"]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let first: i64 = std::env::var(CHILD_FIRST).unwrap().parse().unwrap();
    let engine = Engine::open(&dir, options()).unwrap();
    engine.create_database("db", None).unwrap();
    let mut out = std::io::stdout().lock();
    for id in first.. {
        writeln!(out, "start {id}").unwrap();
        out.flush().unwrap();
        let s = engine
            .write_lp("db", batch(id).as_bytes(), Precision::Nanosecond)
            .unwrap();
        assert!(s.is_complete());
        writeln!(out, "ack {id}").unwrap();
        out.flush().unwrap();
        if id % 7 == 0 {
            engine.snapshot_all().unwrap();
        }
        if id % 13 == 0 {
            engine.compact_all(false).unwrap();
        }
    }
}

#[test]
fn killed_writers_lose_no_acknowledged_point() {
    let rounds: u64 = std::env::var("TSMDB_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let dir = tempfile::tempdir().unwrap();
    let mut acked = BTreeSet::new();
    let mut started = BTreeSet::new();
    // A fixed pseudo-random sequence of kill points: reproducible, yet varied.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..rounds {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let kill_after = 1 + seed % 60;
        let first = round as i64 * 100_000;
        let seen = CHILD.run_until_killed(dir.path(), first, kill_after, &mut acked, &mut started);
        eprintln!(
            "round {round}: killed after {seen} acknowledgements; {} acknowledged, {} started in all",
            acked.len(),
            started.len()
        );
        assert!(
            seen >= kill_after.min(1),
            "round {round}: the child acknowledged nothing"
        );
        verify(dir.path(), &acked, &started, round);
    }
}
