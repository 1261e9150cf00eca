//! TOML text to [`Schema`]: every key checked, every error with its line.
//!
//! We walk toml's spanned document tree (`DeTable`) by hand instead of deriving `Deserialize`:
//! the schema's keys are case-insensitive at the top, sources are untyped (`2.5`, `[1, 2]` or a
//! table), unknown keys must become warnings, and each message needs the exact location.

use std::ops::Range;
use std::path::PathBuf;

use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use super::{
    FieldDef, FieldSource, Literals, Location, MeasurementBlock, Schema, SchemaError, TagDef,
    TagSource, Timing, Warning,
};
use crate::duration::{parse_go_duration, parse_precision};

type Result<T> = std::result::Result<T, SchemaError>;

/// Most values one sequence tag may have. **tsmdb:** upstream has no limit and allocates them
/// all; we refuse rather than exhaust memory (a product of tags still reaches 2^62 series).
pub const MAX_SEQUENCE_COUNT: u64 = 10_000_000;

/// Reads and parses a schema file; relative `file` tags resolve against its directory.
pub fn read_schema_file(path: &std::path::Path) -> Result<Schema> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        SchemaError::new(
            Location {
                source: name.clone(),
                ..Location::default()
            },
            format!("cannot read schema: {e}"),
        )
    })?;
    let base = path.parent().map(|p| {
        if p.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            p.to_path_buf()
        }
    });
    parse_schema(&text, &name, base)
}

/// Parses schema text. `source_name` names it in messages; `base_dir` resolves relative file tags.
pub fn parse_schema(text: &str, source_name: &str, base_dir: Option<PathBuf>) -> Result<Schema> {
    let mut ctx = Ctx {
        text,
        source: source_name,
        warnings: Vec::new(),
    };
    let root = DeTable::parse(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let message = e.message().trim().to_string();
        SchemaError::new(
            ctx.loc(offset..offset, ""),
            format!("invalid TOML: {message}"),
        )
    })?;
    let mut schema = Schema {
        title: String::new(),
        version: String::new(),
        series_limit: None,
        measurements: Vec::new(),
        warnings: Vec::new(),
        base_dir,
        source_name: source_name.to_string(),
    };
    for (key, value) in root.get_ref().iter() {
        let name = key.get_ref().to_lowercase();
        let path = key.get_ref().to_string();
        match name.as_str() {
            "title" => schema.title = ctx.string(value, &path)?,
            "version" => schema.version = ctx.string(value, &path)?,
            "series-limit" => {
                schema.series_limit = Some(ctx.limit(value, &path, "series-limit")?)
            }
            "measurements" => {
                for (i, item) in ctx.tables(value, &path)?.into_iter().enumerate() {
                    let block = ctx.measurement(item, &format!("{path}[{i}]"))?;
                    schema.measurements.push(block);
                }
            }
            _ => ctx.unknown(key, &path),
        }
    }
    schema.warnings = ctx.warnings;
    // The document tree is a sorted map; report in file order.
    schema
        .warnings
        .sort_by_key(|w| (w.location.line, w.location.column));
    Ok(schema)
}

struct Ctx<'a> {
    text: &'a str,
    source: &'a str,
    warnings: Vec<Warning>,
}

type Value<'i> = Spanned<DeValue<'i>>;

/// The TOML type name used in messages.
fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "string",
        DeValue::Integer(_) => "integer",
        DeValue::Float(_) => "float",
        DeValue::Boolean(_) => "boolean",
        DeValue::Datetime(_) => "datetime",
        DeValue::Array(_) => "array",
        DeValue::Table(_) => "table",
    }
}

fn as_i64(value: &DeValue<'_>) -> Option<i64> {
    let DeValue::Integer(i) = value else {
        return None;
    };
    let digits: String = i.as_str().chars().filter(|&c| c != '_').collect();
    i64::from_str_radix(&digits, i.radix()).ok()
}

fn as_f64(value: &DeValue<'_>) -> Option<f64> {
    match value {
        DeValue::Float(f) => {
            let text: String = f.as_str().chars().filter(|&c| c != '_').collect();
            text.parse().ok()
        }
        DeValue::Integer(_) => as_i64(value).map(|i| i as f64),
        _ => None,
    }
}

