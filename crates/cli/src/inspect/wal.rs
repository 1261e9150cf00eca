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

use crate::output::Format;

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
                            out.write_all(go_quote(v.get(i).unwrap_or_default()).as_bytes())?
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
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            json!({ "hex": hex })
        }
    }
}

/// An exact JSON number for finite floats (serde_json prints the shortest round-trip form), the
/// Go spelling as a string otherwise.
fn json_float(v: f64) -> Json {
    serde_json::Number::from_f64(v).map_or_else(|| Json::String(go_float(v)), Json::Number)
}

/// Go's `strconv.FormatFloat(v, 'g', -1, 64)` (also what `%v` prints): shortest round-trip
/// digits, in exponent form when the decimal exponent is below -4 or at least 6.
fn go_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "-1.2345e-7".
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{dot}{rest}e{esign}{:02}", exp.abs());
    }
    let point = exp + 1; // digits before the decimal point
    let nd = digits.len() as i32;
    if point <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
    } else if point >= nd {
        format!("{sign}{digits}{}", "0".repeat((point - nd) as usize))
    } else {
        let (a, b) = digits.split_at(point as usize);
        format!("{sign}{a}.{b}")
    }
}

/// Go's `strconv.Quote`: printable characters as they are, the usual backslash escapes, `\xNN`
/// for bytes that are not UTF-8 and `\uNNNN` / `\UNNNNNNNN` for other non-printable characters.
fn go_quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{7}' => out.push_str("\\a"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{b}' => out.push_str("\\v"),
                c if is_go_printable(c) => out.push(c),
                c if (c as u32) < 0x20 || c == '\u{7f}' => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push_str(&format!("\\U{:08x}", c as u32)),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and
/// the ASCII space; not controls, other spaces, format characters or private-use code points.
fn is_go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c as u32, 0xad | 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x206f
            | 0xfeff | 0xfff9..=0xfffb | 0xe000..=0xf8ff | 0xf0000..))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_go() {
        let cases = [
            (0.64, "0.64"),
            (1e10, "1e+10"),
            (-0.0, "-0"),
            (93.5, "93.5"),
            (100000.0, "100000"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-0.0035, "-0.0035"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ];
        for (v, want) in cases {
            assert_eq!(go_float(v), want, "{v:e}");
        }
    }

    #[test]
    fn strings_quote_like_go() {
        assert_eq!(go_quote(b"say \"hi\"\n"), r#""say \"hi\"\n""#);
        assert_eq!(go_quote(b"back\\slash"), r#""back\\slash""#);
        assert_eq!(go_quote("日本語 🚀".as_bytes()), "\"日本語 🚀\"");
        assert_eq!(go_quote(b"\xff\x01"), r#""\xff\x01""#);
        assert_eq!(go_quote("\u{a0}".as_bytes()), r#""\u00a0""#);
    }
}
