//! Little-endian and LEB128 primitives, and a bounds-checked reader whose errors carry the file
//! and byte offset.

use std::path::{Path, PathBuf};

use roaring::RoaringBitmap;

use crate::error::{Error, Result};

pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_uvarint(out, b.len() as u64);
    out.extend_from_slice(b);
}

pub(crate) fn put_bitmap(out: &mut Vec<u8>, b: &RoaringBitmap) {
    put_uvarint(out, b.serialized_size() as u64);
    // Writing into a Vec cannot fail.
    let _ = b.serialize_into(&mut *out);
}

/// Reads from `buf`, reporting errors at `origin + pos` in `file`.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    origin: u64,
    file: &'a Path,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], origin: u64, file: &'a Path) -> Self {
        Reader {
            buf,
            pos: 0,
            origin,
            file,
        }
    }

    /// Offset in the file of the next byte.
    pub fn offset(&self) -> u64 {
        self.origin + self.pos as u64
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn corrupt(&self, reason: impl Into<String>) -> Error {
        corrupt(self.file, self.offset(), reason)
    }

    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.corrupt(format!(
                "{what}: needs {n} bytes, {} left",
                self.remaining()
            )));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    pub fn u16(&mut self, what: &str) -> Result<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u64(&mut self, what: &str) -> Result<u64> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    pub fn uvarint(&mut self, what: &str) -> Result<u64> {
        let start = self.offset();
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8(what)?;
            let bits = u64::from(b & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(corrupt(
                    self.file,
                    start,
                    format!("{what}: varint overflows u64"),
                ));
            }
            v |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(corrupt(
            self.file,
            start,
            format!("{what}: varint too long"),
        ))
    }

    /// A count of items each at least `min_item` bytes long: checked against the bytes left so
    /// that no allocation is sized by an unchecked length.
    pub fn count(&mut self, min_item: usize, what: &str) -> Result<usize> {
        let at = self.offset();
        let n = self.uvarint(what)?;
        match usize::try_from(n) {
            Ok(n) if n.saturating_mul(min_item.max(1)) <= self.remaining() => Ok(n),
            _ => Err(corrupt(
                self.file,
                at,
                format!(
                    "{what}: count {n} exceeds the {} bytes left",
                    self.remaining()
                ),
            )),
        }
    }

    pub fn bytes(&mut self, what: &str) -> Result<&'a [u8]> {
        let n = self.count(1, what)?;
        self.take(n, what)
    }

    pub fn bitmap(&mut self, what: &str) -> Result<RoaringBitmap> {
        let at = self.offset();
        let b = self.bytes(what)?;
        let bm = RoaringBitmap::deserialize_from(b)
            .map_err(|e| corrupt(self.file, at, format!("{what}: bad roaring bitmap: {e}")))?;
        // Only the canonical serialization is accepted (the roaring reader ignores some fields,
        // e.g. container offsets): anything else would not rewrite byte for byte.
        let mut canonical = Vec::with_capacity(b.len());
        let _ = bm.serialize_into(&mut canonical);
        if canonical != b {
            return Err(corrupt(
                self.file,
                at,
                format!("{what}: non-canonical roaring bitmap"),
            ));
        }
        Ok(bm)
    }

    pub fn finish(&self, what: &str) -> Result<()> {
        if self.remaining() != 0 {
            return Err(self.corrupt(format!(
                "{what}: {} unexpected trailing bytes",
                self.remaining()
            )));
        }
        Ok(())
    }
}

pub(crate) fn corrupt(file: &Path, offset: u64, reason: impl Into<String>) -> Error {
    Error::Corrupt {
        file: PathBuf::from(file),
        offset,
        reason: reason.into(),
    }
}

pub(crate) fn io_err(file: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        file: file.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uvarint_round_trip_and_overflow() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut b = Vec::new();
            put_uvarint(&mut b, v);
            let mut r = Reader::new(&b, 0, Path::new("x"));
            assert_eq!(r.uvarint("v").unwrap(), v);
            assert_eq!(r.remaining(), 0);
        }
        let bad = [0xffu8; 11];
        assert!(Reader::new(&bad, 0, Path::new("x")).uvarint("v").is_err());
        let mut r = Reader::new(&[5, 1, 2], 0, Path::new("x"));
        assert!(r.bytes("s").is_err());
    }
}
