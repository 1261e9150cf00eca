//! `generate simple`: the schema template of spec §3.2 filled from `--t` and `--p`.

use std::fmt::Write as _;

use crate::schema::{Schema, SchemaError, parse_schema};

/// Default `--t`.
pub const DEFAULT_CARDINALITIES: [u64; 3] = [10, 10, 10];
/// Default `--p`.
pub const DEFAULT_POINTS: u64 = 100;

/// The schema text `simple` builds: one measurement `m0`, tag `tag<j>` with `t[j]` sequence
/// values each, one Float field `v0` (constant 1.0) with `points` values, `sample = 1.0`.
pub fn simple_schema_text(cardinalities: &[u64], points: u64) -> String {
    let mut text = String::from(
        "title = \"CLI schema\"\n\n[[measurements]]\nname = \"m0\"\nsample = 1.0\ntags = [\n",
    );
    for (j, count) in cardinalities.iter().enumerate() {
        let _ = writeln!(
            text,
            "\t{{ name = \"tag{j}\", source = {{ type = \"sequence\", format = \"value%s\", start = 0, count = {count} }} }},"
        );
    }
    let _ = write!(
        text,
        "]\nfields = [\n\t{{ name = \"v0\", count = {points}, source = 1.0 }},\n]\n"
    );
    text
}

/// Parses `--t` (`10,10,10`): comma-separated non-negative integers.
pub fn parse_cardinalities(text: &str) -> Result<Vec<u64>, String> {
    text.split(',')
        .map(|s| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("cannot parse tag cardinality: {s}"))
        })
        .collect()
}

/// The decoded `simple` schema (file tags and relative paths do not occur).
pub fn simple_schema(cardinalities: &[u64], points: u64) -> Result<Schema, SchemaError> {
    parse_schema(&simple_schema_text(cardinalities, points), "<simple>", None)
}
