//! Shared sparse segments: one postings segment per measurement for every key set whose shape
//! has no grid of its own (see `docs/index-grid.md`, "Shared sparse segments").
//!
//! A per-shape probe segment made a query on key `k` visit one grid per shape having `k`: on
//! random partial key sets (63 shapes) that was 30 grids, each with its own dictionary probe
//! and result part, where an inverted index reads one posting. Here the series of those shapes
//! sit in one segment whose keys are the union of theirs; a payload slot holds the value index
//! of each union key, or [`NO_VALUE`] when the series lacks the key. A shape moves to grids of
//! its own once it has `probe_rows` series and the policy plans a dense key for it.

use roaring::RoaringBitmap;

use crate::dict::Dict;
use crate::error::{Error, Result};
use crate::grid::{Grid, NO_VALUE, SparseKey};
use crate::measurement::{Measurement, note_holder, pair_fp};
use crate::policy::Policy;
use crate::posting::Posting;
use crate::tagset::fingerprint;

/// Union-key position of each of `tags`' keys (both sorted), or `None` if one is missing.
fn union_positions(union: &[Box<[u8]>], tags: &[(&[u8], &[u8])], out: &mut Vec<usize>) -> bool {
    out.clear();
    let mut j = 0;
    for (k, _) in tags {
        while j < union.len() && *union[j] < **k {
            j += 1;
        }
        if j == union.len() || *union[j] != **k {
            return false;
        }
        out.push(j);
        j += 1;
    }
    true
}

/// `Grid::by_fp` entry of a fingerprint that two or more series had.
pub(crate) const MANY_SERIES: u32 = u32::MAX;

/// Fingerprint of a tag set from its key and value fingerprints (keys sorted).
pub(crate) fn set_fp(pairs: impl Iterator<Item = (u64, u64)>) -> u32 {
    let h = pairs.fold(0x243f_6a88_85a3_08d3_u64, |h, (k, v)| {
        (h ^ u64::from(pair_fp(k, v)))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29)
    });
    (h ^ (h >> 32)) as u32
}

impl Grid {
    /// An empty shared segment of `keys` union keys and `rows` rows.
    pub fn new_shared(
        id: u32,
        base: u64,
        shape: u32,
        keys: u32,
        rows: u32,
        max_points: u64,
    ) -> Result<Grid> {
        let sparse: Vec<u32> = (0..keys).collect();
        let mut g = Grid::new(id, base, shape, &[], rows, &sparse, max_points)?;
        g.shared = true;
        g.key_live = vec![0; keys as usize];
        Ok(g)
    }

    /// Whether a shared segment has a free row.
    pub fn shared_has_room(&self) -> bool {
        self.rows_used.get(&0).copied().unwrap_or(0) < self.row_cap
    }

    /// The live series of this shared segment with exactly the tags `tags` (every other union
    /// key absent).
    pub fn find_shared(
        &self,
        union: &[Box<[u8]>],
        tags: &[(&[u8], &[u8])],
        fps: &[u64],
        fp: u32,
        among: &RoaringBitmap,
    ) -> Option<u32> {
        // no live series here has this fingerprint: not here
        let single = match *self.by_fp.get(&fp)? {
            MANY_SERIES => None,
            local => Some(local),
        };
        let ns = self.sparse.len();
        let mut want_buf = [NO_VALUE; 16];
        let mut want_vec = Vec::new();
        let want: &mut [u32] = if ns <= 16 {
            &mut want_buf[..ns]
        } else {
            want_vec.resize(ns, NO_VALUE);
            &mut want_vec
        };
        let mut best: Option<&Posting> = None;
        let mut j = 0;
        for (i, (k, v)) in tags.iter().enumerate() {
            while j < ns && *union[j] < **k {
                j += 1;
            }
            if j == ns || *union[j] != **k {
                return None;
            }
            let s = &self.sparse[j];
            let vi = s.dict.find(fps[i], v)?;
            want[j] = vi;
            let p = &s.postings[vi as usize];
            if best.is_none_or(|b| p.len() < b.len()) {
                best = Some(p);
            }
            j += 1;
        }
        let matches = |local: &u32| self.payload.get(*local, ns) == Some(&*want);
        // the candidates: the rarest value's posting or the series of this key set here,
        // whichever is smaller (a whole row equal to `want` is the series, absent keys included)
        if let Some(local) = single {
            // the only series with this fingerprint: it or nothing
            return Some(local).filter(matches);
        }
        match best? {
            Posting::Empty => None,
            Posting::One(x) => Some(*x).filter(matches),
            Posting::Many(b) if b.len() <= among.len() => b.iter().find(matches),
            Posting::Many(_) => among.iter().find(matches),
        }
    }

