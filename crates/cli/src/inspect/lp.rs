//! `tsmdb inspect lp FILE`: parse line protocol exactly as InfluxDB 1.x does and print every
//! field value, or the error of every rejected line.
//!
//! JSON lines (`--format jsonl`), one object per field value:
//! `{"line":N,"measurement":"..","tags":{"k":"v"},"field":"..","type":"float","value":..,"time":NS}`
//! and per rejected line `{"line":N,"column":C,"error":"unable to parse '..': reason"}`.
//! * Integers and unsigned values are JSON integers with all 64 bits; floats are written in
//!   the shortest form that reads back to the same f64 (`-0.0` included). NaN and infinities
//!   cannot occur: line protocol rejects them.
//! * Strings are unescaped. JSON strings must be Unicode, so a string value that is not valid
//!   UTF-8 is printed with U+FFFD replacements and its exact bytes are added as
//!   `"value_hex":"..."`; names (measurement, tags, field) that are not UTF-8 are printed the
//!   same lossy way and the object gets `"lossy_names":true`.
//!
//! Lines without a timestamp get `--default-time` (0 unless given), truncated to the precision.
//! The summary (lines, points, values, rejected) goes to standard error. Exit status 1 when any
//! line was rejected (after printing all of them), 2 when the command itself failed.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args as ClapArgs;
use tsmdb_lineproto::{
    FieldValue, LineError, ParseOptions, Point, Precision, StreamOptions, parse_reader,
};

use crate::output::Format;

/// Arguments of `tsmdb inspect lp`.
#[derive(Debug, ClapArgs)]
#[command(
    after_help = "Exit code 1 when a line is rejected (each one is listed with its number).\n\n\
    Examples:\n  tsmdb inspect lp metrics.lp\n  \
    tsmdb inspect lp --format jsonl --precision s data.lp\n  \
    printf 'cpu,host=a usage=1.5 1\\n' | tsmdb inspect lp -"
)]
pub struct Args {
    /// Line-protocol file to parse (`-` for standard input).
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Unit of the timestamps in the input: n (ns), u (us), ms, s, m or h.
    #[arg(long, default_value = "ns")]
    pub precision: Precision,
    /// Accept unsigned integers (`42u`); on by default.
    #[arg(long, overrides_with = "no_unsigned")]
    pub unsigned: bool,
    /// Reject unsigned integers as stock InfluxDB 1.6 servers do (`invalid number`).
    #[arg(long)]
    pub no_unsigned: bool,
    /// Time in nanoseconds given to lines without a timestamp.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub default_time: i64,
    /// Accept CRLF line ends (InfluxDB 1.x rejects them).
    #[arg(long)]
    pub strip_cr: bool,
}

/// Runs `tsmdb inspect lp`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let opts = ParseOptions {
        precision: args.precision,
        default_time: args.default_time,
        unsigned: !args.no_unsigned,
        strip_cr: args.strip_cr,
    };
    let input: Box<dyn Read> = if args.file.as_os_str() == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(
            File::open(&args.file)
                .with_context(|| format!("cannot open {}", args.file.display()))?,
        )
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut write_err: Option<io::Error> = None;
    let mut scratch = Vec::with_capacity(256);
    let summary = parse_reader(input, &opts, &StreamOptions::default(), |r| {
        if write_err.is_some() {
            return;
        }
        scratch.clear();
        match (args.format, r) {
            (Format::Jsonl, Ok(p)) => json_point(&mut scratch, &p),
            (Format::Jsonl, Err(e)) => json_error(&mut scratch, &e),
            (Format::Text, Ok(p)) => text_point(&mut scratch, &p),
            (Format::Text, Err(e)) => text_error(&mut scratch, &e),
        }
        if let Err(e) = out.write_all(&scratch) {
            write_err = Some(e);
        }
    })
    .with_context(|| format!("reading {}", args.file.display()))?;
    let flushed = match write_err {
        Some(e) => Err(e),
        None => out.flush(),
    };
    match flushed {
        // A closed pipe (`| head`) is the reader's choice, not a failure.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other.context("writing output")?,
    }
    eprintln!(
        "lines={} points={} values={} rejected={}",
        summary.lines, summary.points, summary.values, summary.rejected
    );
    Ok(if summary.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn json_str(out: &mut Vec<u8>, bytes: &[u8], lossy: &mut bool) {
    let s = match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => {
            *lossy = true;
            String::from_utf8_lossy(bytes)
        }
    };
    // Serialising a str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &*s);
}

