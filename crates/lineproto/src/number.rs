//! Number and boolean scanning for field values, reproducing InfluxDB's `scanNumber` and
//! `scanBoolean` decisions exactly, and decoding the value in the same pass.

use crate::error::ErrorKind;
use crate::point::RawValue;

/// Scans a number starting at `start` (its first byte is a digit, `.`, `-`, `N` or `n`).
/// Returns the end (at `,`, space or the end of `buf`) and the decoded value, or the error and
/// the position where InfluxDB detects it.
pub(crate) fn scan_number(
    buf: &[u8],
    start: usize,
    unsigned: bool,
) -> Result<(usize, RawValue), (ErrorKind, usize)> {
    let len = buf.len();
    let mut i = start;
    let negative = buf[start] == b'-';
    if negative {
        i += 1;
        if i == len {
            return Err((ErrorKind::InvalidNumber, i));
        }
    }
    let mut is_int = false;
    let mut is_unsigned = false;
    let mut decimal = false;
    let mut scientific = false;
    // Integer value of the digits seen so far (only meaningful for plain digit strings).
    let mut acc: u64 = 0;
    let mut acc_overflow = false;
    while i < len {
        let b = buf[i];
        // Digits first: InfluxDB's checks all pass through to `i++` for them.
        if b.is_ascii_digit() {
            let (m, o1) = acc.overflowing_mul(10);
            let (a, o2) = m.overflowing_add(u64::from(b - b'0'));
            acc = a;
            acc_overflow |= o1 | o2;
            i += 1;
            continue;
        }
        if b == b',' || b == b' ' {
            break;
        }
        if (b == b'i' || b == b'u') && i > start && !(is_int || is_unsigned) {
            if b == b'i' {
                is_int = true;
            } else {
                is_unsigned = true;
            }
            i += 1;
            continue;
        }
        if b == b'.' {
            if decimal {
                return Err((ErrorKind::InvalidNumber, i));
            }
            decimal = true;
        }
        if i > start && (b == b'e' || b == b'E') {
            scientific = true;
            i += 1;
            continue;
        }
        if (b == b'+' || b == b'-') && (buf[i - 1] == b'e' || buf[i - 1] == b'E') {
            i += 1;
            continue;
        }
        if i + 2 < len && (b == b'N' || b == b'n') {
            return Err((ErrorKind::InvalidNumber, i));
        }
        if b != b'.' {
            return Err((ErrorKind::InvalidNumber, i));
        }
        i += 1;
    }

    if (is_int || is_unsigned) && (decimal || scientific) {
        return Err((ErrorKind::InvalidNumber, i));
    }
    // InfluxDB counts the `i` suffix but not the `u` suffix out of the digit count.
    let mut numeric_digits = i - start;
    if is_int {
        numeric_digits -= 1;
    }
    if decimal {
        numeric_digits -= 1;
    }
    if negative {
        numeric_digits -= 1;
    }
    if numeric_digits == 0 {
        return Err((ErrorKind::InvalidNumber, i));
    }

    if is_int {
        if buf[i - 1] != b'i' {
            return Err((ErrorKind::InvalidNumber, i));
        }
        // Here the text is `-?[0-9]+i`, so `acc` holds the magnitude.
        let limit = if negative {
            1u64 << 63
        } else {
            i64::MAX as u64
        };
        if acc_overflow || acc > limit {
            let digits = String::from_utf8_lossy(&buf[start..i - 1]).into_owned();
            return Err((ErrorKind::IntegerOutOfRange(digits), i));
        }
        let v = if negative {
            (acc as i64).wrapping_neg()
        } else {
            acc as i64
        };
        return Ok((i, RawValue::Integer(v)));
    }
    if is_unsigned {
        if !unsigned || buf[i - 1] != b'u' || negative {
            return Err((ErrorKind::InvalidNumber, i));
        }
        if acc_overflow {
            let digits = String::from_utf8_lossy(&buf[start..i - 1]).into_owned();
            return Err((ErrorKind::UnsignedOutOfRange(digits), i));
        }
        return Ok((i, RawValue::Unsigned(acc)));
    }
    match parse_float(&buf[start..i]) {
        Some(f) => Ok((i, RawValue::Float(f))),
        None => Err((ErrorKind::InvalidFloat, i)),
    }
}

/// Parses a float the way Go's `strconv.ParseFloat` does for the texts the scanner lets
/// through (digits, one `.`, `e`/`E` with an optional sign, a leading `-`): correctly rounded,
/// and `None` for syntax errors and overflow to infinity.
pub(crate) fn parse_float(text: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(text).ok()?;
    let f: f64 = s.parse().ok()?;
    f.is_finite().then_some(f)
}

