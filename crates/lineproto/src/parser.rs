//! The line parser: InfluxDB 1.x's `parsePoint` decisions, in one pass over the line, into
//! reusable buffers.
//!
//! Positions stored in the buffers are offsets into the input given to [`Parser::parse`], so a
//! [`Point`] is a handful of slices and no copy is made.

use crate::error::{ErrorKind, LineError, MAX_KEY_LEN, MAX_TIME, MIN_TIME};
use crate::number::{parse_digits, scan_boolean, scan_number, scan_number_fast};
use crate::options::ParseOptions;
use crate::point::{Point, RawField, RawTag, RawValue};
use crate::scan::next_line;
use crate::slow_fields::extract_fields_like_iterator;

/// What one call to [`Parser::parse`] saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Physical lines consumed (newline count, plus one for a last line without newline).
    pub lines: u64,
    /// Points parsed.
    pub points: u64,
    /// Field values in those points.
    pub values: u64,
    /// Lines rejected.
    pub rejected: u64,
}

impl std::ops::AddAssign for Summary {
    fn add_assign(&mut self, o: Summary) {
        self.lines += o.lines;
        self.points += o.points;
        self.values += o.values;
        self.rejected += o.rejected;
    }
}

/// A reusable line-protocol parser. Keep one per thread and call [`Parser::parse`] for each
/// buffer: after the first lines it allocates nothing for valid lines.
#[derive(Debug, Clone, Default)]
pub struct Parser {
    opts: ParseOptions,
    tags: Vec<RawTag>,
    fields: Vec<RawField>,
    key: Vec<u8>,
    /// A field error InfluxDB only finds when it reads the fields back, after it has checked
    /// the timestamp: reported only if the timestamp is fine.
    deferred: Option<Fail>,
}

/// Where the series key of the current point lives.
enum KeyLoc {
    Input(usize, usize),
    Scratch,
}

struct Parsed {
    measurement: (usize, usize),
    key: KeyLoc,
    time: i64,
}

type Fail = (ErrorKind, usize);

#[inline]
fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t' || b == 0
}

#[inline]
fn skip_ws(buf: &[u8], mut i: usize) -> usize {
    while i < buf.len() && is_ws(buf[i]) {
        i += 1;
    }
    i
}

/// Byte classes for the key section: `STOP_MEASUREMENT` ends a measurement (`,` and space),
/// `STOP_TAG` ends a tag key or value (`,`, space and `=`).
const fn table(bytes: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        t[bytes[i] as usize] = true;
        i += 1;
    }
    t
}
static STOP_MEASUREMENT: [bool; 256] = table(b", ");
static STOP_TAG: [bool; 256] = table(b", =");
/// Bytes the field scan must look at; everything else is skipped in a tight loop.
static FIELD_SPECIAL: [bool; 256] = table(b"\\\"=, ");

/// First byte of class `stop` at or after `from` (>= 1) not preceded by a backslash.
/// memchr finds candidates (tokens can be long); the table picks the class.
#[inline(always)]
fn find_unescaped(buf: &[u8], from: usize, stop: &[bool; 256]) -> Option<usize> {
    let mut i = from;
    while i < buf.len() {
        let p = i + memchr::memchr3(b',', b' ', b'=', &buf[i..])?;
        if stop[usize::from(buf[p])] && buf[p - 1] != b'\\' {
            return Some(p);
        }
        i = p + 1;
    }
    None
}

/// The first 8 bytes of `buf[s..e]` as a big-endian u64, zero-padded.
#[inline(always)]
fn key_prefix(buf: &[u8], s: usize, e: usize) -> u64 {
    let n = e - s;
    if let Some(word) = buf.get(s..s + 8) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let p = u64::from_be_bytes(bytes);
        if n >= 8 {
            p
        } else {
            p & !(u64::MAX >> (8 * n))
        }
    } else {
        let mut p = 0u64;
        for j in 0..8 {
            let b = if j < n { buf[s + j] } else { 0 };
            p = (p << 8) | u64::from(b);
        }
        p
    }
}

