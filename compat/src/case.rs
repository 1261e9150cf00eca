//! Test cases of every kind: how they are generated and how they shrink.

use serde::{Deserialize, Serialize};

use crate::convert;
use crate::gen_lineproto;
use crate::gen_values::{self, length};
use crate::model::{Kind, Series, Value, WalEntry, hex, unhex};
use crate::oracle::Oracle;
use crate::ours::Codec;
use crate::reference::{ReferenceError, Request};
use crate::rng::Rng;

/// What a case exercises; runs count cases per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CaseKind {
    /// Line protocol batches: same verdict per line, same points and values.
    Lineproto,
    /// Value sequences: byte-identical sections, identical decodes.
    Section,
    /// Damaged sections: same verdict and values.
    SectionDecode,
    /// Whole blocks: byte-identical, identical decodes.
    Block,
    /// Damaged blocks: same verdict and values.
    BlockDecode,
    /// TSM files and tombstones written by both, read by both.
    Tsm,
    /// WAL segments written by each, replayed by the other.
    Wal,
    /// InfluxDB's WAL segments, damaged: replayed by both.
    WalDamaged,
}

impl CaseKind {
    /// Every kind, in report order.
    pub const ALL: [CaseKind; 8] = [
        CaseKind::Lineproto,
        CaseKind::Section,
        CaseKind::SectionDecode,
        CaseKind::Block,
        CaseKind::BlockDecode,
        CaseKind::Tsm,
        CaseKind::Wal,
        CaseKind::WalDamaged,
    ];

    /// A short name for reports and fixture files.
    pub fn name(self) -> &'static str {
        match self {
            CaseKind::Lineproto => "lineproto",
            CaseKind::Section => "section",
            CaseKind::SectionDecode => "section-decode",
            CaseKind::Block => "block",
            CaseKind::BlockDecode => "block-decode",
            CaseKind::Tsm => "tsm",
            CaseKind::Wal => "wal",
            CaseKind::WalDamaged => "wal-damaged",
        }
    }
}

/// A delete of keys over an inclusive time range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delete {
    /// Composite keys.
    pub keys: Vec<Vec<u8>>,
    /// Lower bound.
    pub min: i64,
    /// Upper bound.
    pub max: i64,
}

/// One generated input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Case {
    /// Lines joined with `\n`, a precision and the default time.
    Lineproto {
        /// The lines, without their newlines.
        lines: Vec<Vec<u8>>,
        /// `""`, `n`, `u`, `ms`, `s`, `m` or `h`.
        precision: String,
        /// Default time in nanoseconds.
        now: i64,
    },
    /// A sequence to encode.
    Section {
        /// The codec.
        codec: Codec,
        /// The values (timestamps as integers).
        values: Vec<Value>,
    },
    /// Bytes to decode as a section.
    SectionDecode {
        /// The codec.
        codec: Codec,
        /// The (usually damaged) section.
        data: Vec<u8>,
    },
    /// A block to encode.
    Block {
        /// The kind of every value.
        kind: Kind,
        /// Timestamps.
        times: Vec<i64>,
        /// Values.
        values: Vec<Value>,
    },
    /// Bytes to decode as a block.
    BlockDecode {
        /// The (usually damaged) block.
        data: Vec<u8>,
    },
    /// Series to write to a TSM file, then deletes applied to it in order.
    Tsm {
        /// Series in key order with unique, ascending times.
        series: Vec<Series>,
        /// Deletes.
        deletes: Vec<Delete>,
    },
    /// Entries to write to a WAL segment.
    Wal {
        /// Entries in order.
        entries: Vec<WalEntry>,
    },
    /// A (usually damaged) WAL segment to replay.
    WalDamaged {
        /// The segment's bytes.
        data: Vec<u8>,
    },
}

impl Case {
    /// The case's kind.
    pub fn kind(&self) -> CaseKind {
        match self {
            Case::Lineproto { .. } => CaseKind::Lineproto,
            Case::Section { .. } => CaseKind::Section,
            Case::SectionDecode { .. } => CaseKind::SectionDecode,
            Case::Block { .. } => CaseKind::Block,
            Case::BlockDecode { .. } => CaseKind::BlockDecode,
            Case::Tsm { .. } => CaseKind::Tsm,
            Case::Wal { .. } => CaseKind::Wal,
            Case::WalDamaged { .. } => CaseKind::WalDamaged,
        }
    }

