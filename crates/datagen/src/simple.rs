//! `generate simple`: the schema template of spec §3.2 filled from `--t` and `--p`.

use std::fmt::Write as _;

use crate::schema::{Schema, SchemaError, parse_schema};

/// The documented schema that `generate help-schema` prints (spec §3.1).
pub const HELP_SCHEMA: &str = include_str!("help_schema.toml");

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Plan, PlanSummary, TimeRange};

    #[test]
    fn simple_schema_has_product_of_cardinalities_series() {
        let schema = simple_schema(&[10, 10, 10], 100).unwrap();
        let plan = Plan::new(
            &schema,
            TimeRange {
                start: 0,
                end: 7 * 86_400_000_000_000,
            },
        )
        .unwrap();
        let s = PlanSummary::new(&plan);
        assert_eq!(s.total(|m| m.series), 1000);
        assert_eq!(s.total(|m| m.points), 100_000);
        assert_eq!(plan.specs[0].times.delta, 6048 * 1_000_000_000);
    }

    #[test]
    fn cardinalities_parse() {
        assert_eq!(parse_cardinalities("10,2, 3"), Ok(vec![10, 2, 3]));
        assert_eq!(
            parse_cardinalities("10,x"),
            Err("cannot parse tag cardinality: x".into())
        );
        assert!(parse_cardinalities("").is_err());
    }

    #[test]
    fn help_schema_is_the_documented_example_and_parses() {
        let example = include_str!("../../../examples/schemas/documented.toml");
        assert_eq!(HELP_SCHEMA, example);
        let schema = parse_schema(HELP_SCHEMA, "help", None).unwrap();
        assert!(schema.warnings.is_empty());
        assert_eq!(schema.measurements.len(), 2);
    }
}
