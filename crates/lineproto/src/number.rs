//! Number and boolean scanning for field values, reproducing InfluxDB's `scanNumber` and
//! `scanBoolean` decisions exactly, and decoding the value in the same pass.

use crate::error::ErrorKind;
use crate::point::RawValue;

/// The common shapes decided without the general scanner: `123i`, `123` and `12.5` (at most 15
/// digits) followed by `,`, space or the end. For these InfluxDB's scan accepts, does no range
/// check, and the value is exact (a mantissa below 2^53 divided by an exact power of ten is
/// correctly rounded). Anything else returns `None` and goes through [`scan_number`].
#[inline(always)]
pub(crate) fn scan_number_fast(buf: &[u8], start: usize) -> Option<(usize, RawValue)> {
    let len = buf.len();
    let mut i = start;
    let mut mantissa = 0u64;
    while i < len && buf[i].is_ascii_digit() && i - start < 16 {
        mantissa = mantissa * 10 + u64::from(buf[i] - b'0');
        i += 1;
    }
    let int_digits = i - start;
    if int_digits == 0 || int_digits > 15 {
        return None;
    }
    let at_end = |j: usize| j >= len || buf[j] == b',' || buf[j] == b' ';
    if at_end(i) {
        return Some((i, RawValue::Float(mantissa as f64)));
    }
    match buf[i] {
        b'i' if at_end(i + 1) => Some((i + 1, RawValue::Integer(mantissa as i64))),
        b'.' => {
            i += 1;
            let frac_start = i;
            while i < len && buf[i].is_ascii_digit() && int_digits + (i - frac_start) < 16 {
                mantissa = mantissa * 10 + u64::from(buf[i] - b'0');
                i += 1;
            }
            let frac = i - frac_start;
            if frac == 0 || int_digits + frac > 15 || !at_end(i) {
                return None;
            }
            Some((i, RawValue::Float(mantissa as f64 / POW10[frac])))
        }
        _ => None,
    }
}

/// Why a number was rejected; kept small so the hot path returns in registers. The caller
/// turns it into an [`ErrorKind`] (with the digits for the range errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumError {
    Invalid,
    Float,
    /// Integer out of range; the digits are `buf[start..end]`.
    IntRange(usize, usize),
    /// Unsigned out of range; the digits are `buf[start..end]`.
    UintRange(usize, usize),
}

impl NumError {
    pub(crate) fn kind(self, buf: &[u8]) -> ErrorKind {
        match self {
            NumError::Invalid => ErrorKind::InvalidNumber,
            NumError::Float => ErrorKind::InvalidFloat,
            NumError::IntRange(s, e) => {
                ErrorKind::IntegerOutOfRange(String::from_utf8_lossy(&buf[s..e]).into_owned())
            }
            NumError::UintRange(s, e) => {
                ErrorKind::UnsignedOutOfRange(String::from_utf8_lossy(&buf[s..e]).into_owned())
            }
        }
    }
}

/// Scans a number starting at `start` (its first byte is a digit, `.`, `-`, `N` or `n`).
/// Returns the end (at `,`, space or the end of `buf`) and the decoded value, or the error and
/// the position where InfluxDB detects it.
#[inline(never)]
pub(crate) fn scan_number(
    buf: &[u8],
    start: usize,
    unsigned: bool,
) -> Result<(usize, RawValue), (NumError, usize)> {
    let len = buf.len();
    let mut i = start;
    let negative = buf[start] == b'-';
    if negative {
        i += 1;
        if i == len {
            return Err((NumError::Invalid, i));
        }
    }
    let mut is_int = false;
    let mut is_unsigned = false;
    let mut decimal = false;
    let mut scientific = false;
    loop {
        // Digits first: InfluxDB's checks all pass through to `i++` for them.
        while i < len && buf[i].is_ascii_digit() {
            i += 1;
        }
        if i >= len {
            break;
        }
        let b = buf[i];
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
                return Err((NumError::Invalid, i));
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
            return Err((NumError::Invalid, i));
        }
        if b != b'.' {
            return Err((NumError::Invalid, i));
        }
        i += 1;
    }

    if (is_int || is_unsigned) && (decimal || scientific) {
        return Err((NumError::Invalid, i));
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
        return Err((NumError::Invalid, i));
    }

    if is_int || is_unsigned {
        let suffix = if is_int { b'i' } else { b'u' };
        if buf[i - 1] != suffix || (is_unsigned && (!unsigned || negative)) {
            return Err((NumError::Invalid, i));
        }
        // The text is now `-?[0-9]+` followed by the suffix.
        let digits = &buf[start + usize::from(negative)..i - 1];
        let magnitude = parse_digits(digits);
        if is_unsigned {
            return match magnitude {
                Some(u) => Ok((i, RawValue::Unsigned(u))),
                None => Err((NumError::UintRange(start, i - 1), i)),
            };
        }
        let limit = if negative {
            1u64 << 63
        } else {
            i64::MAX as u64
        };
        return match magnitude {
            Some(m) if m <= limit => Ok((
                i,
                RawValue::Integer(if negative {
                    (m as i64).wrapping_neg()
                } else {
                    m as i64
                }),
            )),
            _ => Err((NumError::IntRange(start, i - 1), i)),
        };
    }
    match parse_float_scanned(&buf[start..i]) {
        Some(f) => Ok((i, RawValue::Float(f))),
        None => Err((NumError::Float, i)),
    }
}

