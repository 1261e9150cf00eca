//! Line protocol output (spec §5.5): one field per line, `<key> <field>=<value> <ns>`.

use std::io::{self, Write};

use tsmdb_encoding::Column;

use crate::escape::{escape_tag, quote_string};
use crate::generator::Block;

/// A float as the shortest decimal that reads back to the same bits, never with an exponent.
pub fn format_float(value: f64) -> String {
    // Rust's `Display` for f64 is exactly this (shortest round-trip digits, positional).
    format!("{value}")
}

/// "00" … "99": two digits per division halves the work of printing timestamps.
const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends the decimal digits of `value`.
pub fn push_i64(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        out.push(b'-');
    }
    push_u64(out, value.unsigned_abs());
}

/// Appends the decimal digits of `value`.
fn push_u64(out: &mut Vec<u8>, value: u64) {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    let mut v = value;
    while v >= 100 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        pos -= 2;
        buf[pos..pos + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if v >= 10 {
        let pair = v as usize * 2;
        pos -= 2;
        buf[pos..pos + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        pos -= 1;
        buf[pos] = b'0' + v as u8;
    }
    out.extend_from_slice(&buf[pos..]);
}

/// Writes blocks as line protocol through an internal buffer.
#[derive(Debug)]
pub struct LineProtocolWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    prefix: Vec<u8>,
    /// The last float written and its text: constants and short cycles repeat values, and
    /// float formatting is the most expensive part of a line.
    last_float: Option<(u64, Vec<u8>)>,
    lines: u64,
    bytes: u64,
}

const FLUSH_AT: usize = 1 << 16;

impl<W: Write> LineProtocolWriter<W> {
    /// A writer into `out`.
    pub fn new(out: W) -> Self {
        LineProtocolWriter {
            out,
            buf: Vec::with_capacity(FLUSH_AT + 4096),
            prefix: Vec::new(),
            last_float: None,
            lines: 0,
            bytes: 0,
        }
    }

    /// Writes every value of `block`, one line each.
    pub fn write_block(&mut self, block: &Block<'_>) -> io::Result<()> {
        self.prefix.clear();
        self.prefix.extend_from_slice(block.series_key);
        self.prefix.push(b' ');
        escape_tag(block.field.as_bytes(), &mut self.prefix);
        self.prefix.push(b'=');
        let ts = block.timestamps;
        match block.values {
            Column::Float(v) => {
                let mut last = self
                    .last_float
                    .take()
                    .unwrap_or((!v.first().map_or(0, |x| x.to_bits()), Vec::new()));
                self.lines_with(ts, |buf, i| {
                    let bits = v[i].to_bits();
                    if last.0 != bits {
                        last.1.clear();
                        // Writing into a Vec cannot fail.
                        let _ = write!(last.1, "{}", v[i]);
                        last.0 = bits;
                    }
                    buf.extend_from_slice(&last.1);
                })?;
                self.last_float = Some(last);
            }
            Column::Integer(v) => self.lines_with(ts, |buf, i| {
                push_i64(buf, v[i]);
                buf.push(b'i');
            })?,
            Column::Unsigned(v) => self.lines_with(ts, |buf, i| {
                push_u64(buf, v[i]);
                buf.push(b'u');
            })?,
            Column::Boolean(v) => self.lines_with(ts, |buf, i| {
                buf.extend_from_slice(if v[i] { b"true" } else { b"false" })
            })?,
            Column::String(v) => {
                self.lines_with(ts, |buf, i| quote_string(v.get(i).unwrap_or_default(), buf))?
            }
        }
        self.lines += block.timestamps.len() as u64;
        Ok(())
    }

    /// One line per timestamp: prefix, the value `value(buf, i)` appends, timestamp.
    fn lines_with(
        &mut self,
        timestamps: &[i64],
        mut value: impl FnMut(&mut Vec<u8>, usize),
    ) -> io::Result<()> {
        for (i, &ts) in timestamps.iter().enumerate() {
            self.buf.extend_from_slice(&self.prefix);
            value(&mut self.buf, i);
            self.buf.push(b' ');
            push_i64(&mut self.buf, ts);
            self.buf.push(b'\n');
            if self.buf.len() >= FLUSH_AT {
                self.flush_buffer()?;
            }
        }
        Ok(())
    }

    fn flush_buffer(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.bytes += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Writes out anything buffered and flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.flush_buffer()?;
        self.out.flush()
    }

    /// Lines written so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Bytes handed to the underlying writer so far (call [`Self::flush`] first for a total).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tsmdb_encoding::{FieldType, StringColumn};

    #[test]
    fn floats_have_no_exponent() {
        assert_eq!(format_float(2.5), "2.5");
        assert_eq!(format_float(1.0), "1");
        assert_eq!(format_float(1e21), "1000000000000000000000");
        assert_eq!(format_float(1e-7), "0.0000001");
        assert_eq!(format_float(0.1 + 0.2), "0.30000000000000004");
    }

    #[test]
    fn integers_format() {
        let mut v = Vec::new();
        push_i64(&mut v, i64::MIN);
        v.push(b' ');
        push_i64(&mut v, 0);
        v.push(b' ');
        push_u64(&mut v, u64::MAX);
        assert_eq!(v, b"-9223372036854775808 0 18446744073709551615");
    }

    proptest::proptest! {
        #[test]
        fn integers_print_like_std(x in proptest::prelude::any::<i64>(), u in proptest::prelude::any::<u64>()) {
            let mut v = Vec::new();
            push_i64(&mut v, x);
            proptest::prop_assert_eq!(String::from_utf8(v).unwrap(), x.to_string());
            let mut v = Vec::new();
            push_u64(&mut v, u);
            proptest::prop_assert_eq!(String::from_utf8(v).unwrap(), u.to_string());
        }
    }

    #[test]
    fn writes_one_line_per_value_with_escaping() {
        let strings: StringColumn = [&b"a \"q\""[..], b"b\\"].into_iter().collect();
        let values = Column::String(strings);
        let block = Block {
            series_key: b"m\\ 1,t=x\\,y",
            measurement: "m 1",
            field: "f k=",
            field_type: FieldType::String,
            timestamps: &[1, 2],
            values: &values,
            new_series: true,
            first_of_pair: true,
        };
        let mut w = LineProtocolWriter::new(Vec::new());
        w.write_block(&block).unwrap();
        assert_eq!(w.lines(), 2);
        let out = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(
            out,
            "m\\ 1,t=x\\,y f\\ k\\==\"a \\\"q\\\"\" 1\nm\\ 1,t=x\\,y f\\ k\\==\"b\\\\\" 2\n"
        );
    }
}
