//! Crash test of the streaming path: a child process feeds an endless generated input through
//! `Engine::write_reader` (two parsing workers, pipelined commits, snapshots and compactions in
//! the background) and prints each batch's number when `progress` acknowledges it; the parent
//! kills it with SIGKILL at varying points, reopens the directory and checks that every
//! acknowledged batch is there and complete, and nothing never generated is.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};

use common::crash::{Child, LINES, batch, options, verify};
use tsmdb_engine::Engine;
use tsmdb_lineproto::Precision;

const CHILD_DIR: &str = "TSMDB_CRASH_READER_DIR";
const CHILD_FIRST: &str = "TSMDB_CRASH_READER_FIRST";
const CHILD: Child<'static> = Child {
    test: "crash_reader_child",
    dir_env: CHILD_DIR,
    first_env: CHILD_FIRST,
};

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
    let mut acked = BTreeSet::new();
    let mut started = BTreeSet::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for round in 0..rounds {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let kill_after = 1 + seed % 80;
        let first = round as i64 * 1_000_000;
        let seen = CHILD.run_until_killed(dir.path(), first, kill_after, &mut acked, &mut started);
        eprintln!(
            "round {round}: killed after {seen} acknowledgements; {} acknowledged, {} started in all",
            acked.len(),
            started.len()
        );
        assert!(seen >= 1, "round {round}: the child acknowledged nothing");
        verify(dir.path(), &acked, &started, round);
    }
}