/// The value of a run of ASCII digits, `None` if it does not fit a u64.
#[inline]
pub(crate) fn parse_digits(digits: &[u8]) -> Option<u64> {
    if digits.len() <= 19 {
        // 19 digits always fit: no overflow checks needed.
        let mut acc = 0u64;
        for &d in digits {
            acc = acc * 10 + u64::from(d - b'0');
        }
        return Some(acc);
    }
    let mut acc = 0u64;
    for &d in digits {
        acc = acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(acc)
}

/// Exact powers of ten as f64 (10^22 is the largest exactly representable one).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Float text that `scan_number` accepted (only ASCII digits, `.`, `e`, `E`, `+`, `-`).
#[inline]
fn parse_float_scanned(text: &[u8]) -> Option<f64> {
    // Fast path for plain `-?digits[.digits]` with a mantissa below 2^53: both the mantissa
    // and the power of ten are exact, so one division is correctly rounded (Clinger).
    let (neg, body) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    if body.len() <= 16 {
        let mut mantissa = 0u64;
        let mut frac_digits = 0usize;
        let mut seen_dot = false;
        let mut plain = true;
        for &b in body {
            if b.is_ascii_digit() {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                frac_digits += usize::from(seen_dot);
            } else if b == b'.' && !seen_dot {
                seen_dot = true;
            } else {
                plain = false;
                break;
            }
        }
        if plain && mantissa < (1u64 << 53) && frac_digits < POW10.len() {
            let v = mantissa as f64 / POW10[frac_digits];
            return Some(if neg { -v } else { v });
        }
    }
    // SAFETY: `scan_number` admits only ASCII bytes (digits, `.`, `e`, `E`, `+`, `-`) into
    // a float's text, so it is valid UTF-8. Covered by the `float_text_is_ascii` test.
    let s = unsafe { std::str::from_utf8_unchecked(text) };
    let f: f64 = s.parse().ok()?;
    f.is_finite().then_some(f)
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
            .map_err(|(k, _)| k.kind(s.as_bytes()))
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
            Err(NumError::Invalid)
        );
    }

    #[test]
    fn float_text_is_ascii() {
        // Whatever bytes follow, a float that scans OK consists of ASCII only.
        for tail in 0u8..=255 {
            let buf = [b'1', b'.', b'5', tail];
            if let Ok((end, RawValue::Float(_))) = scan_number(&buf, 0, true) {
                assert!(buf[..end].is_ascii(), "{buf:?}");
            }
        }
    }

    #[test]
    fn fast_float_path_is_exact() {
        for s in [
            "0.1",
            "26.676669405799323",
            "1.5",
            "123456789012345.6",
            "-0.3",
            "9007199254740993",
        ] {
            let want: f64 = s.parse().unwrap();
            let got = parse_float_scanned(s.as_bytes()).unwrap();
            assert_eq!(got.to_bits(), want.to_bits(), "{s}");
        }
    }

    #[test]
    fn fast_path_agrees_with_scanner() {
        let cases = [
            "0",
            "7",
            "58i",
            "123456789012345",
            "1234567890123456",
            "12.5",
            "0.64",
            "1.",
            "1.5e3",
            "999999999999999i",
            "12i3",
            "-5",
            "3u",
            "00.10",
            "123456789.123456",
            "1.0i",
        ];
        for c in cases {
            for tail in ["", ",x=1", " 5"] {
                let buf = format!("{c}{tail}");
                if let Some(fast) = scan_number_fast(buf.as_bytes(), 0) {
                    let slow = scan_number(buf.as_bytes(), 0, true).unwrap();
                    assert_eq!(fast.0, slow.0, "{buf}");
                    match (fast.1, slow.1) {
                        (RawValue::Float(a), RawValue::Float(b)) => {
                            assert_eq!(a.to_bits(), b.to_bits(), "{buf}")
                        }
                        (a, b) => assert_eq!(a, b, "{buf}"),
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_path_agrees_on_random_numbers(s in "[0-9]{0,17}(\\.[0-9]{0,17})?i?[, ]?") {
            if let Some(fast) = scan_number_fast(s.as_bytes(), 0) {
                let slow = scan_number(s.as_bytes(), 0, true);
                let slow = slow.map_err(|e| format!("{e:?}"));
                proptest::prop_assert!(slow.is_ok(), "{} fast {:?} slow {:?}", s, fast, slow);
                let slow = slow.unwrap_or((0, RawValue::Boolean(false)));
                proptest::prop_assert_eq!(fast.0, slow.0);
                match (fast.1, slow.1) {
                    (RawValue::Float(a), RawValue::Float(b)) => {
                        proptest::prop_assert_eq!(a.to_bits(), b.to_bits())
                    }
                    (a, b) => proptest::prop_assert_eq!(a, b),
                }
            }
        }

        #[test]
        fn floats_match_std(s in "-?[0-9]{1,20}\\.[0-9]{0,20}") {
            let want: f64 = s.parse().unwrap();
            let got = parse_float_scanned(s.as_bytes()).unwrap();
            proptest::prop_assert_eq!(got.to_bits(), want.to_bits());
        }
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
