//! Integer and unsigned sections (spec §5.5, §5.6): zigzag deltas, then RLE, simple8b or raw.
//!
//! Unsigned values use the same codec on their bits reinterpreted as i64, so everything here is
//! generic over [`IntValue`]; [`crate::unsigned`] instantiates it for u64.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::MAX_RUN_LENGTH;
use crate::codec::{Codec, Kind};
use crate::error::{Error, Problem, Result, Section};
use crate::simple8b::{self, FromWord, Window};
use crate::varint::{get_u64, get_uvarint, put_uvarint};

/// Codec id of uncompressed (8 bytes per value) sections.
pub const RAW: u8 = 0;
/// Codec id of simple8b-packed sections.
pub const PACKED: u8 = 1;
/// Codec id of run-length-encoded sections.
pub const RLE: u8 = 2;

thread_local! {
    static SCRATCH: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// i64 or u64: the value types the integer codec stores.
pub trait IntValue: FromWord + Send + Sync + 'static {
    /// The value's bits as u64.
    fn bits(self) -> u64;
}

impl IntValue for i64 {
    #[inline(always)]
    fn bits(self) -> u64 {
        self as u64
    }
}

impl IntValue for u64 {
    #[inline(always)]
    fn bits(self) -> u64 {
        self
    }
}

#[inline(always)]
fn zigzag(d: u64) -> u64 {
    let d = d as i64;
    ((d << 1) ^ (d >> 63)) as u64
}

#[inline(always)]
fn unzigzag(z: u64) -> u64 {
    (z >> 1) ^ (z & 1).wrapping_neg()
}

/// Appends the section InfluxDB 1.x would write for `values` (nothing for no values).
pub fn encode<T: IntValue>(values: &[T], out: &mut Vec<u8>) -> Result<()> {
    if values.is_empty() {
        return Ok(());
    }
    SCRATCH.with_borrow_mut(|z| {
        zigzag_deltas(values, z);
        // One branch-free pass for both decisions.
        let second = z.get(1).copied().unwrap_or(0);
        let (mut or, mut differ) = (z[0], false);
        for &v in z.iter().skip(1) {
            or |= v;
            differ |= v != second;
        }
        if !differ && z.len() > 2 {
            encode_rle(z, out);
        } else if or > simple8b::MAX_VALUE {
            encode_raw(z, out);
        } else {
            encode_packed(z, out);
        }
    });
    Ok(())
}

fn zigzag_deltas<T: IntValue>(values: &[T], z: &mut Vec<u64>) {
    z.clear();
    z.reserve(values.len());
    let mut prev = 0u64;
    z.extend(values.iter().map(|v| {
        let bits = v.bits();
        let d = bits.wrapping_sub(prev);
        prev = bits;
        zigzag(d)
    }));
}

fn encode_rle(z: &[u64], out: &mut Vec<u8>) {
    out.push(RLE << 4);
    out.extend_from_slice(&z[0].to_be_bytes());
    put_uvarint(out, z.get(1).copied().unwrap_or(0));
    put_uvarint(out, z.len() as u64 - 1);
}