/// Upstream's lenient integer conversion (sequence start/count, field count): an integer, a
/// float (truncated) or a numeric string.
fn to_int(value: &DeValue<'_>) -> Option<i64> {
    match value {
        DeValue::Integer(_) => as_i64(value),
        DeValue::Float(_) => as_f64(value)
            .filter(|f| f.is_finite() && *f > i64::MIN as f64 && *f < i64::MAX as f64)
            .map(|f| f as i64),
        DeValue::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && *f > i64::MIN as f64 && *f < i64::MAX as f64)
                    .map(|f| f as i64)
            })
        }
        _ => None,
    }
}

impl<'a> Ctx<'a> {
    fn loc(&self, span: Range<usize>, path: &str) -> Location {
        Location::at(self.source, self.text, span.start, path.to_string())
    }

    fn err<T>(
        &self,
        value_span: Range<usize>,
        path: &str,
        message: impl Into<String>,
    ) -> Result<T> {
        Err(SchemaError::new(self.loc(value_span, path), message))
    }

    fn unknown(&mut self, key: &Spanned<std::borrow::Cow<'_, str>>, path: &str) {
        let location = self.loc(key.span(), path);
        self.warnings.push(Warning {
            location,
            message: format!("unknown key {:?} ignored", key.get_ref().as_ref()),
        });
    }

    fn string(&self, value: &Value<'_>, path: &str) -> Result<String> {
        match value.get_ref() {
            DeValue::String(s) => Ok(s.to_string()),
            other => self.err(
                value.span(),
                path,
                format!("expected a string, found {}", type_name(other)),
            ),
        }
    }

    /// A `series-limit`: a TOML integer ≥ 0.
    fn limit(&self, value: &Value<'_>, path: &str, key: &str) -> Result<u64> {
        match value.get_ref() {
            DeValue::Integer(_) => match as_i64(value.get_ref()) {
                Some(n) if n >= 0 => Ok(n as u64),
                Some(_) => self.err(value.span(), path, format!("{key}: must be ≥ 0")),
                None => self.err(value.span(), path, format!("{key}: invalid value")),
            },
            other => self.err(
                value.span(),
                path,
                format!(
                    "{key}: invalid value (expected an integer, found {})",
                    type_name(other)
                ),
            ),
        }
    }

    /// An array whose elements are all tables (inline or `[[…]]`).
    fn tables<'v, 'i>(
        &self,
        value: &'v Value<'i>,
        path: &str,
    ) -> Result<Vec<(&'v DeTable<'i>, Range<usize>)>> {
        let DeValue::Array(items) = value.get_ref() else {
            return self.err(
                value.span(),
                path,
                format!(
                    "expected an array of tables, found {}",
                    type_name(value.get_ref())
                ),
            );
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item.get_ref() {
                DeValue::Table(t) => out.push((t, item.span())),
                other => {
                    return self.err(
                        item.span(),
                        &format!("{path}[{i}]"),
                        format!("expected a table, found {}", type_name(other)),
                    );
                }
            }
        }
        Ok(out)
    }

