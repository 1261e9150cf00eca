//! Entry framing and payloads (write, delete, delete-range), byte-compatible with InfluxDB 1.x.
//!
//! A frame is `type (1) | compressed length (u32 BE) | snappy block`. Encoding works straight from
//! borrowed [`Record`]s; decoding fills a reusable [`Entry`] whose buffers keep their capacity.

use std::ops::Range;

use tsmdb_encoding::{ColumnRef, FieldType, StringColumn};

use crate::record::Record;

/// Bytes of a frame header: type byte + u32 compressed length.
pub const HEADER_LEN: usize = 5;

/// The largest composite key a write record can hold (its length is a u16 on disk).
pub const MAX_KEY_LEN: usize = u16::MAX as usize;

/// Snappy never expands data by more than this factor when decompressing (a 3-byte copy emits at
/// most 64 bytes), so a claimed decompressed length above it is corruption, not something to
/// allocate.
const MAX_SNAPPY_EXPANSION: usize = 22;

/// What an entry does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// Values for one or more keys (type byte 1).
    Write,
    /// Whole keys deleted (type byte 2; InfluxDB 1.x no longer writes it, but replay handles it).
    Delete,
    /// Values of some keys deleted within an inclusive time range (type byte 3).
    DeleteRange,
}

impl EntryKind {
    /// The frame's type byte.
    pub const fn type_byte(self) -> u8 {
        match self {
            EntryKind::Write => 1,
            EntryKind::Delete => 2,
            EntryKind::DeleteRange => 3,
        }
    }

    /// The kind for a frame type byte, or `None` when the byte is not 1, 2 or 3.
    pub const fn from_type_byte(byte: u8) -> Option<EntryKind> {
        match byte {
            1 => Some(EntryKind::Write),
            2 => Some(EntryKind::Delete),
            3 => Some(EntryKind::DeleteRange),
            _ => None,
        }
    }

    /// `write`, `delete` or `delete-range`.
    pub const fn name(self) -> &'static str {
        match self {
            EntryKind::Write => "write",
            EntryKind::Delete => "delete",
            EntryKind::DeleteRange => "delete-range",
        }
    }
}

/// Why an entry could not be encoded (the caller's input, not the disk, is wrong).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A record's key does not fit the u16 length field.
    #[error("max key length exceeded: {0} > 65535")]
    KeyTooLong(usize),
    /// A record has a different number of timestamps and values.
    #[error("record for key {key:?} has {timestamps} timestamps but {values} values")]
    LengthMismatch {
        /// The key, lossily decoded.
        key: String,
        /// Number of timestamps.
        timestamps: usize,
        /// Number of values.
        values: usize,
    },
    /// A record without values (InfluxDB rejects a zero count on replay).
    #[error("record for key {0:?} has no values")]
    EmptyRecord(String),
    /// A count or string length does not fit its u32 field.
    #[error("{0} does not fit in a u32 length field")]
    TooLarge(&'static str),
    /// A delete entry separates keys by newlines, so a key cannot contain one.
    #[error("key {0:?} contains a newline and cannot be written to a delete entry")]
    NewlineInKey(String),
}

/// Why an entry's bytes are not a valid entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The frame's type byte is not 1, 2 or 3.
    #[error("unknown wal entry type: {0}")]
    UnknownEntryType(u8),
    /// The snappy block does not decode.
    #[error("snappy: {0}")]
    Snappy(String),
    /// The payload is truncated or inconsistent.
    #[error("corrupted WAL entry: {0}")]
    Corrupted(&'static str),
    /// A write record's value-type byte is not 1 to 5.
    #[error("unsupported value type: {0}")]
    UnsupportedValueType(u8),
}

fn lossy(key: &[u8]) -> String {
    String::from_utf8_lossy(key).into_owned()
}

