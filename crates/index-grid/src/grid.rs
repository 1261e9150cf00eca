//! One grid: a block of pre-allocated ids addressed by tag coordinates (spec §5.3).
//!
//! `local = Σ coord_i · stride_i + row`, dense dimensions most significant first, the row
//! dimension (present only when the grid has sparse keys) least significant.

use roaring::RoaringBitmap;

use std::collections::HashMap;

use crate::dict::{Dict, MixBuild};
use crate::error::{Error, Result};
use crate::payload::Payload;
use crate::posting::Posting;

/// A dense dimension: the coordinate of a series is the position of its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DenseDim {
    /// Index of the key in the shape's sorted key list.
    pub key: u32,
    pub cap: u32,
    pub dict: Dict,
    /// Live series per coordinate (listings skip values nobody uses any more).
    pub live: Vec<u32>,
    /// Live locals per coordinate. Derived (rebuilt on load, never written): an equality
    /// answers by cloning them — the cost follows the result — where a word mask costs a word
    /// per 64 points of the span and a bitmap conversion per result. About 2 bytes per series
    /// per dense key (array containers) or one bit per point per value (bitmap containers).
    pub postings: Vec<Posting>,
}

/// A sparse key: values in a dictionary, series found through postings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SparseKey {
    pub key: u32,
    pub dict: Dict,
    pub postings: Vec<Posting>,
}

/// What a grid can do with a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Probe {
    /// The series is live here, at this local id.
    Found(u32),
    /// The series is not here but could be placed here.
    Fits,
    /// Neither.
    NoRoom,
}

/// Sentinel of an empty payload slot (a dead series, or in a shared segment a key the series
/// lacks).
pub(crate) const NO_VALUE: u32 = u32::MAX;

/// What a [`Grid::probe`] must find out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Whether the series is here, and whether it would fit.
    Both,
    /// Only whether the series is here.
    Found,
    /// Only whether it would fit (the series is known to be absent).
    Fit,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Grid {
    pub id: u32,
    pub base: u64,
    pub points: u64,
    pub shape: u32,
    /// A shared sparse segment: series of any key set of the measurement whose shape has no
    /// grid of its own; its shape is the union of their keys, and a payload slot of a key the
    /// series lacks holds [`NO_VALUE`]. Never dense.
    pub shared: bool,
    /// Most significant first.
    pub dense: Vec<DenseDim>,
    /// Rows per cell; 0 = pure grid (no row dimension).
    pub row_cap: u32,
    pub sparse: Vec<SparseKey>,
    pub live: RoaringBitmap,
    pub dead: RoaringBitmap,
    /// Per series, the value index of each sparse key j (see [`Payload`]).
    pub payload: Payload,
    /// Local-id stride of each dense dimension.
    pub strides: Vec<u64>,
    /// Rows ever used per cell of a hybrid grid (= its next free row: rows are handed out in
    /// order and never reused). Derivable from `live ∪ dead`, kept because the derivation costs
    /// more than the rest of an insert.
    pub rows_used: HashMap<u32, u32, MixBuild>,
    /// Shared segments only: 32-bit fingerprint of a live series' tag set -> its local, or
    /// [`crate::segment::MANY_SERIES`] when several series had it (derived, rebuilt on load).
    /// A lookup confirms one payload row instead of scanning a value's posting, which in a
    /// segment of many key sets with few values holds a tenth of its series.
    pub by_fp: HashMap<u32, u32, MixBuild>,
    /// Shared segments only: live series having each union key (derived, rebuilt on load). A
    /// key every series has is evaluated as in any postings segment: `exists` is the live set,
    /// not a union of every posting (a million for a diagonal key).
    pub key_live: Vec<u32>,
    /// Points ever used: `|live| + |dead|` (a roaring length sums its containers; this is
    /// read for every grid an insert passes).
    pub used: u64,
    /// Where each shape key sits (derived from `dense` and `sparse` when the grid is made):
    /// a query finds a key's dimension or postings by index instead of by search.
    pub slots: Vec<KeySlot>,
}

/// A shape key's place in a grid: dense dimension `i`, sparse key `j`, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeySlot {
    Missing,
    Dense(u32),
    Sparse(u32),
}

