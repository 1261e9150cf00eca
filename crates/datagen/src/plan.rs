//! Schema → plan: tag value lists, one [`FieldSpec`] per (block, field), checks across blocks
//! (spec §4.1). File tags are read here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tsmdb_encoding::FieldType;

use crate::escape::{escape_measurement, escape_tag};
use crate::schema::{FieldSource, Location, Schema, SchemaError, TagSource, Timing};
use crate::time::{FieldTimes, TimeRange, field_times};

/// Most tag combinations one block may have (combination indexes are `u64`).
const MAX_COMBINATIONS: u128 = 1 << 62;

/// The sorted tags of one block and their sorted value lists.
#[derive(Debug, Clone, PartialEq)]
pub struct TagSet {
    /// Tag keys, ascending.
    pub keys: Vec<String>,
    /// Values of each key, ascending and distinct.
    pub values: Vec<Vec<String>>,
    /// `,key=value` already escaped, per key and value (empty for an empty value, which the
    /// series key omits).
    pub(crate) parts: Vec<Vec<Box<[u8]>>>,
    /// Per key, the product of the value counts of the keys after it.
    pub(crate) strides: Vec<u64>,
    /// Number of combinations (product of the value counts).
    pub combinations: u64,
}

/// Everything needed to produce one (measurement block, field)'s series and values.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpec {
    /// Measurement name (unescaped).
    pub measurement: String,
    /// The measurement escaped for a series key.
    pub(crate) measurement_key: Box<[u8]>,
    /// Index of the block in the schema (the earlier block wins a duplicate pair).
    pub block: usize,
    /// The block's tags.
    pub tags: Arc<TagSet>,
    /// Fraction of combinations emitted.
    pub sample: f64,
    /// Most combinations emitted by this spec.
    pub series_limit: Option<u64>,
    /// Field key.
    pub field: String,
    /// Type of the values.
    pub field_type: FieldType,
    /// Value source.
    pub source: FieldSource,
    /// `count` from the schema.
    pub schema_count: u64,
    /// Time spacing from the schema.
    pub timing: Timing,
    /// The timestamps every series of this field gets.
    pub times: FieldTimes,
}

/// A validated schema with its time range: the input of series walking and value generation.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Specs sorted by measurement name (stable: schema order among equal names), then field name.
    pub specs: Vec<FieldSpec>,
    /// Top-level `series-limit`.
    pub series_limit: Option<u64>,
    /// The time range.
    pub range: TimeRange,
}

