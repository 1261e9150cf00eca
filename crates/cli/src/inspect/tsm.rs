//! `tsmdb inspect tsm FILE...`: summary, block listing, every value, or a full integrity check of
//! TSM files. Tombstoned keys and values are hidden unless `--raw`.
//!
//! The text forms of `--blocks` and `--dump` are the formats of the InfluxDB fixtures'
//! `NAME.tsm.blocks` and `NAME.tsm.dump` files, and `--verify` prints `ok N blocks M points` as in
//! `NAME.tsm.verify`, so our output can be compared with InfluxDB's byte for byte.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args as ClapArgs;
use tsmdb_encoding::{Column, FieldType, Registry, block_count, split_block};
use tsmdb_tsm_file::{ReadOptions, TimeRange, TsmReader};

use crate::output::{Format, go_float, go_quote, to_hex, value_json};

/// Arguments of `tsmdb inspect tsm`.
#[derive(Debug, ClapArgs)]
#[command(
    after_help = "Examples:\n  tsmdb inspect tsm 000000001-000000001.tsm\n  \
    tsmdb inspect tsm --blocks data/*.tsm\n  tsmdb inspect tsm --dump --format jsonl x.tsm\n  \
    tsmdb inspect tsm --verify data/*.tsm"
)]
pub struct Args {
    /// TSM files to inspect.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Summary: keys, blocks, values, bytes per value, encodings, time range (the default).
    #[arg(long, group = "mode")]
    pub report: bool,
    /// One row per block: key, type, times, offset, size, CRC, count, sections, block hex.
    #[arg(long, group = "mode")]
    pub blocks: bool,
    /// Every value: `key TAB type TAB time TAB value` (text) or one JSON object per value.
    #[arg(long, group = "mode")]
    pub dump: bool,
    /// Check the CRC and decode every block (tombstoned ones too); exit 1 and list the failures.
    #[arg(long, group = "mode")]
    pub verify: bool,
    /// Show tombstoned keys and values too (the file's bytes as they are).
    #[arg(long)]
    pub raw: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Runs `tsmdb inspect tsm`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut failed = false;
    let many = args.files.len() > 1;
    for path in &args.files {
        let options = ReadOptions {
            verify_checksums: true,
            // Verification checks every block in the file, deleted or not.
            apply_tombstones: !args.raw && !args.verify,
        };
        // The reader's errors name the file already (and the offset where it is damaged).
        let reader = TsmReader::open_with(path, options)?;
        if many && args.format == Format::Text {
            writeln!(out, "== {}", path.display())?;
        }
        if args.blocks {
            blocks(&reader, args.format, &mut out)?;
        } else if args.dump {
            dump(&reader, args.format, &mut out)?;
        } else if args.verify {
            failed |= !verify(&reader, args.format, &mut out)?;
        } else {
            report(&reader, args.format, &mut out)?;
        }
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn key_text(key: &[u8]) -> String {
    String::from_utf8_lossy(key).into_owned()
}

/// Section sizes and header bytes of a block: (ts bytes, ts header, value bytes, value header).
fn sections(block: &[u8]) -> Option<(usize, u8, usize, u8)> {
    let parts = split_block(block).ok()?;
    Some((
        parts.timestamps.len(),
        parts.timestamps.first().copied().unwrap_or_default(),
        parts.values.len(),
        parts.values.first().copied().unwrap_or_default(),
    ))
}

fn report(reader: &TsmReader, format: Format, out: &mut impl Write) -> anyhow::Result<()> {
    let (mut keys, mut blocks, mut values, mut block_bytes) = (0u64, 0u64, 0u64, 0u64);
    let mut types: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut encodings: BTreeMap<String, u64> = BTreeMap::new();
    let registry = Registry::builtin();
    for k in reader.keys() {
        keys += 1;
        *types.entry(k.field_type.name()).or_default() += 1;
        for e in k.iter() {
            blocks += 1;
            block_bytes += u64::from(e.size);
            let data = reader.block(k.key, &e)?;
            values += block_count(data).map_err(|err| {
                anyhow::anyhow!(
                    "{}: block at offset {}: {err}",
                    reader.path().display(),
                    e.offset
                )
            })? as u64;
            if let Ok(parts) = split_block(data) {
                let ts = registry
                    .timestamps
                    .name_of(parts.timestamps)
                    .unwrap_or("unknown");
                let vs = registry
                    .value_codec_name(k.field_type, parts.values)
                    .unwrap_or("unknown");
                *encodings
                    .entry(format!("{} {ts}/{vs}", k.field_type))
                    .or_default() += 1;
            }
        }
    }
    let per_value = |bytes: u64| {
        if values == 0 {
            0.0
        } else {
            bytes as f64 / values as f64
        }
    };
    match format {
        Format::Text => {
            writeln!(out, "file            {}", reader.path().display())?;
            writeln!(out, "size            {} bytes", reader.file_size())?;
            writeln!(
                out,
                "index           {} bytes at offset {}",
                reader.index_size(),
                reader.index_offset()
            )?;
            let type_list: Vec<String> = types.iter().map(|(t, n)| format!("{t} {n}")).collect();
            writeln!(out, "keys            {keys} ({})", type_list.join(", "))?;
            writeln!(out, "blocks          {blocks}")?;
            writeln!(out, "values          {values}")?;
            writeln!(
                out,
                "bytes per value {:.3} (blocks incl. CRC), {:.3} (whole file)",
                per_value(block_bytes),
                per_value(reader.file_size())
            )?;
            writeln!(
                out,
                "time range      {} .. {}",
                reader.min_time(),
                reader.max_time()
            )?;
            writeln!(out, "encodings (type timestamps/values: blocks)")?;
            for (enc, n) in &encodings {
                writeln!(out, "  {enc}: {n}")?;
            }
        }
        Format::Jsonl => {
            let obj = serde_json::json!({
                "file": reader.path().display().to_string(),
                "size": reader.file_size(),
                "index_offset": reader.index_offset(),
                "index_size": reader.index_size(),
                "keys": keys,
                "types": types,
                "blocks": blocks,
                "values": values,
                "block_bytes_per_value": per_value(block_bytes),
                "file_bytes_per_value": per_value(reader.file_size()),
                "min_time": reader.min_time(),
                "max_time": reader.max_time(),
                "encodings": encodings,
            });
            writeln!(out, "{obj}")?;
        }
    }
    Ok(())
}

fn blocks(reader: &TsmReader, format: Format, out: &mut impl Write) -> anyhow::Result<()> {
    if format == Format::Text {
        writeln!(
            out,
            "# file_size={} keys={} index_offset={} index_size={} min_time={} max_time={}",
            reader.file_size(),
            reader.keys().count(),
            reader.index_offset(),
            reader.index_size(),
            reader.min_time(),
            reader.max_time()
        )?;
        writeln!(
            out,
            "# key\ttype\tmin_time\tmax_time\toffset\tsize\tcrc32\tcount\tts_bytes\tts_enc\tval_bytes\tval_enc\tblock_hex"
        )?;
    }
    for (k, e) in reader.blocks() {
        let data = reader.block(k.key, &e)?;
        let count = block_count(data).ok();
        let (tsb, tse, vb, ve) = sections(data).unwrap_or_default();
        let crc = reader.stored_crc(&e).unwrap_or_default();
        match format {
            Format::Text => {
                out.write_all(k.key)?;
                writeln!(
                    out,
                    "\t{}\t{}\t{}\t{}\t{}\t{crc:08x}\t{}\t{tsb}\t{tse:02x}\t{vb}\t{ve:02x}\t{}",
                    k.field_type,
                    e.min_time,
                    e.max_time,
                    e.offset,
                    e.size,
                    count.map_or("?".to_string(), |c| c.to_string()),
                    to_hex(data)
                )?;
            }
            Format::Jsonl => {
                let obj = serde_json::json!({
                    "key": key_text(k.key), "type": k.field_type.name(),
                    "min_time": e.min_time, "max_time": e.max_time,
                    "offset": e.offset, "size": e.size, "crc32": format!("{crc:08x}"),
                    "count": count, "ts_bytes": tsb, "ts_enc": format!("{tse:02x}"),
                    "val_bytes": vb, "val_enc": format!("{ve:02x}"),
                });
                writeln!(out, "{obj}")?;
            }
        }
    }
    Ok(())
}

fn dump(reader: &TsmReader, format: Format, out: &mut impl Write) -> anyhow::Result<()> {
    let (mut times, mut values) = (Vec::new(), Column::empty(FieldType::Float));
    let mut line = String::new();
    for k in reader.keys() {
        for e in k.iter() {
            reader.read_block_values(&k, &e, TimeRange::ALL, &mut times, &mut values)?;
            for (i, t) in times.iter().enumerate() {
                match format {
                    Format::Text => {
                        line.clear();
                        push_value_text(&values, i, &mut line);
                        out.write_all(k.key)?;
                        writeln!(out, "\t{}\t{t}\t{line}", k.field_type)?;
                    }
                    Format::Jsonl => {
                        let obj = serde_json::json!({
                            "key": key_text(k.key), "type": k.field_type.name(),
                            "time": t, "value": value_json(&values, i),
                        });
                        writeln!(out, "{obj}")?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Checks every block of the file; prints failures and a summary line.
fn verify(reader: &TsmReader, format: Format, out: &mut impl Write) -> anyhow::Result<bool> {
    let (mut blocks, mut points, mut failures) = (0u64, 0u64, 0u64);
    let (mut times, mut values) = (Vec::new(), Column::empty(FieldType::Float));
    for (k, e) in reader.blocks() {
        blocks += 1;
        match reader.decode_block(&k, &e, &mut times, &mut values) {
            Ok(()) => points += times.len() as u64,
            Err(err) => {
                failures += 1;
                match format {
                    Format::Text => writeln!(out, "FAIL {err}")?,
                    Format::Jsonl => writeln!(
                        out,
                        "{}",
                        serde_json::json!({"file": reader.path().display().to_string(),
                            "key": key_text(k.key), "offset": e.offset, "error": err.to_string()})
                    )?,
                }
            }
        }
    }
    match format {
        Format::Text if failures == 0 => writeln!(out, "ok {blocks} blocks {points} points")?,
        Format::Text => writeln!(
            out,
            "FAILED {failures} of {blocks} blocks ({points} points in good blocks)"
        )?,
        Format::Jsonl => writeln!(
            out,
            "{}",
            serde_json::json!({"file": reader.path().display().to_string(), "ok": failures == 0,
                "blocks": blocks, "points": points, "failures": failures})
        )?,
    }
    Ok(failures == 0)
}

/// Value `i` as the fixtures print it: Go's shortest float form, decimal integers,
/// `true`/`false`, strings quoted as Go's `strconv.Quote` does.
fn push_value_text(column: &Column, i: usize, out: &mut String) {
    match column {
        Column::Float(v) => out.push_str(&go_float(v.get(i).copied().unwrap_or_default())),
        Column::Integer(v) => {
            let _ = write!(out, "{}", v.get(i).copied().unwrap_or_default());
        }
        Column::Unsigned(v) => {
            let _ = write!(out, "{}", v.get(i).copied().unwrap_or_default());
        }
        Column::Boolean(v) => {
            let _ = write!(out, "{}", v.get(i).copied().unwrap_or_default());
        }
        Column::String(v) => go_quote(v.get(i).unwrap_or_default(), out),
    }
}