fn encode_raw(z: &[u64], out: &mut Vec<u8>) {
    out.reserve(1 + 8 * z.len());
    out.push(RAW << 4);
    for v in z {
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Fails only when a zigzag delta after the first exceeds 2^60 − 1.
fn encode_packed(z: &[u64], out: &mut Vec<u8>) -> bool {
    let mark = out.len();
    out.push(PACKED << 4);
    out.extend_from_slice(&z[0].to_be_bytes());
    if simple8b::encode(&z[1..], Window::Tail, out).is_err() {
        out.truncate(mark);
        return false;
    }
    true
}

struct Ctx {
    section: Section,
}

impl Ctx {
    fn corrupt(&self, offset: usize, problem: Problem) -> Error {
        Error::corrupt(self.section, offset, problem)
    }
}

/// Decodes a section and appends its values to `out`. `section` names the section in errors.
pub fn decode<T: IntValue>(bytes: &[u8], out: &mut Vec<T>, section: Section) -> Result<()> {
    let ctx = Ctx { section };
    let Some(&header) = bytes.first() else {
        return Ok(());
    };
    match header >> 4 {
        RAW => decode_raw(&ctx, bytes, out),
        PACKED => decode_packed(&ctx, bytes, out),
        RLE => decode_rle(&ctx, bytes, out),
        id => Err(ctx.corrupt(0, Problem::UnknownEncoding { id, header })),
    }
}

fn decode_raw<T: IntValue>(ctx: &Ctx, bytes: &[u8], out: &mut Vec<T>) -> Result<()> {
    let body = &bytes[1..];
    if !body.len().is_multiple_of(8) {
        return Err(ctx.corrupt(
            1,
            Problem::BadLength {
                what: "uncompressed values",
                len: body.len(),
                rule: "a multiple of 8",
            },
        ));
    }
    out.reserve(body.len() / 8);
    let mut acc = 0u64;
    for chunk in body.chunks_exact(8) {
        let mut be = [0u8; 8];
        be.copy_from_slice(chunk);
        acc = acc.wrapping_add(unzigzag(u64::from_be_bytes(be)));
        out.push(T::from_word(acc));
    }
    Ok(())
}

fn decode_packed<T: IntValue>(ctx: &Ctx, bytes: &[u8], out: &mut Vec<T>) -> Result<()> {
    let first = get_u64(bytes, 1).ok_or_else(|| {
        ctx.corrupt(
            1,
            Problem::Truncated {
                what: "first packed value",
                needed: 8,
                available: bytes.len() - 1,
            },
        )
    })?;
    let words = &bytes[9..];
    if !words.len().is_multiple_of(8) {
        return Err(ctx.corrupt(
            9 + words.len() / 8 * 8,
            Problem::BadLength {
                what: "simple8b words",
                len: words.len(),
                rule: "a multiple of 8",
            },
        ));
    }
    let start = out.len();
    let mut acc = unzigzag(first);
    out.push(T::from_word(acc));
    simple8b::decode_append(words, out);
    for slot in &mut out[start + 1..] {
        acc = acc.wrapping_add(unzigzag(slot.bits()));
        *slot = T::from_word(acc);
    }
    Ok(())
}

fn decode_rle<T: IntValue>(ctx: &Ctx, bytes: &[u8], out: &mut Vec<T>) -> Result<()> {
    let first = get_u64(bytes, 1).ok_or_else(|| {
        ctx.corrupt(
            1,
            Problem::Truncated {
                what: "RLE starting value",
                needed: 8,
                available: bytes.len() - 1,
            },
        )
    })?;
    let mut at = 9;
    let (delta, used) =
        get_uvarint(&bytes[at..]).ok_or_else(|| ctx.corrupt(at, Problem::BadVarint))?;
    at += used;
    let (repeat, used) =
        get_uvarint(&bytes[at..]).ok_or_else(|| ctx.corrupt(at, Problem::BadVarint))?;
    if repeat >= MAX_RUN_LENGTH as u64 {
        return Err(ctx.corrupt(
            at,
            Problem::CountTooLarge {
                what: "RLE repeat",
                count: repeat,
                limit: MAX_RUN_LENGTH as u64 - 1,
            },
        ));
    }
    at += used;
    if at != bytes.len() {
        return Err(ctx.corrupt(
            at,
            Problem::TrailingBytes {
                extra: bytes.len() - at,
            },
        ));
    }
    let step = unzigzag(delta);
    let base = unzigzag(first);
    let n = repeat as usize + 1;
    // Four lanes advanced together (one vector add per four values), as for timestamps.
    out.reserve(n);
    let mut lanes: [u64; 4] =
        std::array::from_fn(|i| base.wrapping_add((i as u64).wrapping_mul(step)));
    let stride = step.wrapping_mul(4);
    for _ in 0..n / 4 {
        out.extend_from_slice(&lanes.map(T::from_word));
        for v in &mut lanes {
            *v = v.wrapping_add(stride);
        }
    }
    out.extend(lanes[..n % 4].iter().map(|&v| T::from_word(v)));
    Ok(())
}

/// A codec that always writes one of the three encodings (for [`crate::CodecTable::encode_with`]).
pub struct Forced<K, const ID: u8>(PhantomData<fn() -> K>);

impl<K, const ID: u8> Default for Forced<K, ID> {
    fn default() -> Self {
        Forced(PhantomData)
    }
}

impl<T: IntValue, K: Kind<Output = Vec<T>> + for<'a> Kind<Input<'a> = &'a [T]>, const ID: u8>
    Codec<K> for Forced<K, ID>
{
    fn id(&self) -> u8 {
        ID
    }
    fn name(&self) -> &'static str {
        match ID {
            RAW => "uncompressed",
            PACKED => "simple8b",
            _ => "rle",
        }
    }
    fn encode(&self, values: &[T], out: &mut Vec<u8>) -> Result<()> {
        if values.is_empty() {
            return Ok(());
        }
        SCRATCH.with_borrow_mut(|z| {
            zigzag_deltas(values, z);
            match ID {
                RAW => encode_raw(z, out),
                PACKED => {
                    // The first value is stored whole; only the rest must fit simple8b.
                    if !encode_packed(z, out) {
                        return Err(Error::Unencodable {
                            codec: "integer simple8b",
                            reason: "a zigzag delta exceeds 2^60 - 1",
                        });
                    }
                }
                _ => {
                    if z.len() > 2 && z[2..].iter().any(|&v| v != z[1]) {
                        return Err(Error::Unencodable {
                            codec: "integer rle",
                            reason: "the deltas differ",
                        });
                    }
                    encode_rle(z, out)
                }
            }
            Ok(())
        })
    }
    fn decode(&self, section: &[u8], out: &mut Vec<T>) -> Result<()> {
        decode(section, out, K::SECTION)
    }
}

pub(crate) fn builtin_codecs() -> Vec<Arc<dyn Codec<crate::codec::Integers>>> {
    use crate::codec::Integers;
    vec![
        Arc::new(Forced::<Integers, RAW>::default()),
        Arc::new(Forced::<Integers, PACKED>::default()),
        Arc::new(Forced::<Integers, RLE>::default()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FieldType;

    fn hex(v: &[i64]) -> String {
        let mut out = Vec::new();
        encode(v, &mut out).unwrap();
        out.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn spec_vectors() {
        assert_eq!(hex(&[1]), "100000000000000002");
        assert_eq!(hex(&[1, 2]), "100000000000000002f000000000000002");
        assert_eq!(hex(&[1, 2, 3]), "2000000000000000020202");
        assert_eq!(hex(&[10, 10, 10, 10]), "2000000000000000140003");
        assert_eq!(hex(&[-1, 5, 2, 100]), "100000000000000001d000c4000050000c");
        assert_eq!(hex(&[i64::MAX, 0]), "00fffffffffffffffefffffffffffffffd");
        let v: Vec<i64> = (0..=240).collect();
        assert_eq!(hex(&v), "20000000000000000002f001");
    }

    #[test]
    fn zigzag_matches_spec() {
        for (d, z) in [(0i64, 0u64), (-1, 1), (1, 2), (-2, 3), (i64::MIN, u64::MAX)] {
            assert_eq!(zigzag(d as u64), z);
            assert_eq!(unzigzag(z), d as u64);
        }
    }

    #[test]
    fn rle_repeat_is_capped() {
        let section = [
            0x20, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f,
        ];
        let mut out: Vec<i64> = Vec::new();
        let e = decode(&section, &mut out, Section::Values(FieldType::Integer)).unwrap_err();
        assert_eq!(e.offset(), Some(10));
    }
}
