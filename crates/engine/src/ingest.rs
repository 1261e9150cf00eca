//! Turning points (parsed line protocol or typed [`Point`]s) into a [`Batch`]: the checks
//! InfluxDB makes before a write (tsm-format.md §9.1, §12.5), with every refusal recorded.

use std::borrow::Cow;

use tsmdb_encoding::{Column, FieldType};
use tsmdb_lineproto::{
    FieldValue as LineValue, MAX_TIME, MIN_TIME, append_composite_key, append_series_key,
};

use crate::batch::{Batch, NewSeries, Rejection};
use crate::database::Database;
use crate::error::Result;
use crate::options::Options;
use crate::point::{FieldValue, Point};

/// An unescaped tag key and value, borrowed when they had no escapes.
type CowPair<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

/// The separator of composite keys, which keys of ours must not contain (§12.5 Q2).
const SEPARATOR: &[u8] = b"#!~#";

/// One field value, borrowed from whichever input it came from.
pub(crate) enum ValueRef<'v> {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    Boolean(bool),
    String(Cow<'v, [u8]>),
}

impl ValueRef<'_> {
    fn field_type(&self) -> FieldType {
        match self {
            ValueRef::Float(_) => FieldType::Float,
            ValueRef::Integer(_) => FieldType::Integer,
            ValueRef::Unsigned(_) => FieldType::Unsigned,
            ValueRef::Boolean(_) => FieldType::Boolean,
            ValueRef::String(_) => FieldType::String,
        }
    }

    fn push(&self, column: &mut Column) {
        match (self, column) {
            (ValueRef::Float(v), Column::Float(c)) => c.push(*v),
            (ValueRef::Integer(v), Column::Integer(c)) => c.push(*v),
            (ValueRef::Unsigned(v), Column::Unsigned(c)) => c.push(*v),
            (ValueRef::Boolean(v), Column::Boolean(c)) => c.push(*v),
            (ValueRef::String(v), Column::String(c)) => c.push(v),
            // The column was created with this value's type; the schema keeps types unique.
            _ => {}
        }
    }
}

/// Collects the points of one write into a batch.
pub(crate) struct PointSink<'a> {
    db: &'a Database,
    opts: &'a Options,
    batch: Batch,
    series_key: Vec<u8>,
    composite: Vec<u8>,
}

impl<'a> PointSink<'a> {
    pub(crate) fn new(db: &'a Database, opts: &'a Options) -> Self {
        PointSink {
            db,
            opts,
            batch: Batch::default(),
            series_key: Vec::new(),
            composite: Vec::new(),
        }
    }

    pub(crate) fn reject(&mut self, line: u64, reason: String) {
        self.batch.summary.rejected.push(Rejection { line, reason });
    }

    pub(crate) fn finish(self) -> Result<Batch> {
        Ok(self.batch)
    }

