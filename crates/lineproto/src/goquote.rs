//! Go's `strconv.Quote` (`%q`), which InfluxDB uses in its error messages and dumps, so that
//! messages and dumps of ours read the same.

/// True for characters Go's `unicode.IsPrint` rejects that we can tell without Unicode tables:
/// controls, separators other than the ASCII space, format characters in common use and
/// private-use code points.
fn go_unprintable(c: char) -> bool {
    c.is_control()
        || (c != ' ' && c.is_whitespace())
        || matches!(c, '\u{ad}' | '\u{61c}' | '\u{180e}' | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}' | '\u{e000}'..='\u{f8ff}' | '\u{f0000}'..)
}

/// Go's `strconv.Quote`, appended to `out`: `"` + escapes (`\"`, `\\`, `\n`, `\t`, ..., `\xNN` for
/// invalid UTF-8, `\uNNNN` / `\UNNNNNNNN` for unprintable characters) + `"`.
pub fn go_quote(bytes: &[u8], out: &mut String) {
    use std::fmt::Write as _;
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{7}' => out.push_str("\\a"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{b}' => out.push_str("\\v"),
                c if (c as u32) < 0x20 || c == '\u{7f}' => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c if go_unprintable(c) && (c as u32) < 0x10000 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c if go_unprintable(c) => {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::go_quote;

    fn q(b: &[u8]) -> String {
        let mut s = String::new();
        go_quote(b, &mut s);
        s
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(q(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(q(b"\x00\x07\n\x7f"), r#""\x00\a\n\x7f""#);
        assert_eq!(q(b"\x83\xffz"), r#""\x83\xffz""#);
        assert_eq!(q("é\u{200b}".as_bytes()), r#""é\u200b""#);
    }
}