    fn measurement(
        &mut self,
        (table, span): (&DeTable<'_>, Range<usize>),
        path: &str,
    ) -> Result<MeasurementBlock> {
        let mut block = MeasurementBlock {
            name: String::new(),
            sample: 0.5,
            series_limit: None,
            tags: Vec::new(),
            fields: Vec::new(),
            location: self.loc(span.clone(), path),
        };
        for (key, value) in table.iter() {
            let key_path = format!("{path}.{}", key.get_ref());
            match key.get_ref().to_lowercase().as_str() {
                "name" => block.name = self.string(value, &key_path)?,
                "sample" => block.sample = self.sample(value, &key_path)?,
                "series-limit" => {
                    block.series_limit = Some(self.limit(value, &key_path, "series-limit")?)
                }
                "tags" => {
                    for (i, item) in self.tables(value, &key_path)?.into_iter().enumerate() {
                        let tag = self.tag(item, &format!("{key_path}[{i}]"))?;
                        block.tags.push(tag);
                    }
                }
                "fields" => {
                    for (i, item) in self.tables(value, &key_path)?.into_iter().enumerate() {
                        let field = self.field(item, &format!("{key_path}[{i}]"))?;
                        block.fields.push(field);
                    }
                }
                _ => self.unknown(key, &key_path),
            }
        }
        if block.name.is_empty() {
            return self.err(span, path, "missing measurement name");
        }
        Ok(block)
    }

    fn sample(&self, value: &Value<'_>, path: &str) -> Result<f64> {
        match value.get_ref() {
            DeValue::Float(_) => match as_f64(value.get_ref()) {
                Some(x) if x > 0.0 && x <= 1.0 => Ok(x),
                _ => self.err(value.span(), path, "sample: must be 0 < sample ≤ 1.0"),
            },
            other => self.err(
                value.span(),
                path,
                format!("sample: must be a float, found {}", type_name(other)),
            ),
        }
    }

    /// `name` of a tag or field: a non-empty string.
    fn item_name(
        &self,
        table: &DeTable<'_>,
        span: &Range<usize>,
        path: &str,
        what: &str,
    ) -> Result<String> {
        match table.get("name").map(|v| (v.get_ref(), v.span())) {
            Some((DeValue::String(s), _)) if !s.is_empty() => Ok(s.to_string()),
            Some((_, value_span)) => self.err(
                value_span,
                &format!("{path}.name"),
                format!("{what}: missing or invalid value for name"),
            ),
            None => self.err(
                span.clone(),
                path,
                format!("{what}: missing or invalid value for name"),
            ),
        }
    }

    fn tag(&mut self, (table, span): (&DeTable<'_>, Range<usize>), path: &str) -> Result<TagDef> {
        let name = self.item_name(table, &span, path, "tag")?;
        for (key, _) in table.iter() {
            if !matches!(key.get_ref().as_ref(), "name" | "source") {
                self.unknown(key, &format!("{path}.{}", key.get_ref()));
            }
        }
        let Some(source) = table.get("source") else {
            return self.err(span, path, format!("missing source for tag {name:?}"));
        };
        let source_path = format!("{path}.source");
        let source = match source.get_ref() {
            DeValue::Array(items) => {
                TagSource::Values(self.tag_array(items, source, &source_path, &name)?)
            }
            DeValue::Table(t) => self.tag_generator(t, source.span(), &source_path)?,
            DeValue::Datetime(_) => {
                return self.err(
                    source.span(),
                    &source_path,
                    format!("invalid source for tag {name:?}: datetime"),
                );
            }
            scalar => match scalar_to_string(scalar) {
                Some(s) => TagSource::Values(vec![s]),
                None => {
                    return self.err(
                        source.span(),
                        &source_path,
                        format!("invalid source for tag {name:?}: {}", type_name(scalar)),
                    );
                }
            },
        };
        Ok(TagDef {
            name,
            source,
            location: self.loc(span, path),
        })
    }

    fn tag_array(
        &self,
        items: &DeArray<'_>,
        whole: &Value<'_>,
        path: &str,
        name: &str,
    ) -> Result<Vec<String>> {
        if items.is_empty() {
            return self.err(whole.span(), path, "empty array source");
        }
        self.check_homogeneous(items, path)?;
        let mut values = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match scalar_to_string(item.get_ref()) {
                Some(s) => values.push(s),
                None => {
                    return self.err(
                        item.span(),
                        &format!("{path}[{i}]"),
                        format!(
                            "invalid source for tag {name:?}: array of {}",
                            type_name(item.get_ref())
                        ),
                    );
                }
            }
        }
        Ok(values)
    }

    fn check_homogeneous(&self, items: &DeArray<'_>, path: &str) -> Result<()> {
        let Some(first) = items.first() else {
            return Ok(());
        };
        for (i, item) in items.iter().enumerate() {
            if type_name(item.get_ref()) != type_name(first.get_ref()) {
                return self.err(
                    item.span(),
                    &format!("{path}[{i}]"),
                    "array source: mixed element types",
                );
            }
        }
        Ok(())
    }

    fn generator_type(
        &self,
        table: &DeTable<'_>,
        span: &Range<usize>,
        path: &str,
    ) -> Result<String> {
        match table.get("type") {
            Some(v) => match v.get_ref() {
                DeValue::String(s) => Ok(s.to_string()),
                other => self.err(
                    v.span(),
                    &format!("{path}.type"),
                    format!("invalid type field {:?}", type_name(other)),
                ),
            },
            None => self.err(span.clone(), path, "missing type field"),
        }
    }

    fn warn_unknown(&mut self, table: &DeTable<'_>, path: &str, known: &[&str]) {
        for (key, _) in table.iter() {
            if !known.contains(&key.get_ref().as_ref()) {
                self.unknown(key, &format!("{path}.{}", key.get_ref()));
            }
        }
    }

    fn tag_generator(
        &mut self,
        table: &DeTable<'_>,
        span: Range<usize>,
        path: &str,
    ) -> Result<TagSource> {
        let kind = self.generator_type(table, &span, path)?;
        match kind.as_str() {
            "sequence" => {
                self.warn_unknown(table, path, &["type", "format", "start", "count"]);
                let format = match table.get("format") {
                    Some(v) => self.string(v, &format!("{path}.format"))?,
                    None => "value%s".to_string(),
                };
                if !valid_sequence_format(&format) {
                    let v = table.get("format").map_or(span.clone(), |v| v.span());
                    return self.err(
                        v,
                        &format!("{path}.format"),
                        "tag.sequence: format must contain %s exactly once",
                    );
                }
                let start = match table.get("start") {
                    Some(v) => {
                        match to_int(v.get_ref()) {
                            Some(n) if n >= 0 => n as u64,
                            Some(_) => {
                                return self.err(
                                    v.span(),
                                    &format!("{path}.start"),
                                    "tag.sequence: start must be ≥ 0",
                                );
                            }
                            None => {
                                return self.err(
                                v.span(),
                                &format!("{path}.start"),
                                format!("tag.sequence: invalid start, expected an integer, found {}", type_name(v.get_ref())),
                            );
                            }
                        }
                    }
                    None => 0,
                };
                let count = match table.get("count") {
                    Some(v) => {
                        match to_int(v.get_ref()) {
                            Some(n) if n >= 0 => n as u64,
                            Some(_) => {
                                return self.err(
                                    v.span(),
                                    &format!("{path}.count"),
                                    "tag.sequence: count must be ≥ 0",
                                );
                            }
                            None => {
                                return self.err(
                                v.span(),
                                &format!("{path}.count"),
                                format!("tag.sequence: invalid count, expected an integer, found {}", type_name(v.get_ref())),
                            );
                            }
                        }
                    }
                    None => return self.err(span, path, "tag.sequence: missing count"),
                };
                if count > MAX_SEQUENCE_COUNT {
                    let v = table.get("count").map_or(span.clone(), |v| v.span());
                    return self.err(
                        v,
                        &format!("{path}.count"),
                        format!("tag.sequence: count must be ≤ {MAX_SEQUENCE_COUNT} (every value is held in memory)"),
                    );
                }
                if start
                    .checked_add(count)
                    .is_none_or(|end| end > i64::MAX as u64)
                {
                    return self.err(span, path, "tag.sequence: start + count is too large");
                }
                Ok(TagSource::Sequence {
                    format,
                    start,
                    count,
                })
            }
            "file" => {
                self.warn_unknown(table, path, &["type", "path"]);
                match table.get("path") {
                    Some(v) => Ok(TagSource::File {
                        path: self.string(v, &format!("{path}.path"))?,
                    }),
                    None => self.err(span, path, "file: missing path"),
                }
            }
            other => {
                let v = table.get("type").map_or(span, |v| v.span());
                self.err(
                    v,
                    &format!("{path}.type"),
                    format!("invalid type field {other:?}"),
                )
            }
        }
    }

    fn field(
        &mut self,
        (table, span): (&DeTable<'_>, Range<usize>),
        path: &str,
    ) -> Result<FieldDef> {
        let name = self.item_name(table, &span, path, "field")?;
        self.warn_unknown(
            table,
            path,
            &["name", "count", "time-precision", "time-interval", "source"],
        );
        let count = match table.get("count") {
            Some(v) => match to_int(v.get_ref()) {
                Some(n) if n > 0 => n as u64,
                Some(_) => {
                    return self.err(
                        v.span(),
                        &format!("{path}.count"),
                        "field: count must be > 0",
                    );
                }
                None => {
                    return self.err(
                        v.span(),
                        &format!("{path}.count"),
                        format!(
                            "field: invalid count, expected an integer, found {}",
                            type_name(v.get_ref())
                        ),
                    );
                }
            },
            None => return self.err(span, path, "field: missing value for count"),
        };
        let mut timing = Timing::Precision(1_000_000);
        if let Some(v) = table.get("time-precision") {
            let p = format!("{path}.time-precision");
            let text = self.string(v, &p)?;
            match parse_precision(&text) {
                Some(ns) => timing = Timing::Precision(ns),
                None => {
                    return self.err(
                        v.span(),
                        &p,
                        format!("invalid precision, expect one of (ns, ms, s, m, h): {text}"),
                    );
                }
            }
        }
        if let Some(v) = table.get("time-interval") {
            let p = format!("{path}.time-interval");
            let text = self.string(v, &p)?;
            match parse_go_duration(&text) {
                Ok(ns) if ns > 0 => timing = Timing::Interval(ns),
                Ok(_) => {
                    return self.err(
                        v.span(),
                        &p,
                        format!("field {name:?}: time-interval must be > 0"),
                    );
                }
                Err(e) => {
                    return self.err(
                        v.span(),
                        &p,
                        format!("field {name:?}: invalid time-interval {text:?}: {e}"),
                    );
                }
            }
        }
        let Some(source) = table.get("source") else {
            return self.err(span, path, format!("missing source for field {name:?}"));
        };
        let source = self.field_source(source, &format!("{path}.source"), &name)?;
        Ok(FieldDef {
            name,
            count,
            timing,
            source,
            location: self.loc(span, path),
        })
    }

    fn field_source(&mut self, source: &Value<'_>, path: &str, name: &str) -> Result<FieldSource> {
        let span = source.span();
        match source.get_ref() {
            DeValue::Float(_) => Ok(FieldSource::Cycle(Literals::Float(vec![
                self.float(source, path)?,
            ]))),
            DeValue::Integer(_) => Ok(FieldSource::Cycle(Literals::Integer(vec![
                self.integer(source, path)?,
            ]))),
            DeValue::String(s) => Ok(FieldSource::Cycle(Literals::String(vec![s.to_string()]))),
            DeValue::Boolean(b) => Ok(FieldSource::Cycle(Literals::Boolean(vec![*b]))),
            DeValue::Array(items) => {
                if items.is_empty() {
                    return self.err(span, path, "empty array");
                }
                self.check_homogeneous(items, path)?;
                let first = items.first().map(|v| v.get_ref());
                let literals = match first {
                    Some(DeValue::Float(_)) => Literals::Float(
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, v)| self.float(v, &format!("{path}[{i}]")))
                            .collect::<Result<_>>()?,
                    ),
                    Some(DeValue::Integer(_)) => Literals::Integer(
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, v)| self.integer(v, &format!("{path}[{i}]")))
                            .collect::<Result<_>>()?,
                    ),
                    Some(DeValue::String(_)) => Literals::String(
                        items
                            .iter()
                            .map(|v| match v.get_ref() {
                                DeValue::String(s) => s.to_string(),
                                _ => String::new(),
                            })
                            .collect(),
                    ),
                    Some(DeValue::Boolean(_)) => Literals::Boolean(
                        items
                            .iter()
                            .map(|v| matches!(v.get_ref(), DeValue::Boolean(true)))
                            .collect(),
                    ),
                    Some(other) => {
                        let t = match other {
                            DeValue::Table(_) => "[]map[string]interface {}",
                            DeValue::Datetime(_) => "[]time.Time",
                            _ => "[]interface {}",
                        };
                        return self.err(
                            span,
                            path,
                            format!(
                                "unsupported field source data type: {t} ({} elements)",
                                type_name(other)
                            ),
                        );
                    }
                    None => return self.err(span, path, "empty array"),
                };
                Ok(FieldSource::Cycle(literals))
            }
            DeValue::Table(t) => self.field_generator(t, span, path),
            DeValue::Datetime(_) => self.err(
                span,
                path,
                format!("invalid source for tag {name:?}: datetime"),
            ),
        }
    }

    /// A finite number (integers accepted): NaN and infinities cannot be stored or written as
    /// line protocol.
    fn float(&self, value: &Value<'_>, path: &str) -> Result<f64> {
        match as_f64(value.get_ref()) {
            Some(f) if f.is_finite() => Ok(f),
            Some(f) => self.err(
                value.span(),
                path,
                format!("expected a finite number, found {f}"),
            ),
            None => self.err(
                value.span(),
                path,
                format!("expected a number, found {}", type_name(value.get_ref())),
            ),
        }
    }

    fn integer(&self, value: &Value<'_>, path: &str) -> Result<i64> {
        match as_i64(value.get_ref()) {
            Some(i) => Ok(i),
            None => self.err(
                value.span(),
                path,
                format!(
                    "expected a 64-bit integer, found {}",
                    type_name(value.get_ref())
                ),
            ),
        }
    }

    fn field_generator(
        &mut self,
        table: &DeTable<'_>,
        span: Range<usize>,
        path: &str,
    ) -> Result<FieldSource> {
        let kind = self.generator_type(table, &span, path)?;
        let seed = match table.get("seed") {
            Some(v) => self.integer(v, &format!("{path}.seed"))?,
            None => 0,
        };
        match kind.as_str() {
            "rand<float>" => {
                self.warn_unknown(table, path, &["type", "seed", "min", "max"]);
                let min = match table.get("min") {
                    Some(v) => self.float(v, &format!("{path}.min"))?,
                    None => 0.0,
                };
                let max = match table.get("max") {
                    Some(v) => self.float(v, &format!("{path}.max"))?,
                    None => 1.0,
                };
                if min > max || !min.is_finite() || !max.is_finite() {
                    return self.err(span, path, "rand<float>: min ≤ max");
                }
                Ok(FieldSource::RandFloat { seed, min, max })
            }
            "zipf<integer>" => {
                self.warn_unknown(table, path, &["type", "seed", "s", "v", "imax"]);
                let s = match table.get("s") {
                    Some(v) => self.float(v, &format!("{path}.s"))?,
                    None => return self.err(span, path, "zipf<integer>: missing value for s"),
                };
                if s.is_nan() || s <= 1.0 {
                    return self.err(
                        table.get("s").map_or(span.clone(), |v| v.span()),
                        &format!("{path}.s"),
                        "zipf<integer>: invalid value for s (s > 1)",
                    );
                }
                let v = match table.get("v") {
                    Some(v) => self.float(v, &format!("{path}.v"))?,
                    None => return self.err(span, path, "zipf<integer>: missing value for v"),
                };
                if v.is_nan() || v < 1.0 {
                    return self.err(
                        table.get("v").map_or(span.clone(), |v| v.span()),
                        &format!("{path}.v"),
                        "zipf<integer>: invalid value for v (v ≥ 1)",
                    );
                }
                let imax = match table.get("imax") {
                    Some(x) => match as_i64(x.get_ref()) {
                        Some(n) if n >= 0 => n as u64,
                        _ => {
                            return self.err(
                                x.span(),
                                &format!("{path}.imax"),
                                "zipf<integer>: invalid value for imax (an integer ≥ 0)",
                            );
                        }
                    },
                    None => return self.err(span, path, "zipf<integer>: missing value for imax"),
                };
                Ok(FieldSource::Zipf { seed, s, v, imax })
            }
            other => {
                let v = table.get("type").map_or(span, |v| v.span());
                self.err(
                    v,
                    &format!("{path}.type"),
                    format!("invalid type field {other:?}"),
                )
            }
        }
    }
}

/// A scalar tag source as the tag value upstream would print.
fn scalar_to_string(value: &DeValue<'_>) -> Option<String> {
    match value {
        DeValue::String(s) => Some(s.to_string()),
        DeValue::Integer(_) => as_i64(value).map(|i| i.to_string()),
        DeValue::Float(_) => as_f64(value).map(crate::lp::format_float),
        DeValue::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `%s` exactly once; `%%` is a literal percent; any other `%` is rejected.
fn valid_sequence_format(format: &str) -> bool {
    let mut verbs = 0;
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some('%') => {}
                Some('s') => verbs += 1,
                _ => return false,
            }
        }
    }
    verbs == 1
}

#[cfg(test)]
mod tests;
