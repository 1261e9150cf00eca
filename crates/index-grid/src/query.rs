//! Evaluation of an expression over the grids of one measurement (spec §5.7): dense predicates
//! become coordinate sets turned into id ranges, sparse predicates become postings unions.

use roaring::RoaringBitmap;

use crate::expr::{Expr, Pred};
use crate::grid::Grid;
use crate::ids::SeriesIdSet;
use crate::measurement::Measurement;

/// A grid-local result: everything live, nothing, or a subset of live.
enum Set {
    All,
    Empty,
    Some(RoaringBitmap),
}

/// Where a key sits in one grid.
enum Slot {
    Missing,
    Dense(usize),
    Sparse(usize),
}

/// Ids of the live series of `m` satisfying `expr`, ascending.
pub(crate) fn evaluate(m: &Measurement, expr: &Expr) -> SeriesIdSet {
    let mut out = SeriesIdSet::default();
    for g in &m.grids {
        if g.live.is_empty() {
            continue;
        }
        let keys = &m.shapes[g.shape as usize].keys;
        let locals = match eval(g, keys, expr) {
            Set::All => g.live.clone(),
            Set::Empty => continue,
            Set::Some(b) => b,
        };
        out.push(g.base, locals);
    }
    out
}

fn slot(g: &Grid, keys: &[Box<[u8]>], key: &[u8]) -> Slot {
    let Ok(k) = keys.binary_search_by(|k| (**k).cmp(key)) else {
        return Slot::Missing;
    };
    let k = k as u32;
    if let Some(i) = g.dense.iter().position(|d| d.key == k) {
        Slot::Dense(i)
    } else if let Some(j) = g.sparse.iter().position(|s| s.key == k) {
        Slot::Sparse(j)
    } else {
        Slot::Missing
    }
}

fn eval(g: &Grid, keys: &[Box<[u8]>], expr: &Expr) -> Set {
    match expr {
        Expr::Pred(_) => eval_and(g, keys, std::slice::from_ref(expr)),
        Expr::And(children) => eval_and(g, keys, children),
        Expr::Or(children) => {
            let mut acc = RoaringBitmap::new();
            for c in children {
                match eval(g, keys, c) {
                    Set::All => return Set::All,
                    Set::Empty => {}
                    Set::Some(b) => acc |= b,
                }
            }
            if acc.is_empty() {
                Set::Empty
            } else {
                Set::Some(acc)
            }
        }
    }
}

/// Allowed coordinates of dense dimension `i` under `p` (sorted).
fn dense_coords(g: &Grid, i: usize, p: &Pred) -> Vec<u32> {
    let d = &g.dense[i];
    if let Pred::Eq(_, v) = p {
        return d.dict.find_bytes(v).into_iter().collect();
    }
    (0..d.dict.len() as u32)
        .filter(|&c| p.matches_value(d.dict.get(c)))
        .collect()
}

/// Locals (⊆ live) of sparse key `j` under `p`.
fn sparse_set(g: &Grid, j: usize, p: &Pred) -> Set {
    let s = &g.sparse[j];
    let mut positive = RoaringBitmap::new();
    match p {
        Pred::Exists(_) => return Set::All,
        Pred::NotExists(_) => return Set::Empty,
        Pred::Eq(_, v) | Pred::Neq(_, v) => {
            if let Some(vi) = s.dict.find_bytes(v) {
                s.postings[vi as usize].union_into(&mut positive);
            }
        }
        Pred::Regex(..) | Pred::NotRegex(..) => {
            for (vi, v) in s.dict.iter().enumerate() {
                if p.positive_matches(v) {
                    s.postings[vi].union_into(&mut positive);
                }
            }
        }
    }
    if p.negated() {
        Set::Some(&g.live - &positive)
    } else {
        Set::Some(positive)
    }
}

fn eval_and(g: &Grid, keys: &[Box<[u8]>], children: &[Expr]) -> Set {
    let mut allowed: Vec<Option<Vec<u32>>> = vec![None; g.dense.len()];
    let mut acc: Option<RoaringBitmap> = None;
    let mut others: Vec<&Expr> = Vec::new();
    for c in children {
        let Expr::Pred(p) = c else {
            others.push(c);
            continue;
        };
        match slot(g, keys, p.key()) {
            Slot::Missing => {
                if !p.on_missing() {
                    return Set::Empty;
                }
            }
            Slot::Dense(i) => {
                let coords = dense_coords(g, i, p);
                let merged = match allowed[i].take() {
                    None => coords,
                    Some(prev) => prev
                        .into_iter()
                        .filter(|c| coords.binary_search(c).is_ok())
                        .collect(),
                };
                if merged.is_empty() {
                    return Set::Empty;
                }
                allowed[i] = Some(merged);
            }
            Slot::Sparse(j) => match sparse_set(g, j, p) {
                Set::All => {}
                Set::Empty => return Set::Empty,
                Set::Some(b) => {
                    if !intersect(&mut acc, b) {
                        return Set::Empty;
                    }
                }
            },
        }
    }
    if allowed.iter().any(Option::is_some) {
        let r = ranges(g, &allowed);
        if !intersect(&mut acc, r) {
            return Set::Empty;
        }
    }
    for c in others {
        match eval(g, keys, c) {
            Set::All => {}
            Set::Empty => return Set::Empty,
            Set::Some(b) => {
                if !intersect(&mut acc, b) {
                    return Set::Empty;
                }
            }
        }
    }
    match acc {
        None => Set::All,
        Some(b) if b.is_empty() => Set::Empty,
        Some(b) => Set::Some(b),
    }
}

