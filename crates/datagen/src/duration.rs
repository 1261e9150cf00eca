//! Go duration strings (`90s`, `1h30m`, `1.5h`) and time-precision names.

/// Nanoseconds per unit, longest unit names first so `ms` is not read as `m`.
const UNITS: [(&str, i64); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parses a Go duration string (`time.ParseDuration`) into nanoseconds.
pub fn parse_go_duration(text: &str) -> Result<i64, String> {
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err("invalid duration".into());
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, after) = rest.split_at(int_len);
        let (frac_part, after) = match after.strip_prefix('.') {
            Some(a) => {
                let n = a.bytes().take_while(u8::is_ascii_digit).count();
                a.split_at(n)
            }
            None => ("", after),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err("invalid duration".into());
        }
        let unit_len = after
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(after.len(), |(i, _)| i);
        let (unit, next) = after.split_at(unit_len);
        let Some(&(_, scale)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(if unit.is_empty() {
                "missing unit in duration".into()
            } else {
                format!("unknown unit {unit:?} in duration")
            });
        };
        let whole: i128 = if int_part.is_empty() {
            0
        } else {
            int_part
                .parse()
                .map_err(|_| "invalid duration".to_string())?
        };
        let mut value = whole
            .checked_mul(scale as i128)
            .ok_or_else(|| "duration out of range".to_string())?;
        // Fractions are truncated to whole nanoseconds, as Go does.
        if !frac_part.is_empty() {
            let digits = &frac_part[..frac_part.len().min(18)];
            let numerator: i128 = digits.parse().unwrap_or(0);
            value += numerator * scale as i128 / 10i128.pow(digits.len() as u32);
        }
        total += value;
        if total > i64::MAX as i128 + 1 {
            return Err("duration out of range".into());
        }
        rest = next;
    }
    let total = if negative { -total } else { total };
    i64::try_from(total).map_err(|_| "duration out of range".to_string())
}

/// Nanoseconds of a `time-precision` name (`ns`, `us`, `ms`, `s`, `m`, `h` or the long names).
pub fn parse_precision(text: &str) -> Option<i64> {
    let ns = match text.to_lowercase().as_str() {
        "ns" | "nanosecond" => 1,
        "us" | "µs" | "μs" | "microsecond" => 1_000,
        "ms" | "millisecond" => 1_000_000,
        "s" | "second" => 1_000_000_000,
        "m" | "minute" => 60_000_000_000,
        "h" | "hour" => 3_600_000_000_000,
        _ => return None,
    };
    Some(ns)
}

/// Formats nanoseconds like Go's `Duration.String` (`1m30s`, `500ms`, `0s`).
pub fn format_go_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let sign = if ns < 0 { "-" } else { "" };
    let u = ns.unsigned_abs();
    if u < 1_000_000_000 {
        let (unit, scale) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{sign}{}{unit}", fraction(u, scale));
    }
    let h = u / 3_600_000_000_000;
    let m = u / 60_000_000_000 % 60;
    let s = u % 60_000_000_000;
    let secs = fraction(s, 1_000_000_000);
    match (h, m) {
        (0, 0) => format!("{sign}{secs}s"),
        (0, m) => format!("{sign}{m}m{secs}s"),
        (h, m) => format!("{sign}{h}h{m}m{secs}s"),
    }
}

/// `value / scale` as a decimal without trailing zeros.
fn fraction(value: u64, scale: u64) -> String {
    let whole = value / scale;
    let frac = value % scale;
    if frac == 0 {
        return whole.to_string();
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse_go_duration("90s"), Ok(90_000_000_000));
        assert_eq!(parse_go_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_go_duration("500ms"), Ok(500_000_000));
        assert_eq!(parse_go_duration("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(parse_go_duration("1.5µs"), Ok(1_500));
        assert_eq!(parse_go_duration("0"), Ok(0));
        assert_eq!(parse_go_duration("0s"), Ok(0));
        assert_eq!(parse_go_duration("-10s"), Ok(-10_000_000_000));
        assert_eq!(parse_go_duration(".5s"), Ok(500_000_000));
        assert!(parse_go_duration("10").is_err());
        assert!(parse_go_duration("10x").is_err());
        assert!(parse_go_duration("").is_err());
        assert!(parse_go_duration(".s").is_err());
        assert!(parse_go_duration("9999999999999h").is_err());
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_go_duration(60_000_000_000), "1m0s");
        assert_eq!(format_go_duration(90_000_000_000), "1m30s");
        assert_eq!(format_go_duration(120_960_000_000), "2m0.96s");
        assert_eq!(format_go_duration(1_000_000), "1ms");
        assert_eq!(format_go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(format_go_duration(0), "0s");
    }

    #[test]
    fn precision_names() {
        assert_eq!(parse_precision("hour"), Some(3_600_000_000_000));
        assert_eq!(parse_precision("US"), Some(1_000));
        assert_eq!(parse_precision("µs"), Some(1_000));
        assert_eq!(parse_precision("d"), None);
    }
}
