//! [`Engine::write_reader`]'s pipeline: the caller's thread reads the input and cuts it into
//! chunks of whole lines; two workers each parse a chunk into their own batch and commit it, in
//! chunk order. While one worker commits (WAL append and fsync, cache apply), the other parses,
//! so both cores work and no stage waits for a whole-input parse.
//!
//! Ordering: chunk `n` queues its WAL entries only after chunk `n - 1` queued its own, and
//! applies to the cache only after chunk `n - 1` did; in between, both wait for the fsync
//! together (the WAL's group commit), so the fsync of one batch overlaps the parse and log of
//! the next. Summaries reach `progress` in chunk order. After a failed commit no new chunk is
//! started, but the one chunk already in flight may still commit (its WAL entry may already be
//! queued, or its commit reopens a WAL that failed): it is then applied and reported to
//! `progress` like any other, so the cache never lacks what the WAL will replay and `progress`
//! always matches what is stored, while the call still returns the first error.
//! Field types: a worker may record a new field type in the schema only once every earlier
//! chunk is parsed, so the first type in input order wins, exactly as in one sequential write
//! (checks against known types need no wait). The proptest below compares streamed writes of
//! random tricky input with a single `write_lp`.
//!
//! Cutting: a chunk ends after a newline. A newline inside a quoted string value does not end a
//! line, so a chunk holding a `"` is cut where a dry-run parse says its last complete line ends;
//! chunks without a quote (the common case) are cut by counting newlines alone.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use parking_lot::{Condvar, Mutex};
use tsmdb_lineproto::{ErrorKind, LineError, ParseOptions, Parser};

use crate::batch::{Batch, Rejection, WriteSummary};
use crate::database::Database;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::ingest::{PointSink, add_line_point};

/// Bytes read from the input at a time.
const READ_SIZE: usize = 1 << 20;
/// Parsing workers (the machine this targets has two cores; the committing is shared).
const WORKERS: usize = 2;

/// Whole lines for a worker.
struct Job {
    seq: u64,
    data: Vec<u8>,
    first_line: u64,
    offset: u64,
}

/// A worker's report for one job: `None` when it was skipped after an earlier failure.
type Done = (Option<Result<WriteSummary>>, Vec<u8>);

/// One ordered stage of the commit: the chunk sequence number allowed in next.
struct Turn {
    next: Mutex<u64>,
    changed: Condvar,
}

impl Turn {
    fn new() -> Turn {
        Turn {
            next: Mutex::new(0),
            changed: Condvar::new(),
        }
    }

    fn wait_for(&self, seq: u64) {
        let mut next = self.next.lock();
        while *next < seq {
            self.changed.wait(&mut next);
        }
    }

    /// Lets everyone in (a worker died: the others must not wait for it forever).
    fn open_all(&self) {
        *self.next.lock() = u64::MAX;
        self.changed.notify_all();
    }

    /// Lets `seq + 1` in (idempotent).
    fn pass(&self, seq: u64) {
        let mut next = self.next.lock();
        if *next <= seq {
            *next = seq + 1;
            self.changed.notify_all();
        }
    }
}

/// The ordered stages: parsing done (a new field type may be recorded only after every
/// earlier chunk was parsed), queueing WAL entries, and applying to the cache (and reporting).
struct Turns {
    parsed: Turn,
    log: Turn,
    apply: Turn,
}