    /// Places a series (every key in `union`, a free row) in this shared segment and returns its
    /// local id; `new_value(i)` is called for each tag whose value the segment did not hold.
    pub fn place_shared(
        &mut self,
        union: &[Box<[u8]>],
        tags: &[(&[u8], &[u8])],
        fps: &[u64],
        fp: u32,
        new_value: &mut dyn FnMut(usize),
    ) -> Result<u32> {
        let mut at = Vec::with_capacity(tags.len());
        if !union_positions(union, tags, &mut at) || !self.shared_has_room() {
            return Err(Error::CapacityOverflow(
                "shared segment without room or key (internal)".into(),
            ));
        }
        // every new value must fit its dictionary before anything changes: a series is placed
        // whole or not at all
        let full = at.iter().enumerate().any(|(i, &j)| {
            let d = &self.sparse[j].dict;
            d.find(fps[i], tags[i].1).is_none() && !d.has_room(tags[i].1.len())
        });
        if full {
            return Err(Error::CapacityOverflow("dictionary over 4 GiB".into()));
        }
        let row = self.rows_used.entry(0).or_insert(0);
        let local = *row;
        *row += 1;
        self.live.insert(local);
        self.used += 1;
        if self.used.is_power_of_two() {
            // rows are handed out in order: the live set is runs (see `Grid::place`)
            self.live.optimize();
        }
        self.note_fp(fp, local);
        let ns = self.sparse.len();
        for (i, &j) in at.iter().enumerate() {
            let s = &mut self.sparse[j];
            let vi = match s.dict.find(fps[i], tags[i].1) {
                Some(v) => v,
                None => {
                    let v = s
                        .dict
                        .push(fps[i], tags[i].1)
                        .ok_or_else(|| Error::CapacityOverflow("dictionary over 4 GiB".into()))?;
                    s.postings.push(Posting::Empty);
                    new_value(i);
                    v
                }
            };
            s.postings[vi as usize].insert(local);
            self.payload.row_mut(local, ns)[j] = vi;
            self.key_live[j] += 1;
        }
        Ok(local)
    }

    /// Adds union key position `at` (no series has it yet) to a shared segment: later keys
    /// move up one place and every payload row gets an absent slot.
    fn add_shared_key(&mut self, at: u32) {
        let ns = self.sparse.len();
        for s in &mut self.sparse {
            if s.key >= at {
                s.key += 1;
            }
        }
        self.key_live.insert(at as usize, 0);
        self.sparse.insert(
            at as usize,
            SparseKey {
                key: at,
                dict: Dict::default(),
                postings: Vec::new(),
            },
        );
        self.payload.widen(ns, at as usize);
        self.refresh_slots();
    }

    /// Records live local `local` under tag-set fingerprint `fp`.
    pub fn note_fp(&mut self, fp: u32, local: u32) {
        self.by_fp
            .entry(fp)
            .and_modify(|l| *l = MANY_SERIES)
            .or_insert(local);
    }

    /// Forgets deleted local `local` of fingerprint `fp` (a shared entry stays: it only
    /// widens the search).
    pub fn forget_fp(&mut self, fp: u32, local: u32) {
        if self.by_fp.get(&fp) == Some(&local) {
            self.by_fp.remove(&fp);
        }
    }

    /// Tag-set fingerprint of live local `local` of a shared segment whose union keys have
    /// fingerprints `key_fps`.
    pub fn fp_of(&self, local: u32, key_fps: &[u64]) -> u32 {
        let ns = self.sparse.len();
        set_fp((0..ns).filter_map(|j| {
            let vi = self.payload.slot(local, ns, j);
            (vi != NO_VALUE).then(|| (key_fps[j], fingerprint(self.sparse[j].dict.get(vi))))
        }))
    }

    /// Whether some live series of this shared segment lacks union key `j`.
    pub fn some_lack(&self, j: usize) -> bool {
        self.key_live
            .get(j)
            .is_some_and(|&n| u64::from(n) < self.live.len())
    }

    /// Live locals of a shared segment having union key `j`.
    pub fn present(&self, j: usize) -> RoaringBitmap {
        let mut out = RoaringBitmap::new();
        for p in &self.sparse[j].postings {
            p.union_into(&mut out);
        }
        out
    }

    /// Whether live local `local` of a shared segment has union key `j`.
    pub fn has_key(&self, local: u32, j: usize) -> bool {
        let ns = self.sparse.len();
        self.payload.slot(local, ns, j) != NO_VALUE
    }
}

