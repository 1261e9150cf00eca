//! Cutting the input into logical lines, exactly where InfluxDB's `scanLine` cuts it.
//!
//! A line ends at `\n`, except that a backslash skips the next byte and, once a space has been
//! seen, a double quote inside a field value opens a string that may contain newlines. The
//! common case (no quote or backslash before the newline) is one `memchr3` call.

/// Finds the end of the logical line starting at `pos`. Returns `(end, embedded_newlines)`:
/// the line is `input[pos..end]` (it may end with a `\n` InfluxDB strips later), the next line
/// starts at `end + 1`, and `embedded_newlines` counts `\n` bytes inside the line.
/// `complete` is false when the line ran to the end of `input` without its terminating newline.
#[inline]
pub(crate) fn next_line(input: &[u8], pos: usize) -> LineSpan {
    match memchr::memchr3(b'\n', b'"', b'\\', &input[pos..]) {
        None => LineSpan {
            end: input.len(),
            embedded_newlines: 0,
            complete: false,
        },
        Some(p) if input[pos + p] == b'\n' => LineSpan {
            end: pos + p,
            embedded_newlines: 0,
            complete: true,
        },
        Some(_) => scan_line_exact(input, pos),
    }
}

/// Where a logical line ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineSpan {
    pub end: usize,
    pub embedded_newlines: u64,
    pub complete: bool,
}

/// InfluxDB's `scanLine`, byte by byte.
fn scan_line_exact(buf: &[u8], start: usize) -> LineSpan {
    let len = buf.len();
    let mut i = start;
    let mut quoted = false;
    let mut fields = false;
    let mut equals = 0usize;
    let mut commas = 0usize;
    let mut newlines = 0u64;
    while i < len {
        let b = buf[i];
        if b == b'\\' {
            if buf.get(i + 1) == Some(&b'\n') {
                newlines += 1;
            }
            i += 2;
            continue;
        }
        if b == b' ' {
            fields = true;
        }
        if fields {
            if !quoted && b == b'=' {
                i += 1;
                equals += 1;
                continue;
            } else if !quoted && b == b',' {
                i += 1;
                commas += 1;
                continue;
            } else if b == b'"' && equals > commas {
                i += 1;
                quoted = !quoted;
                continue;
            }
        }
        if b == b'\n' {
            if !quoted {
                return LineSpan {
                    end: i,
                    embedded_newlines: newlines,
                    complete: true,
                };
            }
            newlines += 1;
        }
        i += 1;
    }
    LineSpan {
        end: len,
        embedded_newlines: newlines,
        complete: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < input.len() {
            let span = next_line(input, pos);
            out.push(&input[pos..span.end]);
            pos = span.end + 1;
        }
        out
    }

    #[test]
    fn splits_on_newlines() {
        assert_eq!(lines(b"a\nb\n\nc"), vec![&b"a"[..], b"b", b"", b"c"]);
    }

    #[test]
    fn quoted_field_values_span_lines() {
        let input = b"m f=\"x\ny\" 1\nm f=1";
        assert_eq!(lines(input), vec![&b"m f=\"x\ny\" 1"[..], b"m f=1"]);
        assert_eq!(next_line(input, 0).embedded_newlines, 1);
    }

    #[test]
    fn quotes_in_tags_do_not_open_strings() {
        assert_eq!(
            lines(b"m,t=\"x f=1\nm f=2"),
            vec![&b"m,t=\"x f=1"[..], b"m f=2"]
        );
    }

    #[test]
    fn unbalanced_quote_swallows_the_rest() {
        let input = b"m f=\"x 1\nn v=1\n";
        assert_eq!(lines(input), vec![&input[..]]);
        assert!(!next_line(input, 0).complete);
    }

    #[test]
    fn backslash_skips_newline() {
        assert_eq!(lines(b"m\\\nx f=1\ny"), vec![&b"m\\\nx f=1"[..], b"y"]);
    }
}