/// Product of capacities with overflow and limit checks: the number of points of a grid.
pub(crate) fn points_of(dense_caps: &[u32], row_cap: u32, max_points: u64) -> Result<u64> {
    let mut p: u64 = u64::from(row_cap.max(1));
    for &c in dense_caps {
        p = p
            .checked_mul(u64::from(c))
            .ok_or_else(|| Error::CapacityOverflow("more than u64".into()))?;
    }
    if p > max_points || p == 0 {
        return Err(Error::CapacityOverflow(format!(
            "{p} points (capacities {dense_caps:?}, rows {row_cap}, limit {max_points})"
        )));
    }
    Ok(p)
}

impl Grid {
    /// An empty grid; `dense` is `(key index, capacity)` most significant first.
    pub fn new(
        id: u32,
        base: u64,
        shape: u32,
        dense: &[(u32, u32)],
        row_cap: u32,
        sparse: &[u32],
        max_points: u64,
    ) -> Result<Grid> {
        let caps: Vec<u32> = dense.iter().map(|d| d.1).collect();
        let points = points_of(&caps, row_cap, max_points)?;
        let mut strides = vec![0u64; dense.len()];
        let mut s = u64::from(row_cap.max(1));
        for i in (0..dense.len()).rev() {
            strides[i] = s;
            s *= u64::from(caps[i]);
        }
        let mut grid = Grid {
            id,
            base,
            points,
            shape,
            shared: false,
            dense: dense
                .iter()
                .map(|&(key, cap)| DenseDim {
                    key,
                    cap,
                    dict: Dict::default(),
                    live: Vec::new(),
                    postings: Vec::new(),
                })
                .collect(),
            row_cap,
            sparse: sparse
                .iter()
                .map(|&key| SparseKey {
                    key,
                    dict: Dict::default(),
                    postings: Vec::new(),
                })
                .collect(),
            live: RoaringBitmap::new(),
            dead: RoaringBitmap::new(),
            payload: Payload::default(),
            strides,
            rows_used: HashMap::default(),
            by_fp: HashMap::default(),
            key_live: Vec::new(),
            used: 0,
            slots: Vec::new(),
        };
        grid.refresh_slots();
        Ok(grid)
    }

    /// Recomputes `slots` from the dense dimensions and sparse keys (when the grid is made, and
    /// when a shared segment gains a key).
    pub fn refresh_slots(&mut self) {
        // a grid's keys are its shape's, each dense or sparse: indexes below their count
        let keys = self
            .dense
            .iter()
            .map(|d| d.key + 1)
            .chain(self.sparse.iter().map(|s| s.key + 1));
        let mut slots = vec![KeySlot::Missing; keys.max().unwrap_or(0) as usize];
        for (i, d) in self.dense.iter().enumerate() {
            if let Some(s) = slots.get_mut(d.key as usize) {
                *s = KeySlot::Dense(i as u32);
            }
        }
        for (j, sk) in self.sparse.iter().enumerate() {
            if let Some(s) = slots.get_mut(sk.key as usize) {
                *s = KeySlot::Sparse(j as u32);
            }
        }
        self.slots = slots;
    }

    /// Rows per cell as a local-id stride (1 for pure grids).
    pub fn row_factor(&self) -> u64 {
        u64::from(self.row_cap.max(1))
    }

    pub fn is_hybrid(&self) -> bool {
        self.row_cap > 0
    }

    /// Every point is used (live or dead): nothing can be placed here any more. Most grids of
    /// a shape end this way (rows are sized from the data), and skipping them keeps a new
    /// series from probing every grid for room.
    pub fn is_full(&self) -> bool {
        self.used >= self.points
    }

