//! Parsing from any `Read` in chunks cut at line boundaries.

use std::io::{self, Read};

use crate::error::{ErrorKind, LineError};
use crate::options::ParseOptions;
use crate::parser::{Parser, Summary};
use crate::point::Point;

/// Buffering for [`parse_reader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamOptions {
    /// Bytes read per chunk (the buffer grows only for a line longer than this).
    pub chunk_size: usize,
    /// Longest logical line kept in memory. A longer line (for instance everything after an
    /// unbalanced quote in a huge file) is reported as [`ErrorKind::LineTooLong`] and skipped
    /// up to the next newline, so memory stays bounded. InfluxDB itself would reject the whole
    /// request body instead.
    pub max_line: usize,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            chunk_size: 4 << 20,
            max_line: 64 << 20,
        }
    }
}

/// Parses everything `reader` yields, calling `visit` for each point and each rejected line,
/// in order, with the same results as parsing the whole input at once (lines longer than
/// `max_line` excepted). Memory use is about `chunk_size + max_line`.
pub fn parse_reader<R, F>(
    mut reader: R,
    opts: &ParseOptions,
    stream: &StreamOptions,
    mut visit: F,
) -> io::Result<Summary>
where
    R: Read,
    F: FnMut(Result<Point<'_, '_>, LineError>),
{
    let chunk = stream.chunk_size.max(1);
    let max_line = stream.max_line.max(1);
    let mut parser = Parser::new(*opts);
    let mut buf: Vec<u8> = Vec::with_capacity(chunk);
    let mut summary = Summary::default();
    let mut line = 1u64;
    let mut offset = 0u64;
    let mut eof = false;
    loop {
        // Fill up to one more chunk.
        if !eof {
            let want = buf.len() + chunk;
            let mut filled = buf.len();
            buf.resize(want, 0);
            while filled < want {
                match reader.read(&mut buf[filled..]) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            buf.truncate(filled);
        }
        let end = parser.parse_chunk(&buf, line, offset, eof, &mut visit);
        summary += end.summary;
        line = end.next_line;
        offset += end.consumed as u64;
        buf.drain(..end.consumed);
        if eof {
            return Ok(summary);
        }
        if buf.len() > max_line {
            // One logical line is too long: report it and resynchronise at the next newline.
            let text: Box<[u8]> = buf[..buf.len().min(256)].into();
            visit(Err(LineError {
                line,
                column: 1,
                offset,
                kind: ErrorKind::LineTooLong(max_line),
                text,
            }));
            summary.rejected += 1;
            loop {
                if let Some(p) = memchr::memchr(b'\n', &buf) {
                    line += 1 + memchr::memchr_iter(b'\n', &buf[..p]).count() as u64;
                    offset += (p + 1) as u64;
                    buf.drain(..=p);
                    break;
                }
                line += memchr::memchr_iter(b'\n', &buf).count() as u64;
                offset += buf.len() as u64;
                buf.clear();
                buf.resize(chunk, 0);
                let n = loop {
                    match reader.read(&mut buf) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                };
                buf.truncate(n);
                if n == 0 {
                    return Ok(summary);
                }
            }
        }
    }
}