impl Measurement {
    /// Places an absent series of shape `s` (no grid of its own) in the open shared segment,
    /// opening a new one when it is full; returns `(grid index, local)`.
    pub(crate) fn insert_shared(
        &mut self,
        s: u32,
        tags: &[(&[u8], &[u8])],
        fps: &[u64],
        policy: &Policy,
        new_grid: &mut dyn FnMut(u64) -> Result<(u64, u32)>,
    ) -> Result<(usize, u32)> {
        let gi = self.open_segment(tags, policy, new_grid)?;
        let union = &self.shapes[self.grids[gi].shape as usize].keys;
        let key_fps = &self.shapes[s as usize].key_fps;
        let fp = set_fp(key_fps.iter().copied().zip(fps.iter().copied()));
        let value_grids = &mut self.value_grids;
        let local = self.grids[gi].place_shared(union, tags, fps, fp, &mut |i| {
            note_holder(value_grids, pair_fp(key_fps[i], fps[i]), gi as u32);
        })?;
        self.shapes[s as usize].note_shared(gi as u32, local);
        self.live += 1;
        Ok((gi, local))
    }

    /// The shared segment that takes `tags`: the newest one if it has a free row (its key
    /// union grown by the keys it lacks), else a new, twice larger one.
    fn open_segment(
        &mut self,
        tags: &[(&[u8], &[u8])],
        policy: &Policy,
        new_grid: &mut dyn FnMut(u64) -> Result<(u64, u32)>,
    ) -> Result<usize> {
        let last = self.shared.last().map(|&g| g as usize);
        if let Some(gi) = last.filter(|&gi| self.grids[gi].shared_has_room()) {
            let us = self.grids[gi].shape as usize;
            for (k, _) in tags {
                let keys = &self.shapes[us].keys;
                if let Err(at) = keys.binary_search_by(|u| (**u).cmp(k)) {
                    self.shapes[us].insert_key(at, k);
                    self.grids[gi].add_shared_key(at as u32);
                }
            }
            return Ok(gi);
        }
        let mut keys: Vec<Box<[u8]>> = tags.iter().map(|t| t.0.into()).collect();
        let rows = match last {
            Some(gi) => {
                let g = &self.grids[gi];
                keys.extend(self.shapes[g.shape as usize].keys.iter().cloned());
                keys.sort_unstable();
                keys.dedup();
                u64::from(g.row_cap).saturating_mul(2)
            }
            None => match policy {
                Policy::Adaptive(p) => u64::from(p.shared_rows.max(2)),
                Policy::Multiplier(_) => 2,
            },
        };
        let rows = rows.min(policy.max_points()).min(u64::from(u32::MAX)) as u32;
        let (base, id) = new_grid(u64::from(rows))?;
        let us = self.add_union_shape(keys);
        let n = self.shapes[us as usize].keys.len() as u32;
        let grid = Grid::new_shared(id, base, us, n, rows, policy.max_points())?;
        let gi = self.grids.len();
        self.shapes[us as usize].grids.push(gi as u32);
        self.shared.push(gi as u32);
        self.grids.push(grid);
        Ok(gi)
    }

    /// Keys (in union order) of live local `local` of shared segment `gi`, as a probe tag set
    /// with empty values, for [`Measurement::shape_of`].
    pub(crate) fn shared_keys_of(&self, gi: usize, local: u32) -> Vec<(&[u8], &[u8])> {
        let g = &self.grids[gi];
        let union = &self.shapes[g.shape as usize].keys;
        (0..union.len())
            .filter(|&j| g.has_key(local, j))
            .map(|j| (&*union[j], &b""[..]))
            .collect()
    }

