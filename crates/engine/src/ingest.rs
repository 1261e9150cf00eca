//! Turning points (parsed line protocol or typed [`Point`]s) into a [`Batch`]: the checks
//! InfluxDB makes before a write (tsm-format.md §9.1, §12.5), with every refusal recorded.
//!
//! The hot path does per-series work once per batch, not once per value: a point's series is
//! found by one hash of its key as the parser saw it; its fields map to the batch's composite
//! keys by position; the schema is consulted only for a (series, field) the batch has not seen.
//! Error strings are built only when a point is refused.

use std::borrow::Cow;
use std::ops::Range;

use tsmdb_encoding::FieldType;
use tsmdb_lineproto::{FieldValue as LineValue, MAX_TIME, MIN_TIME, append_series_key};

use crate::batch::{Batch, Rejection, ShardBatch, ValueRef};
use crate::database::Database;
use crate::layout::ShardRange;
use crate::options::Options;
use crate::point::{FieldValue, Point};

/// The separator of composite keys, which keys of ours must not contain (§12.5 Q2).
const SEPARATOR: &[u8] = b"#!~#";

/// InfluxDB's reason for a point older than the retention period.
pub(crate) const BEYOND_RETENTION: &str = "points beyond retention policy";

/// An unescaped tag key and value, borrowed when they had no escapes.
type CowPair<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

/// A field of the point being added, copied into the sink's scratch buffer.
#[derive(Debug, Clone, Copy)]
enum Scratch {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    Boolean(bool),
    /// A range of the scratch bytes.
    String(u32, u32),
}

#[derive(Debug, Clone)]
struct ScratchField {
    name: Range<usize>,
    value: Scratch,
}

impl Scratch {
    fn field_type(&self) -> FieldType {
        match self {
            Scratch::Float(_) => FieldType::Float,
            Scratch::Integer(_) => FieldType::Integer,
            Scratch::Unsigned(_) => FieldType::Unsigned,
            Scratch::Boolean(_) => FieldType::Boolean,
            Scratch::String(..) => FieldType::String,
        }
    }
}

/// Collects the points of one write into a batch.
pub(crate) struct PointSink<'a> {
    db: &'a Database,
    opts: &'a Options,
    batch: Batch,
    /// Points older than this are beyond the retention period.
    retention_cutoff: i64,
    /// The last shard used and its part of the batch.
    last_shard: Option<(ShardRange, usize)>,
    canonical: Vec<u8>,
    fields: Vec<ScratchField>,
    field_bytes: Vec<u8>,
    slots: Vec<u32>,
    /// Called before the schema records a new field type, for writers that parse several
    /// batches at once: it waits until every earlier batch was parsed, so that the first type
    /// in input order wins, as in one sequential write.
    before_record: Option<&'a (dyn Fn() + Sync)>,
}

/// "Not found in the batch yet".
const MISSING: u32 = u32::MAX;

impl<'a> PointSink<'a> {
    pub(crate) fn new(db: &'a Database, opts: &'a Options) -> Self {
        Self::with_batch(db, opts, Batch::default())
    }

    /// A sink filling `batch` (cleared first), which keeps the buffers of an earlier batch.
    pub(crate) fn with_batch(db: &'a Database, opts: &'a Options, mut batch: Batch) -> Self {
        batch.clear(db.schema.generation());
        let retention_cutoff = match *db.retention.lock() {
            Some(r) => crate::engine::now_ns()
                .saturating_sub(i64::try_from(r.as_nanos()).unwrap_or(i64::MAX)),
            None => i64::MIN,
        };
        PointSink {
            db,
            opts,
            batch,
            retention_cutoff,
            last_shard: None,
            canonical: Vec::new(),
            fields: Vec::new(),
            field_bytes: Vec::new(),
            slots: Vec::new(),
            before_record: None,
        }
    }

    /// Sets the hook run before the schema records a new field type.
    pub(crate) fn before_record(mut self, hook: &'a (dyn Fn() + Sync)) -> Self {
        self.before_record = Some(hook);
        self
    }