fn hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 15)]);
    }
}

fn json_point(out: &mut Vec<u8>, p: &Point<'_, '_>) {
    // The measurement and tags are the same for every field: render them once.
    let mut lossy = false;
    let mut head = Vec::with_capacity(128);
    head.extend_from_slice(b"\"measurement\":");
    json_str(&mut head, &p.measurement(), &mut lossy);
    head.extend_from_slice(b",\"tags\":{");
    for (i, t) in p.tags().enumerate() {
        if i > 0 {
            head.push(b',');
        }
        json_str(&mut head, &t.key(), &mut lossy);
        head.push(b':');
        json_str(&mut head, &t.value(), &mut lossy);
    }
    head.push(b'}');
    for f in p.fields() {
        let mut field_lossy = lossy;
        let _ = write!(out, "{{\"line\":{},", p.line());
        out.extend_from_slice(&head);
        out.extend_from_slice(b",\"field\":");
        json_str(out, &f.key(), &mut field_lossy);
        let _ = write!(out, ",\"type\":\"{}\",\"value\":", f.value.kind().name());
        let mut exact: Option<Vec<u8>> = None;
        match f.value {
            FieldValue::Float(v) => {
                let _ = serde_json::to_writer(&mut *out, &v);
            }
            FieldValue::Integer(v) => {
                let _ = write!(out, "{v}");
            }
            FieldValue::Unsigned(v) => {
                let _ = write!(out, "{v}");
            }
            FieldValue::Boolean(v) => {
                let _ = write!(out, "{v}");
            }
            FieldValue::String(s) => {
                let text = s.unescape();
                let mut value_lossy = false;
                json_str(out, &text, &mut value_lossy);
                if value_lossy {
                    exact = Some(text.into_owned());
                }
            }
        }
        if let Some(bytes) = exact {
            out.extend_from_slice(b",\"value_hex\":\"");
            hex(out, &bytes);
            out.push(b'"');
        }
        let _ = write!(out, ",\"time\":{}", p.time());
        if field_lossy {
            out.extend_from_slice(b",\"lossy_names\":true");
        }
        out.extend_from_slice(b"}\n");
    }
}

fn json_error(out: &mut Vec<u8>, e: &LineError) {
    let _ = write!(
        out,
        "{{\"line\":{},\"column\":{},\"error\":",
        e.line, e.column
    );
    let mut lossy = false;
    json_str(out, &e.message_bytes(), &mut lossy);
    out.extend_from_slice(b"}\n");
}

/// Bytes shown as text, with anything unprintable escaped so one value stays on one line.
fn text_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '\n' => out.extend_from_slice(b"\\n"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\r' => out.extend_from_slice(b"\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

fn text_point(out: &mut Vec<u8>, p: &Point<'_, '_>) {
    let _ = write!(out, "line {}: ", p.line());
    text_bytes(out, p.series_key());
    let _ = writeln!(out, " time={}", p.time());
    for f in p.fields() {
        out.extend_from_slice(b"    ");
        text_bytes(out, &f.key());
        let _ = write!(out, " {} ", f.value.kind().name());
        match f.value {
            FieldValue::Float(v) => {
                let _ = write!(out, "{v:?}");
            }
            FieldValue::Integer(v) => {
                let _ = write!(out, "{v}");
            }
            FieldValue::Unsigned(v) => {
                let _ = write!(out, "{v}");
            }
            FieldValue::Boolean(v) => {
                let _ = write!(out, "{v}");
            }
            FieldValue::String(s) => {
                out.push(b'"');
                text_bytes(out, &s.unescape());
                out.push(b'"');
            }
        }
        out.push(b'\n');
    }
}

fn text_error(out: &mut Vec<u8>, e: &LineError) {
    let _ = write!(out, "line {} column {}: error: ", e.line, e.column);
    text_bytes(out, &e.message_bytes());
    out.push(b'\n');
}