pub(crate) fn write_stream<R: Read>(
    engine: &Engine,
    db: &Database,
    mut reader: R,
    opts: &ParseOptions,
    batch_lines: usize,
    max_line: usize,
    mut progress: impl FnMut(&WriteSummary),
) -> Result<WriteSummary> {
    let batch_lines = batch_lines.max(1);
    let turns = Turns {
        parsed: Turn::new(),
        log: Turn::new(),
        apply: Turn::new(),
    };
    let failed = AtomicBool::new(false);
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    let mut total = WriteSummary::default();
    let mut first_error: Option<Error> = None;
    let mut spare: Vec<Vec<u8>> = Vec::new();
    let mut on_done = |(r, data): Done, spare: &mut Vec<Vec<u8>>, err: &mut Option<Error>| {
        spare.push(data);
        match r {
            Some(Ok(s)) => {
                progress(&s);
                add_summary(&mut total, s);
            }
            Some(Err(e)) => {
                err.get_or_insert(e);
            }
            None => {}
        }
    };

    let read_result = std::thread::scope(|scope| {
        let mut senders = Vec::with_capacity(WORKERS);
        for _ in 0..WORKERS {
            let (tx, rx) = mpsc::sync_channel::<Job>(1);
            senders.push(tx);
            let done_tx = done_tx.clone();
            let (turns, failed) = (&turns, &failed);
            scope.spawn(move || worker(engine, db, opts, rx, done_tx, turns, failed));
        }
        drop(done_tx);

        // The reader: whole lines to the workers, round robin.
        let mut buf: Vec<u8> = Vec::with_capacity(READ_SIZE * 2);
        let mut scanned = 0usize;
        let mut newlines = 0usize;
        // Set when the lines counted so far do not hold one whole logical line (a quoted
        // string runs on): then the cut is wherever the parser finds the last whole line.
        let mut whole = false;
        let mut line = 1u64;
        let mut offset = 0u64;
        let mut seq = 0u64;
        let mut reported = 0u64;
        let mut eof = false;
        let mut dry_run = Parser::new(*opts);
        let mut result = Ok(());
        while !failed.load(Ordering::Acquire) {
            let mut found = None;
            if !whole {
                for i in memchr::memchr_iter(b'\n', &buf[scanned..]) {
                    newlines += 1;
                    if newlines == batch_lines {
                        found = Some(scanned + i + 1);
                        break;
                    }
                }
                if found.is_none() {
                    scanned = buf.len();
                }
            }
            let mut cut = match found {
                Some(c) => c,
                None if eof => buf.len(),
                None => 0,
            };
            let mut next_line = None;
            if cut > 0 && memchr::memchr(b'"', &buf[..cut]).is_some() {
                // A quoted string may hold newlines: let the parser find the last whole line.
                let at_end = eof && cut == buf.len();
                let end = dry_run.parse_chunk(&buf[..cut], line, offset, at_end, |_| {});
                cut = end.consumed.min(cut);
                next_line = Some(end.next_line);
                whole = cut == 0;
            }
            if cut == 0 {
                if eof && buf.is_empty() {
                    break;
                }
                if buf.len() > max_line && (whole || newlines == 0) {
                    // One logical line longer than we keep in memory: report it, skip on to
                    // its next newline and carry on from there.
                    while reported < seq {
                        match done_rx.recv() {
                            Ok(done) => on_done(done, &mut spare, &mut first_error),
                            Err(_) => break,
                        }
                        reported += 1;
                    }
                    match skip_long_line(&mut reader, &mut buf, line, offset, max_line) {
                        Ok((rejection, consumed, at_eof)) => {
                            let summary = WriteSummary {
                                rejected: vec![Rejection {
                                    line,
                                    reason: rejection.to_string(),
                                }],
                                ..WriteSummary::default()
                            };
                            engine
                                .inner()
                                .counters
                                .points_rejected
                                .fetch_add(1, Ordering::Relaxed);
                            on_done(
                                (Some(Ok(summary)), Vec::new()),
                                &mut spare,
                                &mut first_error,
                            );
                            line += 1;
                            offset += consumed;
                            eof = at_eof;
                        }
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                    }
                    (scanned, newlines, whole) = (0, 0, false);
                    continue;
                }
                if eof {
                    // Only an unfinished quoted line is left: the parser reports it.
                    cut = buf.len();
                    next_line = None;
                } else {
                    match fill(&mut reader, &mut buf) {
                        Ok(more) => eof = !more,
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                    }
                    continue;
                }
            }
            let mut data = spare.pop().unwrap_or_default();
            data.clear();
            data.extend_from_slice(&buf[..cut]);
            let first_line = line;
            line = next_line
                .unwrap_or_else(|| line + memchr::memchr_iter(b'\n', &data).count() as u64);
            let job = Job {
                seq,
                data,
                first_line,
                offset,
            };
            offset += cut as u64;
            buf.drain(..cut);
            (scanned, newlines, whole) = (0, 0, false);
            if senders[(seq as usize) % WORKERS].send(job).is_err() {
                break;
            }
            seq += 1;
            while let Ok(done) = done_rx.try_recv() {
                on_done(done, &mut spare, &mut first_error);
                reported += 1;
            }
            if eof && buf.is_empty() {
                break;
            }
        }
        drop(senders);
        for done in done_rx.iter() {
            on_done(done, &mut spare, &mut first_error);
        }
        result
    });
    read_result.map_err(crate::error::io("reading line protocol for", engine.path()))?;
    match first_error {
        Some(e) => Err(e),
        None => Ok(total),
    }
}