    /// Whether the series `tags` (shape order, fingerprints of values in `fps`) is here or fits.
    /// `need` skips what the caller already knows: a series the pair filter ruled out is not
    /// looked for, and once a fitting grid is known only `Found` matters.
    pub fn probe(&self, tags: &[(&[u8], &[u8])], fps: &[u64], need: Need) -> Probe {
        let mut lo: u64 = 0;
        let mut new_value = false;
        for (d, &stride) in self.dense.iter().zip(&self.strides) {
            let k = d.key as usize;
            let coord = match d.dict.find(fps[k], tags[k].1) {
                Some(c) => c,
                None if (d.dict.len() as u64) < u64::from(d.cap) => {
                    new_value = true;
                    d.dict.len() as u32
                }
                None => return Probe::NoRoom,
            };
            lo += u64::from(coord) * stride;
        }
        if new_value {
            // A coordinate nobody used yet: its cell is empty.
            return if need == Need::Found {
                Probe::NoRoom
            } else {
                Probe::Fits
            };
        }
        let lo = lo as u32; // < points ≤ 2^32
        if !self.is_hybrid() {
            return if self.live.contains(lo) {
                Probe::Found(lo)
            } else if self.dead.contains(lo) {
                Probe::NoRoom
            } else {
                Probe::Fits
            };
        }
        let last = lo + (self.row_cap - 1); // < points ≤ 2^32
        if need != Need::Fit
            && let Some(local) = self.find_in_cell(tags, fps, lo, last)
        {
            return Probe::Found(local);
        }
        if need != Need::Found && self.next_row(lo) < self.row_cap {
            Probe::Fits
        } else {
            Probe::NoRoom
        }
    }

    /// The live series in cell `[lo, last]` whose sparse values equal those of `tags`.
    fn find_in_cell(
        &self,
        tags: &[(&[u8], &[u8])],
        fps: &[u64],
        lo: u32,
        last: u32,
    ) -> Option<u32> {
        let ns = self.sparse.len();
        let mut want = [0u32; 16];
        let mut want_vec = Vec::new();
        let want: &mut [u32] = if ns <= 16 {
            &mut want[..ns]
        } else {
            want_vec.resize(ns, 0);
            &mut want_vec
        };
        let mut best = 0;
        for (j, s) in self.sparse.iter().enumerate() {
            let k = s.key as usize;
            want[j] = s.dict.find(fps[k], tags[k].1)?;
            if s.postings[want[j] as usize].len()
                < self.sparse[best].postings[want[best] as usize].len()
            {
                best = j;
            }
        }
        let posting = &self.sparse[best].postings[want[best] as usize];
        let matches = |local: &u32| self.payload.get(*local, ns) == Some(&*want);
        match posting {
            Posting::Empty => None,
            Posting::One(x) => Some(*x).filter(|x| (lo..=last).contains(x) && matches(x)),
            Posting::Many(b) => b.range(lo..=last).find(matches),
        }
    }

    /// Next free row of the cell starting at local `lo`.
    fn next_row(&self, lo: u32) -> u32 {
        self.rows_used
            .get(&(lo / self.row_cap))
            .copied()
            .unwrap_or(0)
    }

    /// Rows of cell `[lo, last]` ever used, from the live and dead sets.
    fn scan_next_row(&self, lo: u32, last: u32) -> u32 {
        let top = |b: &RoaringBitmap| b.range(lo..=last).next_back();
        match (top(&self.live), top(&self.dead)) {
            (None, None) => 0,
            (a, b) => a.max(b).unwrap_or(lo) - lo + 1,
        }
    }

    /// Rebuilds `rows_used` and `used` from the live and dead sets (after loading).
    pub fn rebuild_rows_used(&mut self) {
        self.used = self.live.len() + self.dead.len();
        self.rows_used = self
            .next_rows()
            .into_iter()
            .map(|(c, r)| (c as u32, r))
            .collect();
    }

    /// Next free row of every cell that has one, as `(cell, next_row)` ascending (persistence).
    pub fn next_rows(&self) -> Vec<(u64, u32)> {
        if !self.is_hybrid() {
            return Vec::new();
        }
        let rf = self.row_cap;
        let mut cells: Vec<u64> = self
            .live
            .iter()
            .chain(self.dead.iter())
            .map(|l| u64::from(l / rf))
            .collect();
        cells.sort_unstable();
        cells.dedup();
        cells
            .into_iter()
            .map(|c| {
                let lo = (c * u64::from(rf)) as u32;
                (c, self.scan_next_row(lo, lo + (rf - 1)))
            })
            .collect()
    }

