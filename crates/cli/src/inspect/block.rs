//! `tsmdb inspect block HEX` / `--file F`: decodes one whole TSM block (with or without its
//! 4-byte CRC prefix) and prints its type, encodings, count and values.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args as ClapArgs;
use tsmdb_encoding::{Column, FieldType, Registry, split_block};

use super::decode::{parse_hex, value_text};
use crate::output::{Format, value_json};

/// Arguments of `tsmdb inspect block`.
#[derive(Debug, ClapArgs)]
#[command(
    after_help = "The block may start with its 4-byte big-endian CRC-32 (as stored in a \
    TSM file): it is detected by checking the CRC.\n\nExit codes: 0 decoded, 1 the block is \
    corrupt (the error names the byte offset), 2 bad hex or unreadable file.\n\nExample:\n  \
    tsmdb inspect block 04091c0000000000000001100000000000000001"
)]
pub struct Args {
    /// The block in hex (spaces allowed).
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    pub hex: Option<String>,
    /// Read the block's raw bytes from this file instead.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Output format: text (header then `TIME<TAB>VALUE` lines) or jsonl
    /// (`{"time":..,"value":..}` per value; values as in `inspect lp`: integers as JSON
    /// integers, floats round-tripping, strings unescaped, plus `"value_hex"` for a string that
    /// is not UTF-8; infinities as the strings "+Inf"/"-Inf").
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Runs `tsmdb inspect block`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let raw = match (&args.hex, &args.file) {
        (Some(hex), _) => parse_hex(hex)?,
        (None, Some(path)) => {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
        }
        (None, None) => bail!("give the block as HEX or with --file"),
    };
    let (block, crc) = strip_crc(&raw);
    // Offsets in errors are relative to the input as given, CRC included.
    let shift = if crc.is_some() { 4 } else { 0 };
    let mut timestamps = Vec::new();
    let mut values = Column::empty(FieldType::Float);
    let registry = Registry::builtin();
    if let Err(e) = registry.decode_block(block, &mut timestamps, &mut values) {
        eprintln!("tsmdb: error: {}", e.shifted(shift));
        return Ok(ExitCode::from(1));
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Text => {
            let parts = split_block(block)?;
            match crc {
                Some(c) => writeln!(out, "crc: {c:08x} (valid, stripped)")?,
                None => writeln!(out, "crc: none")?,
            }
            writeln!(out, "type: {}", parts.field_type)?;
            writeln!(out, "count: {}", timestamps.len())?;
            let ts_name = registry.timestamps.name_of(parts.timestamps).unwrap_or("?");
            let ts_detail = match parts.timestamps.first() {
                Some(&h) if h >> 4 != 0 => format!(", divisor 10^{}", h & 0x0f),
                _ => String::new(),
            };
            writeln!(
                out,
                "timestamps: {} bytes at offset {}, {ts_name} (header 0x{:02x}{ts_detail})",
                parts.timestamps.len(),
                parts.timestamps_offset + shift,
                parts.timestamps.first().copied().unwrap_or(0),
            )?;
            writeln!(
                out,
                "values: {} bytes at offset {}, {} (header 0x{:02x})",
                parts.values.len(),
                parts.values_offset + shift,
                registry
                    .value_codec_name(parts.field_type, parts.values)
                    .unwrap_or("?"),
                parts.values.first().copied().unwrap_or(0),
            )?;
            for (i, t) in timestamps.iter().enumerate() {
                writeln!(out, "{t}\t{}", value_text(&values, i))?;
            }
        }
        Format::Jsonl => {
            for (i, t) in timestamps.iter().enumerate() {
                let mut line = serde_json::json!({ "time": t, "value": value_json(&values, i) });
                // As in `inspect lp`: a string that is not UTF-8 also gets its exact bytes.
                if let Column::String(s) = &values
                    && let Some(bytes) = s.get(i)
                    && std::str::from_utf8(bytes).is_err()
                {
                    line["value_hex"] = crate::output::to_hex(bytes).into();
                }
                writeln!(out, "{line}")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Splits off a leading 4-byte CRC-32 when it matches the rest (a block as stored in a file).
fn strip_crc(raw: &[u8]) -> (&[u8], Option<u32>) {
    if let Some((head, rest)) = raw.split_first_chunk::<4>()
        && rest.len() > 1
    {
        let stored = u32::from_be_bytes(*head);
        if crc32fast::hash(rest) == stored {
            return (rest, Some(stored));
        }
    }
    (raw, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_prefix_is_detected_only_when_it_matches() {
        let block = [
            4u8, 9, 0x1c, 0, 0, 0, 0, 0, 0, 0, 1, 0x10, 0, 0, 0, 0, 0, 0, 0, 1,
        ];
        let mut with = crc32fast::hash(&block).to_be_bytes().to_vec();
        with.extend_from_slice(&block);
        assert_eq!(
            strip_crc(&with),
            (&block[..], Some(crc32fast::hash(&block)))
        );
        assert_eq!(strip_crc(&block), (&block[..], None));
        with[0] ^= 1;
        assert_eq!(strip_crc(&with).1, None);
    }
}
