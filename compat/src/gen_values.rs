//! Generated value sequences of every type and shape: constant runs, steady and jittery deltas,
//! limits, random bits, lengths from 0 past one block.

use crate::model::{Kind, Value};
use crate::rng::Rng;

/// The float end marker of the Gorilla codec; InfluxDB cannot store it (spec §12.4 F4).
pub const FLOAT_END_MARKER: u64 = 0x7FF8_0000_0000_0001;

/// A length: mostly small, sometimes around and past one block of 1000.
pub fn length(rng: &mut Rng) -> usize {
    match rng.below(10) {
        0 => rng.below(3) as usize,
        1 => *rng.pick(&[239, 240, 241, 999, 1000, 1001]),
        2 => rng.range(100, 1200) as usize,
        _ => rng.range(1, 60) as usize,
    }
}

/// `n` timestamps in one of several shapes (the codec accepts any order).
pub fn times(rng: &mut Rng, n: usize) -> Vec<i64> {
    let start: i64 = match rng.below(5) {
        0 => 0,
        1 => i64::MIN + 2,
        2 => -(rng.below(1 << 50) as i64),
        3 => i64::MAX - 10_000_000,
        _ => 1_500_000_000_000_000_000 + rng.below(1 << 40) as i64,
    };
    let step: i64 = *rng.pick(&[1, 10, 1000, 1_000_000_000, 60_000_000_000, 7, 0]);
    let shape = rng.below(7);
    let mut out = Vec::with_capacity(n);
    let mut t = start;
    for i in 0..n {
        out.push(t);
        let d = match shape {
            0 => step,
            1 => step * rng.range(1, 3) as i64,
            2 => {
                let bits = rng.below(62);
                rng.below(1 << bits) as i64
            }
            3 => rng.next_u64() as i64,
            4 if i == n / 2 => rng.next_u64() as i64,
            5 => step + rng.below(2) as i64,
            _ => step,
        };
        t = t.wrapping_add(d);
        if shape == 6 && i % 17 == 16 {
            t = rng.next_u64() as i64;
        }
    }
    out
}

fn integer(rng: &mut Rng, shape: u64, i: usize, prev: i64) -> i64 {
    match shape {
        0 => prev,
        1 => prev.wrapping_add(rng.below(16) as i64 - 8),
        2 => *rng.pick(&[
            i64::MIN,
            i64::MAX,
            0,
            -1,
            1,
            1 << 60,
            (1 << 60) - 1,
            -(1 << 60),
        ]),
        3 => rng.next_u64() as i64 >> rng.below(64),
        4 => i as i64,
        _ => rng.next_u64() as i64,
    }
}

fn float(rng: &mut Rng, shape: u64, prev: u64) -> u64 {
    let bits = match shape {
        0 => prev,
        1 => (f64::from_bits(prev) + rng.below(100) as f64 / 4.0).to_bits(),
        2 => *rng.pick(&[
            0,
            (-0.0f64).to_bits(),
            f64::INFINITY.to_bits(),
            f64::NEG_INFINITY.to_bits(),
            f64::MAX.to_bits(),
            f64::MIN_POSITIVE.to_bits(),
            1,
            f64::MIN.to_bits(),
        ]),
        // NaN: both encoders refuse it, so only a few sequences carry one.
        6 if rng.chance(2) => *rng.pick(&[f64::NAN.to_bits(), 0x7FF8_0000_0000_0002, u64::MAX]),
        3 => ((rng.below(2000) as i64 - 1000) as f64).to_bits(),
        4 => (rng.below(1 << 20) as f64 / 1024.0).to_bits(),
        _ => rng.next_u64(),
    };
    if bits == FLOAT_END_MARKER { 0 } else { bits }
}

/// `n` values of `kind` in a random shape.
pub fn values(rng: &mut Rng, kind: Kind, n: usize) -> Vec<Value> {
    let shape = rng.below(7);
    let mut out = Vec::with_capacity(n);
    let mut prev_i: i64 = rng.next_u64() as i64 >> rng.below(64);
    let mut prev_f: u64 = float(rng, 3, 0);
    for i in 0..n {
        let v = match kind {
            Kind::Integer => {
                prev_i = integer(rng, shape, i, prev_i);
                Value::Integer(prev_i)
            }
            Kind::Unsigned => {
                prev_i = integer(rng, shape, i, prev_i);
                Value::Unsigned(prev_i as u64)
            }
            Kind::Float => {
                prev_f = float(rng, shape, prev_f);
                Value::Float(prev_f)
            }
            Kind::Boolean => Value::Boolean(match shape {
                0 => true,
                1 => false,
                _ => rng.chance(50),
            }),
            Kind::String => Value::String(string(rng, shape)),
        };
        out.push(v);
    }
    out
}

fn string(rng: &mut Rng, shape: u64) -> Vec<u8> {
    match shape {
        0 => b"constant".to_vec(),
        1 => Vec::new(),
        2 => vec![b'a'; rng.range(100, 3000) as usize],
        _ => (0..rng.below(40)).map(|_| rng.next_u64() as u8).collect(),
    }
}

/// Random bytes, or a valid section with damage, for decoder robustness.
pub fn damage(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    match rng.below(5) {
        0 => (0..rng.below(40)).map(|_| rng.next_u64() as u8).collect(),
        1 if !bytes.is_empty() => {
            let cut = rng.index(bytes.len());
            bytes.truncate(cut);
            bytes
        }
        _ => {
            for _ in 0..rng.range(1, 3) {
                if bytes.is_empty() {
                    break;
                }
                let at = rng.index(bytes.len());
                bytes[at] ^= 1 << rng.below(8);
            }
            bytes
        }
    }
}
