//! Crash test of the streaming path: a child process feeds an endless generated input through
//! `Engine::write_reader` (two parsing workers, pipelined commits, snapshots and compactions in
//! the background) and prints each batch's number when `progress` acknowledges it; the parent
//! kills it with SIGKILL at varying points, reopens the directory and checks that every
//! acknowledged batch is there and complete, and nothing never generated is.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use tsmdb_encoding::Column;
use tsmdb_engine::{Engine, Options, Select};
use tsmdb_lineproto::Precision;

const CHILD_DIR: &str = "TSMDB_CRASH_READER_DIR";
const CHILD_FIRST: &str = "TSMDB_CRASH_READER_FIRST";
const LINES: i64 = 20;

fn batch(id: i64) -> String {
    (0..LINES)
        .map(|j| format!("m,host=h{j} v={id}i {}\n", id * 1000 + j))
        .collect()
}

fn options() -> Options {
    Options::default()
        .cache_snapshot_size(16 * 1024)
        .wal_segment_size(8 * 1024)
        .background(true)
}

/// An endless input: batch after batch, announcing each one as it is generated.
struct Batches {
    next: i64,
    pending: Vec<u8>,
    at: usize,
}

impl Read for Batches {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.pending.len() {
            let mut out = std::io::stdout().lock();
            writeln!(out, "start {}", self.next)?;
            out.flush()?;
            self.pending = batch(self.next).into_bytes();
            self.at = 0;
            self.next += 1;
        }
        let n = buf.len().min(self.pending.len() - self.at);
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The child: not a test on its own (ignored); the parent runs it in a separate process.
#[test]
#[ignore = "run as a child process by killed_streaming_writers_lose_no_acknowledged_batch"]
fn crash_reader_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let first: i64 = std::env::var(CHILD_FIRST).unwrap().parse().unwrap();
    let engine = Engine::open(&dir, options()).unwrap();
    engine.create_database("db", None).unwrap();
    let input = Batches {
        next: first,
        pending: Vec::new(),
        at: 0,
    };
    let mut id = first;
    engine
        .write_reader("db", input, Precision::Nanosecond, LINES as usize, |s| {
            assert!(s.is_complete() && s.points == LINES as u64, "{s:?}");
            let mut out = std::io::stdout().lock();
            writeln!(out, "ack {id}").unwrap();
            out.flush().unwrap();
            id += 1;
        })
        .unwrap();
}

#[test]
fn killed_streaming_writers_lose_no_acknowledged_batch() {
    let rounds: u64 = std::env::var("TSMDB_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut acked = BTreeSet::new();
    let mut started = BTreeSet::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for round in 0..rounds {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let kill_after = 1 + seed % 80;
        let first = round as i64 * 1_000_000;
        let mut child = Command::new(&exe)
            .args([
                "crash_reader_child",
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
        for line in lines {
            let Ok(line) = line else { break };
            record(&line, &mut acked, &mut started);
        }
        eprintln!(
            "round {round}: killed after {seen} acknowledgements; {} acknowledged, {} started in all",
            acked.len(),
            started.len()
        );
        assert!(seen >= 1, "round {round}: the child acknowledged nothing");
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