    /// A short readable rendering for reports.
    pub fn describe(&self) -> String {
        use crate::model::show;
        match self {
            Case::Lineproto {
                lines,
                precision,
                now,
            } => format!(
                "precision {precision:?}, now {now}, input \"{}\"",
                show(&lines.join(&b'\n'))
            ),
            Case::Section { codec, values } => {
                format!("{} section of {values:?}", codec.wire_name())
            }
            Case::SectionDecode { codec, data } => {
                format!("{} section bytes {}", codec.wire_name(), hex(data))
            }
            Case::Block {
                kind,
                times,
                values,
            } => format!("{} block, times {times:?}, values {values:?}", kind.name()),
            Case::BlockDecode { data } => format!("block bytes {}", hex(data)),
            Case::Tsm { series, deletes } => format!("TSM file of {series:?}, deletes {deletes:?}"),
            Case::Wal { entries } => format!("WAL segment of {entries:?}"),
            Case::WalDamaged { data } => format!("WAL segment bytes {}", hex(data)),
        }
    }
}

fn any_kind(rng: &mut Rng) -> Kind {
    *rng.pick(&Kind::ALL)
}

fn any_codec(rng: &mut Rng) -> Codec {
    if rng.chance(20) {
        Codec::Time
    } else {
        Codec::Values(any_kind(rng))
    }
}

fn codec_values(rng: &mut Rng, codec: Codec, n: usize) -> Vec<Value> {
    match codec {
        Codec::Time => gen_values::times(rng, n)
            .into_iter()
            .map(Value::Integer)
            .collect(),
        Codec::Values(k) => gen_values::values(rng, k, n),
    }
}

/// Strictly ascending timestamps for a series (TSM files and WAL entries).
fn ascending(rng: &mut Rng, n: usize) -> Vec<i64> {
    let mut t: i64 = if rng.chance(20) {
        -(rng.below(1 << 40) as i64)
    } else {
        1_600_000_000_000_000_000
    };
    let step = *rng.pick(&[1i64, 10, 1_000_000_000]);
    (0..n)
        .map(|_| {
            let now = t;
            t = t.saturating_add(step + rng.below(3) as i64);
            now
        })
        .collect()
}

/// A composite key `measurement[,tags]#!~#field`.
fn composite_key(rng: &mut Rng) -> Vec<u8> {
    let m = rng.pick(&["cpu", "mem", "disk", "a", "cpu\\ x"]);
    let mut k = m.as_bytes().to_vec();
    if rng.chance(70) {
        k.extend_from_slice(format!(",host=h{}", rng.below(20)).as_bytes());
    }
    if rng.chance(30) {
        k.extend_from_slice(format!(",region=r{}", rng.below(3)).as_bytes());
    }
    k.extend_from_slice(b"#!~#");
    k.extend_from_slice(rng.pick(&["value", "usage", "f x", "", "é"]).as_bytes());
    k
}

fn series_list(rng: &mut Rng, max_keys: u64, max_len: u64) -> Vec<Series> {
    let mut keys: Vec<Vec<u8>> = (0..rng.range(1, max_keys))
        .map(|_| composite_key(rng))
        .collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|key| {
            let kind = any_kind(rng);
            let n = if rng.chance(15) {
                rng.range(990, max_len) as usize
            } else {
                rng.range(1, 50) as usize
            };
            Series {
                key,
                kind,
                times: ascending(rng, n),
                values: storable(gen_values::values(rng, kind, n)),
                tombstones: Vec::new(),
            }
        })
        .collect()
}

/// NaN cannot be stored by either side (spec §12.4 F4): files and WAL entries never hold it.
fn storable(mut values: Vec<Value>) -> Vec<Value> {
    for v in &mut values {
        if let Value::Float(b) = v
            && f64::from_bits(*b).is_nan()
        {
            *b = 0;
        }
    }
    values
}

