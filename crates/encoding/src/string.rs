//! String sections (spec §5.8): uvarint length + bytes per string, the whole snappy-compressed.

use std::cell::RefCell;
use std::sync::Arc;

use crate::codec::{Codec, Strings};
use crate::error::{Error, Problem, Result, Section};
use crate::varint::{get_uvarint, put_uvarint};
use crate::{FieldType, StringColumn, StringSlice};

/// Codec id of the snappy encoding.
pub const SNAPPY: u8 = 1;

const SECTION: Section = Section::Values(FieldType::String);

/// Snappy's best case is a 64-byte copy in 3 bytes; no valid input expands more than this.
const MAX_EXPANSION: usize = 22;

struct Scratch {
    /// Uncompressed records (encoding) or decompressed data (decoding).
    raw: Vec<u8>,
    /// Compressed output of the encoder.
    packed: Vec<u8>,
    encoder: snap::raw::Encoder,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch {
        raw: Vec::new(),
        packed: Vec::new(),
        encoder: snap::raw::Encoder::new(),
    });
}

/// Appends a string section holding `values` (snappy bytes may differ from InfluxDB's).
pub fn encode(values: StringSlice<'_>, out: &mut Vec<u8>) -> Result<()> {
    SCRATCH.with_borrow_mut(|s| {
        let Scratch {
            raw,
            packed,
            encoder,
        } = s;
        raw.clear();
        raw.reserve(values.total_bytes() + values.len() * 2);
        for v in values.iter() {
            put_uvarint(raw, v.len() as u64);
            raw.extend_from_slice(v);
        }
        // Compress into a reused buffer (zeroed once, not per call), then copy the result.
        let room = snap::raw::max_compress_len(raw.len());
        if packed.len() < room {
            packed.resize(room, 0);
        }
        let n = encoder
            .compress(raw, packed)
            .map_err(|_| Error::Unencodable {
                codec: "snappy",
                reason: "input too large for snappy",
            })?;
        out.reserve(1 + n);
        out.push(SNAPPY << 4);
        out.extend_from_slice(&packed[..n]);
        Ok(())
    })
}

/// Decodes a string section and appends its strings to `out`.
pub fn decode(section: &[u8], out: &mut StringColumn) -> Result<()> {
    let Some(data) = section.get(1..) else {
        return Ok(());
    };
    let claimed = snap::raw::decompress_len(data)
        .map_err(|e| Error::corrupt(SECTION, 1, Problem::Snappy(e.to_string())))?;
    let limit = data.len().saturating_mul(MAX_EXPANSION);
    if claimed > limit {
        return Err(Error::corrupt(
            SECTION,
            1,
            Problem::CountTooLarge {
                what: "snappy uncompressed length",
                count: claimed as u64,
                limit: limit as u64,
            },
        ));
    }
    SCRATCH.with_borrow_mut(|s| {
        // Grow only: decompression overwrites what it returns, so no zeroing per call. The
        // slack after the data lets `split` copy short strings as fixed-size windows.
        if s.raw.len() < claimed + WINDOW {
            s.raw.resize(claimed + WINDOW, 0);
        }
        let n = snap::raw::Decoder::new()
            .decompress(data, &mut s.raw[..claimed])
            .map_err(|e| Error::corrupt(SECTION, 1, Problem::Snappy(e.to_string())))?;
        split(&s.raw, n, out)
    })
}

/// Strings up to this long are copied as one fixed-size window.
const WINDOW: usize = 16;

/// Splits the decompressed `uvarint length + bytes` records in `buf[..n]` into `out`; all or
/// nothing. `buf` may extend past `n` (junk bytes, only read as window slack).
fn split(buf: &[u8], n: usize, out: &mut StringColumn) -> Result<()> {
    let raw = &buf[..n.min(buf.len())];
    let mark = out.len();
    // At most one string per byte and never more bytes than the input.
    out.reserve(raw.len().min(raw.len() / 2 + 1), raw.len());
    let mut at = 0;
    while at < raw.len() {
        // Short strings (< 128 bytes) have a one-byte length: skip the general varint reader.
        let (len, used) = match raw[at] {
            b if b < 0x80 => (u64::from(b), 1),
            _ => match get_uvarint(&raw[at..]) {
                Some(v) => v,
                None => {
                    out.truncate(mark);
                    return Err(Error::corrupt(SECTION, 1, Problem::BadStringLength { at }));
                }
            },
        };
        at += used;
        let available = raw.len() - at;
        if len > available as u64 {
            out.truncate(mark);
            return Err(Error::corrupt(
                SECTION,
                1,
                Problem::StringTooLong { at, len, available },
            ));
        }
        let end = at + len as usize;
        match buf
            .get(at..at + WINDOW)
            .and_then(|w| w.first_chunk::<WINDOW>())
        {
            Some(window) if len as usize <= WINDOW => out.push_prefix(window, len as usize),
            _ => out.push(&raw[at..end]),
        }
        at = end;
    }
    Ok(())
}

/// The snappy string codec.
#[derive(Debug, Clone, Copy, Default)]
pub struct SnappyStrings;

impl Codec<Strings> for SnappyStrings {
    fn id(&self) -> u8 {
        SNAPPY
    }
    fn name(&self) -> &'static str {
        "snappy"
    }
    fn encode(&self, values: StringSlice<'_>, out: &mut Vec<u8>) -> Result<()> {
        encode(values, out)
    }
    fn decode(&self, section: &[u8], out: &mut StringColumn) -> Result<()> {
        decode(section, out)
    }
}

pub(crate) fn builtin_codecs() -> Vec<Arc<dyn Codec<Strings>>> {
    vec![Arc::new(SnappyStrings)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_vectors_decode() {
        let mut out = StringColumn::new();
        decode(&[0x10, 0x00], &mut out).unwrap();
        assert!(out.is_empty());
        decode(&[0x10, 0x02, 0x04, 0x01, 0x61], &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out.get(0), Some(&b"a"[..]));
        out.clear();
        let hello = [
            0x10, 0x0d, 0x30, 0x05, b'h', b'e', b'l', b'l', b'o', 0x00, 0x05, b'w', b'o', b'r',
            b'l', b'd',
        ];
        decode(&hello, &mut out).unwrap();
        let got: Vec<&[u8]> = out.iter().collect();
        assert_eq!(got, [&b"hello"[..], b"", b"world"]);
    }

    #[test]
    fn lying_lengths_are_errors() {
        let mut out = StringColumn::new();
        // snappy claims 4 GiB from 6 bytes
        assert!(decode(&[0x10, 0xff, 0xff, 0xff, 0xff, 0x0f], &mut out).is_err());
        // decompresses to "\x05a": a 5-byte string with 1 byte present
        let e = decode(&[0x10, 0x02, 0x04, 0x05, b'a'], &mut out).unwrap_err();
        assert!(e.to_string().contains("runs past"), "{e}");
        assert!(out.is_empty());
    }
}
