//! Typed field values, borrowing strings from the input.

use std::borrow::Cow;
use std::fmt;

use crate::escape::unescape_string;

/// The type of a field value. This is lineproto's own type code: the storage layers map it to
/// theirs (lineproto knows nothing of block or WAL type bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldKind {
    /// 64-bit IEEE float (no suffix).
    Float,
    /// Signed 64-bit integer (`i` suffix).
    Integer,
    /// Unsigned 64-bit integer (`u` suffix).
    Unsigned,
    /// Boolean (`t`, `true`, `F`, `FALSE`, ...).
    Boolean,
    /// String (double-quoted).
    String,
}

impl FieldKind {
    /// The influxql type name: `float`, `integer`, `unsigned`, `boolean` or `string`.
    pub const fn name(self) -> &'static str {
        match self {
            FieldKind::Float => "float",
            FieldKind::Integer => "integer",
            FieldKind::Unsigned => "unsigned",
            FieldKind::Boolean => "boolean",
            FieldKind::String => "string",
        }
    }

    /// InfluxDB's line-protocol (`models.FieldType`) code: integer 0, float 1, boolean 2,
    /// string 3, unsigned 5 (spec §1). Not the TSM block type byte.
    pub const fn models_code(self) -> u8 {
        match self {
            FieldKind::Integer => 0,
            FieldKind::Float => 1,
            FieldKind::Boolean => 2,
            FieldKind::String => 3,
            FieldKind::Unsigned => 5,
        }
    }
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A string field value as written in the input: the bytes between the quotes, still escaped.
/// [`EscapedStr::unescape`] allocates only when the value contains a backslash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EscapedStr<'a>(pub(crate) &'a [u8]);

impl<'a> EscapedStr<'a> {
    /// Wraps bytes that are already escaped line-protocol string content.
    pub const fn from_escaped(raw: &'a [u8]) -> Self {
        EscapedStr(raw)
    }

    /// The escaped bytes, exactly as in the input.
    pub const fn raw(&self) -> &'a [u8] {
        self.0
    }

    /// The value with `\"` and `\\` unescaped (borrowed when there is nothing to unescape).
    pub fn unescape(&self) -> Cow<'a, [u8]> {
        unescape_string(self.0)
    }
}

/// One field value. Numbers are decoded while parsing; strings borrow from the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    /// A float (never NaN or infinite: line protocol cannot express them).
    Float(f64),
    /// A signed integer.
    Integer(i64),
    /// An unsigned integer.
    Unsigned(u64),
    /// A boolean.
    Boolean(bool),
    /// A string, still escaped.
    String(EscapedStr<'a>),
}

impl FieldValue<'_> {
    /// The value's type.
    pub const fn kind(&self) -> FieldKind {
        match self {
            FieldValue::Float(_) => FieldKind::Float,
            FieldValue::Integer(_) => FieldKind::Integer,
            FieldValue::Unsigned(_) => FieldKind::Unsigned,
            FieldValue::Boolean(_) => FieldKind::Boolean,
            FieldValue::String(_) => FieldKind::String,
        }
    }
}

/// A field value whose string (if any) is unescaped: what the writer takes and what owned
/// points hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// A float; the writer refuses NaN and infinities.
    Float(f64),
    /// A signed integer.
    Integer(i64),
    /// An unsigned integer.
    Unsigned(u64),
    /// A boolean.
    Boolean(bool),
    /// An unescaped string (any bytes).
    String(Cow<'a, [u8]>),
}

impl Value<'_> {
    /// The value's type.
    pub const fn kind(&self) -> FieldKind {
        match self {
            Value::Float(_) => FieldKind::Float,
            Value::Integer(_) => FieldKind::Integer,
            Value::Unsigned(_) => FieldKind::Unsigned,
            Value::Boolean(_) => FieldKind::Boolean,
            Value::String(_) => FieldKind::String,
        }
    }
}

impl<'a> From<FieldValue<'a>> for Value<'a> {
    fn from(v: FieldValue<'a>) -> Self {
        match v {
            FieldValue::Float(f) => Value::Float(f),
            FieldValue::Integer(i) => Value::Integer(i),
            FieldValue::Unsigned(u) => Value::Unsigned(u),
            FieldValue::Boolean(b) => Value::Boolean(b),
            FieldValue::String(s) => Value::String(s.unescape()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_codes() {
        assert_eq!(FieldValue::Float(1.0).kind().models_code(), 1);
        assert_eq!(FieldValue::Integer(1).kind().models_code(), 0);
        assert_eq!(FieldValue::Boolean(true).kind().models_code(), 2);
        assert_eq!(FieldKind::String.models_code(), 3);
        assert_eq!(FieldKind::Unsigned.models_code(), 5);
        assert_eq!(FieldKind::Unsigned.to_string(), "unsigned");
        let s = FieldValue::String(EscapedStr(br#"a\"b"#));
        assert_eq!(Value::from(s), Value::String(Cow::Borrowed(b"a\"b")));
    }
}
