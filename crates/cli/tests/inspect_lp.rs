//! `tsmdb inspect lp` run as a user would: the built binary on the InfluxDB 1.6.7 fixtures.

use std::io::Write;
use std::process::{Command, Stdio};

fn fixture(name: &str) -> String {
    format!(
        "{}/../../tests/fixtures/influxdb-1.6.7/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn tsmdb(args: &[&str], stdin: Option<&[u8]>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tsmdb"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tsmdb");
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(stdin.unwrap_or_default())
        .expect("write stdin");
    drop(pipe);
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("utf8 stdout"),
        String::from_utf8(out.stderr).expect("utf8 stderr"),
    )
}

#[test]
fn jsonl_matches_influxdbs_parse_of_small_lp() {
    let (code, out, err) = tsmdb(
        &[
            "inspect",
            "lp",
            "--format",
            "jsonl",
            "--no-unsigned",
            &fixture("small.lp"),
        ],
        None,
    );
    assert_eq!(code, 1, "rejected lines give exit status 1");
    assert!(
        err.contains("points=42") && err.contains("rejected=15"),
        "{err}"
    );
    let tsv = std::fs::read_to_string(fixture("small.parsed.tsv")).unwrap();
    let rows: Vec<&str> = tsv.lines().collect();
    let objs: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("valid json"))
        .collect();
    assert_eq!(objs.len(), rows.len());
    for (o, row) in objs.iter().zip(&rows) {
        let cols: Vec<&str> = row.split('\t').collect();
        if cols[0] == "ERROR" {
            let want = cols[1].replace("\\n", "\n").replace("\\\\", "\\");
            assert_eq!(o["error"].as_str(), Some(want.as_str()), "{row}");
            assert!(o["line"].as_u64().unwrap() > 0);
            continue;
        }
        assert_eq!(o["measurement"].as_str(), Some(cols[0]), "{row}");
        assert_eq!(o["field"].as_str(), Some(cols[2]), "{row}");
        assert_eq!(o["type"].as_str(), Some(cols[3]), "{row}");
        assert_eq!(
            o["time"].as_i64(),
            Some(cols[5].parse::<i64>().unwrap()),
            "{row}"
        );
        let tags: Vec<String> = o["tags"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
            .collect();
        assert_eq!(tags.join(","), cols[1], "{row}");
        let v = &o["value"];
        match cols[3] {
            "integer" => assert_eq!(v.as_i64(), Some(cols[4].parse().unwrap()), "{row}"),
            "float" => {
                let want: f64 = cols[4].replace("+Inf", "inf").parse().unwrap();
                assert_eq!(v.as_f64().map(f64::to_bits), Some(want.to_bits()), "{row}");
            }
            "boolean" => assert_eq!(v.as_bool(), Some(cols[4] == "true"), "{row}"),
            "string" => {
                let want: String = serde_json::from_str(cols[4]).unwrap();
                assert_eq!(v.as_str(), Some(want.as_str()), "{row}");
            }
            other => panic!("type {other}"),
        }
    }
}

#[test]
fn unsigned_values_keep_all_64_bits() {
    let (code, out, _) = tsmdb(
        &["inspect", "lp", "--format", "jsonl", "-"],
        Some(b"m u=18446744073709551615u,i=-9223372036854775808i,f=-0.0 1\n"),
    );
    assert_eq!(code, 0);
    let v: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(v[0]["value"].as_u64(), Some(u64::MAX));
    assert_eq!(v[0]["type"], "unsigned");
    assert_eq!(v[1]["value"].as_i64(), Some(i64::MIN));
    assert!(v[2]["value"].as_f64().unwrap().is_sign_negative());
}

#[test]
fn no_unsigned_rejects_like_influxdb_1_6() {
    let (code, out, err) = tsmdb(&["inspect", "lp", "--no-unsigned", "-"], Some(b"m u=1u\n"));
    assert_eq!(code, 1);
    assert!(
        out.contains("unable to parse 'm u=1u': invalid number"),
        "{out}"
    );
    assert!(err.contains("rejected=1"), "{err}");
}

#[test]
fn text_format_and_precision() {
    let (code, out, err) = tsmdb(
        &["inspect", "lp", "--precision", "s", "-"],
        Some(b"# comment\ncpu,b=2,a=1 v=1i 3\n"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("line 2: cpu,a=1,b=2 time=3000000000"), "{out}");
    assert!(out.contains("v integer 1"), "{out}");
    assert!(
        err.contains("lines=2 points=1 values=1 rejected=0"),
        "{err}"
    );
}

#[test]
fn invalid_utf8_strings_carry_exact_bytes() {
    let (code, out, _) = tsmdb(
        &["inspect", "lp", "--format", "jsonl", "-"],
        Some(b"m s=\"a\xffb\" 1\n"),
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["value_hex"], "61ff62");
}

#[test]
fn missing_file_is_a_command_error() {
    let (code, _, err) = tsmdb(&["inspect", "lp", "/nonexistent/x.lp"], None);
    assert_eq!(code, 2);
    assert!(err.contains("cannot open /nonexistent/x.lp"), "{err}");
}
