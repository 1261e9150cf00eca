//! Crash test with real processes: a child process writes batches through the engine (with
//! snapshots and compactions running) and prints each batch's number after `write_lp` returned;
//! the parent kills it with SIGKILL after a varying number of acknowledgements, reopens the
//! directory, and checks that every acknowledged point is there, nothing unattempted is, and
//! every file opens. `cargo xtask soak engine` runs a longer version (TSMDB_CRASH_ROUNDS).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use tsmdb_encoding::Column;
use tsmdb_engine::{Engine, Options, Select};
use tsmdb_lineproto::Precision;

const CHILD_DIR: &str = "TSMDB_CRASH_CHILD_DIR";
const CHILD_FIRST: &str = "TSMDB_CRASH_CHILD_FIRST";
const LINES: i64 = 20;

fn batch(id: i64) -> String {
    (0..LINES)
        .map(|j| format!("m,host=h{j} v={id}i {}\n", id * 1000 + j))
        .collect()
}

fn options() -> Options {
    // Small thresholds so that snapshots and compactions happen while the child is killed.
    Options::default()
        .cache_snapshot_size(16 * 1024)
        .wal_segment_size(8 * 1024)
        .background(true)
}

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
    let exe = std::env::current_exe().unwrap();
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
        let mut child = Command::new(&exe)
            .args([
                "crash_child",
                "--exact",
                "--nocapture",
                "--include-ignored",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_FIRST, first.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = 0;
        let record = |line: &str, acked: &mut BTreeSet<i64>, started: &mut BTreeSet<i64>| {
            // libtest may print "test crash_child ... " in front of the first line.
            if let Some((_, id)) = line.rsplit_once("start ") {
                started.insert(id.parse::<i64>().unwrap());
            } else if let Some((_, id)) = line.rsplit_once("ack ") {
                acked.insert(id.parse::<i64>().unwrap());
                return true;
            }
            false
        };
        for line in lines.by_ref() {
            if record(&line.unwrap(), &mut acked, &mut started) {
                seen += 1;
                if seen >= kill_after {
                    break;
                }
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // The child ran ahead of our reading: what it printed before it died still counts.
        for line in lines {
            let Ok(line) = line else { break };
            record(&line, &mut acked, &mut started);
        }
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

fn verify(dir: &std::path::Path, acked: &BTreeSet<i64>, started: &BTreeSet<i64>, round: u64) {
    let engine = Engine::open(dir, Options::default().background(false)).unwrap();
    let report = engine.open_report();
    assert!(report.failed_shards.is_empty(), "round {round}: {report:?}");
    for s in &report.shards {
        assert!(
            s.bad_files.is_empty(),
            "round {round}: damaged file after a crash: {s:?}"
        );
    }
    let series = engine
        .select("db", &Select::all("m").fields(["v"]))
        .unwrap();
    let mut present = BTreeSet::new();
    let mut points = 0i64;
    for s in &series {
        let Column::Integer(values) = &s.values else {
            panic!("type")
        };
        for (t, v) in s.timestamps.iter().zip(values) {
            assert_eq!(
                t / 1000,
                *v,
                "round {round}: value {v} at time {t} was never written there"
            );
            assert!(
                started.contains(v),
                "round {round}: batch {v} was never attempted"
            );
            present.insert(*v);
            points += 1;
        }
    }
    for id in acked {
        assert!(
            present.contains(id),
            "round {round}: acknowledged batch {id} lost"
        );
    }
    // Every acknowledged batch is complete (a batch is one WAL entry: all or nothing).
    let complete = points % LINES == 0 || present.len() as i64 * LINES == points;
    assert!(
        complete,
        "round {round}: partial batch: {points} points for {} batches",
        present.len()
    );
    drop(engine);
}
