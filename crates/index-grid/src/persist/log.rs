//! `index.grid.log`: the changes since the last snapshot, one checksummed record each, so that
//! persisting an insert costs one append and opening replays only what the snapshot lacks.
//!
//! Layout: header (16 B) = magic `TSMDBGLG` · version u16 = 1 · reserved u16 = 0 · CRC u32 of
//! the snapshot this log follows (0 = none); then records = type u8 · body length u32 · body ·
//! CRC-32 u32 over type, length and body. Types: 1 create measurement (body: name), 2 insert
//! (name, tag count, key/value pairs, all uvarint-length-prefixed, then the id assigned, u64),
//! 3 delete (id u64).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::bytes::{Reader, corrupt, io_err, put_bytes, put_uvarint};
use crate::error::Result;
use crate::ids::{Inserted, SeriesId};
use crate::index::Index;

pub(crate) const LOG_MAGIC: &[u8; 8] = b"TSMDBGLG";
const LOG_VERSION: u16 = 1;
pub(crate) const LOG_HEADER: usize = 16;

const REC_MEASUREMENT: u8 = 1;
const REC_INSERT: u8 = 2;
const REC_DELETE: u8 = 3;

/// Appends records to the log of a persistent index.
#[derive(Debug)]
pub(crate) struct LogWriter {
    out: BufWriter<File>,
    path: PathBuf,
    pub records: u64,
    buf: Vec<u8>,
}

pub(crate) fn header(snapshot_crc: u32) -> [u8; LOG_HEADER] {
    let mut h = [0u8; LOG_HEADER];
    h[..8].copy_from_slice(LOG_MAGIC);
    h[8..10].copy_from_slice(&LOG_VERSION.to_le_bytes());
    h[12..16].copy_from_slice(&snapshot_crc.to_le_bytes());
    h
}

impl LogWriter {
    pub fn new(file: File, path: PathBuf, records: u64) -> Self {
        LogWriter {
            out: BufWriter::with_capacity(1 << 16, file),
            path,
            records,
            buf: Vec::new(),
        }
    }

    fn record(&mut self, kind: u8) -> Result<()> {
        let mut rec = Vec::with_capacity(self.buf.len() + 9);
        rec.push(kind);
        rec.extend_from_slice(&(self.buf.len() as u32).to_le_bytes());
        rec.extend_from_slice(&self.buf);
        let crc = crc32fast::hash(&rec);
        rec.extend_from_slice(&crc.to_le_bytes());
        self.buf.clear();
        self.records += 1;
        self.out.write_all(&rec).map_err(io_err(&self.path))
    }

    pub fn create_measurement(&mut self, name: &[u8]) -> Result<()> {
        self.buf.extend_from_slice(name);
        self.record(REC_MEASUREMENT)
    }

    pub fn insert(&mut self, name: &[u8], tags: &[(&[u8], &[u8])], id: SeriesId) -> Result<()> {
        put_bytes(&mut self.buf, name);
        put_uvarint(&mut self.buf, tags.len() as u64);
        for (k, v) in tags {
            put_bytes(&mut self.buf, k);
            put_bytes(&mut self.buf, v);
        }
        self.buf.extend_from_slice(&id.0.to_le_bytes());
        self.record(REC_INSERT)
    }

    pub fn delete(&mut self, id: SeriesId) -> Result<()> {
        self.buf.extend_from_slice(&id.0.to_le_bytes());
        self.record(REC_DELETE)
    }

    /// Writes buffered records and syncs them to disk.
    pub fn sync(&mut self) -> Result<()> {
        self.out.flush().map_err(io_err(&self.path))?;
        self.out.get_ref().sync_data().map_err(io_err(&self.path))
    }
}

/// What replaying a log found.
pub(crate) struct Replay {
    /// Records applied.
    pub records: u64,
    /// Offset of an incomplete or damaged final record that was cut off.
    pub torn_tail: Option<u64>,
    /// Length of the valid prefix.
    pub valid_len: u64,
}

