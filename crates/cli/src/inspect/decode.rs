//! `tsmdb inspect decode --type T HEX`: decodes one encoded section and prints one value per
//! line, in the text `tsmdb inspect encode` reads (so the two are inverses).
//!
//! Also home of the value text and hex helpers shared with `inspect block` and `inspect encode`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args as ClapArgs;
use tsmdb_encoding::{Column, StringColumn};

use crate::output::go_float;

/// Arguments of `tsmdb inspect decode`.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Example:\n  tsmdb inspect decode --type integer 2000000000000000020202")]
pub struct Args {
    /// The section's value type.
    #[arg(long = "type", value_enum)]
    pub section: SectionType,
    /// The encoded section in hex (spaces allowed).
    pub hex: String,
}

/// The kinds of section that can be encoded or decoded on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SectionType {
    /// i64 nanosecond timestamps.
    Timestamp,
    /// f64 values.
    Float,
    /// i64 values.
    Integer,
    /// u64 values.
    Unsigned,
    /// true/false values.
    Boolean,
    /// String values (JSON strings in text).
    String,
}

/// Runs `tsmdb inspect decode`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let bytes = parse_hex(&args.hex)?;
    let decoded = match args.section {
        SectionType::Timestamp => {
            let mut v = Vec::new();
            tsmdb_encoding::decode_timestamps(&bytes, &mut v).map(|()| Column::Integer(v))
        }
        SectionType::Float => {
            let mut v = Vec::new();
            tsmdb_encoding::decode_floats(&bytes, &mut v).map(|()| Column::Float(v))
        }
        SectionType::Integer => {
            let mut v = Vec::new();
            tsmdb_encoding::decode_integers(&bytes, &mut v).map(|()| Column::Integer(v))
        }
        SectionType::Unsigned => {
            let mut v = Vec::new();
            tsmdb_encoding::decode_unsigned(&bytes, &mut v).map(|()| Column::Unsigned(v))
        }
        SectionType::Boolean => {
            let mut v = Vec::new();
            tsmdb_encoding::decode_booleans(&bytes, &mut v).map(|()| Column::Boolean(v))
        }
        SectionType::String => {
            let mut v = StringColumn::new();
            tsmdb_encoding::decode_strings(&bytes, &mut v).map(|()| Column::String(v))
        }
    };
    let column = match decoded {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tsmdb: error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let mut out = std::io::stdout().lock();
    for i in 0..column.len() {
        writeln!(out, "{}", value_text(&column, i))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses hex (whitespace and a leading `0x` ignored); errors name the character offset.
pub fn parse_hex(text: &str) -> anyhow::Result<Vec<u8>> {
    let trimmed = text.trim_start();
    let skipped = text.len() - trimmed.len();
    let (body, base) = match trimmed.strip_prefix("0x") {
        Some(rest) => (rest, skipped + 2),
        None => (trimmed, skipped),
    };
    let mut out = Vec::with_capacity(body.len() / 2);
    let mut high: Option<u8> = None;
    for (i, c) in body.char_indices() {
        if c.is_whitespace() {
            continue;
        }
        let Some(nibble) = c.to_digit(16) else {
            bail!(
                "bad hex at character offset {}: {c:?} is not a hex digit",
                base + i
            );
        };
        match high.take() {
            None => high = Some(nibble as u8),
            Some(h) => out.push((h << 4) | nibble as u8),
        }
    }
    if high.is_some() {
        bail!(
            "bad hex: odd number of digits (byte offset {} is incomplete)",
            out.len()
        );
    }
    Ok(out)
}

/// Value `i` of a column as one line of text: integers in decimal, floats in the shortest form
/// that round-trips (`+Inf`, `-0`, `1e+10`, as InfluxDB prints them), booleans `true`/`false`,
/// strings as JSON strings (invalid UTF-8 shown as U+FFFD).
pub fn value_text(column: &Column, i: usize) -> String {
    match column {
        Column::Float(v) => go_float(v[i]),
        Column::Integer(v) => v[i].to_string(),
        Column::Unsigned(v) => v[i].to_string(),
        Column::Boolean(v) => v[i].to_string(),
        Column::String(v) => {
            let s = String::from_utf8_lossy(v.get(i).unwrap_or_default());
            serde_json::Value::String(s.into_owned()).to_string()
        }
    }
}