    pub(crate) fn reject(&mut self, line: u64, reason: String) {
        self.batch.summary.rejected.push(Rejection { line, reason });
    }

    pub(crate) fn finish(self) -> Batch {
        self.batch
    }

    fn begin_point(&mut self) {
        self.fields.clear();
        self.field_bytes.clear();
    }

    fn push_field(&mut self, name: &[u8], value: ValueRef<'_>) {
        let start = self.field_bytes.len();
        self.field_bytes.extend_from_slice(name);
        let name = start..self.field_bytes.len();
        let value = match value {
            ValueRef::Float(v) => Scratch::Float(v),
            ValueRef::Integer(v) => Scratch::Integer(v),
            ValueRef::Unsigned(v) => Scratch::Unsigned(v),
            ValueRef::Boolean(v) => Scratch::Boolean(v),
            ValueRef::String(s) => {
                let at = self.field_bytes.len();
                self.field_bytes.extend_from_slice(s);
                Scratch::String(at as u32, self.field_bytes.len() as u32)
            }
        };
        self.fields.push(ScratchField { name, value });
    }

    fn field_name(&self, i: usize) -> &[u8] {
        &self.field_bytes[self.fields[i].name.clone()]
    }

    /// The part of the batch for the shard holding `time`.
    fn part_for(&mut self, time: i64) -> crate::error::Result<usize> {
        if let Some((range, part)) = self.last_shard
            && range.contains(time)
        {
            return Ok(part);
        }
        let shard = self.db.shard_for(time, self.opts)?;
        let part = self.batch.part_index(shard.range);
        self.last_shard = Some((shard.range, part));
        Ok(part)
    }

