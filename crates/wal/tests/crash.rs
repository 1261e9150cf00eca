//! Crash test with real processes: a child writes entries from several threads and prints each
//! entry's number before (`TRY`) and after (`ACK`) `Wal::write`; the parent SIGKILLs it after a
//! varying number of acknowledgements, replays the WAL and checks that every acknowledged entry is
//! there, that nothing is there that was not attempted, and that nothing appears twice. The child
//! then reopens the same directory (recovering whatever the kill left) and goes on, many times.
//!
//! The child is this test binary re-executed with `--exact crash_child --ignored`, which works
//! under both `cargo test` and `cargo nextest`. `TSMDB_WAL_SOAK_SECONDS=N` turns the short default
//! run into a soak (`cargo xtask soak wal --seconds N`).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tsmdb_wal::{ColumnRef, Entry, Record, Wal, WalOptions};

const CHILD_DIR: &str = "TSMDB_WAL_CRASH_DIR";
const CHILD_START: &str = "TSMDB_WAL_CRASH_START";
const THREADS: u64 = 4;
const PER_ROUND: u64 = 1_000_000;

fn options() -> WalOptions {
    WalOptions {
        segment_size: 16 * 1024,
        ..WalOptions::default()
    }
}

/// The records of entry `n`: contents derived from `n` so replay can verify them exactly.
fn entry_values(n: u64) -> (Vec<u8>, Vec<i64>, Vec<f64>) {
    let count = 1 + (n % 50) as usize;
    let key = format!("crash,t={}#!~#f", n % 7).into_bytes();
    let ts: Vec<i64> = (0..count as i64).map(|i| n as i64 * 1000 + i).collect();
    let vals: Vec<f64> = ts.iter().map(|&t| t as f64 * 0.5).collect();
    (key, ts, vals)
}

fn entry_number(e: &Entry) -> u64 {
    let r = e.records().next().expect("one record");
    let n = (r.timestamps[0] / 1000) as u64;
    let (key, ts, vals) = entry_values(n);
    assert_eq!(e.records().len(), 1);
    assert_eq!(r.key, &key[..], "entry {n}");
    assert_eq!(r.timestamps, &ts[..], "entry {n}");
    match r.values {
        ColumnRef::Float(v) => assert_eq!(v, &vals[..], "entry {n}"),
        other => panic!("entry {n}: wrong type {other:?}"),
    }
    n
}

/// Child mode: write until killed.
#[test]
#[ignore = "run by crash_kill_and_replay as a child process"]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let start: u64 = std::env::var(CHILD_START).unwrap().parse().unwrap();
    let (wal, _) = Wal::open(&dir, options(), |_, _| {}).unwrap();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let wal = &wal;
            s.spawn(move || {
                for i in 0.. {
                    let n = start + t + i * THREADS;
                    if n >= start + PER_ROUND {
                        break;
                    }
                    let (key, ts, vals) = entry_values(n);
                    println!("TRY {n}");
                    wal.write(&[Record {
                        key: &key,
                        timestamps: &ts,
                        values: ColumnRef::Float(&vals),
                    }])
                    .unwrap();
                    println!("ACK {n}");
                }
            });
        }
    });
}

fn run_round(dir: &Path, start: u64, acks_before_kill: usize) -> (BTreeSet<u64>, BTreeSet<u64>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--ignored"])
        .env(CHILD_DIR, dir)
        .env(CHILD_START, start.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut tried, mut acked) = (BTreeSet::new(), BTreeSet::new());
    let mut line = String::new();
    let record = |line: &str, tried: &mut BTreeSet<u64>, acked: &mut BTreeSet<u64>| {
        if let Some(n) = line.trim().strip_prefix("TRY ") {
            tried.insert(n.parse().unwrap());
        } else if let Some(n) = line.trim().strip_prefix("ACK ") {
            acked.insert(n.parse().unwrap());
        }
    };
    while acked.len() < acks_before_kill {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            panic!("child exited early: {:?}", child.wait());
        }
        record(&line, &mut tried, &mut acked);
    }
    child.kill().unwrap(); // SIGKILL
    // Whatever the child printed before it died is still in the pipe.
    for line in out.lines() {
        record(&line.unwrap(), &mut tried, &mut acked);
    }
    child.wait().unwrap();
    (tried, acked)
}

#[test]
fn crash_kill_and_replay() {
    let soak = std::env::var("TSMDB_WAL_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok());
    let deadline = soak.map(|s| Instant::now() + Duration::from_secs(s));
    let dir = tempfile::tempdir().unwrap();
    let mut all_acked = BTreeSet::new();
    let mut all_tried = BTreeSet::new();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut round = 0u64;
    loop {
        let done = match deadline {
            Some(d) => Instant::now() >= d,
            None => round >= 30,
        };
        if done {
            break;
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let acks = 1 + (rng % 300) as usize;
        let (tried, acked) = run_round(dir.path(), round * PER_ROUND, acks);
        assert!(acked.is_subset(&tried));
        all_tried.extend(tried);
        all_acked.extend(acked);

        let mut replayed = Vec::new();
        let (wal, _recovery) =
            Wal::open(dir.path(), options(), |_, e| replayed.push(entry_number(e))).unwrap();
        drop(wal);
        let found: BTreeSet<u64> = replayed.iter().copied().collect();
        assert_eq!(
            found.len(),
            replayed.len(),
            "round {round}: an entry replayed twice"
        );
        let lost: Vec<_> = all_acked.difference(&found).collect();
        assert!(
            lost.is_empty(),
            "round {round}: acknowledged entries lost: {lost:?}"
        );
        let invented: Vec<_> = found.difference(&all_tried).collect();
        assert!(
            invented.is_empty(),
            "round {round}: never attempted: {invented:?}"
        );
        round += 1;
    }
    eprintln!(
        "crash test: {round} kills, {} acknowledged, {} attempted",
        all_acked.len(),
        all_tried.len()
    );
}
