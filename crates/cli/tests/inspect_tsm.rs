//! `tsmdb inspect tsm` against InfluxDB 1.6.7's fixtures: `--blocks`, `--dump` and `--verify`
//! print exactly what the fixtures' `.tsm.blocks`, `.tsm.dump` and `.tsm.verify` files say.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/influxdb-1.6.7/"
    ))
    .join(name)
}

fn tsmdb(args: &[&str], file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tsmdb"))
        .args(["inspect", "tsm"])
        .args(args)
        .arg(file)
        .output()
        .expect("run tsmdb")
}

fn stdout_of(args: &[&str], file: &Path) -> Vec<u8> {
    let out = tsmdb(args, file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn blocks_and_verify_match_the_fixture_listings() {
    for name in ["small", "small.uint", "edge", "medium"] {
        let tsm = fixture(&format!("{name}.tsm"));
        let want = std::fs::read(fixture(&format!("{name}.tsm.blocks"))).unwrap();
        assert!(
            stdout_of(&["--blocks"], &tsm) == want,
            "{name}: --blocks differs"
        );
        let want = std::fs::read(fixture(&format!("{name}.tsm.verify"))).unwrap();
        assert_eq!(
            String::from_utf8(stdout_of(&["--verify"], &tsm)).unwrap(),
            String::from_utf8(want).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn dump_matches_the_fixture_dumps() {
    for name in ["small", "small.uint", "edge"] {
        let got = stdout_of(&["--dump"], &fixture(&format!("{name}.tsm")));
        let want = std::fs::read(fixture(&format!("{name}.tsm.dump"))).unwrap();
        assert!(got == want, "{name}: --dump differs from {name}.tsm.dump");
    }
}

#[test]
fn jsonl_dump_has_exact_values() {
    let got = stdout_of(&["--dump", "--format", "jsonl"], &fixture("edge.tsm"));
    let text = std::fs::read_to_string(fixture("edge.tsm.dump")).unwrap();
    let lines: Vec<&str> = std::str::from_utf8(&got).unwrap().lines().collect();
    let want: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), want.len());
    for (line, w) in lines.iter().zip(&want) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let cols: Vec<&str> = w.splitn(4, '\t').collect();
        assert_eq!(v["key"], cols[0]);
        assert_eq!(v["type"], cols[1]);
        assert_eq!(v["time"].as_i64().unwrap().to_string(), cols[2]);
        let value = &v["value"];
        match cols[1] {
            "integer" => assert_eq!(value.as_i64().unwrap().to_string(), cols[3]),
            "unsigned" => assert_eq!(value.as_u64().unwrap().to_string(), cols[3]),
            "boolean" => assert_eq!(value.as_bool().unwrap().to_string(), cols[3]),
            "float" => match cols[3] {
                "+Inf" | "-Inf" => assert_eq!(value, cols[3]),
                t => assert_eq!(
                    value.as_f64().unwrap().to_bits(),
                    t.parse::<f64>().unwrap().to_bits(),
                    "{line}"
                ),
            },
            "string" => {
                let s = value.as_str().unwrap();
                assert!(!s.contains('\u{fffd}') || cols[3].contains("\\x"), "{line}");
                if !cols[3].contains('\\') {
                    assert_eq!(format!("\"{s}\""), cols[3]);
                }
            }
            other => panic!("unknown type {other}"),
        }
    }
}

#[test]
fn verify_fails_with_exit_1_and_lists_the_damaged_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("000000001-000000001.tsm");
    let mut bytes = std::fs::read(fixture("edge.tsm")).unwrap();
    bytes[100] ^= 0x10; // inside the first block
    std::fs::write(&path, &bytes).unwrap();
    let out = tsmdb(&["--verify"], &path);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let fails: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert_eq!(fails.len(), 1, "{text}");
    assert!(
        fails[0].contains("block checksum mismatch") && fails[0].contains("offset 5"),
        "{text}"
    );
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("FAILED 1 of 33 blocks"),
        "{text}"
    );
    // --dump refuses to print values of a damaged block
    let out = tsmdb(&["--dump"], &path);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("checksum"));
}

#[test]
fn tombstoned_values_are_hidden_unless_raw() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("000000001-000000001.tsm");
    std::fs::copy(fixture("small.tsm"), &path).unwrap();
    let before = String::from_utf8(stdout_of(&["--dump"], &path)).unwrap();
    let first_key = before
        .lines()
        .next()
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_string();
    let reader = tsmdb_tsm_file::TsmReader::open(&path).unwrap();
    reader
        .delete_range(&[first_key.as_bytes()], tsmdb_tsm_file::TimeRange::ALL)
        .unwrap();
    let after = String::from_utf8(stdout_of(&["--dump"], &path)).unwrap();
    let raw = String::from_utf8(stdout_of(&["--dump", "--raw"], &path)).unwrap();
    assert_eq!(raw, before);
    let removed: Vec<&str> = before
        .lines()
        .filter(|l| l.starts_with(&format!("{first_key}\t")))
        .collect();
    assert!(!removed.is_empty());
    assert_eq!(
        after.lines().count(),
        before.lines().count() - removed.len()
    );
    assert!(!after.contains(&format!("{first_key}\t")));
}

#[test]
fn report_summarises_and_bad_files_exit_2() {
    let text = String::from_utf8(stdout_of(&[], &fixture("medium.tsm"))).unwrap();
    assert!(
        text.contains("keys            1000 (float 800, integer 200)"),
        "{text}"
    );
    assert!(text.contains("blocks          1000"), "{text}");
    assert!(text.contains("values          100000"), "{text}");
    let json = stdout_of(&["--report", "--format", "jsonl"], &fixture("medium.tsm"));
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["values"], 100_000);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.tsm");
    std::fs::write(&bad, b"not a tsm file at all").unwrap();
    let out = tsmdb(&[], &bad);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.tsm") && err.contains("bad magic"),
        "{err}"
    );
}
