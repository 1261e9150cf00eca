//! `tsmdb delete`: delete the values of a measurement's series, chosen by a tag condition and a
//! time range, from the data directory.
//!
//! The flags become one InfluxQL `DELETE FROM … WHERE …` statement run by `tsmdb_query`, so the
//! condition language and its checks are exactly those of `tsmdb query`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args as ClapArgs;
use tsmdb_engine::{Engine, Options};
use tsmdb_query::{StatementResult, execute, parse_rfc3339};

use crate::open::{Missing, open};

/// Arguments of `tsmdb delete`.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Examples:\n  \
    tsmdb delete --measurement cpu\n  \
    tsmdb delete --measurement cpu --where \"hostname = 'host_1'\" --start 2016-01-01T00:00:00Z --end 2016-01-02T00:00:00Z")]
pub struct Args {
    /// Database to delete from.
    #[arg(long, default_value = "db")]
    pub database: String,
    /// Measurement whose series are deleted.
    #[arg(long)]
    pub measurement: String,
    /// Tag condition in InfluxQL (e.g. `hostname = 'a' OR region =~ /eu-.*/`); default: all series.
    #[arg(long = "where", value_name = "CONDITION")]
    pub condition: Option<String>,
    /// First time deleted (inclusive): RFC 3339 or nanoseconds since the epoch.
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,
    /// End of the deleted range (exclusive): RFC 3339 or nanoseconds since the epoch.
    #[arg(long, value_name = "TIME")]
    pub end: Option<String>,
}

/// Runs `tsmdb delete`.
pub fn run(args: Args, db: &Path) -> anyhow::Result<ExitCode> {
    let measurement = quote_ident(&args.measurement);
    let mut conditions = Vec::new();
    if let Some(c) = &args.condition {
        if c.trim().is_empty() {
            bail!("--where is empty");
        }
        conditions.push(format!("({c})"));
    }
    if let Some(t) = &args.start {
        conditions.push(format!("time >= {}", time_literal("--start", t)?));
    }
    if let Some(t) = &args.end {
        conditions.push(format!("time < {}", time_literal("--end", t)?));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let tags_only = match &args.condition {
        Some(c) => format!(" WHERE {c}"),
        None => String::new(),
    };
    let engine = open(db, Options::default(), Missing::Fail)?;
    if !engine.databases().contains(&args.database) {
        bail!(
            "database {:?} does not exist in {}",
            args.database,
            db.display()
        );
    }
    // The series the condition selects: what the delete touches.
    let show = format!("SHOW SERIES FROM {measurement}{tags_only}");
    let matched = one(&engine, &args.database, &show)?
        .series
        .iter()
        .map(|s| s.values.len() as u64)
        .sum::<u64>();
    let statement = format!("DELETE FROM {measurement}{filter}");
    one(&engine, &args.database, &statement)?;
    engine
        .close()
        .with_context(|| format!("closing {}", db.display()))?;
    eprintln!("tsmdb: {statement}: {matched} series touched");
    Ok(ExitCode::SUCCESS)
}

/// Runs one statement; its error is this command's error.
fn one(engine: &Engine, database: &str, text: &str) -> anyhow::Result<StatementResult> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    let mut results = execute(engine, database, text, now).with_context(|| text.to_string())?;
    if results.len() != 1 {
        bail!("{text}: expected one statement, found {}", results.len());
    }
    let result = results.remove(0);
    if let Some(e) = &result.error {
        bail!("{text}: {e}");
    }
    Ok(result)
}

/// A double-quoted InfluxQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A time as an InfluxQL literal: nanoseconds stay an integer, RFC 3339 becomes a string.
fn time_literal(flag: &str, t: &str) -> anyhow::Result<String> {
    if let Ok(ns) = t.parse::<i64>() {
        return Ok(ns.to_string());
    }
    if parse_rfc3339(t).is_none() {
        bail!("{flag} {t:?}: not RFC 3339 (2020-01-01T00:00:00Z) nor nanoseconds since the epoch");
    }
    Ok(format!("'{t}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_and_escaped() {
        assert_eq!(quote_ident("cpu"), "\"cpu\"");
        assert_eq!(quote_ident("a\"b"), "\"a\\\"b\"");
    }

    #[test]
    fn times_are_integers_or_rfc3339_strings() {
        assert_eq!(time_literal("--start", "-5").unwrap(), "-5");
        assert_eq!(
            time_literal("--start", "2020-01-01T00:00:00Z").unwrap(),
            "'2020-01-01T00:00:00Z'"
        );
        let err = time_literal("--end", "yesterday").unwrap_err().to_string();
        assert!(err.contains("--end") && err.contains("yesterday"), "{err}");
    }
}