impl Plan {
    /// Builds the plan: reads file tags, sorts and checks tags and fields, resolves timestamps.
    pub fn new(schema: &Schema, range: TimeRange) -> Result<Plan, SchemaError> {
        let mut specs = Vec::new();
        for (block_index, block) in schema.measurements.iter().enumerate() {
            let wrap = |e: SchemaError| SchemaError {
                message: format!(
                    "error processing schema: measurement {:?}: {}",
                    block.name, e.message
                ),
                location: e.location,
            };
            let mut tags: Vec<(String, Vec<String>, &Location)> =
                Vec::with_capacity(block.tags.len());
            for tag in &block.tags {
                let values = tag_values(&tag.source, schema.base_dir.as_deref()).map_err(|m| {
                    wrap(SchemaError::new(
                        tag.location.clone(),
                        format!("tag {:?}: {m}", tag.name),
                    ))
                })?;
                tags.push((tag.name.clone(), values, &tag.location));
            }
            tags.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            if let Some(w) = tags.windows(2).find(|w| w[0].0 == w[1].0) {
                return Err(wrap(SchemaError::new(
                    w[1].2.clone(),
                    format!("duplicate tag keys {:?}", w[1].0),
                )));
            }
            let mut combinations: u128 = 1;
            for (_, values, location) in &tags {
                combinations *= values.len() as u128;
                if combinations > MAX_COMBINATIONS {
                    return Err(wrap(SchemaError::new(
                        (*location).clone(),
                        "more than 2^62 tag combinations",
                    )));
                }
            }
            let parts = tags
                .iter()
                .map(|(key, values, _)| {
                    values
                        .iter()
                        .map(|v| {
                            if v.is_empty() {
                                Box::default()
                            } else {
                                let mut part = vec![b','];
                                escape_tag(key.as_bytes(), &mut part);
                                part.push(b'=');
                                escape_tag(v.as_bytes(), &mut part);
                                part.into_boxed_slice()
                            }
                        })
                        .collect()
                })
                .collect();
            let mut strides = vec![1u64; tags.len()];
            for j in (0..tags.len().saturating_sub(1)).rev() {
                strides[j] = strides[j + 1] * tags[j + 1].1.len() as u64;
            }
            let tag_set = Arc::new(TagSet {
                strides,
                keys: tags.iter().map(|t| t.0.clone()).collect(),
                values: tags.into_iter().map(|t| t.1).collect(),
                parts,
                combinations: combinations as u64,
            });
            let mut fields: Vec<_> = block.fields.iter().collect();
            fields.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
            if let Some(w) = fields.windows(2).find(|w| w[0].name == w[1].name) {
                return Err(wrap(SchemaError::new(
                    w[1].location.clone(),
                    format!("duplicate field names {:?}", w[1].name),
                )));
            }
            let mut measurement_key = Vec::new();
            escape_measurement(block.name.as_bytes(), &mut measurement_key);
            let measurement_key: Box<[u8]> = measurement_key.into();
            for field in fields {
                specs.push(FieldSpec {
                    measurement: block.name.clone(),
                    measurement_key: measurement_key.clone(),
                    block: block_index,
                    tags: Arc::clone(&tag_set),
                    sample: block.sample,
                    series_limit: block.series_limit,
                    field: field.name.clone(),
                    field_type: field.source.field_type(),
                    source: field.source.clone(),
                    schema_count: field.count,
                    timing: field.timing,
                    times: field_times(range, field.count, field.timing),
                });
            }
        }
        specs.sort_by(|a, b| a.measurement.as_bytes().cmp(b.measurement.as_bytes()));
        let mut types: HashMap<(&str, &str), (FieldType, usize)> = HashMap::new();
        for (i, spec) in specs.iter().enumerate() {
            let entry = types
                .entry((spec.measurement.as_str(), spec.field.as_str()))
                .or_insert((spec.field_type, i));
            if entry.0 != spec.field_type {
                let first = type_label(entry.0);
                let location = schema.measurements[spec.block]
                    .fields
                    .iter()
                    .find(|f| f.name == spec.field)
                    .map(|f| f.location.clone())
                    .unwrap_or_default();
                return Err(SchemaError::new(
                    location,
                    format!(
                        "error processing schema: field \"{}.{}\" data-type conflict, found {} and {}",
                        spec.measurement,
                        spec.field,
                        first,
                        type_label(spec.field_type)
                    ),
                ));
            }
        }
        Ok(Plan {
            specs,
            series_limit: schema.series_limit,
            range,
        })
    }
}

/// Upstream's type names in conflict messages.
fn type_label(t: FieldType) -> &'static str {
    match t {
        FieldType::Float => "Float",
        FieldType::Integer => "Integer",
        FieldType::Unsigned => "Unsigned",
        FieldType::String => "String",
        FieldType::Boolean => "Boolean",
    }
}

/// The sorted, distinct values of one tag.
fn tag_values(source: &TagSource, base_dir: Option<&Path>) -> Result<Vec<String>, String> {
    let mut values = match source {
        TagSource::Values(v) => v.clone(),
        TagSource::Sequence {
            format,
            start,
            count,
        } => {
            return Ok(sequence_values(format, *start, *count));
        }
        TagSource::File { path } => file_values(path, base_dir)?,
    };
    values.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    values.dedup();
    Ok(values)
}

/// `format` with `%s` replaced by start … start+count−1, zero-padded to the width of the last.
pub fn sequence_values(format: &str, start: u64, count: u64) -> Vec<String> {
    let end = start + count;
    // ⌈log10(end)⌉, which for end ≥ 2 is the number of digits of end − 1 (spec §2.4).
    let width = if end <= 1 {
        0
    } else {
        (end - 1).ilog10() as usize + 1
    };
    let (before, after) = split_format(format);
    (start..end)
        .map(|n| format!("{before}{n:0width$}{after}"))
        .collect()
}