    /// Checks one point and adds it to the batch, or records why it was refused.
    fn add(
        &mut self,
        line: u64,
        measurement: &[u8],
        tags: &mut [(&[u8], &[u8])],
        fields: &[(Cow<'_, [u8]>, ValueRef<'_>)],
        time: i64,
    ) {
        let m = String::from_utf8_lossy(measurement);
        if tags.iter().any(|(k, _)| *k == b"time") {
            return self.reject(
                line,
                format!("invalid tag key: input tag \"time\" on measurement \"{m}\" is invalid"),
            );
        }
        if contains(measurement, SEPARATOR)
            || tags
                .iter()
                .any(|(k, v)| contains(k, SEPARATOR) || contains(v, SEPARATOR))
        {
            return self.reject(line, "invalid key: contains \"#!~#\"".to_string());
        }
        let kept = || fields.iter().filter(|(name, _)| &**name != b"time");
        if kept().next().is_none() {
            return self.reject(
                line,
                format!(
                    "invalid field name: input field \"time\" on measurement \"{m}\" is invalid"
                ),
            );
        }
        if !(MIN_TIME..=MAX_TIME).contains(&time) {
            return self.reject(line, format!("time outside range {MIN_TIME} - {MAX_TIME}"));
        }
        if let Some((name, _)) =
            kept().find(|(_, v)| matches!(v, ValueRef::Float(f) if !f.is_finite()))
        {
            return self.reject(
                line,
                format!(
                    "unsupported value: field \"{}\" is NaN or infinite",
                    String::from_utf8_lossy(name)
                ),
            );
        }
        if let Err(c) = self
            .db
            .schema
            .check_and_record(measurement, kept().map(|(n, v)| (&**n, v.field_type())))
        {
            return self.reject(
                line,
                format!(
                    "field type conflict: input field \"{}\" on measurement \"{m}\" is type {}, already exists as type {}",
                    String::from_utf8_lossy(&c.field),
                    c.new,
                    c.existing
                ),
            );
        }
        let shard = match self.db.shard_for(time, self.opts) {
            Ok(s) => s,
            Err(e) => return self.reject(line, e.to_string()),
        };
        self.series_key.clear();
        append_series_key(&mut self.series_key, measurement, tags);
        let part = self.batch.shards.entry(shard.range).or_default();
        if !part.series.contains_key(&self.series_key) {
            let tags = tags
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.to_vec(), v.to_vec()))
                .collect();
            part.series.insert(
                self.series_key.clone(),
                NewSeries {
                    measurement: measurement.to_vec(),
                    tags,
                },
            );
        }
        let mut values = 0;
        for (name, value) in kept() {
            self.composite.clear();
            append_composite_key(&mut self.composite, &self.series_key, name);
            let kv = part.values_for(&self.composite, value.field_type());
            kv.timestamps.push(time);
            value.push(&mut kv.values);
            values += 1;
        }
        self.batch.summary.points += 1;
        self.batch.summary.values += values;
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Adds one parsed line-protocol point.
pub(crate) fn add_line_point(sink: &mut PointSink<'_>, p: &tsmdb_lineproto::Point<'_, '_>) {
    let measurement = p.measurement();
    let tags: Vec<CowPair<'_>> = p.tags().map(|t| (t.key(), t.value())).collect();
    let mut tag_refs: Vec<(&[u8], &[u8])> = tags.iter().map(|(k, v)| (&**k, &**v)).collect();
    let fields: Vec<(Cow<'_, [u8]>, ValueRef<'_>)> = p
        .fields()
        .map(|f| {
            let v = match f.value {
                LineValue::Float(x) => ValueRef::Float(x),
                LineValue::Integer(x) => ValueRef::Integer(x),
                LineValue::Unsigned(x) => ValueRef::Unsigned(x),
                LineValue::Boolean(x) => ValueRef::Boolean(x),
                LineValue::String(s) => ValueRef::String(s.unescape()),
            };
            (f.key(), v)
        })
        .collect();
    sink.add(p.line(), &measurement, &mut tag_refs, &fields, p.time());
}

/// Adds one typed point.
pub(crate) fn add_typed_point(sink: &mut PointSink<'_>, index: u64, p: &Point) {
    let mut tags: Vec<(&[u8], &[u8])> = p
        .tags
        .iter()
        .map(|(k, v)| (k.as_slice(), v.as_slice()))
        .collect();
    tags.sort();
    if tags.windows(2).any(|w| w[0].0 == w[1].0) {
        return sink.reject(index, "duplicate tags".to_string());
    }
    if p.measurement.is_empty() {
        return sink.reject(index, "missing measurement".to_string());
    }
    let fields: Vec<(Cow<'_, [u8]>, ValueRef<'_>)> = p
        .fields
        .iter()
        .map(|(k, v)| {
            let v = match v {
                FieldValue::Float(x) => ValueRef::Float(*x),
                FieldValue::Integer(x) => ValueRef::Integer(*x),
                FieldValue::Unsigned(x) => ValueRef::Unsigned(*x),
                FieldValue::Boolean(x) => ValueRef::Boolean(*x),
                FieldValue::String(s) => ValueRef::String(Cow::Borrowed(s)),
            };
            (Cow::Borrowed(k.as_slice()), v)
        })
        .collect();
    if fields.is_empty() {
        return sink.reject(index, "missing fields".to_string());
    }
    sink.add(index, &p.measurement, &mut tags, &fields, p.time);
}