/// Reads up to [`READ_SIZE`] more bytes; false at the end of the input.
fn fill<R: Read>(reader: &mut R, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let start = buf.len();
    buf.resize(start + READ_SIZE, 0);
    let mut filled = start;
    let result = loop {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break Ok(false),
            Ok(n) => {
                filled += n;
                if filled == buf.len() {
                    break Ok(true);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    buf.truncate(filled);
    result
}

/// Drops the over-long line at the start of `buf` (reading on to its newline). Returns the
/// refusal, the bytes the line took, and whether the input ended.
fn skip_long_line<R: Read>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    line: u64,
    offset: u64,
    max_line: usize,
) -> std::io::Result<(LineError, u64, bool)> {
    let text: Box<[u8]> = buf[..buf.len().min(256)].into();
    let error = LineError {
        line,
        column: 1,
        offset,
        kind: ErrorKind::LineTooLong(max_line),
        text,
    };
    let mut consumed = 0u64;
    let mut at_eof = false;
    loop {
        if let Some(p) = memchr::memchr(b'\n', buf) {
            consumed += (p + 1) as u64;
            buf.drain(..=p);
            return Ok((error, consumed, at_eof));
        }
        consumed += buf.len() as u64;
        buf.clear();
        if at_eof {
            return Ok((error, consumed, true));
        }
        // The last read may hold the line's end: look at it before giving up.
        at_eof = !fill(reader, buf)?;
    }
}

/// One parsing worker: parses its jobs into its own (reused) batch and commits each in turn.
fn worker(
    engine: &Engine,
    db: &Database,
    opts: &ParseOptions,
    jobs: mpsc::Receiver<Job>,
    done: mpsc::Sender<Done>,
    turns: &Turns,
    failed: &AtomicBool,
) {
    /// If this worker panics, the others stop committing and stop waiting for it; the panic
    /// then reaches the caller when the scope ends.
    struct OnPanic<'t>(&'t Turns, &'t AtomicBool);
    impl Drop for OnPanic<'_> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                self.1.store(true, Ordering::Release);
                for t in [&self.0.parsed, &self.0.log, &self.0.apply] {
                    t.open_all();
                }
            }
        }
    }
    let _on_panic = OnPanic(turns, failed);
    let options = engine.options();
    let mut parser = Parser::new(*opts);
    let mut batch = Batch::default();
    for job in jobs {
        let seq = job.seq;
        let earlier_parsed = || turns.parsed.wait_for(seq);
        let mut sink = PointSink::with_batch(db, options, batch).before_record(&earlier_parsed);
        parser.parse_chunk(&job.data, job.first_line, job.offset, true, |r| match r {
            Ok(p) => add_line_point(&mut sink, &p),
            Err(e) => sink.reject(e.line, e.to_string()),
        });
        batch = sink.finish();
        turns.parsed.pass(seq);
        turns.log.wait_for(seq);
        let result = if failed.load(Ordering::Acquire) {
            None
        } else {
            let r = engine.commit_ordered(
                db,
                &mut batch,
                || turns.log.pass(seq),
                || turns.apply.wait_for(seq),
            );
            if r.is_err() {
                failed.store(true, Ordering::Release);
            }
            Some(r)
        };
        // Whatever happened, the next chunk may go on, and reports arrive in chunk order.
        turns.log.pass(seq);
        turns.apply.wait_for(seq);
        let _ = done.send((result, job.data));
        turns.apply.pass(seq);
    }
}

