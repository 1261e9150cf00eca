//! `tsmdb compact` end to end: data written through the engine in several snapshots (several
//! TSM files per shard, some values still only in the WAL), compacted by the binary, values
//! checked through the library.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use tsmdb_engine::{Engine, Options, Select, SeriesValues};
use tsmdb_lineproto::Precision;

fn tsmdb(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tsmdb"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("TSMDB_DB")
        .output()
        .expect("run tsmdb")
}

fn options() -> Options {
    // One-hour shards: the data below spans two.
    Options::default()
        .background(false)
        .shard_duration(Duration::from_secs(3600))
}

/// Four snapshots of two hosts over 90 minutes, then one more batch left in the WAL.
fn setup(db: &Path) -> Vec<SeriesValues> {
    let engine = Engine::open(db, options()).expect("open");
    engine.create_database("db", None).expect("create");
    for batch in 0..5i64 {
        let mut lp = String::new();
        for host in 0..2 {
            for i in 0..18i64 {
                let minute = batch * 18 + i;
                lp += &format!(
                    "cpu,host=h{host} v={minute}i {}\n",
                    minute * 60_000_000_000 + host
                );
            }
        }
        engine
            .write_lp("db", lp.as_bytes(), Precision::Nanosecond)
            .expect("write");
        if batch < 4 {
            engine.snapshot_all().expect("snapshot");
        }
    }
    let all = engine.select("db", &Select::all("cpu")).expect("select");
    assert_eq!(engine.stats().tsm_files, 5, "{:?}", engine.stats());
    all
}

/// One test, run in sequence: a test holding the directory lock while another spawns a child
/// would lend the child its lock descriptor between fork and exec.
#[test]
fn compacts_every_shard_through_the_engine_and_respects_the_lock() {
    let out = tsmdb(Path::new("/definitely/not/here"), &["compact"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no data directory here"));

    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("data");
    let before = setup(&db);

    // Another process (here: this one) has the directory open: compact must not touch it.
    let holder = Engine::open(&db, options()).expect("open");
    let out = tsmdb(&db, &["compact", "--full"]);
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("opening"), "{stderr}");
    assert_eq!(holder.stats().tsm_files, 5);
    drop(holder);

    let out = tsmdb(&db, &["compact", "--full"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("-> 2 files"), "{stdout}");

    let engine = Engine::open(&db, options()).expect("reopen");
    let stats = engine.stats();
    assert_eq!((stats.shards, stats.tsm_files), (2, 2), "{stats:?}");
    assert_eq!(
        engine.select("db", &Select::all("cpu")).expect("select"),
        before
    );
}
