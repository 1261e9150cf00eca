//! InfluxQL tokens, each with its byte offset in the statement text.

use crate::error::QueryError;

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// A bare or double-quoted identifier (quoted ones are never keywords).
    Ident {
        /// The name, unquoted.
        name: String,
        /// True when it was double-quoted.
        quoted: bool,
    },
    /// A single-quoted string.
    Str(String),
    /// An integer literal.
    Int(i64),
    /// A float literal.
    Float(f64),
    /// A duration literal, in nanoseconds.
    Duration(i64),
    /// A regular expression `/.../`.
    Regex(String),
    /// An operator or punctuation.
    Op(&'static str),
    /// End of input.
    Eof,
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned {
    /// The token.
    pub token: Token,
    /// Byte offset in the statement.
    pub pos: usize,
}

const OPS: [&str; 18] = [
    "=~", "!~", "!=", "<>", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", ",", "(", ")", ";", ".",
];

/// Splits `text` into tokens. A `/` starts a regex where an operand is expected (after `=~`
/// or `!~`), and is division elsewhere.
pub fn tokenize(text: &str) -> Result<Vec<Spanned>, QueryError> {
    let bytes = text.as_bytes();
    let mut out: Vec<Spanned> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'-' && bytes.get(i + 1) == Some(&b'-') {
            // Comment to end of line.
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        let regex_expected = matches!(
            out.last(),
            Some(Spanned {
                token: Token::Op("=~" | "!~"),
                ..
            })
        );
        if c == b'/' && regex_expected {
            let (s, end) = quoted(text, i, b'/')?;
            out.push(Spanned {
                token: Token::Regex(s),
                pos: start,
            });
            i = end;
        } else if c == b'\'' {
            let (s, end) = quoted(text, i, b'\'')?;
            out.push(Spanned {
                token: Token::Str(s),
                pos: start,
            });
            i = end;
        } else if c == b'"' {
            let (s, end) = quoted(text, i, b'"')?;
            out.push(Spanned {
                token: Token::Ident {
                    name: s,
                    quoted: true,
                },
                pos: start,
            });
            i = end;
        } else if c.is_ascii_digit()
            || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let (tok, end) = number(text, i)?;
            out.push(Spanned {
                token: tok,
                pos: start,
            });
            i = end;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push(Spanned {
                token: Token::Ident {
                    name: text[start..i].to_string(),
                    quoted: false,
                },
                pos: start,
            });
        } else if let Some(op) = OPS.iter().find(|op| text[i..].starts_with(**op)) {
            out.push(Spanned {
                token: Token::Op(op),
                pos: start,
            });
            i += op.len();
        } else {
            let ch = text[i..].chars().next().unwrap_or('?');
            return Err(QueryError::at(
                start,
                format!("unexpected character {ch:?}"),
            ));
        }
    }
    out.push(Spanned {
        token: Token::Eof,
        pos: text.len(),
    });
    Ok(out)
}

/// Reads a quoted token starting at `start` (the quote); `\` escapes the quote and `\\`.
fn quoted(text: &str, start: usize, quote: u8) -> Result<(String, usize), QueryError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = start + 1;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\\' && i + 1 < bytes.len() {
            let next = bytes[i + 1];
            if next == quote || (next == b'\\' && quote != b'/') {
                out.push(next);
                i += 2;
                continue;
            }
            if quote == b'\'' && next == b'n' {
                out.push(b'\n');
                i += 2;
                continue;
            }
        }
        if c == quote {
            let s = String::from_utf8(out)
                .map_err(|_| QueryError::at(start, "invalid UTF-8 in quoted text"))?;
            return Ok((s, i + 1));
        }
        out.push(c);
        i += 1;
    }
    Err(QueryError::at(
        start,
        format!(
            "unterminated {} literal",
            match quote {
                b'\'' => "string",
                b'"' => "identifier",
                _ => "regex",
            }
        ),
    ))
}

