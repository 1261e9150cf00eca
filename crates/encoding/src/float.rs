//! Float sections (spec §5.4): InfluxDB's variant of Gorilla XOR compression.
//!
//! Quirks kept for byte-identical output: the leading-zero count is written modulo 32, the
//! window is only replaced when the new XOR does not fit it, and the stream ends with the value
//! `7FF8000000000001` (a NaN), which is why NaN itself cannot be stored.

use std::sync::Arc;

use crate::FieldType;
use crate::codec::{Codec, Floats};
use crate::error::{Error, Problem, Result, Section};

/// Codec id of the Gorilla XOR encoding.
pub const GORILLA: u8 = 1;
/// The NaN bit pattern that ends every float stream.
pub const END_MARKER: u64 = 0x7FF8_0000_0000_0001;

const SECTION: Section = Section::Values(FieldType::Float);

/// MSB-first bit writer with a 64-bit accumulator.
struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    /// Bits of `acc` in use, from the top; always < 64.
    used: u32,
}

impl BitWriter<'_> {
    /// Writes the low `n` bits of `v` (1 ≤ n ≤ 64; higher bits of `v` must be zero).
    #[inline(always)]
    fn write(&mut self, v: u64, n: u32) {
        let free = 64 - self.used;
        if n < free {
            self.acc |= v << (free - n);
            self.used += n;
        } else {
            let spill = n - free;
            self.acc |= v >> spill;
            self.out.extend_from_slice(&self.acc.to_be_bytes());
            self.acc = if spill == 0 { 0 } else { v << (64 - spill) };
            self.used = spill;
        }
    }

    fn finish(self) {
        let bytes = self.used.div_ceil(8) as usize;
        self.out.extend_from_slice(&self.acc.to_be_bytes()[..bytes]);
    }
}

/// The encoder's running state between values.
struct Xor {
    prev: u64,
    /// (leading, trailing) of the current window; `None` until the first non-zero XOR.
    window: Option<(u32, u32)>,
}

impl Xor {
    #[inline(always)]
    fn push(&mut self, w: &mut BitWriter<'_>, bits: u64) {
        let x = bits ^ self.prev;
        self.prev = bits;
        if x == 0 {
            w.write(0, 1);
            return;
        }
        // InfluxDB masks the leading-zero count to 5 bits (so 40 is written as 8).
        let leading = x.leading_zeros() & 0x1f;
        let trailing = x.trailing_zeros();
        match self.window {
            Some((lw, tw)) if leading >= lw && trailing >= tw => {
                w.write(0b10, 2);
                w.write(x >> tw, 64 - lw - tw);
            }
            _ => {
                self.window = Some((leading, trailing));
                let significant = 64 - leading - trailing;
                // control bits 11, 5 bits of leading, 6 bits of significant (64 written as 0)
                let control =
                    (0b11 << 11) | (u64::from(leading) << 6) | u64::from(significant & 63);
                w.write(control, 13);
                w.write(x >> trailing, significant);
            }
        }
    }
}

/// Appends the float section InfluxDB 1.x would write for `values`. NaN is refused.
pub fn encode(values: &[f64], out: &mut Vec<u8>) -> Result<()> {
    if let Some(index) = values.iter().position(|v| v.is_nan()) {
        return Err(Error::NaN { index });
    }
    out.reserve(10 + values.len() * 2);
    out.push(GORILLA << 4);
    let mut w = BitWriter {
        out,
        acc: 0,
        used: 0,
    };
    let first = values.first().map_or(END_MARKER, |v| v.to_bits());
    w.write(first, 64);
    let mut xor = Xor {
        prev: first,
        window: None,
    };
    if !values.is_empty() {
        for v in &values[1..] {
            xor.push(&mut w, v.to_bits());
        }
        xor.push(&mut w, END_MARKER);
    }
    w.finish();
    Ok(())
}

/// 128 bits of `data` starting at byte `byte` (zero past the end), as a big-endian number.
#[inline(always)]
fn load128(data: &[u8], byte: usize) -> u128 {
    match data.get(byte..byte + 16) {
        Some(chunk) => {
            let mut be = [0u8; 16];
            be.copy_from_slice(chunk);
            u128::from_be_bytes(be)
        }
        None => {
            let mut be = [0u8; 16];
            let tail = data.get(byte..).unwrap_or_default();
            let n = tail.len().min(16);
            be[..n].copy_from_slice(&tail[..n]);
            u128::from_be_bytes(be)
        }
    }
}

fn corrupt(offset: usize, problem: Problem) -> Error {
    Error::corrupt(SECTION, offset, problem)
}

