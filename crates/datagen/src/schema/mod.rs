//! The schema file: what `influxd generate` reads, decoded into plain Rust values.
//!
//! Decoding checks every key's type and range and records where in the file each thing came from,
//! so that later errors (a file tag that cannot be read, a type conflict) can still point at a line.
//! Nothing here touches the file system; file tags are read when the [`crate::Plan`] is built.

mod decode;
mod location;

pub use decode::{parse_schema, read_schema_file};
pub use location::{Location, SchemaError, Warning};

use std::path::PathBuf;

/// A decoded schema file.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// `title` (informational only).
    pub title: String,
    /// `version` (informational only).
    pub version: String,
    /// Top-level `series-limit`: most (series key, field) pairs over all measurements.
    pub series_limit: Option<u64>,
    /// The `[[measurements]]` blocks in file order.
    pub measurements: Vec<MeasurementBlock>,
    /// Unknown keys and other things that were ignored.
    pub warnings: Vec<Warning>,
    /// Directory that relative `file` tag paths are resolved against (`None`: working directory).
    pub base_dir: Option<PathBuf>,
    /// Name of the schema's source for messages (a path, or `<simple>`).
    pub source_name: String,
}

/// One `[[measurements]]` block.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasurementBlock {
    /// Measurement name (blocks with the same name are merged).
    pub name: String,
    /// Fraction of tag combinations emitted, 0 < sample ≤ 1 (default 0.5).
    pub sample: f64,
    /// Most combinations emitted per field of this block.
    pub series_limit: Option<u64>,
    /// Tags in file order.
    pub tags: Vec<TagDef>,
    /// Fields in file order.
    pub fields: Vec<FieldDef>,
    /// Where the block starts.
    pub location: Location,
}

/// One tag of a block.
#[derive(Debug, Clone, PartialEq)]
pub struct TagDef {
    /// Tag key.
    pub name: String,
    /// Where its values come from.
    pub source: TagSource,
    /// Where the tag is defined.
    pub location: Location,
}

/// The values of a tag.
#[derive(Debug, Clone, PartialEq)]
pub enum TagSource {
    /// Literal values (a scalar is one value), not yet sorted.
    Values(Vec<String>),
    /// `type = "sequence"`: `format` with `%s` replaced by zero-padded numbers.
    Sequence {
        /// Template containing `%s` exactly once (`%%` is a literal `%`).
        format: String,
        /// First number.
        start: u64,
        /// How many numbers.
        count: u64,
    },
    /// `type = "file"`: one value per line of the file.
    File {
        /// Path as written (environment variables not yet expanded).
        path: String,
    },
}

/// One field of a block.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    /// Field key.
    pub name: String,
    /// Most values per series.
    pub count: u64,
    /// How timestamps are spaced.
    pub timing: Timing,
    /// Where values come from.
    pub source: FieldSource,
    /// Where the field is defined.
    pub location: Location,
}

/// How a field's timestamps are spaced (spec §4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// `time-precision`: spread `count` values over the range, rounded to this many ns.
    Precision(i64),
    /// `time-interval`: this many ns apart, ending at the range end.
    Interval(i64),
}

/// Literal values of one type (a constant is a list of one).
#[derive(Debug, Clone, PartialEq)]
pub enum Literals {
    /// Floats.
    Float(Vec<f64>),
    /// Integers.
    Integer(Vec<i64>),
    /// Strings.
    String(Vec<String>),
    /// Booleans.
    Boolean(Vec<bool>),
}

impl Literals {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Literals::Float(v) => v.len(),
            Literals::Integer(v) => v.len(),
            Literals::String(v) => v.len(),
            Literals::Boolean(v) => v.len(),
        }
    }

    /// True when there is no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where a field's values come from.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldSource {
    /// A constant or an array: values repeat in order, restarting for every series.
    Cycle(Literals),
    /// `rand<float>`: uniform floats in [min, max).
    RandFloat {
        /// Seed of the Go source.
        seed: i64,
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// `zipf<integer>`: Zipf integers in [0, imax].
    Zipf {
        /// Seed of the Go source.
        seed: i64,
        /// Exponent, > 1.
        s: f64,
        /// Offset, ≥ 1.
        v: f64,
        /// Largest value.
        imax: u64,
    },
}

impl FieldSource {
    /// The type of the values this source produces.
    pub fn field_type(&self) -> tsmdb_encoding::FieldType {
        use tsmdb_encoding::FieldType;
        match self {
            FieldSource::Cycle(Literals::Float(_)) | FieldSource::RandFloat { .. } => {
                FieldType::Float
            }
            FieldSource::Cycle(Literals::Integer(_)) | FieldSource::Zipf { .. } => {
                FieldType::Integer
            }
            FieldSource::Cycle(Literals::String(_)) => FieldType::String,
            FieldSource::Cycle(Literals::Boolean(_)) => FieldType::Boolean,
        }
    }
}