    /// Places the series (which must [`Probe::Fits`]) and returns its local id. `new_value(k)`
    /// is called for each shape key whose value this grid did not hold yet.
    pub fn place(
        &mut self,
        tags: &[(&[u8], &[u8])],
        fps: &[u64],
        new_value: &mut dyn FnMut(u32),
    ) -> Result<u32> {
        let mut lo: u64 = 0;
        for i in 0..self.dense.len() {
            let d = &mut self.dense[i];
            let k = d.key as usize;
            let coord = match d.dict.find(fps[k], tags[k].1) {
                Some(c) => c,
                None => {
                    let c = d
                        .dict
                        .push(fps[k], tags[k].1)
                        .ok_or_else(|| Error::CapacityOverflow("dictionary over 4 GiB".into()))?;
                    d.live.push(0);
                    d.postings.push(Posting::Empty);
                    new_value(d.key);
                    c
                }
            };
            d.live[coord as usize] += 1;
            lo += u64::from(coord) * self.strides[i];
        }
        let mut local = lo as u32;
        if self.is_hybrid() {
            let row = self.rows_used.entry(local / self.row_cap).or_insert(0);
            local += *row;
            *row += 1;
        }
        self.index_dense(local);
        debug_assert!(u64::from(local) < self.points);
        self.live.insert(local);
        self.used += 1;
        if self.used.is_power_of_two() {
            // Live sets are mostly runs (a full permutation fills whole blocks, a hybrid cell
            // fills its rows in order): run containers make them a few bytes in memory and in
            // the snapshot instead of 2 bytes a series. Re-chosen at each doubling (amortised
            // O(1) per insert); the choice depends only on the inserts, so a replayed or
            // reloaded index holds the same containers and writes the same bytes.
            self.live.optimize();
        }
        let ns = self.sparse.len();
        for j in 0..ns {
            let s = &mut self.sparse[j];
            let k = s.key as usize;
            let vi = match s.dict.find(fps[k], tags[k].1) {
                Some(v) => v,
                None => {
                    let v = s
                        .dict
                        .push(fps[k], tags[k].1)
                        .ok_or_else(|| Error::CapacityOverflow("dictionary over 4 GiB".into()))?;
                    s.postings.push(Posting::Empty);
                    new_value(s.key);
                    v
                }
            };
            s.postings[vi as usize].insert(local);
            self.payload.row_mut(local, ns)[j] = vi;
        }
        Ok(local)
    }

    /// Adds a live local to the postings of its dense coordinates.
    pub fn index_dense(&mut self, local: u32) {
        let mut cell = u64::from(local) / self.row_factor();
        for d in self.dense.iter_mut().rev() {
            let cap = u64::from(d.cap);
            let c = (cell % cap) as usize;
            cell /= cap;
            if let Some(p) = d.postings.get_mut(c) {
                p.insert(local);
            }
        }
    }

    /// Dense coordinates (most significant first) of a local id.
    pub fn coords(&self, local: u32, out: &mut Vec<u32>) {
        out.clear();
        let mut cell = u64::from(local) / self.row_factor();
        out.resize(self.dense.len(), 0);
        for i in (0..self.dense.len()).rev() {
            let cap = u64::from(self.dense[i].cap);
            out[i] = (cell % cap) as u32;
            cell /= cap;
        }
    }

    /// Value of every shape key of a live local, in shape order (`n` = number of shape keys).
    pub fn values_of(&self, local: u32, n: usize) -> Vec<&[u8]> {
        let mut out = Vec::new();
        self.values_into(local, n, &mut out, &mut Vec::new());
        out
    }

