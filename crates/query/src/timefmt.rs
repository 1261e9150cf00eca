//! RFC 3339 times to and from nanoseconds since the epoch (UTC), as InfluxQL uses them.

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` or the same with a space
/// instead of `T` (and no zone: UTC). Returns `None` when the text is not such a time.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, mo, d) * 86_400;
    let mut nanos = 0i64;
    let mut i = 10;
    if i < b.len() {
        if b[i] != b'T' && b[i] != b' ' {
            return None;
        }
        if b.len() < i + 9 || b[i + 3] != b':' || b[i + 6] != b':' {
            return None;
        }
        let (h, mi, se) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?, num(i + 7..i + 9)?);
        if h > 23 || mi > 59 || se > 60 {
            return None;
        }
        secs += h * 3600 + mi * 60 + se;
        i += 9;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            let mut end = start;
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
            let frac = s.get(start..end)?;
            if frac.is_empty() || frac.len() > 9 {
                return None;
            }
            nanos = frac.parse::<i64>().ok()? * 10i64.pow(9 - frac.len() as u32);
            i = end;
        }
        match b.get(i) {
            None => {}
            Some(b'Z') if i + 1 == b.len() => {}
            Some(&sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
                let off = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
                secs -= if sign == b'+' { off } else { -off };
            }
            _ => return None,
        }
    }
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// Formats nanoseconds as RFC 3339 in UTC with the fraction trimmed of trailing zeros, as
/// InfluxDB's JSON output does (`2015-06-11T20:46:02Z`, `1970-01-01T00:00:00.000000001Z`).
pub fn format_rfc3339(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let mut out = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if frac != 0 {
        let f = format!("{frac:09}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2015-06-11T20:46:02Z"),
            Some(1_434_055_562_000_000_000)
        );
        assert_eq!(
            parse_rfc3339("2015-06-11T22:46:02+02:00"),
            Some(1_434_055_562_000_000_000)
        );
        assert_eq!(parse_rfc3339("2015-06-11"), Some(1_433_980_800_000_000_000));
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59.5Z"), Some(-500_000_000));
        assert_eq!(
            format_rfc3339(1_434_055_562_000_000_000),
            "2015-06-11T20:46:02Z"
        );
        assert_eq!(format_rfc3339(1), "1970-01-01T00:00:00.000000001Z");
        assert_eq!(format_rfc3339(-500_000_000), "1969-12-31T23:59:59.5Z");
        assert_eq!(
            parse_rfc3339("2015-06-11 20:46:02"),
            Some(1_434_055_562_000_000_000)
        );
        for bad in [
            "",
            "2015",
            "2015-13-01",
            "2015-06-11T25:00:00Z",
            "2015-06-11X",
            "2015-06-11T20:46:02.Z",
            "2015-06-11T20:46:02+0200",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(ns in -9_000_000_000_000_000_000i64..9_000_000_000_000_000_000i64) {
            prop_assert_eq!(parse_rfc3339(&format_rfc3339(ns)), Some(ns));
        }
    }
}