/// Byte-wise comparison inlined for short tag keys (avoids a `memcmp` call per pair).
#[inline(always)]
fn cmp_bytes(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

impl Parser {
    /// A parser with the given options.
    pub fn new(opts: ParseOptions) -> Self {
        Parser {
            opts,
            ..Parser::default()
        }
    }

    /// The options this parser uses.
    pub fn options(&self) -> &ParseOptions {
        &self.opts
    }

    /// Parses every line of `input`, calling `visit` with each point or each rejected line, in
    /// input order. Line numbers start at 1.
    pub fn parse<'a, F>(&mut self, input: &'a [u8], visit: F) -> Summary
    where
        F: FnMut(Result<Point<'a, '_>, LineError>),
    {
        self.parse_chunk(input, 1, 0, true, visit).summary
    }

    /// Parses `input` as a piece of a larger stream whose first line is `first_line` and which
    /// starts at byte `base_offset` of the stream. When `at_end` is false, a last line that is
    /// not terminated by its newline is left unparsed and reported in [`ChunkEnd::consumed`].
    pub fn parse_chunk<'a, F>(
        &mut self,
        input: &'a [u8],
        first_line: u64,
        base_offset: u64,
        at_end: bool,
        mut visit: F,
    ) -> ChunkEnd
    where
        F: FnMut(Result<Point<'a, '_>, LineError>),
    {
        let default_time = self.opts.precision.truncate(self.opts.default_time);
        let mut summary = Summary::default();
        let mut pos = 0;
        let mut line = first_line;
        while pos < input.len() {
            let span = next_line(input, pos);
            if !span.complete && !at_end {
                break;
            }
            let this_line = line;
            // A line cut by its newline counts one more; a last line running to the end of the
            // input counts one unless its final byte is a newline already counted inside it.
            let ends_in_newline = span.end > pos && input[span.end - 1] == b'\n';
            line += span.embedded_newlines + u64::from(span.end < input.len() || !ends_in_newline);
            let start_of_block = pos;
            let mut block = &input[pos..span.end];
            pos = span.end + 1;

            if let [rest @ .., b'\n'] = block {
                block = rest;
            }
            if self.opts.strip_cr
                && let [rest @ .., b'\r'] = block
            {
                block = rest;
            }
            let start = skip_ws(block, 0);
            if start >= block.len() || block[start] == b'#' {
                continue;
            }
            let line_start = start_of_block + start;
            let text = &block[start..];
            match self.parse_point(input, line_start, line_start + text.len(), default_time) {
                Ok(p) => {
                    let key_in_input = match p.key {
                        KeyLoc::Input(s, e) => Some(&input[s..e]),
                        KeyLoc::Scratch => None,
                    };
                    let series_key = key_in_input.unwrap_or(&self.key[..]);
                    summary.points += 1;
                    summary.values += self.fields.len() as u64;
                    visit(Ok(Point {
                        input,
                        line: this_line,
                        measurement: &input[p.measurement.0..p.measurement.1],
                        key_in_input,
                        series_key,
                        tags: &self.tags,
                        fields: &self.fields,
                        time: p.time,
                    }));
                }
                Err((kind, at)) => {
                    summary.rejected += 1;
                    visit(Err(LineError {
                        line: this_line,
                        column: start + (at - line_start) + 1,
                        offset: base_offset + start_of_block as u64,
                        kind,
                        text: text.into(),
                    }));
                }
            }
        }
        let consumed = pos.min(input.len());
        summary.lines = line - first_line;
        ChunkEnd {
            consumed,
            next_line: line,
            summary,
        }
    }

    /// Parses the line `input[ls..le]` (leading whitespace already skipped, newline stripped).
    /// Every position in the result and in an error is an offset into `input`.
    fn parse_point(
        &mut self,
        input: &[u8],
        ls: usize,
        le: usize,
        default_time: i64,
    ) -> Result<Parsed, Fail> {
        let buf = &input[ls..le];
        let at = |(k, i): (ErrorKind, usize)| (k, ls + i);
        let (m_end, key, fields_pos) = self.scan_key(buf, ls).map_err(at)?;
        let key_len = fields_pos;
        if key_len > MAX_KEY_LEN {
            return Err((ErrorKind::MaxKeyLength(key_len), ls + fields_pos));
        }
        let fields_end = self.scan_fields(buf, ls, fields_pos).map_err(at)?;
        for f in &self.fields {
            let size = key_len + 4 + (f.key.1 - f.key.0);
            if size > MAX_KEY_LEN {
                return Err((ErrorKind::MaxKeyLength(size), f.key.0));
            }
        }
        let time = scan_time(buf, fields_end, &self.opts, default_time).map_err(at)?;
        if let Some(e) = self.deferred.take() {
            return Err(at(e));
        }
        Ok(Parsed {
            measurement: (ls, ls + m_end),
            key,
            time,
        })
    }

    /// Measurement and tags (InfluxDB's `scanKey`): records the tags, sorted by key, and
    /// returns (end of measurement, series key location, position of the space before fields).
    fn scan_key(&mut self, buf: &[u8], base: usize) -> Result<(usize, KeyLoc, usize), Fail> {
        self.tags.clear();
        if buf.is_empty() || buf[0] == b',' {
            return Err((ErrorKind::MissingMeasurement, 0));
        }
        let len = buf.len();
        let m_end =
            find_unescaped(buf, 1, &STOP_MEASUREMENT).ok_or((ErrorKind::MissingFields, len))?;
        if buf[m_end] == b' ' {
            return Ok((m_end, KeyLoc::Input(base, base + m_end), m_end));
        }
        let mut i = m_end + 1;
        let fields_pos = loop {
            let k0 = i;
            if i >= len || matches!(buf[i], b' ' | b',' | b'=') {
                return Err((ErrorKind::MissingTagKey, i));
            }
            let k_end =
                find_unescaped(buf, k0 + 1, &STOP_TAG).ok_or((ErrorKind::MissingTagValue, len))?;
            if buf[k_end] != b'=' {
                return Err((ErrorKind::MissingTagValue, k_end));
            }
            let v0 = k_end + 1;
            if v0 >= len || buf[v0] == b',' || buf[v0] == b' ' {
                return Err((ErrorKind::MissingTagValue, v0));
            }
            let v_end =
                find_unescaped(buf, v0 + 1, &STOP_TAG).ok_or((ErrorKind::MissingFields, len))?;
            if buf[v_end] == b'=' {
                return Err((ErrorKind::InvalidTagFormat, v_end));
            }
            let prefix = key_prefix(buf, k0, k_end);
            self.tags.push(RawTag {
                key: (base + k0, base + k_end),
                value: (base + v0, base + v_end),
                prefix,
            });
            i = v_end + 1;
            if buf[v_end] == b' ' {
                break v_end;
            }
        };

        // Sorted and free of duplicates? (InfluxDB compares raw, still-escaped key bytes.)
        // Different zero-padded 8-byte prefixes order keys exactly as the bytes do.
        let order = |a: &RawTag, b: &RawTag| match a.prefix.cmp(&b.prefix) {
            std::cmp::Ordering::Equal => cmp_bytes(
                &buf[a.key.0 - base..a.key.1 - base],
                &buf[b.key.0 - base..b.key.1 - base],
            ),
            other => other,
        };
        let mut sorted = true;
        for w in self.tags.windows(2) {
            match order(&w[0], &w[1]) {
                std::cmp::Ordering::Greater => {
                    sorted = false;
                    break;
                }
                std::cmp::Ordering::Equal => {
                    return Err((ErrorKind::DuplicateTags, w[1].key.0 - base));
                }
                std::cmp::Ordering::Less => {}
            }
        }
        if sorted {
            return Ok((m_end, KeyLoc::Input(base, base + fields_pos), fields_pos));
        }
        // Stable insertion sort by key, as InfluxDB does (tag counts are small).
        for j in 1..self.tags.len() {
            let t = self.tags[j];
            let mut k = j;
            while k > 0 && order(&t, &self.tags[k - 1]).is_lt() {
                self.tags[k] = self.tags[k - 1];
                k -= 1;
            }
            self.tags[k] = t;
        }
        for w in self.tags.windows(2) {
            if order(&w[0], &w[1]).is_eq() {
                return Err((ErrorKind::DuplicateTags, w[1].key.0 - base));
            }
        }
        self.key.clear();
        self.key.extend_from_slice(&buf[..m_end]);
        for t in &self.tags {
            self.key.push(b',');
            self.key
                .extend_from_slice(&buf[t.key.0 - base..t.value.1 - base]);
        }
        Ok((m_end, KeyLoc::Scratch, fields_pos))
    }

    /// The field section (InfluxDB's `scanFields`, with `scanNumber` and `scanBoolean`),
    /// recording each field. Returns the end of the section.
    fn scan_fields(&mut self, buf: &[u8], base: usize, from: usize) -> Result<usize, Fail> {
        self.fields.clear();
        self.deferred = None;
        let len = buf.len();
        let start = skip_ws(buf, from);
        let mut i = start;
        let mut quoted = false;
        let mut equals = 0usize;
        let mut commas = 0usize;
        // Whether InfluxDB's field iterator (which re-scans with different escape rules) is
        // sure to see the same keys and values as this scan. When not, the fields are
        // re-extracted the iterator's way after validation.
        let mut simple = true;
        let mut key_start = start;
        let mut seg_has_eq = false;
        let mut pending: Option<((usize, usize), usize)> = None;

        while i < len {
            let c = buf[i];
            if !FIELD_SPECIAL[usize::from(c)] {
                i += 1;
                continue;
            }
            if c == b'\\' && i + 1 < len {
                if pending.is_some() && !quoted {
                    simple = false;
                }
                i += 2;
                continue;
            }
            if c == b'"' && equals > commas {
                quoted = !quoted;
                i += 1;
                continue;
            }
            if c == b'=' && !quoted {
                equals += 1;
                let prev = buf[i - 1];
                if (prev == b' ' || prev == b',') && buf[i - 2] != b'\\' {
                    return Err((ErrorKind::MissingFieldKey, i));
                }
                if i + 1 >= len {
                    return Err((ErrorKind::MissingFieldValue, i));
                }
                let n = buf[i + 1];
                if n == b',' || n == b' ' {
                    return Err((ErrorKind::MissingFieldValue, i));
                }
                if seg_has_eq || prev == b'\\' {
                    simple = false;
                }
                seg_has_eq = true;
                let key = (base + key_start, base + i);
                if n.is_ascii_digit() || n == b'.' || n == b'-' || n == b'N' || n == b'n' {
                    let (end, value) = match scan_number_fast(buf, i + 1) {
                        Some(done) => done,
                        None => scan_number(buf, i + 1, self.opts.unsigned)
                            .map_err(|(e, at)| (e.kind(buf), at))?,
                    };
                    self.fields.push(RawField { key, value });
                    i = end;
                    continue;
                }
                if n != b'"' {
                    let (end, value) = scan_boolean(buf, i + 1)?;
                    self.fields.push(RawField {
                        key,
                        value: RawValue::Boolean(value),
                    });
                    i = end;
                    continue;
                }
                pending = Some((key, i + 1));
                i += 1;
                continue;
            }
            if c == b',' && !quoted {
                commas += 1;
                if !seg_has_eq {
                    simple = false;
                }
                if let Some((key, v0)) = pending.take() {
                    self.push_string(key, base + v0, base + i);
                }
                seg_has_eq = false;
                key_start = i + 1;
            }
            if c == b' ' && !quoted {
                break;
            }
            i += 1;
        }
        if quoted {
            return Err((ErrorKind::UnbalancedQuotes, i));
        }
        if let Some((key, v0)) = pending.take() {
            self.push_string(key, base + v0, base + i.min(len));
        }
        if equals == 0 || commas != equals - 1 {
            return Err((ErrorKind::InvalidFieldFormat, i));
        }
        let end = i.min(len);
        if !simple {
            self.fields.clear();
            if let Err(e) = extract_fields_like_iterator(
                buf,
                base,
                start,
                end,
                self.opts.unsigned,
                &mut self.fields,
            ) {
                self.deferred = Some(e);
            }
        }
        Ok(end)
    }

    /// A string value spans `v0..v1` including its quotes; like InfluxDB, the content is the
    /// value without its first and last byte.
    fn push_string(&mut self, key: (usize, usize), v0: usize, v1: usize) {
        let (s, e) = if v1 >= v0 + 2 {
            (v0 + 1, v1 - 1)
        } else {
            (v1, v1)
        };
        self.fields.push(RawField {
            key,
            value: RawValue::String(s, e),
        });
    }
}

