//! `tsmdb verify` end to end through the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tsmdb_engine::{Engine, Options};

fn tsmdb(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tsmdb"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("TSMDB_DB")
        .output()
        .expect("run tsmdb")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

/// A data directory holding the medium fixture, snapshot to TSM; returns its TSM files.
fn clean_dir(db: &Path) -> Vec<PathBuf> {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/influxdb-1.6.7/medium.lp"
    );
    let o = tsmdb(db, &["write", fixture]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let engine = Engine::open(db, Options::default()).expect("open");
    assert!(engine.snapshot_all().expect("snapshot") > 0);
    engine.close().expect("close");
    let mut tsm = Vec::new();
    for shard in std::fs::read_dir(db.join("db")).unwrap() {
        let shard = shard.unwrap().path();
        if !shard.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&shard).unwrap() {
            let f = f.unwrap().path();
            if f.extension() == Some("tsm".as_ref()) {
                tsm.push(f);
            }
        }
    }
    assert!(!tsm.is_empty());
    tsm
}

#[test]
fn a_clean_directory_passes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data");
    clean_dir(&db);
    let o = tsmdb(&db, &["verify"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let text = stdout(&o);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("ok: "), "{text}");
    assert!(!text.contains(" 0 TSM files"), "{text}");

    let o = tsmdb(&db, &["verify", "--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(0));
    let summary: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["problems"], 0);
}

#[test]
fn a_flipped_byte_in_a_tsm_block_fails_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data");
    let tsm = clean_dir(&db);
    let victim = &tsm[0];
    let mut bytes = std::fs::read(victim).unwrap();
    // The first block starts after the 5-byte header (4-byte CRC, then the data): flip a data
    // byte so only that block's CRC disagrees.
    bytes[5 + 4 + 2] ^= 0xff;
    std::fs::write(victim, &bytes).unwrap();

    let o = tsmdb(&db, &["verify"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with(&format!("{}: offset 5: ", victim.display())),
        "{text}"
    );
    assert!(lines[1].starts_with("FAILED 1 problems"), "{text}");
    // The file and the offset are said once, at the start; then the key and what is wrong.
    assert_eq!(
        lines[0].matches(&victim.display().to_string()).count(),
        1,
        "{text}"
    );
    assert_eq!(lines[0].matches("offset").count(), 1, "{text}");
    assert!(lines[0].contains("checksum mismatch (key cpu,"), "{text}");

    let o = tsmdb(&db, &["verify", "--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(1));
    let first: serde_json::Value =
        serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(first["file"], victim.display().to_string());
    assert_eq!(first["offset"], 5);
}

#[test]
fn a_missing_directory_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = tsmdb(&dir.path().join("nothing"), &["verify"]);
    assert_eq!(o.status.code(), Some(2));
}
