//! Parse options: timestamp precision, the default time, and switches for behaviour that
//! InfluxDB builds disagree on.

use std::fmt;
use std::str::FromStr;

/// The unit of the timestamps in the input (InfluxDB's `precision` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Precision {
    /// Nanoseconds (`n`, `ns` or empty): timestamps are taken as they are.
    #[default]
    Nanosecond,
    /// Microseconds (`u`, `us`, `µs`).
    Microsecond,
    /// Milliseconds (`ms`).
    Millisecond,
    /// Seconds (`s`).
    Second,
    /// Minutes (`m`).
    Minute,
    /// Hours (`h`).
    Hour,
}

impl Precision {
    /// Nanoseconds per unit of this precision.
    pub const fn nanos(self) -> i64 {
        match self {
            Precision::Nanosecond => 1,
            Precision::Microsecond => 1_000,
            Precision::Millisecond => 1_000_000,
            Precision::Second => 1_000_000_000,
            Precision::Minute => 60_000_000_000,
            Precision::Hour => 3_600_000_000_000,
        }
    }

    /// The short name InfluxDB uses (`n`, `u`, `ms`, `s`, `m`, `h`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Precision::Nanosecond => "n",
            Precision::Microsecond => "u",
            Precision::Millisecond => "ms",
            Precision::Second => "s",
            Precision::Minute => "m",
            Precision::Hour => "h",
        }
    }

    /// Truncates a nanosecond time down to a multiple of this precision, as InfluxDB does with
    /// the default time of a line without a timestamp (Go's `Time.Truncate`, which rounds
    /// towards minus infinity).
    pub const fn truncate(self, time_ns: i64) -> i64 {
        time_ns.div_euclid(self.nanos()) * self.nanos()
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text given for a precision is not one InfluxDB knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown precision {0:?} (expected one of n, ns, u, us, ms, s, m, h)")]
pub struct UnknownPrecision(pub String);

impl FromStr for Precision {
    type Err = UnknownPrecision;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "" | "n" | "ns" => Precision::Nanosecond,
            "u" | "us" | "µs" => Precision::Microsecond,
            "ms" => Precision::Millisecond,
            "s" => Precision::Second,
            "m" => Precision::Minute,
            "h" => Precision::Hour,
            other => return Err(UnknownPrecision(other.to_string())),
        })
    }
}

/// How to parse: everything a caller may choose. `Default` is InfluxDB 1.x behaviour with
/// unsigned integers enabled, nanosecond precision and a default time of 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Unit of the timestamps in the input.
    pub precision: Precision,
    /// Time (nanoseconds since the epoch) given to lines without a timestamp, before it is
    /// truncated to `precision`. InfluxDB uses the server's clock; tools that must be
    /// reproducible pass a fixed value (0 by default).
    pub default_time: i64,
    /// Accept unsigned integers (`42u`). InfluxDB 1.6 release builds had this off and reject
    /// such values with `invalid number`; its test suite and tsmdb turn it on.
    pub unsigned: bool,
    /// Strip one `\r` before each line end. InfluxDB 1.x does not: there a CRLF line fails
    /// (`bad timestamp`, `invalid number`, ...). Off by default for exact compatibility.
    pub strip_cr: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            precision: Precision::Nanosecond,
            default_time: 0,
            unsigned: true,
            strip_cr: false,
        }
    }
}

impl ParseOptions {
    /// The options of a stock InfluxDB 1.6 server: unsigned integers rejected.
    pub fn influxdb_1_6() -> Self {
        ParseOptions {
            unsigned: false,
            ..ParseOptions::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_names_round_trip() {
        for p in [
            Precision::Nanosecond,
            Precision::Microsecond,
            Precision::Millisecond,
            Precision::Second,
            Precision::Minute,
            Precision::Hour,
        ] {
            assert_eq!(p.as_str().parse::<Precision>(), Ok(p));
        }
        assert_eq!("ns".parse::<Precision>(), Ok(Precision::Nanosecond));
        assert_eq!("us".parse::<Precision>(), Ok(Precision::Microsecond));
        assert!("d".parse::<Precision>().is_err());
    }

    #[test]
    fn truncate_rounds_towards_minus_infinity() {
        assert_eq!(Precision::Second.truncate(1_999_999_999), 1_000_000_000);
        assert_eq!(Precision::Second.truncate(-1), -1_000_000_000);
        assert_eq!(Precision::Nanosecond.truncate(-7), -7);
        assert_eq!(
            Precision::Hour.truncate(3_600_000_000_001),
            3_600_000_000_000
        );
    }
}
