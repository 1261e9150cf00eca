//! The commonest queries — one equality, or an AND of equalities — answered from postings
//! directly: the key found by fingerprint, one posting shared rather than copied, and several
//! intersected smallest first, without the general planner's coordinate lists.

use std::cell::Cell;
use std::sync::Arc;

use roaring::RoaringBitmap;

use super::{Slot, slot_of_key};
use crate::expr::{Expr, Pred};
use crate::grid::Grid;
use crate::ids::{Locals, SeriesIdSet};
use crate::measurement::{Holders, Measurement, Shape};
use crate::posting::Posting;
use crate::tagset::fingerprint;

/// One `key = value` with a non-empty value, fingerprints computed once per query.
#[derive(Clone)]
pub(super) struct Equality<'a> {
    key: &'a [u8],
    key_fp: u64,
    value: &'a [u8],
    value_fp: u64,
    /// `(shape, index of the key in it)` of the last shape searched (`NO_KEY` when absent):
    /// consecutive grids mostly share a shape, and the search compared key names.
    key_in_shape: Cell<(u32, u32)>,
}

/// `key_in_shape` of a key the shape lacks, and of the cache before the first search.
const NO_KEY: u32 = u32::MAX;

/// The equalities of a query: up to two without an allocation (one-tag and two-tag queries).
pub(super) enum Equalities<'a> {
    Inline([Equality<'a>; 2], usize),
    Heap(Vec<Equality<'a>>),
}

impl<'a> Equalities<'a> {
    pub(super) fn as_slice(&self) -> &[Equality<'a>] {
        match self {
            Equalities::Inline(e, n) => &e[..*n],
            Equalities::Heap(e) => e,
        }
    }
}

/// The equalities of `expr` if it is one equality or an AND of them (non-empty values only:
/// an empty value means "key absent", which no posting records).
pub(super) fn equalities(expr: &Expr) -> Option<Equalities<'_>> {
    fn one(e: &Expr) -> Option<Equality<'_>> {
        match e {
            Expr::Pred(Pred::Eq(key, value)) if !value.is_empty() => Some(Equality {
                key,
                key_fp: fingerprint(key),
                value,
                value_fp: fingerprint(value),
                key_in_shape: Cell::new((NO_KEY, NO_KEY)),
            }),
            _ => None,
        }
    }
    fn single(e: &Expr) -> Option<Equalities<'_>> {
        one(e).map(|e| Equalities::Inline([e.clone(), e], 1))
    }
    match expr {
        Expr::Pred(_) => single(expr),
        Expr::And(children) => match &children[..] {
            [] => None,
            [a] => single(a),
            [a, b] => Some(Equalities::Inline([one(a)?, one(b)?], 2)),
            _ => children
                .iter()
                .map(one)
                .collect::<Option<_>>()
                .map(Equalities::Heap),
        },
        _ => None,
    }
}

/// The grids that can hold a series satisfying every equality, from the pair filter.
pub(super) fn holders(m: &Measurement, eqs: &[Equality<'_>]) -> Holders {
    let mut only = None;
    for e in eqs {
        match m.holders(e.key_fp, e.value_fp) {
            Holders::None => return Holders::None,
            // a series lives in one grid: two equalities held by different single grids match
            // nothing
            Holders::One(g) if only.is_some_and(|o| o != g) => return Holders::None,
            Holders::One(g) => only = Some(g),
            Holders::Any => {}
        }
    }
    only.map_or(Holders::Any, Holders::One)
}

/// The live series of `grids` satisfying every equality of `eqs`.
pub(super) fn evaluate<'g>(
    grids: impl Iterator<Item = (&'g Grid, &'g Shape)>,
    eqs: &[Equality<'_>],
    capacity: usize,
) -> SeriesIdSet {
    let mut out = SeriesIdSet::with_capacity(capacity);
    if let [e] = eqs {
        for (g, shape) in grids {
            if let Some(locals) = posting(g, shape, e).and_then(share) {
                out.push_locals(g.base, locals);
            }
        }
        return out;
    }
    let mut postings: Vec<&Posting> = Vec::with_capacity(eqs.len());
    'grids: for (g, shape) in grids {
        postings.clear();
        for e in eqs {
            match posting(g, shape, e) {
                Some(p) => postings.push(p),
                None => continue 'grids,
            }
        }
        if let Some(locals) = intersect(&mut postings) {
            out.push_locals(g.base, locals);
        }
    }
    out
}

/// The posting of `e` in `g`, if the grid holds the value.
#[inline]
fn posting<'g>(g: &'g Grid, shape: &Shape, e: &Equality<'_>) -> Option<&'g Posting> {
    let (cached_shape, cached_key) = e.key_in_shape.get();
    let k = if cached_shape == g.shape {
        cached_key
    } else {
        // integer compares first: a binary search of the key names cost half of an equality
        // over 84 grids (callgrind)
        let k = shape
            .key_fps
            .iter()
            .zip(&shape.keys)
            .position(|(&f, k)| f == e.key_fp && **k == *e.key)
            .map_or(NO_KEY, |k| k as u32);
        e.key_in_shape.set((g.shape, k));
        k
    };
    if k == NO_KEY {
        return None;
    }
    let p = match slot_of_key(g, k) {
        Slot::Missing => return None,
        Slot::Dense(i) => {
            let d = &g.dense[i];
            &d.postings[d.dict.find(e.value_fp, e.value)? as usize]
        }
        Slot::Sparse(j) => {
            let s = &g.sparse[j];
            &s.postings[s.dict.find(e.value_fp, e.value)? as usize]
        }
    };
    Some(p)
}

/// The locals of one posting, shared if it is a bitmap.
fn share(p: &Posting) -> Option<Locals> {
    match p {
        Posting::Empty => None,
        Posting::One(x) => Some(Locals::One(*x)),
        Posting::Many(b) => Some(Locals::Shared(b.clone())),
    }
}

/// The intersection of non-empty `postings`, smallest first; `None` when empty.
fn intersect(postings: &mut [&Posting]) -> Option<Locals> {
    postings.sort_unstable_by_key(|p| p.len());
    let (first, rest) = postings.split_first()?;
    match first {
        Posting::Empty => None,
        Posting::One(x) => rest
            .iter()
            .all(|p| p.contains(*x))
            .then_some(Locals::One(*x)),
        Posting::Many(a) => {
            // every other posting is at least as large, so a `Many` too
            let bitmaps = rest.iter().filter_map(|p| match p {
                Posting::Many(b) if !Arc::ptr_eq(a, b) => Some(&**b),
                _ => None,
            });
            let mut acc: Option<RoaringBitmap> = None;
            for b in bitmaps {
                let next = match acc {
                    None => &**a & b,
                    Some(mut x) => {
                        x &= b;
                        x
                    }
                };
                if next.is_empty() {
                    return None;
                }
                acc = Some(next);
            }
            Some(acc.map_or_else(|| Locals::Shared(a.clone()), Locals::Owned))
        }
    }
}
