//! Deterministic TSBS-devops-like line protocol: the `cpu` measurement with 10 tags and 10
//! fields per line, hosts cycling, 10 s apart. Shared by the criterion and report benches.

#![allow(dead_code)]

use std::io::Write;

/// splitmix64: small, fast and deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const REGIONS: [&str; 6] = [
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-1",
];
const FIELDS: [&str; 10] = [
    "usage_user",
    "usage_system",
    "usage_idle",
    "usage_nice",
    "usage_iowait",
    "usage_irq",
    "usage_softirq",
    "usage_steal",
    "usage_guest",
    "usage_guest_nice",
];

/// About `target_bytes` of line protocol. `float_fields` picks full-precision floats
/// (`26.676669405799323`) instead of integers (`58i`). Returns the bytes and the line count.
pub fn generate(target_bytes: usize, float_fields: bool) -> (Vec<u8>, u64) {
    let mut rng = Rng(0x5eed);
    let mut out = Vec::with_capacity(target_bytes + 1024);
    let hosts = 1000u64;
    let mut lines = 0u64;
    let mut t = 1_451_606_400_000_000_000i64;
    while out.len() < target_bytes {
        let h = lines % hosts;
        if h == 0 && lines > 0 {
            t += 10_000_000_000;
        }
        let region = REGIONS[(h % 6) as usize];
        let _ = write!(
            out,
            "cpu,hostname=host_{h},region={region},datacenter={region}{},rack={},os=Ubuntu{},arch=x{},team={},service={},service_version={},service_environment={}",
            ['a', 'b', 'c'][(h % 3) as usize],
            h % 100,
            ["16.04LTS", "15.10", "16.10"][(h % 3) as usize],
            ["64", "86"][(h % 2) as usize],
            ["SF", "NYC", "LON", "CHI"][(h % 4) as usize],
            h % 20,
            h % 2,
            ["production", "staging", "test"][(h % 3) as usize],
        );
        for (i, f) in FIELDS.iter().enumerate() {
            out.push(if i == 0 { b' ' } else { b',' });
            if float_fields {
                let v = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * 100.0;
                let _ = write!(out, "{f}={v:?}");
            } else {
                let _ = write!(out, "{f}={}i", rng.below(100));
            }
        }
        let _ = writeln!(out, " {t}");
        lines += 1;
    }
    (out, lines)
}

/// Parses `input` decoding every field, returning a checksum so nothing is optimised away.
pub fn parse_all(parser: &mut tsmdb_lineproto::Parser, input: &[u8]) -> u64 {
    use tsmdb_lineproto::FieldValue;
    let mut sum = 0u64;
    parser.parse(input, |r| {
        if let Ok(p) = r {
            sum = sum.wrapping_add(p.time() as u64);
            for f in p.fields() {
                sum = sum.wrapping_add(match f.value {
                    FieldValue::Float(v) => v.to_bits(),
                    FieldValue::Integer(v) => v as u64,
                    FieldValue::Unsigned(v) => v,
                    FieldValue::Boolean(v) => u64::from(v),
                    FieldValue::String(s) => s.raw().len() as u64,
                });
            }
        }
    });
    sum
}

/// The ceiling: only find every newline (memchr), touching nothing else.
pub fn split_only(input: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', input).fold(0u64, |a, p| a.wrapping_add(p as u64))
}
