//! Per-line parse errors: InfluxDB's exact reason plus where it happened.

use std::fmt;

/// Why InfluxDB rejects a line. `Display` gives InfluxDB 1.x's exact reason text (spec §10.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The line starts with `,` (or the measurement is otherwise empty).
    MissingMeasurement,
    /// The line ends before a field section.
    MissingFields,
    /// A tag has no key (`cpu, f=1`).
    MissingTagKey,
    /// A tag has no value (`cpu,a f=1`, `cpu,a= f=1`).
    MissingTagValue,
    /// A tag value contains an unescaped `=`.
    InvalidTagFormat,
    /// Two tags have the same key.
    DuplicateTags,
    /// A field has no key (`cpu =1`).
    MissingFieldKey,
    /// A field has no value (`cpu f=`).
    MissingFieldValue,
    /// A string field is not closed.
    UnbalancedQuotes,
    /// The field section is not `key=value[,key=value...]`.
    InvalidFieldFormat,
    /// The timestamp contains something other than an optional `-` and digits.
    BadTimestamp,
    /// Something other than spaces follows the timestamp.
    PointInvalid,
    /// A number is malformed (or is an unsigned value while unsigned support is off).
    InvalidNumber,
    /// A float does not parse or is out of range.
    InvalidFloat,
    /// An integer (`i`) is out of the i64 range; holds the digits.
    IntegerOutOfRange(String),
    /// An unsigned integer (`u`) is out of the u64 range; holds the digits.
    UnsignedOutOfRange(String),
    /// A boolean is not one of the accepted spellings.
    InvalidBoolean,
    /// The timestamp does not parse as an i64 (only `-`, or too many digits); holds the text.
    TimestampSyntax(String),
    /// The timestamp does not fit an i64 (holds the text).
    TimestampOutOfRange(String),
    /// The timestamp, scaled by the precision, is outside the valid range.
    TimeOutsideRange,
    /// A series key or composite key is longer than 65535 bytes; holds the length.
    MaxKeyLength(usize),
    /// A field value that passed InfluxDB's scan but fails its later conversion (odd escapes
    /// only; see the `slow_fields` module). Holds InfluxDB's full message.
    FieldConversion(String),
    /// A line longer than the stream reader's limit (tsmdb only, not an InfluxDB error).
    LineTooLong(usize),
}

/// Smallest valid timestamp (InfluxDB reserves `i64::MIN` and `i64::MIN + 1`).
pub const MIN_TIME: i64 = i64::MIN + 2;
/// Largest valid timestamp.
pub const MAX_TIME: i64 = i64::MAX - 1;
/// Longest series key or composite key (the key length is a u16 on disk).
pub const MAX_KEY_LEN: usize = 65535;

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::MissingMeasurement => f.write_str("missing measurement"),
            ErrorKind::MissingFields => f.write_str("missing fields"),
            ErrorKind::MissingTagKey => f.write_str("missing tag key"),
            ErrorKind::MissingTagValue => f.write_str("missing tag value"),
            ErrorKind::InvalidTagFormat => f.write_str("invalid tag format"),
            ErrorKind::DuplicateTags => f.write_str("duplicate tags"),
            ErrorKind::MissingFieldKey => f.write_str("missing field key"),
            ErrorKind::MissingFieldValue => f.write_str("missing field value"),
            ErrorKind::UnbalancedQuotes => f.write_str("unbalanced quotes"),
            ErrorKind::InvalidFieldFormat => f.write_str("invalid field format"),
            ErrorKind::BadTimestamp => f.write_str("bad timestamp"),
            ErrorKind::PointInvalid => f.write_str("point is invalid"),
            ErrorKind::InvalidNumber => f.write_str("invalid number"),
            ErrorKind::InvalidFloat => f.write_str("invalid float"),
            ErrorKind::IntegerOutOfRange(s) => write!(
                f,
                "unable to parse integer {s}: strconv.ParseInt: parsing \"{s}\": value out of range"
            ),
            ErrorKind::UnsignedOutOfRange(s) => write!(
                f,
                "unable to parse unsigned {s}: strconv.ParseUint: parsing \"{s}\": value out of range"
            ),
            ErrorKind::InvalidBoolean => f.write_str("invalid boolean"),
            ErrorKind::TimestampSyntax(s) => {
                write!(f, "strconv.ParseInt: parsing \"{s}\": invalid syntax")
            }
            ErrorKind::TimestampOutOfRange(s) => {
                write!(f, "strconv.ParseInt: parsing \"{s}\": value out of range")
            }
            ErrorKind::TimeOutsideRange => {
                write!(f, "time outside range {MIN_TIME} - {MAX_TIME}")
            }
            ErrorKind::MaxKeyLength(n) => {
                write!(f, "max key length exceeded: {n} > {MAX_KEY_LEN}")
            }
            ErrorKind::FieldConversion(m) => f.write_str(m),
            ErrorKind::LineTooLong(n) => write!(f, "line longer than {n} bytes"),
        }
    }
}

/// One rejected line: where it is, InfluxDB's reason, and the line's text.
///
/// `Display` prints InfluxDB's message, `unable to parse '<line>': <reason>` (the line text is
/// shown lossily if it is not UTF-8; [`LineError::message_bytes`] gives the exact bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based number of the line (the physical line where the logical line starts).
    pub line: u64,
    /// 1-based byte column within the logical line where the problem was found.
    pub column: usize,
    /// Byte offset in the whole input where the logical line starts.
    pub offset: u64,
    /// InfluxDB's reason.
    pub kind: ErrorKind,
    /// The line as InfluxDB quotes it: leading whitespace and the final newline removed.
    pub text: Box<[u8]>,
}

impl LineError {
    /// InfluxDB's exact message as bytes: `unable to parse '<line>': <reason>`.
    pub fn message_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.text.len() + 40);
        out.extend_from_slice(b"unable to parse '");
        out.extend_from_slice(&self.text);
        out.extend_from_slice(b"': ");
        out.extend_from_slice(self.kind.to_string().as_bytes());
        out
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unable to parse '{}': {}",
            String::from_utf8_lossy(&self.text),
            self.kind
        )
    }
}

impl std::error::Error for LineError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_influxdb() {
        let e = LineError {
            line: 3,
            column: 5,
            offset: 10,
            kind: ErrorKind::IntegerOutOfRange("9223372036854775808".into()),
            text: b"cpu f=9223372036854775808i".to_vec().into(),
        };
        assert_eq!(
            e.to_string(),
            "unable to parse 'cpu f=9223372036854775808i': unable to parse integer \
             9223372036854775808: strconv.ParseInt: parsing \"9223372036854775808\": value out of range"
        );
        assert_eq!(e.message_bytes(), e.to_string().into_bytes());
        assert_eq!(
            ErrorKind::TimeOutsideRange.to_string(),
            "time outside range -9223372036854775806 - 9223372036854775806"
        );
        assert_eq!(
            ErrorKind::MaxKeyLength(65536).to_string(),
            "max key length exceeded: 65536 > 65535"
        );
    }
}