/// Replays the records of `buf` (a whole log file whose header was checked) into `index`.
pub(crate) fn replay(index: &Index, buf: &[u8], file: &Path) -> Result<Replay> {
    let mut pos = LOG_HEADER;
    let mut records = 0;
    while pos < buf.len() {
        let at = pos as u64;
        let rest = &buf[pos..];
        let complete = rest.len() >= 9 && {
            let len = u32::from_le_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
            rest.len() >= 9 + len
        };
        let len = if complete {
            u32::from_le_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize
        } else {
            0
        };
        let crc_ok = complete && {
            let stored = &rest[5 + len..9 + len];
            crc32fast::hash(&rest[..5 + len]).to_le_bytes() == stored
        };
        if !crc_ok {
            // A torn write can only damage the end of the log. A damaged length field also looks
            // like an incomplete last record, so the rest of the file is searched for a whole
            // record first: if one follows, the damage is in the middle (corruption).
            let is_last = if complete {
                pos + 9 + len == buf.len()
            } else {
                !whole_record_after(buf, pos + 1)
            };
            if is_last {
                return Ok(Replay {
                    records,
                    torn_tail: Some(at),
                    valid_len: at,
                });
            }
            return Err(corrupt(file, at, "log record checksum mismatch"));
        }
        let body = &rest[5..5 + len];
        apply(index, rest[0], body, at + 5, file)?;
        records += 1;
        pos += 9 + len;
    }
    Ok(Replay {
        records,
        torn_tail: None,
        valid_len: buf.len() as u64,
    })
}

/// The largest record body the writer produces: an insert of the longest series key a
/// measurement and tags can make (names and values are capped far below this).
const MAX_RECORD_BODY: usize = 1 << 20;

/// How many bytes [`whole_record_after`] may checksum before it gives up and answers "yes" (the
/// safe answer: corruption, so the engine rebuilds the index), which bounds the time a crafted
/// file can cost.
const SEARCH_BUDGET: usize = 64 << 20;

/// Whether a whole record (known type, plausible length, matching CRC) starts anywhere at or
/// after `from`. Used only on damage; random bytes pass all three checks with a probability of
/// about 2^-40 per offset, and most offsets fail on the type byte or length without a CRC.
fn whole_record_after(buf: &[u8], from: usize) -> bool {
    let mut budget = SEARCH_BUDGET;
    (from..buf.len()).any(|start| {
        let rest = &buf[start..];
        if rest.len() < 9 || !matches!(rest[0], REC_MEASUREMENT | REC_INSERT | REC_DELETE) {
            return false;
        }
        let len = u32::from_le_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        if len > MAX_RECORD_BODY || rest.len() < 9 + len {
            return false;
        }
        if budget < 5 + len {
            return true;
        }
        budget -= 5 + len;
        crc32fast::hash(&rest[..5 + len]).to_le_bytes() == rest[5 + len..9 + len]
    })
}

fn apply(index: &Index, kind: u8, body: &[u8], at: u64, file: &Path) -> Result<()> {
    let mut r = Reader::new(body, at, file);
    match kind {
        REC_MEASUREMENT => {
            if index.registry.read().contains_key(body) {
                return Err(corrupt(file, at, "log creates a measurement that exists"));
            }
            // inserting nothing would not create it; create it directly
            index.create_measurement_for_replay(body)
        }
        REC_INSERT => {
            let name = r.bytes("measurement")?;
            let n = r.count(2, "tag count")?;
            let mut tags = Vec::with_capacity(n);
            for _ in 0..n {
                tags.push((r.bytes("tag key")?, r.bytes("tag value")?));
            }
            let id = r.u64("series id")?;
            r.finish("insert record")?;
            if !index.registry.read().contains_key(name) {
                return Err(corrupt(file, at, "log inserts into an unknown measurement"));
            }
            match index.insert(name, &tags) {
                Ok((got, Inserted::Inserted)) if got.0 == id => Ok(()),
                Ok((got, _)) => Err(corrupt(
                    file,
                    at,
                    format!("replayed insert got id {got}, log says {id}"),
                )),
                Err(e) => Err(corrupt(file, at, format!("replayed insert failed: {e}"))),
            }
        }
        REC_DELETE => {
            let id = r.u64("series id")?;
            r.finish("delete record")?;
            match index.delete(SeriesId(id)) {
                Ok(true) => Ok(()),
                _ => Err(corrupt(
                    file,
                    at,
                    format!("log deletes series {id}, which is not live"),
                )),
            }
        }
        k => Err(corrupt(
            file,
            at - 5,
            format!("unknown log record type {k}"),
        )),
    }
}
