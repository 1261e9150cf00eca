//! Time ranges and per-field timestamps (spec §4.7), and RFC 3339 text for flags and plans.

use crate::schema::Timing;

/// Nanoseconds per second.
const SECOND: i64 = 1_000_000_000;
/// Nanoseconds per day.
const DAY: i64 = 86_400 * SECOND;
/// Seconds from 0001-01-01T00:00:00Z (Go's zero time) to the Unix epoch.
const GO_ZERO_TO_UNIX: i128 = 62_135_596_800;

/// The half-open range [start, end) of generated timestamps, in Unix nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// First instant (inclusive).
    pub start: i64,
    /// Last instant (exclusive).
    pub end: i64,
}

impl TimeRange {
    /// Upstream's default: the last 7 whole days before `now` (midnight UTC to midnight UTC).
    pub fn default_at(now_ns: i64) -> TimeRange {
        let start = (now_ns - 7 * DAY).div_euclid(DAY) * DAY;
        TimeRange {
            start,
            end: start + 7 * DAY,
        }
    }

    /// [`TimeRange::default_at`] for the current time.
    pub fn default_now() -> TimeRange {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        TimeRange::default_at(now)
    }
}

/// Timestamps of one field: `count` values at `start + i × delta`, shared by all its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldTimes {
    /// First timestamp.
    pub start: i64,
    /// Number of values per series (may be below the schema's `count`).
    pub count: u64,
    /// Spacing in nanoseconds (> 0).
    pub delta: i64,
}

impl FieldTimes {
    /// The `i`th timestamp.
    pub fn at(&self, i: u64) -> i64 {
        self.start.wrapping_add((i as i64).wrapping_mul(self.delta))
    }
}

/// Go's `time.Time.Truncate(d)`: rounds down to a multiple of `d` counted from year 1, not 1970.
pub fn go_truncate(t_ns: i64, d: i64) -> i64 {
    if d <= 0 {
        return t_ns;
    }
    let since_zero = t_ns as i128 + GO_ZERO_TO_UNIX * SECOND as i128;
    let r = since_zero.rem_euclid(d as i128);
    (t_ns as i128 - r) as i64
}

/// Go's `Duration.Round(m)` for positive values: nearest multiple, halves away from zero.
fn go_round(d: i64, m: i64) -> i64 {
    let r = d % m;
    if r + r < m {
        d - r
    } else {
        d.checked_add(m - r).unwrap_or(i64::MAX)
    }
}

