//! What the two SIGKILL crash tests (`crash.rs`, `crash_reader.rs`) share: the batches the
//! children write, the engine options, running a child until it is killed, and the check of the
//! reopened directory.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use tsmdb_encoding::Column;
use tsmdb_engine::{Engine, Options, Select};

/// Lines (points) per batch; batch `id` holds the value `id` at times `id * 1000 + j`.
pub const LINES: i64 = 20;

/// The line protocol of batch `id`.
pub fn batch(id: i64) -> String {
    (0..LINES)
        .map(|j| format!("m,host=h{j} v={id}i {}\n", id * 1000 + j))
        .collect()
}

/// Small thresholds so that snapshots and compactions happen while the child is killed.
pub fn options() -> Options {
    Options::default()
        .cache_snapshot_size(16 * 1024)
        .wal_segment_size(8 * 1024)
        .background(true)
}

/// Where a child writes and the first batch number it uses, passed in its environment.
pub struct Child<'a> {
    /// The ignored test function that is the child.
    pub test: &'a str,
    /// Environment variable naming the data directory.
    pub dir_env: &'a str,
    /// Environment variable holding the first batch number.
    pub first_env: &'a str,
}

impl Child<'_> {
    /// Runs the child (this test binary again) on `dir` from batch `first`, reads its `start N`
    /// and `ack N` lines into `started` and `acked`, and kills it with SIGKILL after
    /// `kill_after` acknowledgements. Returns how many acknowledgements it read before the kill.
    pub fn run_until_killed(
        &self,
        dir: &Path,
        first: i64,
        kill_after: u64,
        acked: &mut BTreeSet<i64>,
        started: &mut BTreeSet<i64>,
    ) -> u64 {
        let exe = std::env::current_exe().unwrap();
        let mut child = Command::new(&exe)
            .args([
                self.test,
                "--exact",
                "--nocapture",
                "--include-ignored",
                "--test-threads=1",
            ])
            .env(self.dir_env, dir)
            .env(self.first_env, first.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = 0;
        let record = |line: &str, acked: &mut BTreeSet<i64>, started: &mut BTreeSet<i64>| {
            // libtest may print "test NAME ... " in front of the first line.
            if let Some((_, id)) = line.rsplit_once("start ") {
                started.insert(id.parse::<i64>().unwrap());
            } else if let Some((_, id)) = line.rsplit_once("ack ") {
                acked.insert(id.parse::<i64>().unwrap());
                return true;
            }
            false
        };
        for line in lines.by_ref() {
            if record(&line.unwrap(), acked, started) {
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
            record(&line, acked, started);
        }
        seen
    }
}

/// Reopens `dir` and checks: no shard failed, no file is damaged, every acknowledged batch is
/// there and whole, and no value was written that no batch attempted.
pub fn verify(dir: &std::path::Path, acked: &BTreeSet<i64>, started: &BTreeSet<i64>, round: u64) {
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
