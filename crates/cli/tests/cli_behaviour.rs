//! How the binary behaves at its edges: help texts, a missing or damaged data directory, and a
//! reader that goes away. Each test runs the real `tsmdb` binary.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tsmdb_engine::{Engine, Options};

const MEDIUM_LP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/influxdb-1.6.7/medium.lp"
);
const MEDIUM_TSM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/influxdb-1.6.7/medium.tsm"
);

fn tsmdb(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tsmdb"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("TSMDB_DB")
        .output()
        .expect("run tsmdb")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A data directory holding the medium fixture in TSM files; returns the TSM files.
fn snapshot_dir(db: &Path) -> Vec<PathBuf> {
    let o = tsmdb(db, &["write", MEDIUM_LP]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let engine = Engine::open(db, Options::default()).expect("open");
    assert!(engine.snapshot_all().expect("snapshot") > 0);
    engine.close().expect("close");
    let mut tsm = Vec::new();
    for shard in std::fs::read_dir(db.join("db")).expect("database directory") {
        let shard = shard.expect("entry").path();
        for f in std::fs::read_dir(&shard).into_iter().flatten() {
            let f = f.expect("entry").path();
            if f.extension() == Some("tsm".as_ref()) {
                tsm.push(f);
            }
        }
    }
    assert!(!tsm.is_empty());
    tsm
}

#[test]
fn every_command_help_has_examples() {
    let dir = tempfile::tempdir().unwrap();
    for command in [
        &[][..],
        &["write"],
        &["query"],
        &["delete"],
        &["compact"],
        &["stats"],
        &["verify"],
        &["generate"],
        &["inspect"],
        &["inspect", "lp"],
        &["inspect", "tsm"],
        &["inspect", "wal"],
        &["inspect", "block"],
        &["inspect", "encode"],
        &["inspect", "decode"],
    ] {
        let mut args = command.to_vec();
        args.push("--help");
        let o = tsmdb(dir.path(), &args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {o:?}");
        let help = text(&o.stdout);
        assert!(
            help.contains("Example"),
            "tsmdb {}: no examples in\n{help}",
            args.join(" ")
        );
    }
}

#[test]
fn reading_commands_refuse_a_missing_data_directory_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("typo");
    for args in [
        &["query", "SHOW DATABASES"][..],
        &["query", "SELECT * FROM cpu"],
        &["stats"],
        &["compact"],
        &["delete", "--measurement", "cpu"],
    ] {
        let o = tsmdb(&db, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {o:?}");
        let err = text(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.contains("no data directory here") && err.contains("--db"),
            "{args:?}: {err}"
        );
        assert!(!db.exists(), "{args:?} created {}", db.display());
    }
}

#[test]
fn create_database_and_write_create_the_directory_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fresh");
    let o = tsmdb(&db, &["query", "CREATE DATABASE metrics"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(text(&o.stderr).contains("created data directory"), "{o:?}");
    let o = tsmdb(&db, &["query", "--format", "json", "SHOW DATABASES"]);
    assert!(text(&o.stdout).contains("\"metrics\""), "{o:?}");

    let db = dir.path().join("written");
    let o = tsmdb(&db, &["write", MEDIUM_LP]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(text(&o.stderr).contains("created data directory"), "{o:?}");
    // A second write into the existing directory does not claim to create it.
    let o = tsmdb(&db, &["write", MEDIUM_LP]);
    assert!(!text(&o.stderr).contains("created"), "{o:?}");
}

#[test]
fn a_damaged_tsm_file_is_announced_by_the_query_and_stays_visible_to_verify() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data");
    let tsm = snapshot_dir(&db);
    let victim = &tsm[0];
    // Cut off the index and footer: the file cannot be opened at all, so the engine sets it
    // aside and the query runs without its data.
    let len = std::fs::metadata(victim).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(victim)
        .unwrap()
        .set_len(len / 2)
        .unwrap();

    let o = tsmdb(&db, &["query", "SELECT count(usage_user) FROM cpu"]);
    let err = text(&o.stderr);
    assert!(
        err.contains("warning")
            && err.contains(&victim.display().to_string())
            && err.contains("not served"),
        "the query must say that data is missing: {o:?}"
    );

    // The engine renamed the file; verify must still fail on it, naming it.
    let o = tsmdb(&db, &["verify"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let out = text(&o.stdout);
    let bad = format!("{}.bad", victim.display());
    assert!(
        out.lines().any(|l| l.starts_with(&format!("{bad}: "))),
        "{out}"
    );
    assert!(
        out.lines().last().unwrap_or("").starts_with("FAILED"),
        "{out}"
    );
}

#[cfg(unix)]
#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    // Far more output than a pipe buffer holds, so the writer is still writing when the
    // reader closes its end.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tsmdb"))
        .arg("--db")
        .arg(dir.path())
        .args(["inspect", "tsm", "--dump", MEDIUM_TSM])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tsmdb");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 256];
    stdout.read_exact(&mut first).expect("first bytes");
    drop(stdout);
    let o = child.wait_with_output().expect("wait");
    assert_eq!(text(&o.stderr), "", "no error, no panic: {o:?}");
    assert_eq!(o.status.signal(), Some(libc_sigpipe()), "{o:?}");
}

/// SIGPIPE's number on every Unix this runs on (Linux, macOS, the BSDs).
#[cfg(unix)]
fn libc_sigpipe() -> i32 {
    13
}

#[test]
fn a_failing_statement_exits_1_from_an_argument_a_file_and_stdin_alike() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data");
    assert_eq!(tsmdb(&db, &["write", MEDIUM_LP]).status.code(), Some(0));
    let bad = "SHOW MEASUREMENTS; SELEC oops";

    let o = tsmdb(&db, &["query", bad]);
    assert_eq!(o.status.code(), Some(1), "argument: {o:?}");

    let file = dir.path().join("q.iql");
    std::fs::write(&file, bad).unwrap();
    let o = tsmdb(&db, &["query", "-f", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "file: {o:?}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_tsmdb"))
        .arg("--db")
        .arg(&db)
        .arg("query")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tsmdb");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"SHOW MEASUREMENTS\nSELEC oops\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "stdin: {o:?}");
    let err = text(&o.stderr);
    // One line for the one bad statement, nothing else.
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        text(&o.stdout).contains("cpu"),
        "the good statement still ran: {o:?}"
    );
}

#[test]
fn stats_print_the_open_time_in_milliseconds_with_at_most_three_decimals() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data");
    assert_eq!(tsmdb(&db, &["write", MEDIUM_LP]).status.code(), Some(0));
    for _ in 0..5 {
        let o = tsmdb(&db, &["stats", "--format", "jsonl"]);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        let line = text(&o.stdout);
        let v: serde_json::Value = serde_json::from_str(line.trim()).expect("one JSON object");
        assert_eq!(v["series"], 100, "{line}");
        let ms = v["open_ms"].to_string();
        let decimals = ms.split_once('.').map_or(0, |(_, d)| d.len());
        assert!(decimals <= 3, "open_ms {ms}");
    }
}

#[test]
fn an_unreadable_tsm_file_is_named_once_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let not_tsm = dir.path().join("x.tsm");
    std::fs::write(&not_tsm, b"abc").unwrap();
    for path in [not_tsm.clone(), dir.path().join("missing.tsm")] {
        let o = tsmdb(dir.path(), &["inspect", "tsm", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{o:?}");
        let err = text(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert_eq!(err.matches(path.to_str().unwrap()).count(), 1, "{err}");
    }
}
