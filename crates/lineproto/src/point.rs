//! Parsed points: a borrowed view handed to visitors, and an owned-vector form for batches.

use std::borrow::Cow;

use crate::escape::{unescape_field_key, unescape_measurement, unescape_tag};
use crate::key::append_composite_key;
use crate::value::{EscapedStr, FieldValue};

/// Where a tag sits in the input (byte offsets, end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawTag {
    pub key: (usize, usize),
    pub value: (usize, usize),
    /// The key's first 8 bytes, big-endian, zero-padded: orders most keys without a compare.
    pub prefix: u64,
}

/// A field as the parser records it: key offsets and the decoded value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RawField {
    pub key: (usize, usize),
    pub value: RawValue,
}

/// A decoded value; strings are offsets of the escaped content.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum RawValue {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    Boolean(bool),
    String(usize, usize),
}

impl RawValue {
    pub(crate) fn resolve<'a>(self, input: &'a [u8]) -> FieldValue<'a> {
        match self {
            RawValue::Float(f) => FieldValue::Float(f),
            RawValue::Integer(i) => FieldValue::Integer(i),
            RawValue::Unsigned(u) => FieldValue::Unsigned(u),
            RawValue::Boolean(b) => FieldValue::Boolean(b),
            RawValue::String(s, e) => FieldValue::String(EscapedStr(&input[s..e])),
        }
    }
}

/// A tag, escaped as in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag<'a> {
    /// The key, escaped.
    pub key_raw: &'a [u8],
    /// The value, escaped.
    pub value_raw: &'a [u8],
}

impl<'a> Tag<'a> {
    /// The unescaped key.
    pub fn key(&self) -> Cow<'a, [u8]> {
        unescape_tag(self.key_raw)
    }
    /// The unescaped value.
    pub fn value(&self) -> Cow<'a, [u8]> {
        unescape_tag(self.value_raw)
    }
}

/// A field: its key (escaped as in the input) and its decoded value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field<'a> {
    /// The key, escaped.
    pub key_raw: &'a [u8],
    /// The value.
    pub value: FieldValue<'a>,
}

impl<'a> Field<'a> {
    /// The unescaped key (what goes into the composite key).
    pub fn key(&self) -> Cow<'a, [u8]> {
        unescape_field_key(self.key_raw)
    }
}

/// One parsed line, borrowing from the input (`'a`) and from the parser's reusable buffers
/// (`'p`). Valid only inside the visitor call; use [`Point::to_parsed`] to keep it.
#[derive(Debug, Clone, Copy)]
pub struct Point<'a, 'p> {
    pub(crate) input: &'a [u8],
    pub(crate) line: u64,
    pub(crate) measurement: &'a [u8],
    /// The series key when it is a slice of the input (tags already sorted).
    pub(crate) key_in_input: Option<&'a [u8]>,
    pub(crate) series_key: &'p [u8],
    pub(crate) tags: &'p [RawTag],
    pub(crate) fields: &'p [RawField],
    pub(crate) time: i64,
}

impl<'a: 'p, 'p> Point<'a, 'p> {
    /// 1-based line number where the point starts.
    pub fn line(&self) -> u64 {
        self.line
    }
    /// The measurement, escaped as in the input.
    pub fn measurement_raw(&self) -> &'a [u8] {
        self.measurement
    }
    /// The unescaped measurement.
    pub fn measurement(&self) -> Cow<'a, [u8]> {
        unescape_measurement(self.measurement)
    }
    /// The canonical series key: the input's measurement and tags, escapes kept, tags sorted by
    /// key bytes (the input bytes themselves when they were already sorted).
    pub fn series_key(&self) -> &'p [u8] {
        self.series_key
    }
    /// Number of tags.
    pub fn tag_count(&self) -> usize {
        self.tags.len()
    }
    /// The tags in series-key order.
    pub fn tags(&self) -> impl ExactSizeIterator<Item = Tag<'a>> + 'p {
        let input = self.input;
        self.tags.iter().map(move |t| Tag {
            key_raw: &input[t.key.0..t.key.1],
            value_raw: &input[t.value.0..t.value.1],
        })
    }
    /// Number of fields (duplicates included, as InfluxDB keeps them).
    pub fn field_count(&self) -> usize {
        self.fields.len()
    }
    /// The fields in input order. A key given twice appears twice; the storage layer keeps the
    /// last value, as InfluxDB does.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = Field<'a>> + 'p {
        let input = self.input;
        self.fields.iter().map(move |f| Field {
            key_raw: &input[f.key.0..f.key.1],
            value: f.value.resolve(input),
        })
    }
    /// Timestamp in nanoseconds (the default time when the line had none).
    pub fn time(&self) -> i64 {
        self.time
    }
    /// Appends the composite TSM key of `field` (`series key` + `#!~#` + unescaped field key).
    pub fn composite_key(&self, field: &Field<'_>, out: &mut Vec<u8>) {
        append_composite_key(out, self.series_key, &field.key());
    }
    /// Copies the point into vectors that outlive the parser's buffers (still borrowing the input).
    pub fn to_parsed(&self) -> ParsedPoint<'a> {
        let series_key = match self.key_in_input {
            Some(k) => Cow::Borrowed(k),
            None => Cow::Owned(self.series_key.to_vec()),
        };
        ParsedPoint {
            line: self.line,
            measurement_raw: self.measurement,
            series_key,
            tags: self.tags().collect(),
            fields: self.fields().collect(),
            time: self.time,
        }
    }
}

/// A parsed point that owns its tag and field lists (strings still borrow the input).
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedPoint<'a> {
    /// 1-based line number where the point starts.
    pub line: u64,
    /// The measurement, escaped as in the input.
    pub measurement_raw: &'a [u8],
    /// The canonical series key (see [`Point::series_key`]).
    pub series_key: Cow<'a, [u8]>,
    /// Tags in series-key order.
    pub tags: Vec<Tag<'a>>,
    /// Fields in input order.
    pub fields: Vec<Field<'a>>,
    /// Timestamp in nanoseconds.
    pub time: i64,
}

impl<'a> ParsedPoint<'a> {
    /// The unescaped measurement.
    pub fn measurement(&self) -> Cow<'a, [u8]> {
        unescape_measurement(self.measurement_raw)
    }
    /// The composite TSM key of one of this point's fields.
    pub fn composite_key(&self, field: &Field<'_>) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.series_key.len() + 4 + field.key_raw.len());
        append_composite_key(&mut out, &self.series_key, &field.key());
        out
    }
}
