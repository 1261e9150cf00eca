//! Evaluation of an expression over the grids of one measurement (spec §5.7): dense predicates
//! become coordinate sets turned into id ranges, sparse predicates become postings unions.

use roaring::RoaringBitmap;

use crate::expr::{Expr, Pred};
use crate::grid::{Grid, KeySlot};
use crate::ids::SeriesIdSet;
use crate::mask::{Axis, Mask};
use crate::measurement::Holders;
use crate::measurement::Measurement;
use crate::posting::Posting;

mod eq;
use crate::tagset::fingerprint;

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
    if let Some(eqs) = eq::equalities(expr) {
        let eqs = eqs.as_slice();
        let grids = match eq::holders(m, eqs) {
            Holders::None => return SeriesIdSet::default(),
            Holders::One(gi) => std::slice::from_ref(&m.grids[gi]),
            Holders::Any => &m.grids[..],
        };
        let with_shapes = grids.iter().map(|g| (g, &m.shapes[g.shape as usize]));
        return eq::evaluate(with_shapes, eqs, grids.len());
    }
    let grids = match holders(m, expr) {
        Holders::None => return SeriesIdSet::default(),
        Holders::One(gi) => std::slice::from_ref(&m.grids[gi]),
        Holders::Any => &m.grids[..],
    };
    let mut out = SeriesIdSet::with_capacity(grids.len());
    for g in grids {
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

/// The grids that can hold a match of `expr`, from the measurement's pair filter: an equality
/// on a value that lives in one grid (a host name, a UUID) needs only that grid.
fn holders(m: &Measurement, expr: &Expr) -> Holders {
    let eq_holders = |e: &Expr| match e {
        // an empty value means "key absent", which no dictionary records
        Expr::Pred(Pred::Eq(k, v)) if !v.is_empty() => m.holders(fingerprint(k), fingerprint(v)),
        _ => Holders::Any,
    };
    match expr {
        Expr::Pred(_) => eq_holders(expr),
        Expr::And(children) => {
            let mut only = None;
            for c in children {
                match eq_holders(c) {
                    Holders::None => return Holders::None,
                    // a series lives in one grid: two equalities held by different single
                    // grids match nothing
                    Holders::One(g) if only.is_some_and(|o| o != g) => return Holders::None,
                    Holders::One(g) => only = Some(g),
                    Holders::Any => {}
                }
            }
            only.map_or(Holders::Any, Holders::One)
        }
        Expr::Or(_) => Holders::Any,
    }
}

fn slot(g: &Grid, keys: &[Box<[u8]>], key: &[u8]) -> Slot {
    match keys.binary_search_by(|k| (**k).cmp(key)) {
        Ok(k) => slot_of_key(g, k as u32),
        Err(_) => Slot::Missing,
    }
}

/// Where shape key `k` sits in `g`.
fn slot_of_key(g: &Grid, k: u32) -> Slot {
    match g.slots.get(k as usize) {
        Some(&KeySlot::Dense(i)) => Slot::Dense(i as usize),
        Some(&KeySlot::Sparse(j)) => Slot::Sparse(j as usize),
        Some(&KeySlot::Missing) | None => Slot::Missing,
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
    // coordinates without live series cannot match: dropping them narrows the candidate span
    let live = |c: &u32| d.live.get(*c as usize).is_some_and(|&n| n > 0);
    if let Pred::Eq(_, v) = p {
        return d.dict.find_bytes(v).into_iter().filter(live).collect();
    }
    (0..d.dict.len() as u32)
        .filter(|&c| live(&c) && matches_fast(p, d.dict.get(c), false))
        .collect()
}

/// Coordinates of a dense dimension that some live series uses.
fn live_coords(d: &crate::grid::DenseDim) -> usize {
    d.live.iter().filter(|&&n| n > 0).count()
}

/// The live locals at `coords` of dense dimension `i` from its postings, unless many
/// coordinates make up a large part of the grid: a word mask then beats a union of many
/// postings.
fn dense_postings(g: &Grid, i: usize, coords: &[u32]) -> Option<RoaringBitmap> {
    let d = &g.dense[i];
    let hits: u64 = coords.iter().map(|&c| u64::from(d.live[c as usize])).sum();
    if coords.len() > 8 && hits.saturating_mul(4) > g.live.len() {
        return None;
    }
    let mut out = RoaringBitmap::new();
    for &c in coords {
        d.postings.get(c as usize)?.union_into(&mut out);
    }
    Some(out)
}

/// `p` (or its positive form) on a present value, with `^literal` regexes (the common
/// prefix filter) tested as a byte prefix instead of running the regex engine per value.
fn matches_fast(p: &Pred, x: &[u8], positive: bool) -> bool {
    let hit = match p {
        Pred::Regex(_, re) | Pred::NotRegex(_, re) => match literal_prefix(re.as_str()) {
            Some(prefix) => x.starts_with(prefix),
            None => re.is_match(x),
        },
        _ => {
            return if positive {
                p.positive_matches(x)
            } else {
                p.matches_value(x)
            };
        }
    };
    if positive || matches!(p, Pred::Regex(..)) {
        hit
    } else {
        !hit
    }
}

/// The literal of a pattern `^literal` made only of characters that are never special in a
/// regex outside a class, or `None`.
fn literal_prefix(pattern: &str) -> Option<&[u8]> {
    let lit = pattern.strip_prefix('^')?.as_bytes();
    lit.iter()
        .all(|c| c.is_ascii_alphanumeric() || b"_-:/=@%,".contains(c))
        .then_some(lit)
}

/// Locals (⊆ live) of sparse key `j` under `p`.
fn sparse_set(g: &Grid, j: usize, p: &Pred) -> Set {
    let s = &g.sparse[j];
    let positive = match p {
        Pred::Exists(_) => return Set::All,
        Pred::NotExists(_) => return Set::Empty,
        Pred::Eq(_, v) | Pred::Neq(_, v) => match s.dict.find_bytes(v) {
            Some(vi) => Set::Some(s.postings[vi as usize].to_bitmap()),
            None => Set::Empty,
        },
        Pred::Regex(..) | Pred::NotRegex(..) => regex_postings(g, j, p),
    };
    match (positive, p.negated()) {
        (positive, false) => positive,
        (Set::All, true) => Set::Empty,
        (Set::Empty, true) => Set::All,
        (Set::Some(b), true) => Set::Some(&g.live - &b),
    }
}

/// The live locals whose value of sparse key `j` matches the positive form of `p`. Every live
/// series of the grid has one value of the key, so the matching values' postings are the live
/// set minus the others': when most series match (`host =~ /^h/`) the smaller side is united,
/// and when all match the answer is the live set itself.
fn regex_postings(g: &Grid, j: usize, p: &Pred) -> Set {
    let s = &g.sparse[j];
    let mut matched = Vec::with_capacity(s.dict.len());
    let mut hits = 0u64;
    for (posting, v) in s.postings.iter().zip(s.dict.iter()) {
        let n = posting.len();
        let hit = n > 0 && matches_fast(p, v, true);
        hits += if hit { n } else { 0 };
        matched.push(hit);
    }
    let live = g.live.len();
    if hits == 0 {
        return Set::Empty;
    }
    if hits >= live {
        return Set::All;
    }
    let complement = hits > live / 2;
    let side = s
        .postings
        .iter()
        .zip(&matched)
        .filter(|&(_, &hit)| hit != complement)
        .map(|(posting, _)| posting);
    let united = union_postings(side);
    Set::Some(if complement {
        &g.live - &united
    } else {
        united
    })
}

/// The union of postings: single series gathered, sorted and appended at once (inserting them
/// one by one in dictionary order was a search per series), bitmaps united whole.
fn union_postings<'p>(postings: impl Iterator<Item = &'p Posting>) -> RoaringBitmap {
    let mut singles = Vec::new();
    let mut out = RoaringBitmap::new();
    for posting in postings {
        match posting {
            Posting::Empty => {}
            Posting::One(x) => singles.push(*x),
            Posting::Many(b) => out |= &**b,
        }
    }
    if !singles.is_empty() {
        singles.sort_unstable();
        // sorted and deduplicated (a local has one value per key), so this cannot fail
        let ones = RoaringBitmap::from_sorted_iter(singles).unwrap_or_default();
        if out.is_empty() {
            out = ones;
        } else {
            out |= ones;
        }
    }
    out
}

/// Locals (⊆ live) of union key `j` of a shared segment under `p`, where some series lack
/// the key: those match iff `p` matches a missing key (spec §5.6).
fn shared_set(g: &Grid, j: usize, p: &Pred) -> Set {
    let s = &g.sparse[j];
    let mut positive = RoaringBitmap::new();
    match p {
        Pred::Exists(_) | Pred::NotExists(_) => {}
        Pred::Eq(_, v) | Pred::Neq(_, v) => {
            if let Some(vi) = s.dict.find_bytes(v) {
                positive = s.postings[vi as usize].to_bitmap();
            }
        }
        Pred::Regex(..) | Pred::NotRegex(..) => {
            for (vi, v) in s.dict.iter().enumerate() {
                if matches_fast(p, v, true) {
                    s.postings[vi].union_into(&mut positive);
                }
            }
        }
    }
    let on_missing = p.on_missing();
    let needs_present = on_missing || p.negated() || matches!(p, Pred::Exists(_));
    // a positive predicate that no absent key satisfies (`=`, `^prefix`) is its postings
    // alone, as in any postings segment
    let present = if needs_present {
        g.present(j)
    } else {
        RoaringBitmap::new()
    };
    let mut out = match p {
        Pred::Exists(_) => present.clone(),
        Pred::NotExists(_) => RoaringBitmap::new(),
        _ if p.negated() => &present - &positive,
        _ => positive,
    };
    if on_missing {
        out |= &g.live - &present;
    }
    if out.is_empty() {
        Set::Empty
    } else {
        Set::Some(out)
    }
}

fn eval_and(g: &Grid, keys: &[Box<[u8]>], children: &[Expr]) -> Set {
    // allocated on the first dense predicate that needs a mask
    let mut allowed: Vec<Option<Vec<u32>>> = Vec::new();
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
            Slot::Dense(i) if matches!(p, Pred::Eq(..)) => {
                // the common case, without building a coordinate list
                let d = &g.dense[i];
                let hit = d
                    .dict
                    .find_bytes(p_value(p))
                    .map(|c| &d.postings[c as usize]);
                if !hit.is_some_and(|posting| intersect_posting(&mut acc, posting)) {
                    return Set::Empty;
                }
            }
            Slot::Dense(i) => {
                let coords = dense_coords(g, i, p);
                if coords.len() == live_coords(&g.dense[i]) {
                    // every value in use is allowed (`os =~ /^U/`): no constraint
                    continue;
                }
                if let [c] = coords[..] {
                    // one coordinate: intersect with its postings in place, no copy
                    if !intersect_posting(&mut acc, &g.dense[i].postings[c as usize]) {
                        return Set::Empty;
                    }
                    continue;
                }
                if let Some(b) = dense_postings(g, i, &coords) {
                    if !intersect(&mut acc, b) {
                        return Set::Empty;
                    }
                    continue;
                }
                if allowed.is_empty() {
                    allowed.resize(g.dense.len(), None);
                }
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
            // (an empty value means "key absent": not in any posting)
            Slot::Sparse(j) if matches!(p, Pred::Eq(_, v) if !v.is_empty()) => {
                let s = &g.sparse[j];
                let hit = s
                    .dict
                    .find_bytes(p_value(p))
                    .map(|vi| &s.postings[vi as usize]);
                if !hit.is_some_and(|posting| intersect_posting(&mut acc, posting)) {
                    return Set::Empty;
                }
            }
            // (a key every series of the segment has: as in any postings segment)
            Slot::Sparse(j) if g.shared && g.some_lack(j) => match shared_set(g, j, p) {
                Set::All => {}
                Set::Empty => return Set::Empty,
                Set::Some(b) => {
                    if !intersect(&mut acc, b) {
                        return Set::Empty;
                    }
                }
            },
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
        match &mut acc {
            // few candidates from sparse keys already: test their coordinates
            Some(b) if b.len() <= SMALL_CANDIDATES => {
                let keep = coord_masks(g, &allowed);
                let mut coords = Vec::new();
                b.retain(|local| coords_allowed(g, &keep, local, &mut coords));
                if b.is_empty() {
                    return Set::Empty;
                }
            }
            _ => match ranges(g, &allowed) {
                Set::All => {}
                Set::Empty => return Set::Empty,
                Set::Some(r) => {
                    if !intersect(&mut acc, r) {
                        return Set::Empty;
                    }
                }
            },
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

/// The value of an `Eq` predicate (empty for others).
fn p_value(p: &Pred) -> &[u8] {
    match p {
        Pred::Eq(_, v) => v,
        _ => &[],
    }
}

/// `acc ∩= posting` without copying the posting unless `acc` is still unconstrained; false
/// when the result is empty.
fn intersect_posting(acc: &mut Option<RoaringBitmap>, posting: &Posting) -> bool {
    match (acc.as_mut(), posting) {
        (_, Posting::Empty) => false,
        (None, p) => {
            *acc = Some(p.to_bitmap());
            true
        }
        (Some(a), Posting::One(x)) => {
            let keep = a.contains(*x);
            a.clear();
            if keep {
                a.insert(*x);
            }
            keep
        }
        (Some(a), Posting::Many(b)) => {
            *a &= &**b;
            !a.is_empty()
        }
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

/// Live locals whose dense coordinates lie in `allowed` (`None` = unconstrained).
///
/// The candidates lie between the lowest and the highest allowed tuple; inside that span the
/// answer is built as a word mask (see `mask.rs`) ANDed with the live set, unless the span is
/// so much larger than the live series in it that testing each live series is cheaper.
fn ranges(g: &Grid, allowed: &[Option<Vec<u32>>]) -> Set {
    let (Some(min_live), Some(max_live)) = (g.live.min(), g.live.max()) else {
        return Set::Empty;
    };
    let used = |i: usize| g.dense[i].dict.len() as u64;
    let mut lo = 0u64;
    let mut hi = g.row_factor() - 1;
    for (i, a) in allowed.iter().enumerate() {
        let s = g.strides[i];
        match a {
            Some(a) => {
                // sorted and non-empty (checked by the caller)
                lo += u64::from(a[0]) * s;
                hi += u64::from(a[a.len() - 1]) * s;
            }
            None => hi += used(i).saturating_sub(1) * s,
        }
    }
    // hi < points ≤ 2^32
    let first = (lo as u32).max(min_live);
    let last = (hi.min(u64::from(u32::MAX)) as u32).min(max_live);
    if first > last {
        return Set::Empty;
    }
    let live_in = g.live.range_cardinality(first..=last);
    if live_in == 0 {
        return Set::Empty;
    }
    if live_in == g.live.len() && allowed.iter().all(Option::is_none) {
        return Set::All;
    }
    let span_words = (u64::from(last - first) + 1) / 64 + 1;
    let bits = if span_words > live_in.saturating_mul(6) {
        filter_live(g, allowed, first, last)
    } else {
        let mut mask = Mask::new(first, last);
        let mut scratch = Vec::new();
        let mut any = false;
        for (i, a) in allowed.iter().enumerate() {
            let Some(a) = a else { continue };
            // a dimension that allows every used coordinate constrains nothing
            if a.len() as u64 == used(i) {
                continue;
            }
            let axis = Axis {
                stride: g.strides[i],
                cap: u64::from(g.dense[i].cap),
                allowed: a,
            };
            mask.apply(&axis, !any, &mut scratch);
            any = true;
        }
        if !any {
            mask.fill_all();
        }
        mask.and_live(&g.live, first, last, live_in)
    };
    if bits.is_empty() {
        Set::Empty
    } else if bits.len() == g.live.len() {
        Set::All
    } else {
        Set::Some(bits)
    }
}

/// Candidate sets up to this size are filtered by decoding coordinates, not by a mask.
const SMALL_CANDIDATES: u64 = 256;

/// Per dense dimension, which coordinates are allowed (`None` = all).
fn coord_masks(g: &Grid, allowed: &[Option<Vec<u32>>]) -> Vec<Option<Vec<bool>>> {
    allowed
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
        .collect()
}

/// Whether the dense coordinates of `local` are allowed by `masks`.
fn coords_allowed(
    g: &Grid,
    masks: &[Option<Vec<bool>>],
    local: u32,
    coords: &mut Vec<u32>,
) -> bool {
    g.coords(local, coords);
    masks.iter().zip(coords.iter()).all(|(m, &c)| {
        m.as_ref()
            .is_none_or(|m| m.get(c as usize).copied().unwrap_or(false))
    })
}

/// The sparse case: test each live series of `[first, last]` instead of building a mask.
fn filter_live(g: &Grid, allowed: &[Option<Vec<u32>>], first: u32, last: u32) -> RoaringBitmap {
    let masks = coord_masks(g, allowed);
    let mut coords = Vec::new();
    let mut out = RoaringBitmap::new();
    for local in g.live.range(first..=last) {
        if coords_allowed(g, &masks, local, &mut coords) {
            // ascending, so this is an append
            let _ = out.try_push(local);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_prefixes_agree_with_the_regex_engine() {
        assert_eq!(literal_prefix("^host_1"), Some(&b"host_1"[..]));
        for pattern in [
            "host", "^h.st", "^a|b", "^a$", "^(a)", "^a+", "^a\\d", "^[a]", "^a{2}",
        ] {
            assert_eq!(literal_prefix(pattern), None, "{pattern}");
        }
        let values: [&[u8]; 6] = [
            b"host_1", b"host_10", b"host_2", b"xhost_1", b"h", b"host-1",
        ];
        for pattern in ["^host_1", "^h", "^host-", "^x", "^host_1:"] {
            let re = regex::bytes::Regex::new(pattern).unwrap();
            let pos = Pred::Regex(b"k".to_vec(), re.clone());
            let neg = Pred::NotRegex(b"k".to_vec(), re.clone());
            for v in values {
                assert_eq!(matches_fast(&pos, v, false), re.is_match(v));
                assert_eq!(matches_fast(&pos, v, true), re.is_match(v));
                assert_eq!(matches_fast(&neg, v, false), !re.is_match(v));
                // the positive form of `!~` is the regex itself
                assert_eq!(matches_fast(&neg, v, true), re.is_match(v));
            }
        }
    }
}