    /// [`Self::values_of`] into reused buffers (`coords` is scratch).
    pub fn values_into<'a>(
        &'a self,
        local: u32,
        n: usize,
        out: &mut Vec<&'a [u8]>,
        coords: &mut Vec<u32>,
    ) {
        out.clear();
        out.resize(n, &[]);
        self.coords(local, coords);
        for (d, &c) in self.dense.iter().zip(coords.iter()) {
            out[d.key as usize] = d.dict.get(c);
        }
        let ns = self.sparse.len();
        for (j, s) in self.sparse.iter().enumerate() {
            // absent (shared segments only): left empty, as no stored tag value is
            let vi = self.payload.slot(local, ns, j);
            if vi != NO_VALUE {
                out[s.key as usize] = s.dict.get(vi);
            }
        }
    }

    /// Deletes a live local: its point is dead for ever. Returns false if it was not live.
    pub fn delete(&mut self, local: u32) -> bool {
        if !self.live.remove(local) {
            return false;
        }
        self.dead.insert(local);
        let mut coords = Vec::new();
        self.coords(local, &mut coords);
        for (d, &c) in self.dense.iter_mut().zip(&coords) {
            d.live[c as usize] -= 1;
            d.postings[c as usize].remove(local);
        }
        let ns = self.sparse.len();
        for (j, s) in self.sparse.iter_mut().enumerate() {
            let vi = self.payload.slot(local, ns, j);
            if let Some(p) = s.postings.get_mut(vi as usize) {
                p.remove(local);
                if let Some(n) = self.key_live.get_mut(j) {
                    *n -= 1;
                }
            }
            if vi != NO_VALUE {
                self.payload.row_mut(local, ns)[j] = NO_VALUE;
            }
        }
        true
    }

    /// Values of shape key `key` with at least one live series here.
    pub fn live_values(&self, key: u32) -> Vec<&[u8]> {
        if let Some(d) = self.dense.iter().find(|d| d.key == key) {
            return (0..d.dict.len() as u32)
                .filter(|&c| d.live[c as usize] > 0)
                .map(|c| d.dict.get(c))
                .collect();
        }
        if let Some(s) = self.sparse.iter().find(|s| s.key == key) {
            return (0..s.dict.len() as u32)
                .filter(|&v| s.postings[v as usize].len() > 0)
                .map(|v| s.dict.get(v))
                .collect();
        }
        Vec::new()
    }

    /// Approximate heap bytes (for `inspect`; benchmarks measure with an allocator instead).
    pub fn heap_bytes(&self) -> usize {
        let dense: usize = self
            .dense
            .iter()
            .map(|d| {
                d.dict.heap_bytes()
                    + d.live.capacity() * 4
                    + d.postings.capacity() * std::mem::size_of::<Posting>()
                    + d.postings.iter().map(Posting::heap_bytes).sum::<usize>()
            })
            .sum();
        let sparse: usize = self
            .sparse
            .iter()
            .map(|s| {
                s.dict.heap_bytes()
                    + s.postings.capacity() * std::mem::size_of::<Posting>()
                    + s.postings.iter().map(Posting::heap_bytes).sum::<usize>()
            })
            .sum();
        dense
            + sparse
            + self.live.serialized_size()
            + self.dead.serialized_size()
            + self.payload.heap_bytes()
            + self.strides.capacity() * 8
            + self.by_fp.capacity() * 9
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_radix_pattern() {
        // capacities [2, 3, 4], dimension 1 fixed to coordinate 1 (spec §1.2)
        let g = Grid::new(0, 1, 0, &[(0, 2), (1, 3), (2, 4)], 0, &[], 1 << 32).unwrap();
        let mut locals = Vec::new();
        for x0 in 0..2u64 {
            for x2 in 0..4u64 {
                locals.push(x0 * g.strides[0] + g.strides[1] + x2 * g.strides[2]);
            }
        }
        locals.sort_unstable();
        assert_eq!(locals, vec![4, 5, 6, 7, 16, 17, 18, 19]);
        assert_eq!(g.points, 24);
        let mut c = Vec::new();
        g.coords(17, &mut c);
        assert_eq!(c, vec![1, 1, 1]);
    }

    #[test]
    fn points_overflow_is_an_error() {
        assert!(points_of(&[u32::MAX, u32::MAX, u32::MAX], 0, u64::MAX).is_err());
        assert!(points_of(&[1 << 16, 1 << 16], 2, 1 << 32).is_err());
        assert_eq!(points_of(&[1 << 16, 1 << 16], 0, 1 << 32).unwrap(), 1 << 32);
    }
}