/// What [`Parser::parse_chunk`] got through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkEnd {
    /// Bytes of the input consumed; the rest is an unterminated last line.
    pub consumed: usize,
    /// Line number of the first line not consumed.
    pub next_line: u64,
    /// Counts for the consumed part.
    pub summary: Summary,
}

/// The timestamp (InfluxDB's `scanTime`, `ParseInt`, `SafeCalcTime` and trailing check).
fn scan_time(buf: &[u8], from: usize, opts: &ParseOptions, default_time: i64) -> Result<i64, Fail> {
    let len = buf.len();
    let start = skip_ws(buf, from);
    let negative = start < len && buf[start] == b'-';
    let digits_start = start + usize::from(negative);
    let mut i = digits_start;
    while i < len && buf[i].is_ascii_digit() {
        i += 1;
    }
    if i < len && buf[i] != b'\n' && buf[i] != b' ' {
        return Err((ErrorKind::BadTimestamp, i));
    }
    if i == start {
        return Ok(default_time);
    }
    let text = &buf[start..i];
    let lossy = || String::from_utf8_lossy(text).into_owned();
    if i == digits_start {
        return Err((ErrorKind::TimestampSyntax(lossy()), start));
    }
    let limit = if negative {
        1u64 << 63
    } else {
        i64::MAX as u64
    };
    let acc = match parse_digits(&buf[digits_start..i]) {
        Some(a) if a <= limit => a,
        _ => return Err((ErrorKind::TimestampOutOfRange(lossy()), start)),
    };
    let ts = if negative {
        (acc as i64).wrapping_neg()
    } else {
        acc as i64
    };
    let time = ts
        .checked_mul(opts.precision.nanos())
        .filter(|t| (MIN_TIME..=MAX_TIME).contains(t))
        .ok_or((ErrorKind::TimeOutsideRange, start))?;
    if let Some(p) = buf[i..].iter().position(|&b| b != b' ') {
        return Err((ErrorKind::PointInvalid, i + p));
    }
    Ok(time)
}
