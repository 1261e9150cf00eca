//! Typed points: what embedders write without going through line protocol.

use tsmdb_encoding::FieldType;

/// One field value.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// A float (NaN is refused: it is the TSM float end marker).
    Float(f64),
    /// A signed integer.
    Integer(i64),
    /// An unsigned integer.
    Unsigned(u64),
    /// A boolean.
    Boolean(bool),
    /// A string (any bytes).
    String(Vec<u8>),
}

impl FieldValue {
    /// The value's storage type.
    pub fn field_type(&self) -> FieldType {
        match self {
            FieldValue::Float(_) => FieldType::Float,
            FieldValue::Integer(_) => FieldType::Integer,
            FieldValue::Unsigned(_) => FieldType::Unsigned,
            FieldValue::Boolean(_) => FieldType::Boolean,
            FieldValue::String(_) => FieldType::String,
        }
    }
}

/// A point: a measurement, its tags, one or more fields, and a time in nanoseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Measurement name (unescaped).
    pub measurement: Vec<u8>,
    /// Tags (unescaped; any order; empty values are dropped as InfluxDB does).
    pub tags: Vec<(Vec<u8>, Vec<u8>)>,
    /// Fields (unescaped names).
    pub fields: Vec<(Vec<u8>, FieldValue)>,
    /// Nanoseconds since the epoch.
    pub time: i64,
}

impl Point {
    /// A point with no tags or fields yet.
    pub fn new(measurement: impl Into<Vec<u8>>, time: i64) -> Point {
        Point {
            measurement: measurement.into(),
            tags: Vec::new(),
            fields: Vec::new(),
            time,
        }
    }

    /// Adds a tag.
    pub fn tag(mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Point {
        self.tags.push((key.into(), value.into()));
        self
    }

    /// Adds a field.
    pub fn field(mut self, key: impl Into<Vec<u8>>, value: FieldValue) -> Point {
        self.fields.push((key.into(), value));
        self
    }
}
