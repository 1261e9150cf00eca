//! `tsmdb inspect wal` on InfluxDB's WAL fixtures: the text output is the `.wal.dump` layout
//! exactly, JSONL values are exact, and damage is reported with segment and offset (exit 1).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/influxdb-1.6.7"
    ))
    .join(name)
}

fn tsmdb(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tsmdb"))
        .args(args)
        .output()
        .expect("run tsmdb")
}

fn inspect(path: &Path, jsonl: bool) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = vec!["inspect".as_ref(), "wal".as_ref()];
    if jsonl {
        args.push("--format".as_ref());
        args.push("jsonl".as_ref());
    }
    args.push(path.as_os_str());
    tsmdb(&args)
}

#[test]
fn text_output_matches_influxdb_dumps() {
    for name in ["small", "small.uint", "edge"] {
        let out = inspect(&fixture(&format!("{name}.wal")), false);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want = std::fs::read_to_string(fixture(&format!("{name}.wal.dump"))).unwrap();
        let got = String::from_utf8(out.stdout).unwrap();
        assert_eq!(got.lines().count(), want.lines().count(), "{name}");
        for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
            assert_eq!(g, w, "{name}: line {}", i + 1);
        }
    }
}

#[test]
fn jsonl_values_are_exact() {
    let out = inspect(&fixture("small.uint.wal"), true);
    assert!(out.status.success());
    let dump = std::fs::read_to_string(fixture("small.uint.wal.dump")).unwrap();
    let rows: Vec<Vec<&str>> = dump
        .lines()
        .filter(|l| !l.starts_with("ENTRY\t"))
        .map(|l| l.split('\t').collect())
        .collect();
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), rows.len());
    for (j, row) in lines.iter().zip(&rows) {
        assert_eq!(j["type"], "write");
        assert_eq!(j["key"], row[0]);
        assert_eq!(j["value_type"], row[1]);
        assert_eq!(j["time"].as_i64().unwrap().to_string(), row[2]);
        let v = &j["value"];
        match row[1] {
            "float" => match v.as_f64() {
                Some(x) => assert_eq!(x.to_bits(), row[3].parse::<f64>().unwrap().to_bits()),
                None => assert_eq!(v.as_str().unwrap(), row[3]),
            },
            "integer" => assert_eq!(v.as_i64().unwrap().to_string(), row[3]),
            "unsigned" => assert_eq!(v.as_u64().unwrap().to_string(), row[3]),
            "boolean" => assert_eq!(v.as_bool().unwrap().to_string(), row[3]),
            // The fixture's strings use only escapes that JSON and Go spell the same way.
            "string" => assert_eq!(serde_json::to_string(v).unwrap(), row[3]),
            other => panic!("unknown type {other}"),
        }
    }
}

#[test]
fn damage_is_reported_with_segment_and_offset_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("small.wal")).unwrap();
    let first_len = 5 + u32::from_be_bytes(bytes[1..5].try_into().unwrap()) as usize;

    // A torn tail: cut in the middle of the second entry.
    let seg = dir.path().join("_00001.wal");
    std::fs::write(&seg, &bytes[..first_len + 7]).unwrap();
    let out = inspect(&seg, true);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "torn tail in {} at offset {first_len}",
            seg.display()
        )),
        "{stderr}"
    );
    // The whole first entry is still printed.
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);

    // Corruption in the middle of a directory's first segment.
    let mut bad = bytes.clone();
    bad[first_len] = 0x42;
    std::fs::write(&seg, &bad).unwrap();
    std::fs::write(dir.path().join("_00002.wal"), &bytes).unwrap();
    let out = inspect(dir.path(), false);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "corrupt entry in {} at offset {first_len}",
            seg.display()
        )) && stderr.contains("unknown wal entry type: 66"),
        "{stderr}"
    );
    // The second segment is still read: its entries are numbered after the first segment's one.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("ENTRY\t0\twrite"));
    assert!(text.contains("ENTRY\t1\twrite"));

    // A missing file is a command failure (exit 2), not damage.
    let out = inspect(&dir.path().join("nope.wal"), false);
    assert_eq!(out.status.code(), Some(2));
}
