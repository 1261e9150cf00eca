//! `tsmdb inspect block|encode|decode` end to end, against InfluxDB 1.6.7's own bytes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn tsmdb(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tsmdb"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tsmdb");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 output")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 errors")
}

/// A float block from small.tsm (1 value, 1.0 at 1434055562000000000) and its stored CRC.
const FLOAT_BLOCK: &str = "00091c13e6c9ef892ee400103ff0000000000000c3fc0080000000000010";
const FLOAT_CRC: &str = "51367dd9";

#[test]
fn block_text_names_type_encodings_count_and_values() {
    let o = tsmdb(&["inspect", "block", FLOAT_BLOCK], "");
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("type: float"), "{text}");
    assert!(text.contains("count: 1"), "{text}");
    assert!(
        text.contains("simple8b (header 0x1c, divisor 10^12)"),
        "{text}"
    );
    assert!(text.contains("gorilla (header 0x10)"), "{text}");
    assert!(text.contains("crc: none"), "{text}");
    assert!(text.ends_with("1434055562000000000\t1\n"), "{text}");
}

#[test]
fn block_with_crc_prefix_is_detected_and_jsonl_is_exact() {
    let hex = format!("{FLOAT_CRC}{FLOAT_BLOCK}");
    let o = tsmdb(&["inspect", "block", "--format", "jsonl", &hex], "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "{\"time\":1434055562000000000,\"value\":1.0}\n");
    let text = stdout(&tsmdb(&["inspect", "block", &hex], ""));
    assert!(text.contains("crc: 51367dd9 (valid, stripped)"), "{text}");
}

#[test]
fn block_from_a_file_with_extreme_integers() {
    // spec §5.9: uint (1 ns, MaxUint64), as raw bytes on disk.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("block.bin");
    let bytes: Vec<u8> = (0..40)
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&"04091c0000000000000001100000000000000001"[i..i + 2], 16).unwrap()
        })
        .collect();
    std::fs::write(&path, bytes).unwrap();
    let o = tsmdb(
        &[
            "inspect",
            "block",
            "--format",
            "jsonl",
            "--file",
            path.to_str().unwrap(),
        ],
        "",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "{\"time\":1,\"value\":18446744073709551615}\n");
}

#[test]
fn block_with_strings_prints_them_unescaped() {
    // spec §5.9: string (1 ns, "x").
    let o = tsmdb(
        &[
            "inspect",
            "block",
            "--format",
            "jsonl",
            "03091c00000000000000011002040178",
        ],
        "",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "{\"time\":1,\"value\":\"x\"}\n");
}

#[test]
fn corrupt_block_is_one_line_with_the_byte_offset_exit_1() {
    // Timestamp section claims 2 values (RLE), the integer section holds 1.
    let o = tsmdb(
        &[
            "inspect",
            "block",
            "010b20000000000000000101021000000000000000020",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(2), "odd hex digits is a bad argument");
    let o = tsmdb(
        &[
            "inspect",
            "block",
            "010b200000000000000001010210000000000000000a",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("byte 13") && err.contains("2 timestamps, 1 values"),
        "{err}"
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn bad_hex_names_the_character_exit_2() {
    let o = tsmdb(&["inspect", "block", "00zz"], "");
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("character offset 2"), "{err}");
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn encode_reproduces_influxdb_vectors() {
    let cases: [(&str, &str, &str); 6] = [
        (
            "timestamp",
            "0\n1\n3\n6\n",
            "100000000000000000d000030000200001",
        ),
        (
            "float",
            "1\n2\n3\n",
            "103ff0000000000000c25fffd80f17dff800000000000080",
        ),
        (
            "integer",
            "-1\n5\n2\n100\n",
            "100000000000000001d000c4000050000c",
        ),
        ("unsigned", "18446744073709551615\n", "100000000000000001"),
        (
            "boolean",
            "true\nfalse\ntrue\ntrue\nfalse\nfalse\nfalse\nfalse\ntrue\n",
            "1009b080",
        ),
        ("float", "", "107ff8000000000001"),
    ];
    for (t, input, hex) in cases {
        let o = tsmdb(&["inspect", "encode", "--type", t], input);
        assert!(o.status.success(), "{t}: {}", stderr(&o));
        assert_eq!(stdout(&o), format!("{hex}\n"), "{t} {input:?}");
    }
}

#[test]
fn encode_then_decode_is_the_identity_for_strings_and_floats() {
    let strings = "\"hello\"\n\"\"\n\"h\\u00e9llo \\\"q\\\"\\n\"\n";
    let o = tsmdb(&["inspect", "encode", "--type", "string"], strings);
    assert!(o.status.success(), "{}", stderr(&o));
    let hex = stdout(&o);
    let back = tsmdb(&["inspect", "decode", "--type", "string", hex.trim()], "");
    assert_eq!(stdout(&back), "\"hello\"\n\"\"\n\"héllo \\\"q\\\"\\n\"\n");

    let floats = "-0\n+Inf\n1e+06\n0.1\n5e-324\n-949000\n";
    let hex = stdout(&tsmdb(&["inspect", "encode", "--type", "float"], floats));
    let back = tsmdb(&["inspect", "decode", "--type", "float", hex.trim()], "");
    assert!(back.status.success(), "{}", stderr(&back));
    assert_eq!(stdout(&back), floats);
}

#[test]
fn encode_refuses_nan_and_bad_lines() {
    let o = tsmdb(&["inspect", "encode", "--type", "float"], "1\nNaN\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("unsupported value: NaN"),
        "{}",
        stderr(&o)
    );
    let o = tsmdb(&["inspect", "encode", "--type", "integer"], "1\nx\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("line 2"), "{}", stderr(&o));
}

#[test]
fn decode_prints_one_value_per_line_and_errors_with_offsets() {
    let o = tsmdb(
        &[
            "inspect",
            "decode",
            "--type",
            "timestamp",
            "2a00000000000000000104",
        ],
        "",
    );
    assert_eq!(stdout(&o), "0\n10000000000\n20000000000\n30000000000\n");
    let o = tsmdb(&["inspect", "decode", "--type", "integer", "10000000"], "");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("byte 1"), "{}", stderr(&o));
}
