//! `tsmdb inspect encode --type T`: reads one value per line on standard input and prints the
//! encoded section in hex, exactly as InfluxDB 1.x would write it (string sections: snappy bytes
//! may differ).

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args as ClapArgs;
use tsmdb_encoding::StringColumn;

use super::decode::SectionType;
use crate::output::to_hex;

/// Arguments of `tsmdb inspect encode`.
#[derive(Debug, ClapArgs)]
#[command(
    after_help = "Input, one value per line: timestamps and integers in decimal, floats \
    as Rust/Go float text (1.5, -0, +Inf), booleans true/false, strings as JSON strings.\n\n\
    Example:\n  printf '1\\n2\\n3\\n' | tsmdb inspect encode --type integer"
)]
pub struct Args {
    /// The section's value type.
    #[arg(long = "type", value_enum)]
    pub section: SectionType,
}

/// Runs `tsmdb inspect encode`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let stdin = std::io::stdin().lock();
    let mut lines = Vec::new();
    for line in stdin.lines() {
        lines.push(line.context("reading standard input")?);
    }
    let section = match encode_lines(args.section, &lines) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("tsmdb: error: {e:#}");
            return Ok(ExitCode::from(1));
        }
    };
    println!("{}", to_hex(&section));
    Ok(ExitCode::SUCCESS)
}

fn parse_each<T>(
    lines: &[String],
    parse: impl Fn(&str) -> Option<T>,
    what: &str,
) -> anyhow::Result<Vec<T>> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            parse(l.trim()).with_context(|| format!("line {}: {:?} is not {what}", i + 1, l))
        })
        .collect()
}

fn encode_lines(section: SectionType, lines: &[String]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    match section {
        SectionType::Timestamp => {
            let v = parse_each(lines, |s| s.parse::<i64>().ok(), "an i64 timestamp")?;
            tsmdb_encoding::encode_timestamps(&v, &mut out)?;
        }
        SectionType::Float => {
            let v = parse_each(lines, parse_float, "a float")?;
            tsmdb_encoding::encode_floats(&v, &mut out)?;
        }
        SectionType::Integer => {
            let v = parse_each(lines, |s| s.parse::<i64>().ok(), "an i64 integer")?;
            tsmdb_encoding::encode_integers(&v, &mut out)?;
        }
        SectionType::Unsigned => {
            let v = parse_each(lines, |s| s.parse::<u64>().ok(), "a u64 integer")?;
            tsmdb_encoding::encode_unsigned(&v, &mut out)?;
        }
        SectionType::Boolean => {
            let v = parse_each(
                lines,
                |s| match s {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                },
                "true or false",
            )?;
            tsmdb_encoding::encode_booleans(&v, &mut out)?;
        }
        SectionType::String => {
            let v = parse_each(
                lines,
                |s| serde_json::from_str::<String>(s).ok(),
                "a JSON string",
            )?;
            let column: StringColumn = v.iter().map(|s| s.as_bytes()).collect();
            tsmdb_encoding::encode_strings(column.as_slice(), &mut out)?;
        }
    }
    Ok(out)
}

/// Float text: Rust's syntax plus Go's `+Inf`/`-Inf`; `bits:0x...` gives exact bits.
fn parse_float(s: &str) -> Option<f64> {
    if let Some(hex) = s.strip_prefix("bits:0x") {
        return u64::from_str_radix(hex, 16).ok().map(f64::from_bits);
    }
    s.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_parse_go_spellings() {
        assert_eq!(parse_float("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_float("1e+06"), Some(1e6));
        assert_eq!(
            parse_float("-0").map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
        assert_eq!(parse_float("bits:0x3ff0000000000000"), Some(1.0));
        assert_eq!(parse_float("x"), None);
    }

    #[test]
    fn a_bad_line_is_named() {
        let err = encode_lines(SectionType::Integer, &["1".into(), "x".into()]).unwrap_err();
        assert!(err.to_string().starts_with("line 2:"), "{err}");
    }
}