/// Generates case number `index` of a run seeded with `seed`, of kind `kind`. Damaged-input kinds
/// start from InfluxDB's own encoding, so generation may ask the oracle.
pub fn generate(
    kind: CaseKind,
    seed: u64,
    index: u64,
    oracle: &mut dyn Oracle,
) -> Result<Case, ReferenceError> {
    let rng = &mut Rng::for_case(seed, index);
    Ok(match kind {
        CaseKind::Lineproto => {
            let (lines, precision, now) = gen_lineproto::batch(rng);
            Case::Lineproto {
                lines,
                precision,
                now,
            }
        }
        CaseKind::Section => {
            let codec = any_codec(rng);
            let n = length(rng);
            Case::Section {
                codec,
                values: codec_values(rng, codec, n),
            }
        }
        CaseKind::SectionDecode => {
            let codec = any_codec(rng);
            let n = rng.range(0, 300) as usize;
            let values = codec_values(rng, codec, n);
            let r = oracle.call(&Request {
                op: "encode",
                kind: codec.wire_name().into(),
                values: convert::wire_values(&values),
                ..Request::default()
            })?;
            let data = unhex(&r.data).unwrap_or_default();
            Case::SectionDecode {
                codec,
                data: gen_values::damage(rng, data),
            }
        }
        CaseKind::Block => {
            let kind = any_kind(rng);
            let n = rng.range(1, 1000) as usize;
            Case::Block {
                kind,
                times: gen_values::times(rng, n),
                values: gen_values::values(rng, kind, n),
            }
        }
        CaseKind::BlockDecode => {
            let kind = any_kind(rng);
            let n = rng.range(1, 300) as usize;
            let times = gen_values::times(rng, n);
            let values = gen_values::values(rng, kind, n);
            let r = oracle.call(&Request {
                op: "block_encode",
                kind: kind.name().into(),
                times,
                values: convert::wire_values(&values),
                ..Request::default()
            })?;
            let data = unhex(&r.data).unwrap_or_default();
            Case::BlockDecode {
                data: gen_values::damage(rng, data),
            }
        }
        CaseKind::Tsm => {
            let series = series_list(rng, 6, 2500);
            let mut deletes = Vec::new();
            for _ in 0..rng.below(4) {
                let keys = series
                    .iter()
                    .filter(|_| rng.chance(50))
                    .map(|s| s.key.clone())
                    .collect::<Vec<_>>();
                let s = rng.pick(&series);
                let a = *rng.pick(&s.times);
                let b = *rng.pick(&s.times);
                let (min, max) = match rng.below(4) {
                    0 => (i64::MIN, i64::MAX),
                    _ => (a.min(b), a.max(b)),
                };
                deletes.push(Delete { keys, min, max });
            }
            Case::Tsm { series, deletes }
        }
        CaseKind::Wal | CaseKind::WalDamaged => {
            let mut entries = Vec::new();
            for _ in 0..rng.range(1, 4) {
                entries.push(match rng.below(6) {
                    0 => WalEntry::Delete(
                        series_list(rng, 3, 2).into_iter().map(|s| s.key).collect(),
                    ),
                    1 => WalEntry::DeleteRange {
                        keys: series_list(rng, 3, 2).into_iter().map(|s| s.key).collect(),
                        min: rng.next_u64() as i64 >> 2,
                        max: rng.next_u64() as i64 >> 1,
                    },
                    _ => WalEntry::Write(series_list(rng, 4, 1200)),
                });
            }
            if kind == CaseKind::Wal {
                Case::Wal { entries }
            } else {
                // Damage is about framing, not volume: keep segments small so cases are cheap.
                for e in &mut entries {
                    if let WalEntry::Write(series) = e {
                        for s in series.iter_mut() {
                            s.times.truncate(20);
                            s.values.truncate(20);
                        }
                    }
                }
                let r = oracle.call(&Request {
                    op: "wal_write",
                    entries: entries.iter().map(convert::wire_entry).collect(),
                    ..Request::default()
                })?;
                let data = unhex(&r.data).unwrap_or_default();
                Case::WalDamaged {
                    data: gen_values::damage(rng, data),
                }
            }
        }
    })
}

/// Copies of `v` with one chunk removed: halves first, then smaller chunks, down to single items.
fn removals<T: Clone>(v: &[T]) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut size = v.len().div_ceil(2).max(1);
    loop {
        let mut start = 0;
        while start < v.len() {
            let end = (start + size).min(v.len());
            let mut c = v[..start].to_vec();
            c.extend_from_slice(&v[end..]);
            out.push(c);
            start = end;
        }
        if size == 1 || out.len() > 400 {
            break;
        }
        size = size.div_ceil(2);
    }
    out
}

