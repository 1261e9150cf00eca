//! Generated line protocol, valid and broken: escapes in every position, every value syntax,
//! numbers at and past the limits, quotes, comments, whitespace.

use crate::rng::Rng;

/// Bytes that mean something somewhere in line protocol, plus a few that mean nothing.
const SPECIAL: &[&[u8]] = &[
    b",",
    b" ",
    b"=",
    b"\\",
    b"\"",
    b"#",
    b"\t",
    b"\0",
    b"\n",
    b"\r",
    b"\\,",
    b"\\ ",
    b"\\=",
    b"\\\\",
    b"\\\"",
    b"\\n",
    b"#!~#",
    b"'",
    b"\xc3\xa9",
    b"\xe2\x98\x83",
    b"\xff",
    b"i",
    b"u",
    b"e",
    b"-",
    b".",
];

const WORDS: &[&str] = &[
    "cpu",
    "mem",
    "host",
    "region",
    "value",
    "usage_idle",
    "a",
    "b",
    "x",
    "time",
    "t",
    "f",
    "v",
    "1",
    "0",
    "server01",
    "us-west",
    "true",
    "T",
    "NaN",
    "",
];

/// One of `items`.
fn bytes_of(rng: &mut Rng, items: &[&'static [u8]]) -> &'static [u8] {
    items
        .get(rng.index(items.len()))
        .copied()
        .unwrap_or_default()
}

/// A token for a measurement, tag or field key or tag value, sometimes with special bytes.
fn token(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    let parts = rng.range(1, 3);
    for _ in 0..parts {
        if rng.chance(25) {
            out.extend_from_slice(bytes_of(rng, SPECIAL));
        } else {
            out.extend_from_slice(rng.pick(WORDS).as_bytes());
        }
    }
    out
}

const FLOATS: &[&str] = &[
    "1",
    "1.",
    ".5",
    "-0.64",
    "1e4",
    "1E4",
    "1.0e-4",
    "6.632243e+06",
    "007",
    "0",
    "-0",
    "-0.0",
    "1.7976931348623157e308",
    "-1.7976931348623157e308",
    "1.7976931348623159e308",
    "1e309",
    "4.9e-324",
    "2e-324",
    "1e-400",
    "1e400",
    "-1e400",
    "0.1",
    "3.141592653589793",
    "1.1.1",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Inf",
    "+1",
    "-",
    ".",
    "-.",
    "-e-e-e",
    "42+3",
    "1e",
    "1e+",
    "e4",
    "1a",
    "1.0i",
    "1ii",
    "-i",
    "0x10",
    "1_000",
    "12345678901234567890123456789",
    "123456789012345678901234567890.5",
    "N",
    "n1",
    "-1.5E-3",
    "1.5e+300",
    "9e99999999999",
];

const INTEGERS: &[&str] = &[
    "0i",
    "1i",
    "-1i",
    "-0i",
    "0000i",
    "9223372036854775807i",
    "-9223372036854775808i",
    "9223372036854775808i",
    "-9223372036854775809i",
    "99999999999999999999i",
    "1234567890123456789i",
    "12345678901234567890i",
    "1.5i",
    "1e3i",
    "i",
    "-i",
    "--1i",
    "1i2",
    "+5i",
    "0x1i",
];

const UNSIGNED: &[&str] = &[
    "0u",
    "1u",
    "0000u",
    "18446744073709551615u",
    "18446744073709551616u",
    "-1u",
    "-0u",
    "99999999999999999999u",
    "184467440737095516150u",
    "1.5u",
    "u",
    "1e3u",
    "1uu",
];

const BOOLEANS: &[&str] = &[
    "t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE", "tru", "tRUE", "fals",
    "yes", "1true", "truee", "x", "+1",
];

const STRINGS: &[&[u8]] = &[
    b"\"\"",
    b"\"x\"",
    b"\"hello world\"",
    b"\"a,b=c d\"",
    b"\"line\nbreak\"",
    b"\"q\\\"q\"",
    b"\"bs\\\\\"",
    b"\"bs\\\\\\\"x\"",
    b"\"foo\\,bar\"",
    b"\"\\a\\n\"",
    b"\"\xe2\x98\x83\"",
    b"\"x",
    b"\"unterminated\\\"",
    b"\"#not a comment\"",
    b"\"\\\"",
    b"\"a\"b\"",
    b"\"\r\n\"",
];

/// A field value of any syntax, valid or not.
fn field_value(rng: &mut Rng) -> Vec<u8> {
    match rng.below(8) {
        0 | 1 => rng.pick(FLOATS).as_bytes().to_vec(),
        2 => rng.pick(INTEGERS).as_bytes().to_vec(),
        3 => rng.pick(UNSIGNED).as_bytes().to_vec(),
        4 => rng.pick(BOOLEANS).as_bytes().to_vec(),
        5 => rng.pick(STRINGS).to_vec(),
        6 => {
            let mut s = b"\"".to_vec();
            s.extend(token(rng));
            s.push(b'"');
            s
        }
        _ => match rng.below(4) {
            0 => format!("{}i", rng.next_u64() as i64).into_bytes(),
            1 => format!("{}u", rng.next_u64()).into_bytes(),
            2 => format!("{:e}", f64::from_bits(rng.next_u64())).into_bytes(),
            _ => format!("{}", (rng.next_u64() as i64) as f64 / 1e6).into_bytes(),
        },
    }
}

const TIMES: &[&str] = &[
    "0",
    "1",
    "-1",
    "9223372036854775806",
    "-9223372036854775806",
    "9223372036854775807",
    "-9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "1000000000000000000",
    "1500000000",
    "1500000000000",
    "-",
    "-/",
    "-1?",
    "1-",
    "abc",
    "1 x",
    "1  ",
    "12345678901234567890",
    "00001",
    "1.5",
    "1e9",
];

fn spaces(rng: &mut Rng) -> Vec<u8> {
    match rng.below(10) {
        0 => b"  ".to_vec(),
        1 => b"\t".to_vec(),
        2 => b" \t".to_vec(),
        _ => b" ".to_vec(),
    }
}

/// One line (without its terminating newline), usually a point, sometimes a comment or blank.
pub fn line(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    if rng.chance(8) {
        let lead: &[&[u8]] = &[b" ", b"\t", b"\0\0", b"  "];
        out.extend_from_slice(bytes_of(rng, lead));
    }
    match rng.below(20) {
        0 => {
            out.push(b'#');
            out.extend(token(rng));
            return out;
        }
        1 => return out,
        _ => {}
    }
    out.extend(token(rng));
    for _ in 0..rng.below(4) {
        out.push(b',');
        out.extend(token(rng));
        if !rng.chance(5) {
            out.push(b'=');
            out.extend(token(rng));
        }
    }
    out.extend(spaces(rng));
    let fields = if rng.chance(5) { 0 } else { rng.range(1, 4) };
    for i in 0..fields {
        if i > 0 {
            out.push(b',');
        }
        out.extend(token(rng));
        if !rng.chance(3) {
            out.push(b'=');
        }
        out.extend(field_value(rng));
    }
    match rng.below(3) {
        0 => {}
        1 => {
            out.extend(spaces(rng));
            out.extend_from_slice(rng.pick(TIMES).as_bytes());
        }
        _ => {
            out.extend(spaces(rng));
            out.extend(
                (rng.next_u64() as i64 >> rng.below(64))
                    .to_string()
                    .into_bytes(),
            );
        }
    }
    if rng.chance(5) {
        out.extend(spaces(rng));
    }
    if rng.chance(10) {
        mutate(rng, &mut out);
    }
    out
}

/// One random byte-level damage: insert a special sequence, delete or duplicate a byte.
fn mutate(rng: &mut Rng, line: &mut Vec<u8>) {
    let at = rng.index(line.len() + 1);
    match rng.below(3) {
        0 => {
            let s = bytes_of(rng, SPECIAL);
            line.splice(at..at, s.iter().copied());
        }
        1 if at < line.len() => {
            line.remove(at);
        }
        _ if at < line.len() => {
            let b = line[at];
            line.insert(at, b);
        }
        _ => {}
    }
}

/// The precisions InfluxDB's HTTP API accepts (`""` means nanoseconds).
pub const PRECISIONS: &[&str] = &["", "n", "u", "ms", "s", "m", "h"];

/// A batch of lines, a precision and a default time.
pub fn batch(rng: &mut Rng) -> (Vec<Vec<u8>>, String, i64) {
    let n = rng.range(1, 6);
    let lines = (0..n).map(|_| line(rng)).collect();
    let precision = rng.pick(PRECISIONS).to_string();
    let now = match rng.below(3) {
        0 => 1_500_000_000_123_456_789,
        1 => -(rng.below(1 << 62) as i64),
        _ => (rng.next_u64() >> 1) as i64,
    };
    (lines, precision, now)
}