/// Where a field's values fall in `range` (spec §4.7): truncation, interval or precision mode.
pub fn field_times(range: TimeRange, count: u64, timing: Timing) -> FieldTimes {
    let (step, is_interval) = match timing {
        Timing::Interval(d) => (d.max(1), true),
        Timing::Precision(p) => (p.max(1), false),
    };
    let mut start = go_truncate(range.start, step);
    let end = go_truncate(range.end, step);
    let span = end as i128 - start as i128;
    if span <= 0 {
        return FieldTimes {
            start,
            count: 0,
            delta: step,
        };
    }
    let span = span as u128;
    if is_interval {
        let intervals = span / step as u128;
        if intervals > count as u128 {
            start = (end as i128 - count as i128 * step as i128) as i64;
            FieldTimes {
                start,
                count,
                delta: step,
            }
        } else {
            FieldTimes {
                start,
                count: intervals as u64,
                delta: step,
            }
        }
    } else {
        let delta = span / count.max(1) as u128;
        if delta < step as u128 {
            FieldTimes {
                start,
                count: (span / step as u128) as u64,
                delta: step,
            }
        } else {
            let delta = i64::try_from(delta).unwrap_or(i64::MAX);
            FieldTimes {
                start,
                count,
                delta: go_round(delta, step),
            }
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Parses RFC 3339 (`2020-01-01T00:00:00Z`, fractions and `±hh:mm` offsets allowed) to Unix ns.
pub fn parse_rfc3339(text: &str) -> Result<i64, String> {
    let bad = || format!("invalid RFC 3339 time {text:?} (expected e.g. 2020-01-01T00:00:00Z)");
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Result<i64, String> {
        let s = text.get(range).ok_or_else(bad)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad());
    }
    let (year, month, day) = (num(0..4)?, num(5..7)? as u32, num(8..10)? as u32);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if day == 0 || day > days_in_month || hour > 23 || minute > 59 || second > 60 {
        return Err(bad());
    }
    let mut pos = 19;
    let mut frac_ns = 0i64;
    if b.get(pos) == Some(&b'.') {
        let digits = b[pos + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 || digits > 9 {
            return Err(bad());
        }
        frac_ns = num(pos + 1..pos + 1 + digits)? * 10i64.pow(9 - digits as u32);
        pos += 1 + digits;
    }
    let offset_s = match b.get(pos) {
        Some(b'Z' | b'z') if pos + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if pos + 6 == b.len() && b[pos + 3] == b':' => {
            let off = num(pos + 1..pos + 3)? * 3600 + num(pos + 4..pos + 6)? * 60;
            if sign == b'+' { off } else { -off }
        }
        _ => return Err(bad()),
    };
    let secs =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    secs.checked_mul(SECOND)
        .and_then(|ns| ns.checked_add(frac_ns))
        .ok_or_else(|| format!("time {text:?} is outside the range of 64-bit nanoseconds"))
}

/// Formats Unix nanoseconds as RFC 3339 in UTC (fraction only when non-zero).
pub fn format_rfc3339(ns: i64) -> String {
    let secs = ns.div_euclid(SECOND);
    let frac = ns.rem_euclid(SECOND);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let mut out = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    if frac != 0 {
        let digits = format!("{frac:09}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = SECOND;

    fn times(timing: Timing, count: u64, start_s: i64, end_s: i64) -> (i64, u64, i64) {
        let t = field_times(
            TimeRange {
                start: start_s * S,
                end: end_s * S,
            },
            count,
            timing,
        );
        (t.start / S, t.count, t.delta / S)
    }

    #[test]
    fn spec_time_table() {
        let iv = Timing::Interval(10 * S);
        let pr = Timing::Precision(10 * S);
        assert_eq!(times(iv, 100, 0, 100), (0, 10, 10));
        assert_eq!(times(iv, 100, 0, 1000), (0, 100, 10));
        assert_eq!(times(iv, 100, 0, 2000), (1000, 100, 10));
        assert_eq!(times(pr, 100, 0, 100), (0, 10, 10));
        assert_eq!(times(pr, 100, 0, 2000), (0, 100, 20));
        assert_eq!(times(pr, 100, 0, 1000), (0, 100, 10));
        assert_eq!(times(iv, 100, 13, 110), (10, 10, 10));
        // Rounding pushes the last point past the end: 100 s / 40 = 2.5 s → 3 s.
        assert_eq!(times(Timing::Precision(S), 40, 0, 100), (0, 40, 3));
        // A range shorter than one step gives nothing.
        assert_eq!(times(iv, 5, 0, 9).1, 0);
    }

    #[test]
    fn documented_deltas() {
        let week = TimeRange {
            start: 0,
            end: 7 * DAY,
        };
        assert_eq!(
            field_times(week, 100, Timing::Precision(1_000_000)).delta,
            6048 * S
        );
        assert_eq!(
            field_times(week, 5000, Timing::Precision(1_000_000)).delta,
            120_960_000_000
        );
    }

    #[test]
    fn truncation_counts_from_year_one() {
        assert_eq!(go_truncate(1000 * S, 7 * S), 997 * S);
        assert_eq!(go_truncate(1000 * S, 168 * 3600 * S), -259_200 * S);
        assert_eq!(go_truncate(1000 * S, 10 * S), 1000 * S);
        assert_eq!(go_truncate(-1, S), -S);
    }

    #[test]
    fn rfc3339_round_trip() {
        let t = parse_rfc3339("2020-01-01T00:00:00Z").unwrap();
        assert_eq!(t, 1_577_836_800 * S);
        assert_eq!(format_rfc3339(t), "2020-01-01T00:00:00Z");
        assert_eq!(
            parse_rfc3339("2016-01-01T00:00:00Z").unwrap(),
            1_451_606_400 * S
        );
        assert_eq!(
            parse_rfc3339("2020-01-01T01:00:00.5+01:00").unwrap(),
            1_577_836_800 * S + S / 2
        );
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
        for bad in [
            "2020-02-30T00:00:00Z",
            "2020-01-01",
            "2020-01-01T00:00:00",
            "x020-01-01T00:00:00Z",
            "2020-01-01T00:00:00.Z",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_range_is_seven_whole_days() {
        let r = TimeRange::default_at(1_590_000_000 * S + 123);
        assert_eq!(r.start % DAY, 0);
        assert_eq!(r.end - r.start, 7 * DAY);
        assert!(r.end <= 1_590_000_000 * S);
    }
}