pub(crate) fn add_summary(total: &mut WriteSummary, s: WriteSummary) {
    total.points += s.points;
    total.values += s.values;
    total.series_created += s.series_created;
    total.rejected.extend(s.rejected);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Options;
    use tsmdb_lineproto::Precision;

    /// Everything a write left behind: its summary and every stored value, by key.
    fn outcome(input: &[u8], batch: Option<usize>, max_line: usize) -> String {
        let dir = tempfile::tempdir().unwrap();
        let e = Engine::open(dir.path(), Options::default().background(false)).unwrap();
        e.create_database("db", None).unwrap();
        let mut seen = Vec::new();
        let summary = match batch {
            None => e.write_lp("db", input, Precision::Nanosecond).unwrap(),
            Some(n) => {
                let db = e.inner().database("db").unwrap();
                let opts = ParseOptions {
                    precision: Precision::Nanosecond,
                    default_time: crate::engine::now_ns(),
                    ..ParseOptions::default()
                };
                write_stream(&e, &db, input, &opts, n, max_line, |s| seen.push(s.clone())).unwrap()
            }
        };
        if batch.is_some() {
            // Progress saw every batch once, in order.
            let mut total = WriteSummary::default();
            seen.into_iter().for_each(|s| add_summary(&mut total, s));
            assert_eq!(total, summary);
        }
        let mut out = format!(
            "{} points, {} values, rejected {:?}\n",
            summary.points, summary.values, summary.rejected
        );
        for m in e.measurements("db").unwrap() {
            let m = String::from_utf8(m).unwrap();
            for s in e
                .select("db", &crate::read::Select::all(m.as_str()))
                .unwrap()
            {
                // A line without a timestamp gets the time of the write, which differs
                // between the two writes compared.
                let times: Vec<String> = s
                    .timestamps
                    .iter()
                    .map(|&t| {
                        if t > 1 << 60 {
                            "now".into()
                        } else {
                            t.to_string()
                        }
                    })
                    .collect();
                out += &format!("{:?} {times:?} {:?}\n", s.series_key, s.values);
            }
        }
        out
    }

    #[test]
    fn any_batch_size_stores_and_refuses_exactly_what_one_write_does() {
        let input: &[u8] = b"# comment\n\
            m,t=a s=\"two\nlines\" 1\n\
            m,t=a v=1 2\n\
            \n\
            bad line here\n\
            m,t=b s=\"x\",v=2 3\n\
            m,t=b v=\"conflict\" 4\n\
            m,t=c s=\"three\n\nlines\" 5\n\
            m,time=x v=3 6\n\
            m,t=a v=4 7";
        let want = outcome(input, None, 1 << 20);
        assert!(want.contains("rejected [Rejection { line: 6"), "{want}");
        for batch in [1, 2, 3, 5, 100] {
            assert_eq!(outcome(input, Some(batch), 1 << 20), want, "batch {batch}");
        }
    }

    /// Lines of every kind the cutter must not split wrongly: plain, quoted with newlines,
    /// quotes in names, comments, blanks, bad lines, a `\r`.
    const PIECES: &[&str] = &[
        "m,t=a v=1 1\n",
        "m,t=b v=2i 2\n",
        "m s=\"x\ny\" 3\n",
        "m s=\"a\\\"b\nc\" 4\n",
        "m\"q,t=\"v\" v=5 5\n",
        "# comment \"\n",
        "\n",
        "bad\n",
        "m v=\"unterminated\n",
        "m,t=c v=6 6\r\n",
        "m,t=a v=\"conflict\" 7\n",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        #[test]
        fn streaming_in_batches_matches_one_write(
            picks in proptest::collection::vec(0..PIECES.len(), 1..40),
            batch in 1usize..6,
            no_final_newline: bool,
        ) {
            let mut input: String = picks.iter().map(|&i| PIECES[i]).collect();
            if no_final_newline {
                input.pop();
            }
            let want = outcome(input.as_bytes(), None, 1 << 20);
            proptest::prop_assert_eq!(outcome(input.as_bytes(), Some(batch), 1 << 20), want);
        }
    }

    #[test]
    fn an_unfinished_quote_at_the_end_is_refused_not_lost() {
        let input: &[u8] = b"m v=1 1\nm s=\"never closed 2\nm v=3 3\n";
        let want = outcome(input, None, 1 << 20);
        for batch in [1, 2, 10] {
            assert_eq!(outcome(input, Some(batch), 1 << 20), want, "batch {batch}");
        }
    }

    #[test]
    fn a_line_longer_than_the_limit_is_refused_and_the_rest_is_written() {
        // Longer than one read, so the reader holds part of it with no end in sight.
        let long = format!("m v=1,pad=\"{}\" 2\n", "x".repeat(READ_SIZE * 3));
        let input = format!("m v=1 1\n{long}m v=3 3\n");
        let got = outcome(input.as_bytes(), Some(1), 100);
        assert!(got.starts_with("2 points, 2 values"), "{got}");
        assert!(
            got.contains("line: 2") && got.contains("longer than 100 bytes"),
            "{got}"
        );
        assert!(got.contains("[\"1\", \"3\"]"), "{got}");
        assert!(
            got.contains("rejected [Rejection { line: 2") && !got.contains("line: 3"),
            "{got}"
        );
    }
}