/// The literal text before and after the single `%s`, with `%%` turned into `%`.
fn split_format(format: &str) -> (String, String) {
    let mut before = String::new();
    let mut after = String::new();
    let mut seen = false;
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        let target = if seen { &mut after } else { &mut before };
        if c == '%' {
            match chars.next() {
                Some('s') if !seen => seen = true,
                Some(other) => target.push(other),
                None => target.push('%'),
            }
        } else {
            target.push(c);
        }
    }
    (before, after)
}

/// Expands `$VAR` and `${VAR}` (unset variables become empty, as Go's `os.ExpandEnv`).
fn expand_env(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, next) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], &braced[end + 1..]),
                None => ("", after),
            }
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..len], &after[len..])
        };
        if name.is_empty() && next.len() == after.len() {
            out.push('$');
        } else {
            out.push_str(&std::env::var(name).unwrap_or_default());
        }
        rest = next;
    }
    out.push_str(rest);
    out
}

fn file_values(path: &str, base_dir: Option<&Path>) -> Result<Vec<String>, String> {
    let expanded = PathBuf::from(expand_env(path));
    let resolved = match (expanded.is_absolute(), base_dir) {
        (false, Some(dir)) => dir.join(&expanded),
        _ => expanded,
    };
    let meta =
        std::fs::metadata(&resolved).map_err(|e| format!("error resolving path {path:?}: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "path {path:?} is not a file: resolved to {}",
            resolved.display()
        ));
    }
    let bytes =
        std::fs::read(&resolved).map_err(|e| format!("error reading path {path:?}: {e}"))?;
    let mut values = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let text = std::str::from_utf8(line)
            .map_err(|_| format!("path {path:?}, invalid UTF-8 on line {}", i + 1))?;
        values.push(text.to_string());
    }
    if values.is_empty() {
        return Err(format!("path {path:?}: no values"));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_widths() {
        assert_eq!(
            sequence_values("host-%s", 0, 5),
            ["host-0", "host-1", "host-2", "host-3", "host-4"]
        );
        let v = sequence_values("value%s", 0, 100);
        assert_eq!((v[0].as_str(), v[99].as_str()), ("value00", "value99"));
        let v = sequence_values("value%s", 5, 10);
        assert_eq!((v[0].as_str(), v[9].as_str()), ("value05", "value14"));
        assert_eq!(sequence_values("v%s", 0, 10)[7], "v7");
        assert_eq!(sequence_values("v%s", 0, 11)[7], "v07");
        assert_eq!(sequence_values("v%s", 0, 1), ["v0"]);
        assert_eq!(sequence_values("%%%s%%", 0, 1), ["%0%"]);
        assert!(sequence_values("v%s", 0, 0).is_empty());
    }

    #[test]
    fn env_expansion() {
        // PATH is set in every environment the tests run in; nothing here changes it.
        let path = std::env::var("PATH").unwrap_or_default();
        assert_eq!(expand_env("$PATH/x"), format!("{path}/x"));
        assert_eq!(expand_env("${PATH}x"), format!("{path}x"));
        assert_eq!(expand_env("a$"), "a$");
        assert_eq!(expand_env("$TSMDB_SURELY_UNSET_VARIABLE/x"), "/x");
    }

    #[test]
    fn file_tags_sort_dedupe_and_report_lines() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("r.txt"), "b\r\na\n\nb\nc").unwrap();
        assert_eq!(
            file_values("r.txt", Some(dir.path())).map(|mut v| {
                v.sort();
                v.dedup();
                v
            }),
            Ok(vec!["a".into(), "b".into(), "c".into()])
        );
        std::fs::write(dir.path().join("bad.txt"), b"ok\n\xff\n").unwrap();
        assert_eq!(
            file_values("bad.txt", Some(dir.path())),
            Err("path \"bad.txt\", invalid UTF-8 on line 2".into())
        );
        std::fs::write(dir.path().join("empty.txt"), "\n\n").unwrap();
        assert!(
            file_values("empty.txt", Some(dir.path()))
                .unwrap_err()
                .contains("no values")
        );
        assert!(
            file_values("missing.txt", Some(dir.path()))
                .unwrap_err()
                .starts_with("error resolving path")
        );
        assert!(
            file_values(".", Some(dir.path()))
                .unwrap_err()
                .contains("is not a file")
        );
    }
}