/// Scans a boolean starting at `start` (its first byte is not a number start or `"`).
pub(crate) fn scan_boolean(buf: &[u8], start: usize) -> Result<(usize, bool), (ErrorKind, usize)> {
    let first = buf[start];
    if !matches!(first, b't' | b'f' | b'T' | b'F') {
        return Err((ErrorKind::InvalidBoolean, start));
    }
    let end = match memchr::memchr2(b',', b' ', &buf[start + 1..]) {
        Some(p) => start + 1 + p,
        None => buf.len(),
    };
    let word = &buf[start..end];
    let value = match word {
        b"t" | b"T" | b"true" | b"True" | b"TRUE" => true,
        b"f" | b"F" | b"false" | b"False" | b"FALSE" => false,
        _ => return Err((ErrorKind::InvalidBoolean, end)),
    };
    Ok((end, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Result<RawValue, ErrorKind> {
        scan_number(s.as_bytes(), 0, true)
            .map(|(_, v)| v)
            .map_err(|(k, _)| k)
    }

    #[test]
    fn accepted_numbers() {
        assert_eq!(num("1"), Ok(RawValue::Float(1.0)));
        assert_eq!(num("1."), Ok(RawValue::Float(1.0)));
        assert_eq!(num(".5"), Ok(RawValue::Float(0.5)));
        assert_eq!(num("-0.64"), Ok(RawValue::Float(-0.64)));
        assert_eq!(num("1e4"), Ok(RawValue::Float(1e4)));
        assert_eq!(num("1E4"), Ok(RawValue::Float(1e4)));
        assert_eq!(num("1.0e-4"), Ok(RawValue::Float(1e-4)));
        assert_eq!(num("6.632243e+06"), Ok(RawValue::Float(6.632243e6)));
        assert_eq!(num("007"), Ok(RawValue::Float(7.0)));
        assert_eq!(num("-0"), Ok(RawValue::Float(-0.0)));
        assert_eq!(
            num("-9223372036854775808i"),
            Ok(RawValue::Integer(i64::MIN))
        );
        assert_eq!(num("9223372036854775807i"), Ok(RawValue::Integer(i64::MAX)));
        assert_eq!(
            num("18446744073709551615u"),
            Ok(RawValue::Unsigned(u64::MAX))
        );
        assert_eq!(num("0000u"), Ok(RawValue::Unsigned(0)));
        assert_eq!(num("1e-400"), Ok(RawValue::Float(0.0)));
    }

    #[test]
    fn rejected_numbers() {
        for bad in [
            "-", "-i", "-.", ".", "1.0i", "1ii", "1a", "42+3", "-123u", "1.1.1", "1i2",
        ] {
            assert_eq!(num(bad), Err(ErrorKind::InvalidNumber), "{bad}");
        }
        assert_eq!(num("NaN"), Err(ErrorKind::InvalidNumber));
        assert_eq!(num("nan"), Err(ErrorKind::InvalidNumber));
        for bad in ["1e400", "-e-e-e", "1e", "1e+", ".e5"] {
            assert_eq!(num(bad), Err(ErrorKind::InvalidFloat), "{bad}");
        }
        assert_eq!(
            num("9223372036854775808i"),
            Err(ErrorKind::IntegerOutOfRange("9223372036854775808".into()))
        );
        assert_eq!(
            num("-9223372036854775809i"),
            Err(ErrorKind::IntegerOutOfRange("-9223372036854775809".into()))
        );
        assert_eq!(
            num("18446744073709551616u"),
            Err(ErrorKind::UnsignedOutOfRange("18446744073709551616".into()))
        );
        assert_eq!(
            scan_number(b"1u", 0, false).map_err(|e| e.0),
            Err(ErrorKind::InvalidNumber)
        );
    }

    #[test]
    fn booleans() {
        for t in ["t", "T", "true", "True", "TRUE"] {
            assert_eq!(scan_boolean(t.as_bytes(), 0).map(|x| x.1), Ok(true));
        }
        for f in ["f", "F", "false", "False", "FALSE"] {
            assert_eq!(scan_boolean(f.as_bytes(), 0).map(|x| x.1), Ok(false));
        }
        for bad in ["tru", "tRUE", "yes", "+1", "inf", "falsee"] {
            assert!(scan_boolean(bad.as_bytes(), 0).is_err(), "{bad}");
        }
    }
}