/// Decodes a float section and appends its values to `out` (nothing for an empty section).
///
/// One 128-bit load per value: after shifting away the bits already consumed, at least 120
/// valid bits remain, enough for the longest item (13 control bits + 64 value bits).
pub fn decode(section: &[u8], out: &mut Vec<f64>) -> Result<()> {
    let Some(body) = section.get(1..) else {
        return Ok(());
    };
    let len_bits = body.len() * 8;
    // Offsets in errors: the byte of the section holding the bit where the bad item starts.
    let at = |pos: usize| 1 + pos / 8;
    if len_bits < 64 {
        return Err(corrupt(1, Problem::MissingEndMarker));
    }
    let mut prev = (load128(body, 0) >> 64) as u64;
    let mut pos = 64usize;
    let start = out.len();
    // InfluxDB refuses to write NaN, so a NaN other than the end marker is damage (and could
    // not be written back).
    let nan = |bits: u64| bits & 0x7fff_ffff_ffff_ffff > 0x7ff0_0000_0000_0000;
    if prev != END_MARKER {
        if nan(prev) {
            return Err(corrupt(
                1,
                Problem::InvalidValue("NaN (InfluxDB never writes one)"),
            ));
        }
        let (mut leading, mut trailing) = (0u32, 0u32);
        out.push(f64::from_bits(prev));
        loop {
            if pos >= len_bits {
                out.truncate(start);
                return Err(corrupt(at(pos), Problem::MissingEndMarker));
            }
            let w = load128(body, pos >> 3) << (pos & 7);
            let top = (w >> 64) as u64;
            if top >> 63 == 0 {
                pos += 1;
                out.push(f64::from_bits(prev));
                continue;
            }
            let control = if top & (1 << 62) == 0 {
                2
            } else {
                let l = ((top >> 57) & 0x1f) as u32;
                let m = match ((top >> 51) & 0x3f) as u32 {
                    0 => 64,
                    m => m,
                };
                if l + m > 64 {
                    out.truncate(start);
                    return Err(corrupt(
                        at(pos),
                        Problem::BadFloatWindow {
                            leading: l,
                            significant: m,
                        },
                    ));
                }
                leading = l;
                trailing = 64 - l - m;
                13
            };
            let significant = 64 - leading - trailing;
            let x = ((w << control) >> (128 - significant)) as u64;
            let item = pos;
            pos += control as usize + significant as usize;
            if pos > len_bits {
                out.truncate(start);
                return Err(corrupt(at(item), Problem::MissingEndMarker));
            }
            prev ^= x << trailing;
            if prev == END_MARKER {
                break;
            }
            if nan(prev) {
                out.truncate(start);
                return Err(corrupt(
                    at(item),
                    Problem::InvalidValue("NaN (InfluxDB never writes one)"),
                ));
            }
            out.push(f64::from_bits(prev));
        }
    }
    let used = pos.div_ceil(8);
    if used < body.len() {
        out.truncate(start);
        return Err(corrupt(
            1 + used,
            Problem::TrailingBytes {
                extra: body.len() - used,
            },
        ));
    }
    Ok(())
}

/// The Gorilla XOR codec (the only float encoding InfluxDB has).
#[derive(Debug, Clone, Copy, Default)]
pub struct GorillaFloats;

impl Codec<Floats> for GorillaFloats {
    fn id(&self) -> u8 {
        GORILLA
    }
    fn name(&self) -> &'static str {
        "gorilla"
    }
    fn encode(&self, values: &[f64], out: &mut Vec<u8>) -> Result<()> {
        encode(values, out)
    }
    fn decode(&self, section: &[u8], out: &mut Vec<f64>) -> Result<()> {
        decode(section, out)
    }
}

pub(crate) fn builtin_codecs() -> Vec<Arc<dyn Codec<Floats>>> {
    vec![Arc::new(GorillaFloats)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(v: &[f64]) -> String {
        let mut out = Vec::new();
        encode(v, &mut out).unwrap();
        out.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn spec_vectors() {
        assert_eq!(hex(&[]), "107ff8000000000001");
        assert_eq!(hex(&[1.0]), "103ff0000000000000c3fc0080000000000010");
        assert_eq!(hex(&[1.0, 1.0]), "103ff000000000000061fe0040000000000008");
        assert_eq!(
            hex(&[1.0, 2.0, 3.0]),
            "103ff0000000000000c25fffd80f17dff800000000000080"
        );
        assert_eq!(
            hex(&[12.0, 12.0, 24.0, 13.0, 24.0, 24.0, 24.0, 24.0]),
            "1040280000000000006b07ac49a462fbfc00000000000010"
        );
        assert_eq!(
            hex(&[1.0, 1.000_000_001_862_645_1]),
            "103ff0000000000000d108000000070ff00200000020000040"
        );
        assert_eq!(
            hex(&[1.5, 2.5]),
            "103ff8000000000000c26ffff17dffe0000000000008"
        );
    }

    #[test]
    fn nan_is_refused_with_its_index() {
        let mut out = vec![7];
        assert_eq!(
            encode(&[1.0, f64::NAN], &mut out),
            Err(Error::NaN { index: 1 })
        );
        assert_eq!(out, [7]);
    }

    #[test]
    fn a_nan_value_in_the_stream_is_corrupt() {
        // first value 7FF8000000000000 (a NaN, not the end marker), then the end marker
        let mut enc = vec![0x10, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0];
        enc.extend_from_slice(&[0xc3, 0xff, 0xff, 0x80, 0, 0, 0, 0, 0, 0x10]);
        let e = decode(&enc, &mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("NaN"), "{e}");
        // 1.0 then a value that XORs to a NaN
        let mut enc = Vec::new();
        encode(&[1.0, 2.0], &mut enc).unwrap();
        let mut out = Vec::new();
        decode(&enc, &mut out).unwrap();
        assert_eq!(out, [1.0, 2.0]);
    }

    #[test]
    fn bytes_after_the_end_marker_are_corrupt_and_leave_nothing() {
        let mut enc = Vec::new();
        encode(&[1.0, 2.0], &mut enc).unwrap();
        enc.push(0);
        let mut out = vec![9.0];
        let e = decode(&enc, &mut out).unwrap_err();
        assert_eq!(e.offset(), Some(enc.len() - 1));
        assert_eq!(out, [9.0]);
    }

    #[test]
    fn truncated_stream_is_corrupt_not_short() {
        let mut enc = Vec::new();
        encode(&[1.0, 2.0, 3.0], &mut enc).unwrap();
        for cut in 1..enc.len() {
            let mut out = Vec::new();
            assert!(decode(&enc[..cut], &mut out).is_err(), "cut {cut}");
            assert!(out.is_empty());
        }
    }
}
