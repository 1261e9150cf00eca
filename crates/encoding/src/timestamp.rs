//! Timestamp sections (spec §5.3): RLE, simple8b after delta and power-of-ten scaling, or raw.

use std::cell::RefCell;
use std::sync::Arc;

use crate::MAX_RUN_LENGTH;
use crate::codec::{Codec, Timestamps};
use crate::error::{Error, Problem, Result, Section};
use crate::pow10::{self, POW10};
use crate::simple8b::{self, Window};
use crate::varint::{get_u64, get_uvarint, put_uvarint};

const SECTION: Section = Section::Timestamps;
/// Codec id of raw timestamps.
pub const RAW: u8 = 0;
/// Codec id of simple8b-packed timestamp deltas.
pub const PACKED: u8 = 1;
/// Codec id of run-length-encoded timestamps.
pub const RLE: u8 = 2;

/// Largest power of ten InfluxDB tries as a common divisor of the deltas.
const MAX_LOG10: u32 = 12;

thread_local! {
    static SCRATCH: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// What InfluxDB's encoder learns about a series of timestamps before choosing an encoding.
struct Shape {
    max_delta: u64,
    log10: u32,
    all_deltas_equal: bool,
}

fn shape(ts: &[i64]) -> Shape {
    let first_delta = match ts {
        [a, b, ..] => b.wrapping_sub(*a) as u64,
        _ => 0,
    };
    // One branch-free pass (vectorisable), then the divisor: from one delta when they are all
    // equal, otherwise delta by delta until it reaches 1.
    let mut max_delta = 0u64;
    let mut all_deltas_equal = true;
    for w in ts.windows(2) {
        let d = w[1].wrapping_sub(w[0]) as u64;
        max_delta = max_delta.max(d);
        all_deltas_equal &= d == first_delta;
    }
    let mut log10 = MAX_LOG10;
    if all_deltas_equal {
        while log10 > 0 && !pow10::divisible(first_delta, log10) {
            log10 -= 1;
        }
    } else {
        for w in ts.windows(2) {
            let d = w[1].wrapping_sub(w[0]) as u64;
            while log10 > 0 && !pow10::divisible(d, log10) {
                log10 -= 1;
            }
            if log10 == 0 {
                break;
            }
        }
    }
    Shape {
        max_delta,
        log10,
        all_deltas_equal,
    }
}

/// Appends the timestamp section InfluxDB 1.x would write for `ts` (nothing for no timestamps).
pub fn encode(ts: &[i64], out: &mut Vec<u8>) -> Result<()> {
    if ts.is_empty() {
        return Ok(());
    }
    let s = shape(ts);
    if s.all_deltas_equal && ts.len() > 1 {
        encode_rle_with(ts, s.log10, out);
    } else if s.max_delta > simple8b::MAX_VALUE {
        encode_raw(ts, out);
    } else {
        encode_packed_with(ts, s.log10, out)?;
    }
    Ok(())
}

fn encode_raw(ts: &[i64], out: &mut Vec<u8>) {
    out.reserve(1 + 8 * ts.len());
    out.push(RAW << 4);
    let mut prev = 0i64;
    for (i, &t) in ts.iter().enumerate() {
        let v = if i == 0 { t } else { t.wrapping_sub(prev) };
        out.extend_from_slice(&(v as u64).to_be_bytes());
        prev = t;
    }
}

fn encode_rle_with(ts: &[i64], log10: u32, out: &mut Vec<u8>) {
    let delta = ts[1].wrapping_sub(ts[0]) as u64;
    out.push((RLE << 4) | log10 as u8);
    out.extend_from_slice(&(ts[0] as u64).to_be_bytes());
    put_uvarint(out, pow10::exact_div(delta, log10));
    put_uvarint(out, ts.len() as u64);
}

fn encode_packed_with(ts: &[i64], log10: u32, out: &mut Vec<u8>) -> Result<()> {
    let mark = out.len();
    out.push((PACKED << 4) | log10 as u8);
    out.extend_from_slice(&(ts[0] as u64).to_be_bytes());
    SCRATCH.with_borrow_mut(|scaled| {
        scaled.clear();
        scaled.extend(
            ts.windows(2)
                .map(|w| pow10::exact_div(w[1].wrapping_sub(w[0]) as u64, log10)),
        );
        out.reserve(scaled.len() * 2);
        simple8b::encode(scaled, Window::Stream, out).map_err(|_| {
            out.truncate(mark);
            Error::Unencodable {
                codec: "timestamps simple8b",
                reason: "a delta exceeds 2^60 - 1",
            }
        })
    })
}

fn corrupt(offset: usize, problem: Problem) -> Error {
    Error::corrupt(SECTION, offset, problem)
}

fn truncated(what: &'static str, needed: usize, available: usize, at: usize) -> Error {
    corrupt(
        at,
        Problem::Truncated {
            what,
            needed,
            available,
        },
    )
}

/// Decodes a timestamp section and appends the timestamps to `out` (nothing for an empty
/// section).
pub fn decode(section: &[u8], out: &mut Vec<i64>) -> Result<()> {
    let Some(&header) = section.first() else {
        return Ok(());
    };
    match header >> 4 {
        RAW => decode_raw(section, out),
        PACKED => decode_packed(section, out),
        RLE => decode_rle(section, out),
        id => Err(corrupt(0, Problem::UnknownEncoding { id, header })),
    }
}

/// Number of timestamps in a section without decoding them.
pub fn count(section: &[u8]) -> Result<usize> {
    let Some(&header) = section.first() else {
        return Ok(0);
    };
    match header >> 4 {
        RAW => Ok(raw_words(section)?.len() / 8),
        PACKED => {
            let (_, words) = packed_parts(section)?;
            Ok(1 + simple8b::count(words))
        }
        RLE => Ok(rle_parts(section)?.3),
        id => Err(corrupt(0, Problem::UnknownEncoding { id, header })),
    }
}

fn raw_words(section: &[u8]) -> Result<&[u8]> {
    let body = &section[1..];
    if !body.len().is_multiple_of(8) {
        return Err(corrupt(
            1,
            Problem::BadLength {
                what: "raw timestamps",
                len: body.len(),
                rule: "a multiple of 8",
            },
        ));
    }
    Ok(body)
}

fn decode_raw(section: &[u8], out: &mut Vec<i64>) -> Result<()> {
    let body = raw_words(section)?;
    out.reserve(body.len() / 8);
    let mut acc = 0u64;
    for (i, chunk) in body.chunks_exact(8).enumerate() {
        let mut be = [0u8; 8];
        be.copy_from_slice(chunk);
        let v = u64::from_be_bytes(be);
        acc = if i == 0 { v } else { acc.wrapping_add(v) };
        out.push(acc as i64);
    }
    Ok(())
}

/// The first timestamp and the simple8b words of a packed section.
fn packed_parts(section: &[u8]) -> Result<(u64, &[u8])> {
    let first = get_u64(section, 1)
        .ok_or_else(|| truncated("first packed timestamp", 8, section.len() - 1, 1))?;
    let words = &section[9..];
    if !words.len().is_multiple_of(8) {
        return Err(corrupt(
            9 + words.len() / 8 * 8,
            Problem::BadLength {
                what: "simple8b words",
                len: words.len(),
                rule: "a multiple of 8",
            },
        ));
    }
    Ok((first, words))
}

fn decode_packed(section: &[u8], out: &mut Vec<i64>) -> Result<()> {
    let (first, words) = packed_parts(section)?;
    let mult = POW10[usize::from(section[0] & 0x0f)];
    let start = out.len();
    out.push(first as i64);
    simple8b::decode_append(words, out);
    let mut acc = first;
    for slot in &mut out[start + 1..] {
        acc = acc.wrapping_add((*slot as u64).wrapping_mul(mult));
        *slot = acc as i64;
    }
    Ok(())
}

/// (first, delta (unscaled), multiplier, count) of an RLE section.
fn rle_parts(section: &[u8]) -> Result<(u64, u64, u64, usize)> {
    let first = get_u64(section, 1)
        .ok_or_else(|| truncated("first RLE timestamp", 8, section.len() - 1, 1))?;
    let mut at = 9;
    let (delta, used) =
        get_uvarint(&section[at..]).ok_or_else(|| corrupt(at, Problem::BadVarint))?;
    at += used;
    let (n, used) = get_uvarint(&section[at..]).ok_or_else(|| corrupt(at, Problem::BadVarint))?;
    if n > MAX_RUN_LENGTH as u64 {
        return Err(corrupt(
            at,
            Problem::CountTooLarge {
                what: "RLE timestamp",
                count: n,
                limit: MAX_RUN_LENGTH as u64,
            },
        ));
    }
    at += used;
    if at != section.len() {
        return Err(corrupt(
            at,
            Problem::TrailingBytes {
                extra: section.len() - at,
            },
        ));
    }
    let mult = POW10[usize::from(section[0] & 0x0f)];
    Ok((first, delta, mult, n as usize))
}

fn decode_rle(section: &[u8], out: &mut Vec<i64>) -> Result<()> {
    let (first, delta, mult, n) = rle_parts(section)?;
    let step = delta.wrapping_mul(mult);
    // Four lanes advanced together (one vector add per four timestamps) instead of one
    // serial running sum.
    out.reserve(n);
    let mut lanes: [u64; 4] =
        std::array::from_fn(|i| first.wrapping_add((i as u64).wrapping_mul(step)));
    let stride = step.wrapping_mul(4);
    for _ in 0..n / 4 {
        out.extend_from_slice(&lanes.map(|t| t as i64));
        for t in &mut lanes {
            *t = t.wrapping_add(stride);
        }
    }
    out.extend(lanes[..n % 4].iter().map(|&t| t as i64));
    Ok(())
}

macro_rules! forced_codec {
    ($(#[$doc:meta])* $name:ident, $id:expr, $label:literal, |$ts:ident, $out:ident| $encode:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl Codec<Timestamps> for $name {
            fn id(&self) -> u8 {
                $id
            }
            fn name(&self) -> &'static str {
                $label
            }
            fn encode(&self, $ts: &[i64], $out: &mut Vec<u8>) -> Result<()> {
                if $ts.is_empty() {
                    return Ok(());
                }
                $encode
            }
            fn decode(&self, section: &[u8], out: &mut Vec<i64>) -> Result<()> {
                decode(section, out)
            }
            fn count(&self, section: &[u8]) -> Option<Result<usize>> {
                Some(count(section))
            }
        }
    };
}

