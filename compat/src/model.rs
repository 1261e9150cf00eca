//! The common shape both sides' answers are converted to before they are compared.
//!
//! Values travel and compare exactly: floats by their IEEE-754 bits, strings as raw bytes.

use serde::{Deserialize, Serialize};

/// A field type, named as InfluxQL names it (the wire names of the reference program).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// f64
    Float,
    /// i64
    Integer,
    /// u64
    Unsigned,
    /// bool
    Boolean,
    /// byte string
    String,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 5] = [
        Kind::Float,
        Kind::Integer,
        Kind::Unsigned,
        Kind::Boolean,
        Kind::String,
    ];

    /// The wire name (`float`, `integer`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Float => "float",
            Kind::Integer => "integer",
            Kind::Unsigned => "unsigned",
            Kind::Boolean => "boolean",
            Kind::String => "string",
        }
    }

    /// The kind for a wire name.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// One typed value, compared exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Value {
    /// An f64 by its bits (so NaN payloads and -0.0 compare exactly).
    Float(u64),
    /// An i64.
    Integer(i64),
    /// A u64.
    Unsigned(u64),
    /// A bool.
    Boolean(bool),
    /// A byte string.
    String(Vec<u8>),
}

impl Value {
    /// The value's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Value::Float(_) => Kind::Float,
            Value::Integer(_) => Kind::Integer,
            Value::Unsigned(_) => Kind::Unsigned,
            Value::Boolean(_) => Kind::Boolean,
            Value::String(_) => Kind::String,
        }
    }

    /// The reference program's wire form.
    pub fn to_wire(&self) -> String {
        match self {
            Value::Float(bits) => bits.to_string(),
            Value::Integer(v) => v.to_string(),
            Value::Unsigned(v) => v.to_string(),
            Value::Boolean(v) => v.to_string(),
            Value::String(b) => hex(b),
        }
    }

    /// Parses the wire form of a value of `kind`.
    pub fn from_wire(kind: Kind, s: &str) -> Option<Value> {
        Some(match kind {
            Kind::Float => Value::Float(s.parse().ok()?),
            Kind::Integer => Value::Integer(s.parse().ok()?),
            Kind::Unsigned => Value::Unsigned(s.parse().ok()?),
            Kind::Boolean => Value::Boolean(s.parse().ok()?),
            Kind::String => Value::String(unhex(s)?),
        })
    }
}

/// One key's values, as a TSM file or a WAL write entry holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    /// The composite key bytes.
    pub key: Vec<u8>,
    /// The kind of every value.
    pub kind: Kind,
    /// Timestamps, one per value.
    pub times: Vec<i64>,
    /// Values, all of `kind`.
    pub values: Vec<Value>,
    /// Tombstoned `[min, max]` ranges (TSM reads only).
    pub tombstones: Vec<(i64, i64)>,
}

/// One parsed field: its unescaped key and either its value or the deferred conversion error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedField {
    /// Unescaped field key.
    pub key: Vec<u8>,
    /// The value, or the text of the error converting it.
    pub value: Result<Value, String>,
}

/// One parsed point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedPoint {
    /// The series key as stored (client escapes kept, tags sorted).
    pub key: Vec<u8>,
    /// Unescaped measurement.
    pub name: Vec<u8>,
    /// Unescaped tags in key order.
    pub tags: Vec<(Vec<u8>, Vec<u8>)>,
    /// Fields in input order (duplicates kept).
    pub fields: Vec<ParsedField>,
    /// Nanoseconds since the epoch.
    pub time: i64,
}

/// The result of parsing one batch: the points that parsed and the joined error text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseOutcome {
    /// Points in input order.
    pub points: Vec<ParsedPoint>,
    /// Every failed line's `unable to parse '<line>': <reason>`, joined with `\n`; `None` if no line failed.
    pub error: Option<Vec<u8>>,
}

/// One WAL entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WalEntry {
    /// Values for keys (sorted by key; InfluxDB holds them in a map).
    Write(Vec<Series>),
    /// Whole keys deleted.
    Delete(Vec<Vec<u8>>),
    /// Keys deleted over `[min, max]`.
    DeleteRange {
        /// Keys.
        keys: Vec<Vec<u8>>,
        /// Inclusive lower bound.
        min: i64,
        /// Inclusive upper bound.
        max: i64,
    },
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Bytes of a hex string, or `None` if it is not hex.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

/// Shows bytes readably: printable ASCII as is, everything else as `\xNN`.
pub fn show(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        if b == b'\\' {
            s.push_str("\\\\");
        } else if (0x20..0x7f).contains(&b) {
            s.push(b as char);
        } else if b == b'\n' {
            s.push_str("\\n");
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}