/// The unit at the start of `rest` (length, nanoseconds), when it is a whole word.
fn duration_unit(rest: &str) -> Option<(usize, i64)> {
    const UNITS: [(&str, i64); 10] = [
        ("ns", 1),
        ("us", 1_000),
        ("µs", 1_000),
        ("u", 1_000),
        ("ms", 1_000_000),
        ("s", 1_000_000_000),
        ("m", 60_000_000_000),
        ("h", 3_600_000_000_000),
        ("d", 86_400_000_000_000),
        ("w", 604_800_000_000_000),
    ];
    UNITS.into_iter().find_map(|(unit, scale)| {
        let after = rest.strip_prefix(unit)?;
        let word_goes_on = after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
        (!word_goes_on).then_some((unit.len(), scale))
    })
}

fn number(text: &str, start: usize) -> Result<(Token, usize), QueryError> {
    let bytes = text.as_bytes();
    let mut i = start;
    let mut is_float = false;
    while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
        is_float |= bytes[i] == b'.';
        i += 1;
    }
    let digits = &text[start..i];
    // Duration units directly after an integer: ns, u, µ, ms, s, m, h, d, w; segments may
    // follow each other (`1h30m`).
    if !is_float {
        let mut total: i64 = 0;
        let mut seg_start = start;
        let mut end = i;
        while let Some((unit_len, scale)) = duration_unit(&text[end..]) {
            let digits = &text[seg_start..end];
            let n: i64 = digits.parse().map_err(|_| {
                QueryError::at(
                    start,
                    format!("invalid duration {}", &text[start..end + unit_len]),
                )
            })?;
            let overflow = || {
                QueryError::at(
                    start,
                    format!("duration {} overflows", &text[start..end + unit_len]),
                )
            };
            total = n
                .checked_mul(scale)
                .and_then(|ns| total.checked_add(ns))
                .ok_or_else(overflow)?;
            end += unit_len;
            let digits_end = end + text[end..].bytes().take_while(u8::is_ascii_digit).count();
            if digits_end == end || duration_unit(&text[digits_end..]).is_none() {
                return Ok((Token::Duration(total), end));
            }
            seg_start = end;
            end = digits_end;
        }
    }
    if is_float || bytes.get(i).is_some_and(|b| *b == b'e' || *b == b'E') {
        let mut end = i;
        if bytes.get(end).is_some_and(|b| *b == b'e' || *b == b'E') {
            end += 1;
            if bytes.get(end).is_some_and(|b| *b == b'+' || *b == b'-') {
                end += 1;
            }
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
        }
        let v: f64 = text[start..end]
            .parse()
            .map_err(|_| QueryError::at(start, format!("invalid number {}", &text[start..end])))?;
        return Ok((Token::Float(v), end));
    }
    let v: i64 = digits
        .parse()
        .map_err(|_| QueryError::at(start, format!("integer {digits} out of range")))?;
    Ok((Token::Int(v), i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Token> {
        tokenize(s).unwrap().into_iter().map(|t| t.token).collect()
    }

    #[test]
    fn durations_regexes_strings_and_operators() {
        let t = kinds("SELECT \"a b\" FROM m WHERE host =~ /^x\\/y/ AND time > now() - 1h30m");
        assert!(t.contains(&Token::Ident {
            name: "a b".into(),
            quoted: true
        }));
        assert!(t.contains(&Token::Regex("^x/y".into())));
        assert!(t.contains(&Token::Duration(5_400_000_000_000)));
        assert_eq!(
            kinds("10s 5ms 2.5 7 'it\\'s'")[..5],
            [
                Token::Duration(10_000_000_000),
                Token::Duration(5_000_000),
                Token::Float(2.5),
                Token::Int(7),
                Token::Str("it's".into())
            ]
        );
        assert_eq!(
            kinds("a / 2"),
            vec![
                Token::Ident {
                    name: "a".into(),
                    quoted: false
                },
                Token::Op("/"),
                Token::Int(2),
                Token::Eof
            ]
        );
    }

    #[test]
    fn errors_carry_the_offset() {
        let e = tokenize("SELECT 'open").unwrap_err();
        assert_eq!(e.position(), Some(7));
        assert!(
            tokenize("SELECT #")
                .unwrap_err()
                .to_string()
                .contains("at 7")
        );
        assert!(tokenize("SELECT 99999999999999999999").is_err());
    }
}
