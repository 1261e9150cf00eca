//! Realistic 1000-value blocks for the benchmarks (deterministic; no RNG crate needed).

#![allow(dead_code)]

use tsmdb_encoding::{Column, StringColumn};

/// Values per block, as InfluxDB writes them.
pub(crate) const N: usize = 1000;

/// xorshift64*: small, fast, deterministic.
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is replaced by 1).
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One benchmark input: a name, the values, and InfluxDB 1.6.7's figures from the issue.
pub(crate) struct Shape {
    pub(crate) name: &'static str,
    pub(crate) timestamps: Option<Vec<i64>>,
    pub(crate) values: Column,
    /// (encode M values/s, decode M values/s, bytes per value) of InfluxDB 1.6.7's Go codecs.
    pub(crate) go: (f64, f64, f64),
}

const START: i64 = 1_514_764_800_000_000_000;
const TEN_S: i64 = 10_000_000_000;

pub(crate) fn shapes() -> Vec<Shape> {
    let mut rng = Rng::new(0x5eed);
    let regular: Vec<i64> = (0..N as i64).map(|i| START + i * TEN_S).collect();
    let jittered: Vec<i64> = (0..N as i64)
        .map(|i| START + i * TEN_S + (rng.next_u64() % 1_000_000) as i64)
        .collect();
    let mut walk = 0i64;
    let int_walk: Vec<i64> = (0..N)
        .map(|_| {
            walk += if rng.next_u64() & 1 == 0 { 1 } else { -1 };
            walk
        })
        .collect();
    let mut cents = 5_000i64;
    let float_2dec: Vec<f64> = (0..N)
        .map(|_| {
            cents += (rng.next_u64() % 201) as i64 - 100;
            cents as f64 / 100.0
        })
        .collect();
    // Full precision: independent uniform values, as incompressible as real sensor noise.
    let float_full: Vec<f64> = (0..N).map(|_| rng.unit() * 100.0).collect();
    let bools: Vec<bool> = (0..N).map(|_| rng.next_u64().is_multiple_of(10)).collect();
    let words = ["alpha", "bravo", "charlie", "delta", "echo"];
    let strings: StringColumn = (0..N)
        .map(|_| words[(rng.next_u64() % 5) as usize].as_bytes())
        .collect();
    vec![
        Shape {
            name: "timestamps regular 10s",
            timestamps: Some(regular),
            values: Column::Integer(Vec::new()),
            go: (290.0, 1220.0, 0.012),
        },
        Shape {
            name: "timestamps jittered 10s+1ms",
            timestamps: Some(jittered),
            values: Column::Integer(Vec::new()),
            go: (34.0, 166.0, 8.0),
        },
        Shape {
            name: "integer walk +-1",
            timestamps: None,
            values: Column::Integer(int_walk),
            go: (418.0, 286.0, 0.29),
        },
        Shape {
            name: "float walk 2 decimals",
            timestamps: None,
            values: Column::Float(float_2dec),
            go: (18.0, 125.0, 6.8),
        },
        Shape {
            name: "float full precision",
            timestamps: None,
            values: Column::Float(float_full),
            go: (14.0, 130.0, 8.1),
        },
        Shape {
            name: "boolean 10% true",
            timestamps: None,
            values: Column::Boolean(bools),
            go: (1159.0, 2265.0, 0.13),
        },
        Shape {
            name: "string 5 words",
            timestamps: None,
            values: Column::String(strings),
            go: (68.0, 68.0, 1.5),
        },
    ]
}

/// Encodes a shape's section into `out` (cleared first).
pub(crate) fn encode(shape: &Shape, out: &mut Vec<u8>) {
    out.clear();
    let r = match (&shape.timestamps, &shape.values) {
        (Some(ts), _) => tsmdb_encoding::encode_timestamps(ts, out),
        (None, Column::Integer(v)) => tsmdb_encoding::encode_integers(v, out),
        (None, Column::Float(v)) => tsmdb_encoding::encode_floats(v, out),
        (None, Column::Boolean(v)) => tsmdb_encoding::encode_booleans(v, out),
        (None, Column::String(v)) => tsmdb_encoding::encode_strings(v.as_slice(), out),
        (None, Column::Unsigned(v)) => tsmdb_encoding::encode_unsigned(v, out),
    };
    r.expect("benchmark data encodes");
}

/// Reusable decode buffers.
#[derive(Default)]
pub(crate) struct Buffers {
    pub(crate) i64s: Vec<i64>,
    pub(crate) f64s: Vec<f64>,
    pub(crate) bools: Vec<bool>,
    pub(crate) strings: StringColumn,
}

/// Decodes a shape's section (encoded by [`encode`]); returns the value count.
pub(crate) fn decode(shape: &Shape, section: &[u8], b: &mut Buffers) -> usize {
    let r = match (&shape.timestamps, &shape.values) {
        (Some(_), _) | (None, Column::Integer(_)) => {
            b.i64s.clear();
            if shape.timestamps.is_some() {
                tsmdb_encoding::decode_timestamps(section, &mut b.i64s)
            } else {
                tsmdb_encoding::decode_integers(section, &mut b.i64s)
            }
            .map(|()| b.i64s.len())
        }
        (None, Column::Float(_)) => {
            b.f64s.clear();
            tsmdb_encoding::decode_floats(section, &mut b.f64s).map(|()| b.f64s.len())
        }
        (None, Column::Boolean(_)) => {
            b.bools.clear();
            tsmdb_encoding::decode_booleans(section, &mut b.bools).map(|()| b.bools.len())
        }
        (None, Column::String(_)) => {
            b.strings.clear();
            tsmdb_encoding::decode_strings(section, &mut b.strings).map(|()| b.strings.len())
        }
        (None, Column::Unsigned(_)) => unreachable!("no unsigned shape"),
    };
    r.expect("benchmark data decodes")
}

/// Bytes the decoded values occupy (what a memcpy baseline copies).
pub(crate) fn decoded_bytes(shape: &Shape) -> usize {
    match &shape.values {
        _ if shape.timestamps.is_some() => N * 8,
        Column::Boolean(_) => N,
        Column::String(s) => s.total_bytes() + N * 8,
        _ => N * 8,
    }
}