/// Appends the payload of a write entry holding `records`, in the given order.
pub fn encode_write_payload(records: &[Record<'_>], out: &mut Vec<u8>) -> Result<(), EncodeError> {
    for record in records {
        let n = record.values.len();
        if record.key.len() > MAX_KEY_LEN {
            return Err(EncodeError::KeyTooLong(record.key.len()));
        }
        if record.timestamps.len() != n {
            return Err(EncodeError::LengthMismatch {
                key: lossy(record.key),
                timestamps: record.timestamps.len(),
                values: n,
            });
        }
        if n == 0 {
            return Err(EncodeError::EmptyRecord(lossy(record.key)));
        }
        let count = u32::try_from(n).map_err(|_| EncodeError::TooLarge("value count"))?;
        out.push(record.values.field_type().wal_type());
        out.extend_from_slice(&(record.key.len() as u16).to_be_bytes());
        out.extend_from_slice(record.key);
        out.extend_from_slice(&count.to_be_bytes());
        let ts = record.timestamps;
        match record.values {
            ColumnRef::Float(v) => {
                out.reserve(16 * n);
                for (t, x) in ts.iter().zip(v) {
                    out.extend_from_slice(&t.to_be_bytes());
                    out.extend_from_slice(&x.to_bits().to_be_bytes());
                }
            }
            ColumnRef::Integer(v) => {
                out.reserve(16 * n);
                for (t, x) in ts.iter().zip(v) {
                    out.extend_from_slice(&t.to_be_bytes());
                    out.extend_from_slice(&x.to_be_bytes());
                }
            }
            ColumnRef::Unsigned(v) => {
                out.reserve(16 * n);
                for (t, x) in ts.iter().zip(v) {
                    out.extend_from_slice(&t.to_be_bytes());
                    out.extend_from_slice(&x.to_be_bytes());
                }
            }
            ColumnRef::Boolean(v) => {
                out.reserve(9 * n);
                for (t, x) in ts.iter().zip(v) {
                    out.extend_from_slice(&t.to_be_bytes());
                    out.push(u8::from(*x));
                }
            }
            ColumnRef::String(v) => {
                for (t, s) in ts.iter().zip(v.iter()) {
                    let len =
                        u32::try_from(s.len()).map_err(|_| EncodeError::TooLarge("string"))?;
                    out.extend_from_slice(&t.to_be_bytes());
                    out.extend_from_slice(&len.to_be_bytes());
                    out.extend_from_slice(s);
                }
            }
        }
    }
    Ok(())
}

/// Appends the payload of a delete entry: the keys joined by `\n`.
pub fn encode_delete_payload(keys: &[&[u8]], out: &mut Vec<u8>) -> Result<(), EncodeError> {
    for (i, key) in keys.iter().enumerate() {
        if key.contains(&b'\n') {
            return Err(EncodeError::NewlineInKey(lossy(key)));
        }
        if i > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(key);
    }
    Ok(())
}

/// Appends the payload of a delete-range entry: min, max (inclusive), then each key with a u32
/// length.
pub fn encode_delete_range_payload(
    keys: &[&[u8]],
    min: i64,
    max: i64,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    out.extend_from_slice(&min.to_be_bytes());
    out.extend_from_slice(&max.to_be_bytes());
    for key in keys {
        let len = u32::try_from(key.len()).map_err(|_| EncodeError::TooLarge("key"))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(key);
    }
    Ok(())
}

/// Appends one frame (header + snappy block of `payload`) to `out`.
pub fn encode_frame(
    kind: EntryKind,
    payload: &[u8],
    encoder: &mut snap::raw::Encoder,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let start = out.len();
    let bound = snap::raw::max_compress_len(payload.len());
    if bound == 0 && !payload.is_empty() {
        return Err(EncodeError::TooLarge("entry payload"));
    }
    out.resize(start + HEADER_LEN + bound, 0);
    let written = encoder
        .compress(payload, &mut out[start + HEADER_LEN..])
        .map_err(|_| EncodeError::TooLarge("entry payload"))?;
    let len = u32::try_from(written).map_err(|_| EncodeError::TooLarge("entry payload"))?;
    out.truncate(start + HEADER_LEN + written);
    out[start] = kind.type_byte();
    out[start + 1..start + HEADER_LEN].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

/// Writes one frame (header + snappy block of `payload`) at the start of `frame`, which is
/// reused between calls: it is only grown (and zero-filled) when too small, never cleared, so a
/// writer does not pay to zero the worst-case compressed size on every entry. Returns the
/// frame's length; the frame is `frame[..len]`.
pub fn encode_frame_reusing(
    kind: EntryKind,
    payload: &[u8],
    encoder: &mut snap::raw::Encoder,
    frame: &mut Vec<u8>,
) -> Result<usize, EncodeError> {
    let bound = snap::raw::max_compress_len(payload.len());
    if bound == 0 && !payload.is_empty() {
        return Err(EncodeError::TooLarge("entry payload"));
    }
    if frame.len() < HEADER_LEN + bound {
        frame.resize(HEADER_LEN + bound, 0);
    }
    let written = encoder
        .compress(payload, &mut frame[HEADER_LEN..HEADER_LEN + bound])
        .map_err(|_| EncodeError::TooLarge("entry payload"))?;
    let len = u32::try_from(written).map_err(|_| EncodeError::TooLarge("entry payload"))?;
    frame[0] = kind.type_byte();
    frame[1..HEADER_LEN].copy_from_slice(&len.to_be_bytes());
    Ok(HEADER_LEN + written)
}

/// Where one write record's values live inside an [`Entry`]'s buffers.
#[derive(Debug, Clone)]
struct RecordSpan {
    key: Range<usize>,
    field_type: FieldType,
    /// Index of the first timestamp in `Entry::timestamps`.
    time_start: usize,
    /// Index of the first value in the typed buffer of `field_type`.
    value_start: usize,
    count: usize,
}

/// One decoded entry. Reuse it across [`Entry::decode`] calls: its buffers keep their capacity, so
/// replay does not allocate per entry once they have grown.
#[derive(Debug, Default)]
pub struct Entry {
    kind: Option<EntryKind>,
    payload: Vec<u8>,
    records: Vec<RecordSpan>,
    keys: Vec<Range<usize>>,
    timestamps: Vec<i64>,
    floats: Vec<f64>,
    integers: Vec<i64>,
    unsigneds: Vec<u64>,
    booleans: Vec<bool>,
    strings: StringColumn,
    min: i64,
    max: i64,
}

impl Entry {
    /// An empty entry to decode into.
    pub fn new() -> Self {
        Self::default()
    }

    /// The entry's kind (`Write` before the first successful decode).
    pub fn kind(&self) -> EntryKind {
        self.kind.unwrap_or(EntryKind::Write)
    }

    /// The decompressed payload, exactly as InfluxDB's encoder would produce it.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The records of a write entry, in entry order (empty for deletes).
    pub fn records(&self) -> impl ExactSizeIterator<Item = Record<'_>> + '_ {
        self.records.iter().map(move |span| self.record(span))
    }

    /// Number of values in a write entry (0 for deletes).
    pub fn value_count(&self) -> usize {
        self.timestamps.len()
    }

    /// The keys of a delete or delete-range entry (empty for writes).
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.keys.iter().map(move |r| &self.payload[r.clone()])
    }

    /// The inclusive time range of a delete-range entry.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        (self.kind == Some(EntryKind::DeleteRange)).then_some((self.min, self.max))
    }

    fn record(&self, span: &RecordSpan) -> Record<'_> {
        let v = span.value_start..span.value_start + span.count;
        let values = match span.field_type {
            FieldType::Float => ColumnRef::Float(&self.floats[v]),
            FieldType::Integer => ColumnRef::Integer(&self.integers[v]),
            FieldType::Unsigned => ColumnRef::Unsigned(&self.unsigneds[v]),
            FieldType::Boolean => ColumnRef::Boolean(&self.booleans[v]),
            FieldType::String => ColumnRef::String(self.strings.slice(v)),
        };
        Record {
            key: &self.payload[span.key.clone()],
            timestamps: &self.timestamps[span.time_start..span.time_start + span.count],
            values,
        }
    }

    fn clear(&mut self) {
        self.kind = None;
        self.payload.clear();
        self.records.clear();
        self.keys.clear();
        self.timestamps.clear();
        self.floats.clear();
        self.integers.clear();
        self.unsigneds.clear();
        self.booleans.clear();
        self.strings.clear();
        self.min = 0;
        self.max = 0;
    }

    /// Decodes one entry from its type byte and snappy block, validating everything: the payload
    /// must decode completely and consume exactly the decompressed length.
    pub fn decode(&mut self, type_byte: u8, block: &[u8]) -> Result<(), DecodeError> {
        self.clear();
        let kind =
            EntryKind::from_type_byte(type_byte).ok_or(DecodeError::UnknownEntryType(type_byte))?;
        let len =
            snap::raw::decompress_len(block).map_err(|e| DecodeError::Snappy(e.to_string()))?;
        if len > block.len().saturating_mul(MAX_SNAPPY_EXPANSION) {
            return Err(DecodeError::Snappy(format!(
                "claimed length {len} is impossible for a {}-byte block",
                block.len()
            )));
        }
        self.payload.resize(len, 0);
        let n = snap::raw::Decoder::new()
            .decompress(block, &mut self.payload)
            .map_err(|e| DecodeError::Snappy(e.to_string()))?;
        if n != len {
            return Err(DecodeError::Snappy(format!(
                "decompressed {n} bytes, header said {len}"
            )));
        }
        let result = match kind {
            EntryKind::Write => self.decode_write(),
            EntryKind::Delete => {
                self.decode_delete();
                Ok(())
            }
            EntryKind::DeleteRange => self.decode_delete_range(),
        };
        match result {
            Ok(()) => {
                self.kind = Some(kind);
                Ok(())
            }
            Err(e) => {
                self.clear();
                Err(e)
            }
        }
    }

    fn decode_delete(&mut self) {
        if self.payload.is_empty() {
            return;
        }
        let mut start = 0;
        for (i, &b) in self.payload.iter().enumerate() {
            if b == b'\n' {
                self.keys.push(start..i);
                start = i + 1;
            }
        }
        self.keys.push(start..self.payload.len());
    }

    fn decode_delete_range(&mut self) -> Result<(), DecodeError> {
        let mut cur = Cursor::new(&self.payload);
        let min = cur
            .i64()
            .ok_or(DecodeError::Corrupted("delete-range shorter than 16 bytes"))?;
        let max = cur
            .i64()
            .ok_or(DecodeError::Corrupted("delete-range shorter than 16 bytes"))?;
        while !cur.at_end() {
            let len = cur
                .u32()
                .ok_or(DecodeError::Corrupted("truncated key length"))?
                as usize;
            let start = cur.pos;
            cur.skip(len)
                .ok_or(DecodeError::Corrupted("truncated key"))?;
            self.keys.push(start..start + len);
        }
        self.min = min;
        self.max = max;
        Ok(())
    }

    fn decode_write(&mut self) -> Result<(), DecodeError> {
        let payload = std::mem::take(&mut self.payload);
        let result = self.decode_write_records(&payload);
        self.payload = payload;
        result
    }

    fn decode_write_records(&mut self, payload: &[u8]) -> Result<(), DecodeError> {
        let mut cur = Cursor::new(payload);
        while !cur.at_end() {
            let vtype = cur
                .u8()
                .ok_or(DecodeError::Corrupted("truncated value type"))?;
            let field_type =
                FieldType::from_wal_type(vtype).ok_or(DecodeError::UnsupportedValueType(vtype))?;
            let key_len = cur
                .u16()
                .ok_or(DecodeError::Corrupted("truncated key length"))?
                as usize;
            let key_start = cur.pos;
            cur.skip(key_len)
                .ok_or(DecodeError::Corrupted("truncated key"))?;
            let count = cur
                .u32()
                .ok_or(DecodeError::Corrupted("truncated value count"))?
                as usize;
            if count == 0 {
                return Err(DecodeError::Corrupted("zero value count"));
            }
            let fixed = match field_type {
                FieldType::Boolean => 9,
                FieldType::String => 12,
                _ => 16,
            };
            // Checked before reserving, so no allocation is sized by an unchecked count.
            if count > cur.remaining() / fixed {
                return Err(DecodeError::Corrupted(
                    "value count larger than the payload",
                ));
            }
            let time_start = self.timestamps.len();
            self.timestamps.reserve(count);
            let value_start = match field_type {
                FieldType::Float => self.floats.len(),
                FieldType::Integer => self.integers.len(),
                FieldType::Unsigned => self.unsigneds.len(),
                FieldType::Boolean => self.booleans.len(),
                FieldType::String => self.strings.len(),
            };
            for _ in 0..count {
                let t = cur
                    .i64()
                    .ok_or(DecodeError::Corrupted("truncated timestamp"))?;
                self.timestamps.push(t);
                match field_type {
                    FieldType::Float => {
                        let bits = cur.u64().ok_or(DecodeError::Corrupted("truncated float"))?;
                        self.floats.push(f64::from_bits(bits));
                    }
                    FieldType::Integer => {
                        let v = cur
                            .i64()
                            .ok_or(DecodeError::Corrupted("truncated integer"))?;
                        self.integers.push(v);
                    }
                    FieldType::Unsigned => {
                        let v = cur
                            .u64()
                            .ok_or(DecodeError::Corrupted("truncated unsigned"))?;
                        self.unsigneds.push(v);
                    }
                    FieldType::Boolean => {
                        let v = cur
                            .u8()
                            .ok_or(DecodeError::Corrupted("truncated boolean"))?;
                        self.booleans.push(v == 1);
                    }
                    FieldType::String => {
                        let len = cur
                            .u32()
                            .ok_or(DecodeError::Corrupted("truncated string length"))?
                            as usize;
                        let s = cur
                            .take(len)
                            .ok_or(DecodeError::Corrupted("string runs past the payload"))?;
                        self.strings.push(s);
                    }
                }
            }
            self.records.push(RecordSpan {
                key: key_start..key_start + key_len,
                field_type,
                time_start,
                value_start,
                count,
            });
        }
        Ok(())
    }
}

