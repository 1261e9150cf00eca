//! `tsmdb inspect wal FILE|DIR`: print every entry of a WAL segment (or of every segment of a WAL
//! directory, in ID order) and report damage with segment and byte offset.
//!
//! Text output uses the same layout and value text as the `.wal.dump` files made from InfluxDB
//! (Go's shortest float form, Go-quoted strings), so the two can be diffed. JSONL output has one
//! object per value (writes) or per entry (deletes); values are exact JSON numbers, with
//! non-finite floats as the strings `"+Inf"`, `"-Inf"`, `"NaN"` and non-UTF-8 bytes as
//! `{"hex":"..."}`.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args as ClapArgs;
use serde_json::{Value as Json, json};
use tsmdb_wal::{
    ColumnRef, Entry, EntryKind, EntryPosition, RecoveryPolicy, read_dir, read_segment,
};

use crate::output::{Format, go_float, go_quote, json_float, to_hex};

/// Arguments of `tsmdb inspect wal`.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Examples:\n  tsmdb inspect wal data/wal/_00001.wal\n  \
                        tsmdb inspect wal --format jsonl data/wal")]
pub struct Args {
    /// A segment file (`_NNNNN.wal`) or a WAL directory.
    pub path: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Runs `tsmdb inspect wal`. Exit code 1 when any segment is damaged (a torn tail included).
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut write_error: Option<io::Error> = None;
    let mut values = 0u64;
    let mut visit = |pos: EntryPosition, entry: &Entry| {
        if write_error.is_none() {
            values += entry.value_count() as u64;
            let result = match args.format {
                Format::Text => print_text(&mut out, pos, entry),
                Format::Jsonl => print_jsonl(&mut out, pos, entry),
            };
            write_error = result.err();
        }
    };
    let meta = std::fs::metadata(&args.path)
        .with_context(|| format!("cannot read {}", args.path.display()))?;
    let (entries, damage) = if meta.is_dir() {
        let r = read_dir(&args.path, RecoveryPolicy::Strict, &mut visit)?;
        (r.entries, r.damage)
    } else {
        let s = read_segment(&args.path, true, RecoveryPolicy::Strict, &mut visit)?;
        (s.entries, s.damage)
    };
    if let Some(e) = write_error {
        return Err(e).context("writing output");
    }
    out.flush().context("writing output")?;
    eprintln!("{entries} entries, {values} values");
    for d in &damage {
        eprintln!("tsmdb: damage: {d}");
    }
    Ok(if damage.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_text(out: &mut impl Write, pos: EntryPosition, entry: &Entry) -> io::Result<()> {
    let n = pos.index;
    match entry.kind() {
        EntryKind::Write => {
            writeln!(
                out,
                "ENTRY\t{n}\twrite\tkeys={}\tvalues={}",
                entry.records().len(),
                entry.value_count()
            )?;
            for r in entry.records() {
                let key = String::from_utf8_lossy(r.key);
                let ty = r.values.field_type();
                for (i, t) in r.timestamps.iter().enumerate() {
                    write!(out, "{key}\t{ty}\t{t}\t")?;
                    match r.values {
                        ColumnRef::Float(v) => out.write_all(go_float(v[i]).as_bytes())?,
                        ColumnRef::Integer(v) => write!(out, "{}", v[i])?,
                        ColumnRef::Unsigned(v) => write!(out, "{}", v[i])?,
                        ColumnRef::Boolean(v) => write!(out, "{}", v[i])?,
                        ColumnRef::String(v) => {
                            let mut quoted = String::new();
                            go_quote(v.get(i).unwrap_or_default(), &mut quoted);
                            out.write_all(quoted.as_bytes())?
                        }
                    }
                    writeln!(out)?;
                }
            }
        }
        EntryKind::Delete | EntryKind::DeleteRange => {
            write!(
                out,
                "ENTRY\t{n}\t{}\tkeys={}",
                entry.kind().name(),
                entry.keys().len()
            )?;
            if let Some((min, max)) = entry.time_range() {
                write!(out, "\tmin={min}\tmax={max}")?;
            }
            writeln!(out)?;
            for key in entry.keys() {
                writeln!(out, "{}", String::from_utf8_lossy(key))?;
            }
        }
    }
    Ok(())
}

fn print_jsonl(out: &mut impl Write, pos: EntryPosition, entry: &Entry) -> io::Result<()> {
    let n = pos.index;
    match entry.kind() {
        EntryKind::Write => {
            for r in entry.records() {
                let key = json_bytes(r.key);
                let ty = r.values.field_type().name();
                for (i, &t) in r.timestamps.iter().enumerate() {
                    let value = match r.values {
                        ColumnRef::Float(v) => json_float(v[i]),
                        ColumnRef::Integer(v) => json!(v[i]),
                        ColumnRef::Unsigned(v) => json!(v[i]),
                        ColumnRef::Boolean(v) => json!(v[i]),
                        ColumnRef::String(v) => json_bytes(v.get(i).unwrap_or_default()),
                    };
                    let line = json!({"entry": n, "type": "write", "key": key, "time": t,
                                      "value_type": ty, "value": value});
                    writeln!(out, "{line}")?;
                }
            }
        }
        EntryKind::Delete => {
            let keys: Vec<Json> = entry.keys().map(json_bytes).collect();
            writeln!(
                out,
                "{}",
                json!({"entry": n, "type": "delete", "keys": keys})
            )?;
        }
        EntryKind::DeleteRange => {
            let keys: Vec<Json> = entry.keys().map(json_bytes).collect();
            let (min, max) = entry.time_range().unwrap_or((0, 0));
            let line =
                json!({"entry": n, "type": "delete-range", "keys": keys, "min": min, "max": max});
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// A JSON string for UTF-8 bytes, `{"hex": ...}` otherwise (JSON strings cannot hold raw bytes).
fn json_bytes(bytes: &[u8]) -> Json {
    match std::str::from_utf8(bytes) {
        Ok(s) => Json::String(s.to_string()),
        Err(_) => {
            json!({ "hex": to_hex(bytes) })
        }
    }
}