    /// Checks the point whose fields (without `time`) are in the scratch and adds it, or records
    /// why it was refused. `key` is the series key as the input spelled it; `parts` gives the
    /// canonical key and the unescaped tags when the batch does not know that spelling yet.
    fn add<'t>(
        &mut self,
        line: u64,
        measurement: &[u8],
        key: &[u8],
        time: i64,
        parts: impl FnOnce(&mut Vec<u8>) -> Vec<CowPair<'t>>,
    ) {
        let m = || String::from_utf8_lossy(measurement);
        if self.fields.is_empty() {
            let reason = format!(
                "invalid field name: input field \"time\" on measurement \"{}\" is invalid",
                m()
            );
            return self.reject(line, reason);
        }
        if !(MIN_TIME..=MAX_TIME).contains(&time) {
            return self.reject(line, format!("time outside range {MIN_TIME} - {MAX_TIME}"));
        }
        if let Some(f) = self
            .fields
            .iter()
            .find(|f| matches!(f.value, Scratch::Float(v) if !v.is_finite()))
        {
            let reason = format!(
                "unsupported value: field \"{}\" is NaN or infinite",
                String::from_utf8_lossy(&self.field_bytes[f.name.clone()])
            );
            return self.reject(line, reason);
        }
        if time < self.retention_cutoff {
            return self.reject(line, BEYOND_RETENTION.to_string());
        }
        let part = self.part_for(time);

        // Map every field to a key the batch already has.
        let hash = tsmdb_cache::key_hash(key);
        self.slots.clear();
        let series = match &part {
            Ok(p) => self.batch.part(*p).find_series(key, hash),
            Err(_) => None,
        };
        let mut all_known = series.is_some();
        if let (Ok(p), Some(s)) = (&part, series) {
            let b = self.batch.part(*p);
            for i in 0..self.fields.len() {
                let f = &self.fields[i];
                let slot = b.find_key(s, self.field_name(i), f.value.field_type(), i);
                all_known &= slot.is_some();
                self.slots.push(slot.unwrap_or(MISSING));
            }
        }
        if !all_known {
            // New to this batch: the schema decides (and records the new fields).
            let fields = self
                .fields
                .iter()
                .map(|f| (&self.field_bytes[f.name.clone()], f.value.field_type()));
            let mut checked = self.db.schema.check(measurement, fields.clone());
            if checked == Ok(false) {
                if let Some(wait) = self.before_record {
                    wait();
                }
                checked = self
                    .db
                    .schema
                    .check_and_record(measurement, fields)
                    .map(|()| true);
            }
            if let Err(c) = checked {
                let reason = format!(
                    "field type conflict: input field \"{}\" on measurement \"{}\" is type {}, already exists as type {}",
                    String::from_utf8_lossy(&c.field),
                    m(),
                    c.new,
                    c.existing
                );
                return self.reject(line, reason);
            }
        }
        let part = match part {
            Ok(p) => p,
            Err(e) => return self.reject(line, e.to_string()),
        };
        let series = match series {
            Some(s) => s,
            None => self.add_series(part, measurement, key, hash, parts),
        };
        if !all_known {
            self.slots.resize(self.fields.len(), MISSING);
            for i in 0..self.fields.len() {
                if self.slots[i] != MISSING {
                    continue;
                }
                let f = &self.fields[i];
                let (t, name) = (f.value.field_type(), &self.field_bytes[f.name.clone()]);
                let b = self.batch.part_mut(part);
                // A field given twice in one point: its second copy finds the first one's key.
                self.slots[i] = match b.find_key(series, name, t, i) {
                    Some(slot) => slot,
                    None => b.add_key(series, name, t),
                };
            }
        }
        let n = self.fields.len();
        let b = self.batch.part_mut(part);
        for (f, &slot) in self.fields.iter().zip(&self.slots) {
            b.push(slot, time, scratch_value(f.value, &self.field_bytes));
        }
        b.touch(series);
        self.batch.summary.points += 1;
        self.batch.summary.values += n as u64;
    }

    /// Finds or adds the series spelled `key` in part `part`.
    fn add_series<'t>(
        &mut self,
        part: usize,
        measurement: &[u8],
        key: &[u8],
        hash: u64,
        parts: impl FnOnce(&mut Vec<u8>) -> Vec<CowPair<'t>>,
    ) -> u32 {
        self.canonical.clear();
        let tags = parts(&mut self.canonical);
        let b: &mut ShardBatch = self.batch.part_mut(part);
        let canonical_hash = tsmdb_cache::key_hash(&self.canonical);
        let series = match b.find_series(&self.canonical, canonical_hash) {
            Some(s) => s,
            None => b.add_series(
                &self.canonical,
                canonical_hash,
                measurement,
                tags.iter().map(|(k, v)| (&**k, &**v)),
            ),
        };
        if key != self.canonical.as_slice() {
            b.add_spelling(key, hash, series);
        }
        series
    }
}

fn scratch_value(v: Scratch, bytes: &[u8]) -> ValueRef<'_> {
    match v {
        Scratch::Float(v) => ValueRef::Float(v),
        Scratch::Integer(v) => ValueRef::Integer(v),
        Scratch::Unsigned(v) => ValueRef::Unsigned(v),
        Scratch::Boolean(v) => ValueRef::Boolean(v),
        Scratch::String(s, e) => ValueRef::String(&bytes[s as usize..e as usize]),
    }
}

fn has_backslash(s: &[u8]) -> bool {
    s.iter().fold(false, |found, &b| found | (b == b'\\'))
}

/// True when `haystack` holds the composite-key separator. Keys rarely hold a `#` at all, so
/// looking for that byte first is far cheaper than a general substring search per point.
fn contains_separator(haystack: &[u8]) -> bool {
    memchr::memchr_iter(SEPARATOR[0], haystack).any(|i| haystack[i..].starts_with(SEPARATOR))
}