fn simpler_value(v: &Value) -> Option<Value> {
    let s = match v {
        Value::Float(b) if *b != 0 => Value::Float(0),
        Value::Integer(i) if *i != 0 => Value::Integer(0),
        Value::Unsigned(u) if *u != 0 => Value::Unsigned(0),
        Value::Boolean(true) => Value::Boolean(false),
        Value::String(s) if !s.is_empty() => Value::String(Vec::new()),
        _ => return None,
    };
    Some(s)
}

fn shrink_series(s: &Series) -> Vec<Series> {
    let pairs: Vec<(i64, Value)> = s
        .times
        .iter()
        .copied()
        .zip(s.values.iter().cloned())
        .collect();
    removals(&pairs)
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|p| Series {
            times: p.iter().map(|x| x.0).collect(),
            values: p.into_iter().map(|x| x.1).collect(),
            ..s.clone()
        })
        .collect()
}

/// Smaller variants of a case to try while shrinking, most aggressive first.
pub fn shrink_candidates(case: &Case) -> Vec<Case> {
    let mut out = Vec::new();
    match case {
        Case::Lineproto {
            lines,
            precision,
            now,
        } => {
            let with = |lines: Vec<Vec<u8>>, precision: &str, now: i64| Case::Lineproto {
                lines,
                precision: precision.to_string(),
                now,
            };
            for l in removals(lines) {
                out.push(with(l, precision, *now));
            }
            for (i, line) in lines.iter().enumerate() {
                for shorter in removals(line) {
                    let mut l = lines.clone();
                    l[i] = shorter;
                    out.push(with(l, precision, *now));
                }
            }
            if !precision.is_empty() {
                out.push(with(lines.clone(), "", *now));
            }
            if *now != 0 {
                out.push(with(lines.clone(), precision, 0));
            }
        }
        Case::Section { codec, values } => {
            for v in removals(values) {
                out.push(Case::Section {
                    codec: *codec,
                    values: v,
                });
            }
            for (i, v) in values.iter().enumerate() {
                if let Some(s) = simpler_value(v) {
                    let mut vals = values.clone();
                    vals[i] = s;
                    out.push(Case::Section {
                        codec: *codec,
                        values: vals,
                    });
                }
            }
        }
        Case::SectionDecode { codec, data } => {
            for d in removals(data) {
                out.push(Case::SectionDecode {
                    codec: *codec,
                    data: d,
                });
            }
        }
        Case::Block {
            kind,
            times,
            values,
        } => {
            let s = Series {
                key: Vec::new(),
                kind: *kind,
                times: times.clone(),
                values: values.clone(),
                tombstones: Vec::new(),
            };
            for c in shrink_series(&s) {
                out.push(Case::Block {
                    kind: *kind,
                    times: c.times,
                    values: c.values,
                });
            }
        }
        Case::BlockDecode { data } => {
            for d in removals(data) {
                out.push(Case::BlockDecode { data: d });
            }
        }
        Case::Tsm { series, deletes } => {
            for d in removals(deletes) {
                out.push(Case::Tsm {
                    series: series.clone(),
                    deletes: d,
                });
            }
            for s in removals(series).into_iter().filter(|s| !s.is_empty()) {
                out.push(Case::Tsm {
                    series: s,
                    deletes: deletes.clone(),
                });
            }
            for (i, s) in series.iter().enumerate() {
                for c in shrink_series(s) {
                    let mut all = series.clone();
                    all[i] = c;
                    out.push(Case::Tsm {
                        series: all,
                        deletes: deletes.clone(),
                    });
                }
            }
        }
        Case::WalDamaged { data } => {
            for d in removals(data) {
                out.push(Case::WalDamaged { data: d });
            }
        }
        Case::Wal { entries } => {
            for e in removals(entries).into_iter().filter(|e| !e.is_empty()) {
                out.push(Case::Wal { entries: e });
            }
            for (i, e) in entries.iter().enumerate() {
                if let WalEntry::Write(series) = e {
                    let mut variants: Vec<Vec<Series>> = removals(series)
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect();
                    for (j, s) in series.iter().enumerate() {
                        for c in shrink_series(s) {
                            let mut all = series.clone();
                            all[j] = c;
                            variants.push(all);
                        }
                    }
                    for v in variants {
                        let mut all = entries.clone();
                        all[i] = WalEntry::Write(v);
                        out.push(Case::Wal { entries: all });
                    }
                }
            }
        }
    }
    out
}