/// `acc ∩= b`; false when the result is empty.
fn intersect(acc: &mut Option<RoaringBitmap>, b: RoaringBitmap) -> bool {
    match acc {
        None => *acc = Some(b),
        Some(a) => *a &= b,
    }
    acc.as_ref().is_some_and(|a| !a.is_empty())
}

/// Live locals whose dense coordinates lie in `allowed` (`None` = unconstrained), generated as
/// ranges: one run of `stride[t]` locals per tuple of the constrained prefix `0..=t`.
fn ranges(g: &Grid, allowed: &[Option<Vec<u32>>]) -> RoaringBitmap {
    let Some(t) = allowed.iter().rposition(Option::is_some) else {
        return g.live.clone();
    };
    let used = |i: usize| g.dense[i].dict.len() as u64;
    let tuples = (0..=t)
        .map(|i| allowed[i].as_ref().map_or(used(i), |a| a.len() as u64))
        .try_fold(1u64, |acc, n| acc.checked_mul(n));
    if tuples.is_none_or(|n| n > g.live.len()) {
        return filter_live(g, allowed);
    }
    let axes: Vec<Vec<u32>> = (0..=t)
        .map(|i| match &allowed[i] {
            Some(a) => a.clone(),
            None => (0..used(i) as u32).collect(),
        })
        .collect();
    if axes.iter().any(Vec::is_empty) {
        return RoaringBitmap::new();
    }
    let run = g.strides[t];
    let mut pos = vec![0usize; t + 1];
    // Long runs go straight into the bitmap; short runs are set in a plain bit array first,
    // because one roaring range insert per short run costs far more than a few byte writes.
    // (the bit array costs points/8 bytes; only worth it when that is small next to the runs)
    let few_bytes = g.points / 8 <= tuples.unwrap_or(0).saturating_mul(64);
    let mut bits = if run < 4096 && few_bytes {
        Some(vec![0u8; g.points.div_ceil(8) as usize])
    } else {
        None
    };
    let mut out = RoaringBitmap::new();
    loop {
        let start: u64 = (0..=t)
            .map(|i| u64::from(axes[i][pos[i]]) * g.strides[i])
            .sum();
        // start + run ≤ points ≤ 2^32
        match bits.as_mut() {
            Some(b) => set_bits(b, start as usize, run as usize),
            None => {
                out.insert_range(start as u32..=(start + run - 1) as u32);
            }
        }
        // odometer: last axis fastest, so runs come out ascending
        let mut i = t;
        loop {
            pos[i] += 1;
            if pos[i] < axes[i].len() {
                break;
            }
            pos[i] = 0;
            if i == 0 {
                if let Some(b) = bits {
                    out = RoaringBitmap::from_lsb0_bytes(0, &b);
                }
                out &= &g.live;
                return out;
            }
            i -= 1;
        }
    }
}

/// Sets bits `[start, start + len)` of an LSB-first bit array.
fn set_bits(b: &mut [u8], start: usize, len: usize) {
    let end = start + len;
    let mut i = start;
    while i < end && !i.is_multiple_of(8) {
        b[i / 8] |= 1 << (i % 8);
        i += 1;
    }
    let full = (end - i) / 8;
    b[i / 8..i / 8 + full].fill(0xff);
    i += full * 8;
    while i < end {
        b[i / 8] |= 1 << (i % 8);
        i += 1;
    }
}

/// The cost guard: more candidate runs than live series, so test each live series instead.
fn filter_live(g: &Grid, allowed: &[Option<Vec<u32>>]) -> RoaringBitmap {
    let masks: Vec<Option<Vec<bool>>> = allowed
        .iter()
        .enumerate()
        .map(|(i, a)| {
            a.as_ref().map(|a| {
                let mut m = vec![false; g.dense[i].dict.len()];
                for &c in a {
                    m[c as usize] = true;
                }
                m
            })
        })
        .collect();
    let mut coords = Vec::new();
    let mut out = RoaringBitmap::new();
    for local in g.live.iter() {
        g.coords(local, &mut coords);
        let ok = masks.iter().zip(&coords).all(|(m, &c)| {
            m.as_ref()
                .is_none_or(|m| m.get(c as usize).copied().unwrap_or(false))
        });
        if ok {
            // ascending, so this is an append
            let _ = out.try_push(local);
        }
    }
    out
}