/// Adds one parsed line-protocol point.
pub(crate) fn add_line_point(sink: &mut PointSink<'_>, p: &tsmdb_lineproto::Point<'_, '_>) {
    let measurement = p.measurement();
    // Unescaping never makes or breaks `time` or the separator (none of their bytes is an
    // escape), so both checks can look at the key as the input spelled it.
    if p.tags().any(|t| t.key_raw == b"time") {
        let reason = format!(
            "invalid tag key: input tag \"time\" on measurement \"{}\" is invalid",
            String::from_utf8_lossy(&measurement)
        );
        return sink.reject(p.line(), reason);
    }
    if contains_separator(p.series_key()) {
        return sink.reject(p.line(), "invalid key: contains \"#!~#\"".to_string());
    }
    sink.begin_point();
    for f in p.fields() {
        // Field keys are short: a branch-free scan beats a call into memchr or the unescaper.
        let name = if has_backslash(f.key_raw) {
            f.key()
        } else {
            Cow::Borrowed(f.key_raw)
        };
        if &*name == b"time" {
            continue;
        }
        let unescaped;
        let v = match f.value {
            LineValue::Float(x) => ValueRef::Float(x),
            LineValue::Integer(x) => ValueRef::Integer(x),
            LineValue::Unsigned(x) => ValueRef::Unsigned(x),
            LineValue::Boolean(x) => ValueRef::Boolean(x),
            LineValue::String(s) => {
                unescaped = s.unescape();
                ValueRef::String(&unescaped)
            }
        };
        sink.push_field(&name, v);
    }
    let parts = |out: &mut Vec<u8>| {
        let mut tags: Vec<CowPair<'_>> = p.tags().map(|t| (t.key(), t.value())).collect();
        let mut refs: Vec<(&[u8], &[u8])> = tags.iter().map(|(k, v)| (&**k, &**v)).collect();
        append_series_key(out, &measurement, &mut refs);
        tags.sort_by(|a, b| a.0.cmp(&b.0));
        tags
    };
    sink.add(p.line(), &measurement, p.series_key(), p.time(), parts);
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
    if p.fields.is_empty() {
        return sink.reject(index, "missing fields".to_string());
    }
    let m = String::from_utf8_lossy(&p.measurement);
    if tags.iter().any(|(k, _)| *k == b"time") {
        let reason =
            format!("invalid tag key: input tag \"time\" on measurement \"{m}\" is invalid");
        return sink.reject(index, reason);
    }
    if contains_separator(&p.measurement)
        || tags
            .iter()
            .any(|(k, v)| contains_separator(k) || contains_separator(v))
    {
        return sink.reject(index, "invalid key: contains \"#!~#\"".to_string());
    }
    // A part ending in `\` would escape the separator after it in the series key, which then
    // no longer splits back into the same parts.
    let ends_in_backslash = |s: &[u8]| s.last() == Some(&b'\\');
    if ends_in_backslash(&p.measurement) {
        return sink.reject(
            index,
            format!("invalid measurement: \"{m}\" ends in a backslash"),
        );
    }
    if let Some((k, v)) = tags
        .iter()
        .find(|(k, v)| ends_in_backslash(k) || ends_in_backslash(v))
    {
        let reason = format!(
            "invalid tag: \"{}\"=\"{}\" on measurement \"{m}\" ends in a backslash",
            String::from_utf8_lossy(k),
            String::from_utf8_lossy(v)
        );
        return sink.reject(index, reason);
    }
    sink.begin_point();
    for (name, v) in &p.fields {
        if name.as_slice() == b"time" {
            continue;
        }
        let v = match v {
            FieldValue::Float(x) => ValueRef::Float(*x),
            FieldValue::Integer(x) => ValueRef::Integer(*x),
            FieldValue::Unsigned(x) => ValueRef::Unsigned(*x),
            FieldValue::Boolean(x) => ValueRef::Boolean(*x),
            FieldValue::String(s) => ValueRef::String(s),
        };
        sink.push_field(name, v);
    }
    let mut key = Vec::new();
    append_series_key(&mut key, &p.measurement, &mut tags);
    let parts = |out: &mut Vec<u8>| {
        out.extend_from_slice(&key);
        tags.iter()
            .map(|(k, v)| (Cow::Borrowed(*k), Cow::Borrowed(*v)))
            .collect()
    };
    sink.add(index, &p.measurement, &key, p.time, parts);
}
