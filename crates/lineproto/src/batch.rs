//! Whole-buffer parsing: all good points plus every line's error, on one thread or on all.

use rayon::prelude::*;

use crate::error::LineError;
use crate::options::ParseOptions;
use crate::parser::{Parser, Summary};
use crate::point::ParsedPoint;
use crate::scan::next_line;

/// The result of parsing a whole buffer: the points that parsed and the lines that did not.
/// One bad line never hides the good lines around it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch<'a> {
    /// Good points, in input order.
    pub points: Vec<ParsedPoint<'a>>,
    /// Rejected lines, in input order.
    pub errors: Vec<LineError>,
    /// Counts.
    pub summary: Summary,
}

impl Batch<'_> {
    /// InfluxDB's combined error: every line's message joined with `\n` (`None` if none).
    pub fn error_message(&self) -> Option<String> {
        if self.errors.is_empty() {
            return None;
        }
        Some(
            self.errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }
}

/// Parses all of `input` on the calling thread.
pub fn parse_batch<'a>(input: &'a [u8], opts: &ParseOptions) -> Batch<'a> {
    let mut parser = Parser::new(*opts);
    let mut batch = Batch::default();
    batch.summary = parser.parse(input, |r| match r {
        Ok(p) => batch.points.push(p.to_parsed()),
        Err(e) => batch.errors.push(e),
    });
    batch
}

/// A piece of the input parsed on its own, with line numbers counted from 0.
struct Piece<'a> {
    start: usize,
    end: usize,
    batch: Batch<'a>,
}

fn parse_piece<'a>(input: &'a [u8], start: usize, stop: usize, parser: &mut Parser) -> Piece<'a> {
    // Parse whole lines starting before `stop`; the last one may run past it.
    let mut end = start;
    while end < stop {
        let span = next_line(input, end);
        end = (span.end + 1).min(input.len());
        if span.end >= input.len() {
            break;
        }
    }
    let slice = &input[start..end];
    let mut batch = Batch::default();
    batch.summary = parser
        .parse_chunk(slice, 0, start as u64, true, |r| match r {
            Ok(p) => batch.points.push(p.to_parsed()),
            Err(e) => batch.errors.push(e),
        })
        .summary;
    Piece { start, end, batch }
}

/// Parses all of `input` on every core (rayon), with exactly the result of [`parse_batch`].
///
/// The buffer is cut into pieces at newlines and the pieces are parsed in parallel. A cut can
/// land inside a logical line only when a quoted string spans lines; the pieces are then
/// checked in order and any piece that did not start where its predecessor really ended is
/// parsed again from the right place, so the result never depends on where the cuts fell.
pub fn parse_batch_parallel<'a>(input: &'a [u8], opts: &ParseOptions) -> Batch<'a> {
    parse_batch_parallel_with(input, opts, 256 * 1024)
}

/// [`parse_batch_parallel`] with pieces of at least `min_piece` bytes (tests use tiny pieces to
/// exercise cuts inside multi-line strings).
pub fn parse_batch_parallel_with<'a>(
    input: &'a [u8],
    opts: &ParseOptions,
    min_piece: usize,
) -> Batch<'a> {
    let threads = rayon::current_num_threads().max(1);
    let min_piece = min_piece.max(1);
    let pieces_wanted = (input.len() / min_piece).clamp(1, threads * 4);
    if pieces_wanted == 1 {
        return parse_batch(input, opts);
    }
    // Nominal cuts just after a newline.
    let step = input.len() / pieces_wanted;
    let mut cuts = vec![0usize];
    for k in 1..pieces_wanted {
        let from = (k * step).max(*cuts.last().unwrap_or(&0));
        match memchr::memchr(b'\n', &input[from..]) {
            Some(p) if from + p + 1 < input.len() => cuts.push(from + p + 1),
            _ => break,
        }
    }
    cuts.dedup();
    cuts.push(input.len());
    let ranges: Vec<(usize, usize)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
    let pieces: Vec<Piece<'a>> = ranges
        .par_iter()
        .map_init(
            || Parser::new(*opts),
            |parser, &(s, e)| parse_piece(input, s, e, parser),
        )
        .collect();

    let mut out = Batch::default();
    let mut parser = Parser::new(*opts);
    let mut pos = 0usize;
    let mut line_base = 1u64;
    for (k, piece) in pieces.into_iter().enumerate() {
        let (_, stop) = ranges[k];
        let piece = if piece.start == pos {
            piece
        } else if pos >= stop {
            continue;
        } else {
            parse_piece(input, pos, stop, &mut parser)
        };
        append(&mut out, piece.batch, line_base);
        line_base += count_lines(&input[piece.start..piece.end]);
        pos = piece.end;
    }
    out
}

/// Lines a piece advanced the line counter by: its newlines (plus one for a last line
/// without a newline, which only the final piece can have).
fn count_lines(piece: &[u8]) -> u64 {
    let nl = memchr::memchr_iter(b'\n', piece).count() as u64;
    if piece.last().is_some_and(|&b| b != b'\n') {
        nl + 1
    } else {
        nl
    }
}

fn append<'a>(out: &mut Batch<'a>, mut b: Batch<'a>, line_base: u64) {
    for p in &mut b.points {
        p.line += line_base;
    }
    for e in &mut b.errors {
        e.line += line_base;
    }
    out.points.append(&mut b.points);
    out.errors.append(&mut b.errors);
    out.summary += b.summary;
}