    /// Visits the live series of shape `s` in shared segments, newest segment first, each
    /// ascending, with their values in shape order, until `f` returns false.
    pub(crate) fn shared_series_of<'a>(&'a self, s: u32, f: &mut dyn FnMut(&[&'a [u8]]) -> bool) {
        let shape = &self.shapes[s as usize];
        let probe = probe_of(&shape.keys);
        let (mut vals, mut coords, mut mine) = (Vec::new(), Vec::new(), Vec::new());
        let mut pos = Vec::new();
        for (gi, locals) in shape.in_shared.iter().rev() {
            let g = &self.grids[*gi as usize];
            let union = &self.shapes[g.shape as usize].keys;
            if !union_positions(union, &probe, &mut pos) {
                continue;
            }
            for local in locals.iter() {
                g.values_into(local, union.len(), &mut vals, &mut coords);
                mine.clear();
                mine.extend(pos.iter().map(|&j| vals[j]));
                if !f(&mine) {
                    return;
                }
            }
        }
    }
}

/// `keys` as a tag set with empty values (for key-only lookups).
fn probe_of(keys: &[Box<[u8]>]) -> Vec<(&[u8], &[u8])> {
    keys.iter().map(|k| (&**k, &b""[..])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_a_key_keeps_every_row() {
        let union: Vec<Box<[u8]>> = vec![b"a"[..].into(), b"c"[..].into()];
        let mut g = Grid::new_shared(1, 1, 0, 2, 8, 1 << 32).unwrap();
        let t1: [(&[u8], &[u8]); 2] = [(b"a", b"1"), (b"c", b"3")];
        let t2: [(&[u8], &[u8]); 1] = [(b"c", b"4")];
        let fps = |t: &[(&[u8], &[u8])]| crate::measurement::value_fps(t);
        let sfp =
            |t: &[(&[u8], &[u8])]| set_fp(t.iter().map(|(k, v)| (fingerprint(k), fingerprint(v))));
        let l1 = g
            .place_shared(&union, &t1, &fps(&t1), sfp(&t1), &mut |_| {})
            .unwrap();
        let l2 = g
            .place_shared(&union, &t2, &fps(&t2), sfp(&t2), &mut |_| {})
            .unwrap();
        g.add_shared_key(1);
        let union: Vec<Box<[u8]>> = vec![b"a"[..].into(), b"b"[..].into(), b"c"[..].into()];
        let t3: [(&[u8], &[u8]); 2] = [(b"b", b"2"), (b"c", b"3")];
        let l3 = g
            .place_shared(&union, &t3, &fps(&t3), sfp(&t3), &mut |_| {})
            .unwrap();
        assert_eq!(
            g.find_shared(&union, &t1, &fps(&t1), sfp(&t1), &g.live),
            Some(l1)
        );
        assert_eq!(
            g.find_shared(&union, &t2, &fps(&t2), sfp(&t2), &g.live),
            Some(l2)
        );
        assert_eq!(
            g.find_shared(&union, &t3, &fps(&t3), sfp(&t3), &g.live),
            Some(l3)
        );
        // a subset of a stored tag set is another series
        let t4: [(&[u8], &[u8]); 1] = [(b"c", b"3")];
        assert_eq!(
            g.find_shared(&union, &t4, &fps(&t4), sfp(&t4), &g.live),
            None
        );
        assert_eq!(g.values_of(l3, 3), vec![&b""[..], b"2", b"3"]);
        let key_fps: Vec<u64> = union.iter().map(|k| fingerprint(k)).collect();
        assert_eq!(g.fp_of(l1, &key_fps), sfp(&t1));
        assert_eq!(g.fp_of(l3, &key_fps), sfp(&t3));
        assert_eq!(g.present(1).iter().collect::<Vec<_>>(), vec![l3]);
        assert!(g.has_key(l1, 0) && !g.has_key(l1, 1) && g.has_key(l1, 2));
    }

    /// Two series with one fingerprint (a collision, forced here) are both found by scanning;
    /// a fingerprint held by another series finds nothing.
    #[test]
    fn fingerprint_collisions_fall_back_to_postings() {
        let union: Vec<Box<[u8]>> = vec![b"a"[..].into(), b"b"[..].into()];
        let mut g = Grid::new_shared(1, 1, 0, 2, 8, 1 << 32).unwrap();
        let fps = |t: &[(&[u8], &[u8])]| crate::measurement::value_fps(t);
        let t1: [(&[u8], &[u8]); 2] = [(b"a", b"1"), (b"b", b"2")];
        let t2: [(&[u8], &[u8]); 1] = [(b"a", b"1")];
        let t3: [(&[u8], &[u8]); 1] = [(b"b", b"2")];
        let l1 = g
            .place_shared(&union, &t1, &fps(&t1), 7, &mut |_| {})
            .unwrap();
        let l2 = g
            .place_shared(&union, &t2, &fps(&t2), 7, &mut |_| {})
            .unwrap();
        let l3 = g
            .place_shared(&union, &t3, &fps(&t3), 9, &mut |_| {})
            .unwrap();
        assert_eq!(g.by_fp.get(&7), Some(&MANY_SERIES));
        assert_eq!(g.find_shared(&union, &t1, &fps(&t1), 7, &g.live), Some(l1));
        assert_eq!(g.find_shared(&union, &t2, &fps(&t2), 7, &g.live), Some(l2));
        // fingerprint 9 belongs to t3 only: t2 under it is absent
        assert_eq!(g.find_shared(&union, &t2, &fps(&t2), 9, &g.live), None);
        assert_eq!(g.find_shared(&union, &t3, &fps(&t3), 9, &g.live), Some(l3));
        assert_eq!(g.find_shared(&union, &t3, &fps(&t3), 8, &g.live), None);
        g.forget_fp(9, l3);
        assert_eq!(g.find_shared(&union, &t3, &fps(&t3), 9, &g.live), None);
    }
}
