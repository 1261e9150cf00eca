//! Boolean sections (spec §5.7): a count, then one bit per value, most significant bit first.

use std::sync::Arc;

use crate::FieldType;
use crate::codec::{Booleans, Codec};
use crate::error::{Error, Problem, Result, Section};
use crate::varint::{get_uvarint, put_uvarint};

/// Codec id of the bit-packed encoding.
pub const BITPACKED: u8 = 1;

const SECTION: Section = Section::Values(FieldType::Boolean);

/// Each byte value expanded to its 8 booleans, most significant bit first.
static EXPAND: [[bool; 8]; 256] = {
    let mut t = [[false; 8]; 256];
    let mut b = 0;
    while b < 256 {
        let mut k = 0;
        while k < 8 {
            t[b][k] = (b >> (7 - k)) & 1 == 1;
            k += 1;
        }
        b += 1;
    }
    t
};

/// Appends the boolean section InfluxDB 1.x would write (an empty one still has a padding byte).
pub fn encode(values: &[bool], out: &mut Vec<u8>) -> Result<()> {
    out.reserve(12 + values.len() / 8);
    out.push(BITPACKED << 4);
    put_uvarint(out, values.len() as u64);
    let chunks = values.chunks_exact(8);
    let rest = chunks.remainder();
    out.extend(chunks.map(|c| c.iter().fold(0u8, |byte, &v| (byte << 1) | u8::from(v))));
    if !rest.is_empty() || values.is_empty() {
        let byte = rest
            .iter()
            .enumerate()
            .fold(0u8, |byte, (k, &v)| byte | (u8::from(v) << (7 - k)));
        out.push(byte);
    }
    Ok(())
}

/// Decodes a boolean section and appends its values to `out`.
pub fn decode(section: &[u8], out: &mut Vec<bool>) -> Result<()> {
    if section.is_empty() {
        return Ok(());
    }
    let (count, used) =
        get_uvarint(&section[1..]).ok_or_else(|| Error::corrupt(SECTION, 1, Problem::BadVarint))?;
    let start = 1 + used;
    let bytes = &section[start..];
    let available = bytes.len() as u64 * 8;
    if count > available {
        return Err(Error::corrupt(
            SECTION,
            1,
            Problem::CountTooLarge {
                what: "boolean",
                count,
                limit: available,
            },
        ));
    }
    let n = count as usize;
    let needed = n.div_ceil(8);
    // InfluxDB writes one padding byte for an empty section; accept exactly that much slack.
    if bytes.len() > needed.max(1) {
        return Err(Error::corrupt(
            SECTION,
            start + needed.max(1),
            Problem::TrailingBytes {
                extra: bytes.len() - needed.max(1),
            },
        ));
    }
    let base = out.len();
    out.reserve(needed * 8);
    for &byte in &bytes[..needed] {
        out.extend_from_slice(&EXPAND[usize::from(byte)]);
    }
    out.truncate(base + n);
    Ok(())
}

/// The bit-packed boolean codec.
#[derive(Debug, Clone, Copy, Default)]
pub struct BitPackedBooleans;

impl Codec<Booleans> for BitPackedBooleans {
    fn id(&self) -> u8 {
        BITPACKED
    }
    fn name(&self) -> &'static str {
        "bitpacked"
    }
    fn encode(&self, values: &[bool], out: &mut Vec<u8>) -> Result<()> {
        encode(values, out)
    }
    fn decode(&self, section: &[u8], out: &mut Vec<bool>) -> Result<()> {
        decode(section, out)
    }
}

pub(crate) fn builtin_codecs() -> Vec<Arc<dyn Codec<Booleans>>> {
    vec![Arc::new(BitPackedBooleans)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_vectors() {
        let enc = |v: &[bool]| {
            let mut out = Vec::new();
            encode(v, &mut out).unwrap();
            out
        };
        assert_eq!(enc(&[]), [0x10, 0, 0]);
        assert_eq!(enc(&[true]), [0x10, 1, 0x80]);
        let t = true;
        let f = false;
        assert_eq!(enc(&[t, f, t, t, f, f, f, f, t]), [0x10, 9, 0xb0, 0x80]);
    }

    #[test]
    fn count_beyond_bytes_is_an_error() {
        let mut out = Vec::new();
        let e = decode(&[0x10, 9, 0xff], &mut out).unwrap_err();
        assert_eq!(e.offset(), Some(1));
        assert!(decode(&[0x10, 1, 0x80, 0], &mut out).is_err());
        decode(&[0x10, 0, 0], &mut out).unwrap();
        assert!(out.is_empty());
    }
}