forced_codec!(
    /// Raw timestamps: the first, then the unscaled deltas, 8 bytes each.
    RawTimestamps,
    RAW,
    "raw",
    |ts, out| {
        encode_raw(ts, out);
        Ok(())
    }
);
forced_codec!(
    /// Deltas divided by their largest common power of ten, packed with simple8b.
    PackedTimestamps,
    PACKED,
    "simple8b",
    |ts, out| encode_packed_with(ts, shape(ts).log10, out)
);
forced_codec!(
    /// One delta repeated: first timestamp, scaled delta, count.
    RleTimestamps,
    RLE,
    "rle",
    |ts, out| {
        let s = shape(ts);
        if ts.len() > 1 && !s.all_deltas_equal {
            return Err(Error::Unencodable {
                codec: "timestamps rle",
                reason: "the deltas differ",
            });
        }
        if ts.len() == 1 {
            out.push(RLE << 4);
            out.extend_from_slice(&(ts[0] as u64).to_be_bytes());
            out.extend_from_slice(&[0, 1]);
            return Ok(());
        }
        encode_rle_with(ts, s.log10, out);
        Ok(())
    }
);

pub(crate) fn builtin_codecs() -> Vec<Arc<dyn Codec<Timestamps>>> {
    vec![
        Arc::new(RawTimestamps),
        Arc::new(PackedTimestamps),
        Arc::new(RleTimestamps),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(ts: &[i64]) -> String {
        let mut out = Vec::new();
        encode(ts, &mut out).unwrap();
        out.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn spec_vectors() {
        assert_eq!(hex(&[0]), "1c0000000000000000");
        assert_eq!(hex(&[0, 10_000_000_000]), "2a00000000000000000102");
        assert_eq!(hex(&[0, 1, 3, 6]), "100000000000000000d000030000200001");
        assert_eq!(
            hex(&[1000, 2000, 4000]),
            "1300000000000003e8e000000080000001"
        );
        assert_eq!(hex(&[0, 1 << 61]), "20000000000000000080808080808080802002");
        assert_eq!(
            hex(&[5, 3, 9]),
            "000000000000000005fffffffffffffffe0000000000000006"
        );
        assert_eq!(hex(&[-10, -5, 0, 10]), "10fffffffffffffff6d0000a0000500005");
    }

    #[test]
    fn decodes_every_encoding_and_counts() {
        for ts in [
            vec![0i64],
            vec![0, 10_000_000_000, 20_000_000_000],
            vec![0, 1, 3, 6],
            vec![5, 3, 9],
            vec![i64::MIN, i64::MAX],
        ] {
            let mut enc = Vec::new();
            encode(&ts, &mut enc).unwrap();
            let mut dec = Vec::new();
            decode(&enc, &mut dec).unwrap();
            assert_eq!(dec, ts);
            assert_eq!(count(&enc).unwrap(), ts.len());
        }
    }

    #[test]
    fn rejects_bad_sections_with_offsets() {
        let mut out = Vec::new();
        let e = decode(&[0x10, 0, 0], &mut out).unwrap_err();
        assert_eq!(e.offset(), Some(1));
        let e = decode(&[0x30], &mut out).unwrap_err();
        assert!(e.to_string().contains("unknown encoding 3"), "{e}");
        let e = decode(&[0x20, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 9], &mut out).unwrap_err();
        assert_eq!(e.offset(), Some(11));
        let e = decode(
            &[0x20, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0x7f],
            &mut out,
        )
        .unwrap_err();
        assert!(matches!(
            e,
            Error::Corrupt {
                problem: Problem::CountTooLarge { .. },
                ..
            }
        ));
    }
}