/// Big-endian reads over a byte slice that return `None` instead of running past the end.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, pos: 0 }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N).and_then(|s| s.try_into().ok())
    }

    fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|a| a[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_be_bytes)
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_be_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_be_bytes)
    }

    fn i64(&mut self) -> Option<i64> {
        self.array().map(i64::from_be_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn spec_example_write_entry() {
        let mut payload = Vec::new();
        encode_write_payload(
            &[Record {
                key: b"m#!~#f",
                timestamps: &[5],
                values: ColumnRef::Integer(&[6]),
            }],
            &mut payload,
        )
        .unwrap();
        assert_eq!(
            payload,
            hex("02 0006 6d23217e2366 00000001 0000000000000005 0000000000000006")
        );
        let mut frame = Vec::new();
        encode_frame(
            EntryKind::Write,
            &payload,
            &mut snap::raw::Encoder::new(),
            &mut frame,
        )
        .unwrap();
        assert_eq!(&frame[..HEADER_LEN], &hex("01 0000001f")[..]);
        let mut entry = Entry::new();
        entry.decode(frame[0], &frame[HEADER_LEN..]).unwrap();
        let r: Vec<_> = entry.records().collect();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].key, b"m#!~#f");
        assert_eq!(r[0].timestamps, &[5]);
        assert!(matches!(r[0].values, ColumnRef::Integer(&[6])));
    }

    #[test]
    fn a_reused_frame_buffer_gives_the_same_frames() {
        let mut enc = snap::raw::Encoder::new();
        let mut reused = Vec::new();
        // Large, then small, then large again: leftovers of a longer frame must not leak in.
        for payload in [
            vec![7u8; 5000],
            b"short".to_vec(),
            (0..=255u8).cycle().take(3000).collect(),
        ] {
            let mut fresh = Vec::new();
            encode_frame(EntryKind::Write, &payload, &mut enc, &mut fresh).unwrap();
            let len =
                encode_frame_reusing(EntryKind::Write, &payload, &mut enc, &mut reused).unwrap();
            assert_eq!(&reused[..len], &fresh[..]);
        }
    }

    #[test]
    fn spec_example_delete_payloads() {
        let keys: [&[u8]; 2] = [b"k1", b"k22"];
        let mut p = Vec::new();
        encode_delete_range_payload(&keys, 1, 2, &mut p).unwrap();
        assert_eq!(
            p,
            hex("0000000000000001 0000000000000002 00000002 6b31 00000003 6b3232")
        );
        let mut d = Vec::new();
        encode_delete_payload(&keys, &mut d).unwrap();
        assert_eq!(d, hex("6b31 0a 6b3232"));
        for (kind, payload) in [(EntryKind::DeleteRange, p), (EntryKind::Delete, d)] {
            let block = snap::raw::Encoder::new().compress_vec(&payload).unwrap();
            let mut e = Entry::new();
            e.decode(kind.type_byte(), &block).unwrap();
            assert_eq!(e.keys().collect::<Vec<_>>(), keys.to_vec());
            assert_eq!(e.payload(), payload);
        }
    }

    #[test]
    fn rejects_bad_payloads() {
        let cases: &[(&str, &str)] = &[
            ("02 0006 6d23217e2366 00000000", "zero value count"),
            (
                "02 0006 6d23217e2366 00000002 0000000000000005 0000000000000006",
                "larger",
            ),
            ("09 0001 6d", "unsupported value type: 9"),
            ("01 00", "truncated key length"),
            (
                "04 0001 6d 00000001 0000000000000005 000000ff 61",
                "string runs",
            ),
        ];
        for (payload, want) in cases {
            let block = snap::raw::Encoder::new()
                .compress_vec(&hex(payload))
                .unwrap();
            let err = Entry::new().decode(1, &block).unwrap_err().to_string();
            assert!(err.contains(want), "{payload}: {err}");
        }
        assert_eq!(
            Entry::new().decode(7, &[0]).unwrap_err(),
            DecodeError::UnknownEntryType(7)
        );
        let short = snap::raw::Encoder::new().compress_vec(&[0; 15]).unwrap();
        assert!(Entry::new().decode(3, &short).is_err());
        // A snappy header claiming far more bytes than the block can expand to.
        assert!(matches!(
            Entry::new().decode(1, &[0xff, 0xff, 0xff, 0x7f, 0]),
            Err(DecodeError::Snappy(_))
        ));
    }

    #[test]
    fn encode_rejects_bad_records() {
        let mut out = Vec::new();
        let long = vec![b'k'; 70_000];
        let bad = [
            Record {
                key: &long,
                timestamps: &[1],
                values: ColumnRef::Float(&[1.0]),
            },
            Record {
                key: b"k",
                timestamps: &[1, 2],
                values: ColumnRef::Float(&[1.0]),
            },
            Record {
                key: b"k",
                timestamps: &[],
                values: ColumnRef::Float(&[]),
            },
        ];
        for r in bad {
            assert!(encode_write_payload(&[r], &mut out).is_err());
        }
        assert!(encode_delete_payload(&[b"a\nb"], &mut out).is_err());
    }
}
