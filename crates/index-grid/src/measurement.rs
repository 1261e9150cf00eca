//! One measurement: its shapes (key sets) and grids, insert/lookup/delete inside it.

use std::collections::HashMap;

use roaring::RoaringBitmap;

use crate::dict::{FpBuild, MixBuild};
use crate::error::Result;
use crate::grid::{Grid, Need, Probe};
use crate::policy::Policy;
use crate::segment::set_fp;
use crate::tagset::fingerprint;

/// All series with one key set.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shape {
    /// Sorted tag keys.
    pub keys: Vec<Box<[u8]>>,
    /// Fingerprint of each key, for [`pair_fp`].
    pub key_fps: Vec<u64>,
    /// Indexes into `Measurement::grids`, creation order.
    pub grids: Vec<u32>,
    /// The key union of a shared segment (not a key set of any series: never returned by
    /// [`Measurement::shape_of`]).
    pub union: bool,
    /// Live series of this key set in shared segments (derived: rebuilt on load).
    pub shared_live: u64,
    /// Their locals, per shared segment (grid index, ascending): a lookup tests at most these
    /// (a shape's probe), not a whole posting of the segment.
    pub in_shared: Vec<(u32, RoaringBitmap)>,
}

impl Shape {
    fn new(keys: Vec<Box<[u8]>>, union: bool) -> Shape {
        Shape {
            key_fps: keys.iter().map(|k| fingerprint(k)).collect(),
            keys,
            grids: Vec::new(),
            union,
            shared_live: 0,
            in_shared: Vec::new(),
        }
    }

    /// Records a series of this key set at `local` of shared segment `gi` (the newest).
    pub fn note_shared(&mut self, gi: u32, local: u32) {
        match self.in_shared.last_mut() {
            Some((g, b)) if *g == gi => {
                b.insert(local);
            }
            _ => self.in_shared.push((gi, std::iter::once(local).collect())),
        }
        self.shared_live += 1;
    }

    /// Forgets a deleted series at `local` of shared segment `gi`.
    pub fn forget_shared(&mut self, gi: u32, local: u32) {
        if let Some((_, b)) = self.in_shared.iter_mut().find(|(g, _)| *g == gi)
            && b.remove(local)
        {
            self.shared_live -= 1;
        }
    }

    /// Inserts key `k` at position `at` of a union shape.
    pub fn insert_key(&mut self, at: usize, k: &[u8]) {
        self.keys.insert(at, k.into());
        self.key_fps.insert(at, fingerprint(k));
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Measurement {
    pub id: u32,
    pub name: Box<[u8]>,
    pub shapes: Vec<Shape>,
    /// Fingerprint of a key set -> shapes with it.
    shape_index: HashMap<u64, Vec<u32>, FpBuild>,
    /// Grids in creation order (so bases ascend).
    pub grids: Vec<Grid>,
    /// Indexes into `grids` of the shared segments, creation order (the last one is open).
    pub shared: Vec<u32>,
    /// Live series.
    pub live: u64,
    /// [`pair_fp`] of every `(key, value)` in any grid's dictionaries -> the one grid whose
    /// dictionaries hold it, or [`MANY_GRIDS`]. A superset filter (fingerprints may collide,
    /// and deleted values stay), so an absent pair is in no live series and a single grid is
    /// the only one that can hold it: an equality on a host name or a UUID visits one grid,
    /// not all of them. Keyed by 32 bits of the fingerprint: 8 bytes a bucket instead of 16
    /// (the filter is most of what this round added to the heap), and the collisions that
    /// brings at millions of values only turn a few pairs into `MANY_GRIDS`.
    pub(crate) value_grids: HashMap<u32, u32, MixBuild>,
}

/// A key set with this many series in shared segments gets its own grids whatever its share.
const LEAVE_ALWAYS: u64 = 1 << 16;
/// Below that, it needs at least 1 / this of the shared segments' series.
const LEAVE_SHARE: u64 = 4;
/// A key set with at least this share (`NUM / DEN`) of the shared segments' series may leave
/// for a hybrid grid; below it, only for a pure grid.
const LEAVE_MOST_NUM: u64 = 3;
const LEAVE_MOST_DEN: u64 = 4;

/// `value_grids` entry of a pair in two or more grids.
pub(crate) const MANY_GRIDS: u32 = u32::MAX;

/// Fingerprint of a `(key, value)` pair from the fingerprints of its parts.
pub(crate) fn pair_fp(key_fp: u64, value_fp: u64) -> u32 {
    // xor of two independent xxh3 outputs, the key's rotated so (a, b) and (b, a) differ,
    // folded to 32 bits
    let fp = key_fp.rotate_left(23) ^ value_fp;
    (fp ^ (fp >> 32)) as u32
}

/// Where the grids that can hold a pair are.
pub(crate) enum Holders {
    /// No grid: no live series carries the pair.
    None,
    /// Only this grid (index into `Measurement::grids`).
    One(usize),
    /// Any grid.
    Any,
}

/// Fingerprint of a sorted key list.
fn keys_fp<'a>(keys: impl Iterator<Item = &'a [u8]>) -> u64 {
    // each key hashed with the previous hash (and its length) as seed: the streaming hasher's
    // setup costs more than hashing a few short keys
    keys.fold(0, |h, k| {
        xxhash_rust::xxh3::xxh3_64_with_seed(k, h.rotate_left(7) ^ k.len() as u64)
    })
}

/// What `locate` found.
pub(crate) enum Located {
    /// Live at grid index, local.
    Found(usize, u32),
    /// Not live; could go into this grid (first fit), or needs a new grid (`None`).
    Absent(Option<usize>),
}

impl Measurement {
    pub fn new(id: u32, name: &[u8]) -> Self {
        Measurement {
            id,
            name: name.into(),
            shapes: Vec::new(),
            shape_index: HashMap::default(),
            grids: Vec::new(),
            shared: Vec::new(),
            live: 0,
            value_grids: HashMap::default(),
        }
    }

    /// The shape with exactly the keys of `tags`.
    pub fn shape_of(&self, tags: &[(&[u8], &[u8])]) -> Option<u32> {
        // (a union shape is no series' key set, even when its keys are the same)
        let same = |s: &Shape| {
            !s.union
                && s.keys.len() == tags.len()
                && s.keys.iter().zip(tags).all(|(k, t)| **k == *t.0)
        };
        // most measurements have one or a few shapes: comparing their keys costs less than
        // hashing the keys of every insert
        if self.shapes.len() <= 4 {
            return self.shapes.iter().position(same).map(|s| s as u32);
        }
        let fp = keys_fp(tags.iter().map(|t| t.0));
        self.shape_index
            .get(&fp)?
            .iter()
            .copied()
            .find(|&s| same(&self.shapes[s as usize]))
    }

    fn add_shape(&mut self, tags: &[(&[u8], &[u8])]) -> u32 {
        let fp = keys_fp(tags.iter().map(|t| t.0));
        let s = self.shapes.len() as u32;
        self.shapes
            .push(Shape::new(tags.iter().map(|t| t.0.into()).collect(), false));
        self.shape_index.entry(fp).or_default().push(s);
        s
    }

    /// A new union shape (of a shared segment), not indexed by key set.
    pub(crate) fn add_union_shape(&mut self, keys: Vec<Box<[u8]>>) -> u32 {
        self.shapes.push(Shape::new(keys, true));
        (self.shapes.len() - 1) as u32
    }

    /// Appends a loaded grid (persistence), creating its shape if needed.
    pub fn attach_grid(&mut self, keys: &[Box<[u8]>], mut grid: Grid) {
        let gi = self.grids.len() as u32;
        let s = if grid.shared {
            self.shared.push(gi);
            self.add_union_shape(keys.to_vec())
        } else {
            let probe: Vec<(&[u8], &[u8])> = keys.iter().map(|k| (&**k, &b""[..])).collect();
            match self.shape_of(&probe) {
                Some(s) => s,
                None => self.add_shape(&probe),
            }
        };
        grid.shape = s;
        self.live += grid.live.len();
        let key_fps = &self.shapes[s as usize].key_fps;
        let dense = grid.dense.iter().map(|d| (d.key, &d.dict));
        for (k, dict) in dense.chain(grid.sparse.iter().map(|s| (s.key, &s.dict))) {
            for v in dict.iter() {
                let fp = pair_fp(key_fps[k as usize], fingerprint(v));
                note_holder(&mut self.value_grids, fp, gi);
            }
        }
        self.shapes[s as usize].grids.push(gi);
        let shared = grid.shared;
        self.grids.push(grid);
        if shared {
            // the key sets of its series: shapes (created as inserts would have) and counts
            let live = self.grids[gi as usize].live.clone();
            for local in live.iter() {
                let owned: Vec<Box<[u8]>> = self
                    .shared_keys_of(gi as usize, local)
                    .into_iter()
                    .map(|(k, _)| k.into())
                    .collect();
                let probe: Vec<(&[u8], &[u8])> = owned.iter().map(|k| (&**k, &b""[..])).collect();
                let s = match self.shape_of(&probe) {
                    Some(s) => s,
                    None => self.add_shape(&probe),
                };
                self.shapes[s as usize].note_shared(gi, local);
                let g = &self.grids[gi as usize];
                let fp = g.fp_of(local, &self.shapes[g.shape as usize].key_fps);
                self.grids[gi as usize].note_fp(fp, local);
            }
        }
    }

    /// The grids that can hold `key = value` (fingerprints `key_fp`, `value_fp`).
    pub fn holders(&self, key_fp: u64, value_fp: u64) -> Holders {
        match self.value_grids.get(&pair_fp(key_fp, value_fp)) {
            None => Holders::None,
            Some(&MANY_GRIDS) => Holders::Any,
            Some(&gi) => Holders::One(gi as usize),
        }
    }

    /// Finds the series, or where it would go.
    pub fn locate(&self, tags: &[(&[u8], &[u8])], fps: &[u64]) -> Located {
        let Some(s) = self.shape_of(tags) else {
            return Located::Absent(None);
        };
        let shape = &self.shapes[s as usize];
        // The pair filter names the grids that can hold the series' most selective pair (a
        // host name, a UUID): without it every grid of the shape was probed, each probe a
        // cache miss in a dictionary of millions of values, and a write of an existing series
        // probed up to all of them.
        let holder = match self.filter_key(shape) {
            Some(k) => self.holders(shape.key_fps[k], fps[k]),
            None => Holders::Any,
        };
        match holder {
            Holders::Any => {}
            Holders::None => return Located::Absent(self.first_fit(shape, tags, fps)),
            Holders::One(gi) => {
                // the one grid holding the pair may be a shared segment (where this shape may
                // have series) or belong to another shape (the filter is per measurement): then
                // the series is nowhere else
                let g = &self.grids[gi];
                if g.shared {
                    let among = shape.in_shared.iter().find(|(x, _)| *x as usize == gi);
                    if let Some((_, among)) = among {
                        let fp = set_fp(shape.key_fps.iter().copied().zip(fps.iter().copied()));
                        let union = &self.shapes[g.shape as usize].keys;
                        if let Some(local) = g.find_shared(union, tags, fps, fp, among) {
                            return Located::Found(gi, local);
                        }
                    }
                } else if g.shape == s
                    && let Probe::Found(local) = g.probe(tags, fps, Need::Found)
                {
                    return Located::Found(gi, local);
                }
                return Located::Absent(self.first_fit(shape, tags, fps));
            }
        }
        // Newest grid first: later grids are larger and hold most series, so a live series (the
        // common case: every write of an existing series) is found after fewer probes. First
        // fit stays the earliest grid in creation order with room: the last one seen here.
        let mut first_fit = None;
        for &gi in shape.grids.iter().rev() {
            let g = &self.grids[gi as usize];
            let need = if g.is_full() { Need::Found } else { Need::Both };
            match g.probe(tags, fps, need) {
                Probe::Found(local) => return Located::Found(gi as usize, local),
                Probe::Fits => first_fit = Some(gi as usize),
                Probe::NoRoom => {}
            }
        }
        let fp = if shape.in_shared.is_empty() {
            0
        } else {
            set_fp(shape.key_fps.iter().copied().zip(fps.iter().copied()))
        };
        for (gi, among) in shape.in_shared.iter().rev() {
            let g = &self.grids[*gi as usize];
            let union = &self.shapes[g.shape as usize].keys;
            if let Some(local) = g.find_shared(union, tags, fps, fp, among) {
                return Located::Found(*gi as usize, local);
            }
        }
        Located::Absent(first_fit)
    }

    /// The earliest grid of `shape` with room for a series known to be absent.
    fn first_fit(&self, shape: &Shape, tags: &[(&[u8], &[u8])], fps: &[u64]) -> Option<usize> {
        shape.grids.iter().map(|&gi| gi as usize).find(|&gi| {
            let g = &self.grids[gi];
            !g.is_full() && g.probe(tags, fps, Need::Fit) == Probe::Fits
        })
    }

    /// The shape key whose pair is checked against the filter before probing: the key with the
    /// most values in the shape's newest grid (sparse keys first: they are the identifiers).
    /// Derived from the grids on every call, so built and loaded indexes choose alike.
    fn filter_key(&self, shape: &Shape) -> Option<usize> {
        let g = &self.grids[*shape.grids.last()? as usize];
        let sparse = g.sparse.iter().map(|s| (s.key, s.dict.len()));
        let best = sparse.max_by_key(|&(_, n)| n).or_else(|| {
            g.dense
                .iter()
                .map(|d| (d.key, d.dict.len()))
                .max_by_key(|&(_, n)| n)
        });
        best.map(|(k, _)| k as usize)
    }

    /// Inserts a series known to be absent. `new_grid(points)` reserves an id range and returns
    /// `(base, grid id)`.
    pub fn insert_absent(
        &mut self,
        tags: &[(&[u8], &[u8])],
        fps: &[u64],
        first_fit: Option<usize>,
        policy: &Policy,
        new_grid: &mut dyn FnMut(u64) -> Result<(u64, u32)>,
    ) -> Result<(usize, u32)> {
        let gi = match first_fit {
            Some(gi) => gi,
            None => {
                let s = match self.shape_of(tags) {
                    Some(s) => s,
                    None => self.add_shape(tags),
                };
                let plan = match self.shared_or_plan(s, tags, policy)? {
                    Some(plan) => plan,
                    None => return self.insert_shared(s, tags, fps, policy, new_grid),
                };
                let caps: Vec<u32> = plan.dense.iter().map(|d| d.1).collect();
                let points = crate::grid::points_of(&caps, plan.row_cap, policy.max_points())?;
                let (base, id) = new_grid(points)?;
                let grid = Grid::new(
                    id,
                    base,
                    s,
                    &plan.dense,
                    plan.row_cap,
                    &plan.sparse,
                    policy.max_points(),
                )?;
                self.shapes[s as usize].grids.push(self.grids.len() as u32);
                self.grids.push(grid);
                self.grids.len() - 1
            }
        };
        let key_fps = &self.shapes[self.grids[gi].shape as usize].key_fps;
        let value_grids = &mut self.value_grids;
        let local = self.grids[gi].place(tags, fps, &mut |k| {
            let fp = pair_fp(key_fps[k as usize], fps[k as usize]);
            note_holder(value_grids, fp, gi as u32);
        })?;
        self.live += 1;
        Ok((gi, local))
    }

    /// Index of the grid holding global id `id`, by binary search over bases.
    pub fn grid_of(&self, id: u64) -> Option<(usize, u32)> {
        let i = self.grids.partition_point(|g| g.base <= id);
        let g = self.grids.get(i.checked_sub(1)?)?;
        let local = id - g.base;
        (local < g.points).then_some((i - 1, local as u32))
    }

    /// The plan of a new grid of its own for shape `s`, or `None` when the series goes to the
    /// shared segment: the adaptive policy keeps a shape there until it has `probe_rows`
    /// series, and then as long as its plan has no dense key or it is a small part of the
    /// segment (planned again each time its count quadruples).
    fn shared_or_plan(
        &self,
        s: u32,
        tags: &[(&[u8], &[u8])],
        policy: &Policy,
    ) -> Result<Option<crate::policy::GridPlan>> {
        let shape = &self.shapes[s as usize];
        let Policy::Adaptive(p) = policy else {
            return policy.plan(self, s, tags).map(Some);
        };
        if p.shared_rows == 0 || tags.is_empty() || !shape.grids.is_empty() {
            return policy.plan(self, s, tags).map(Some);
        }
        let probe = u64::from(p.probe_rows.max(1));
        let n = shape.shared_live;
        // planned at probe × 4^j series: a plan reads the probe, so planning costs a third
        // of a series' insert or less, amortised (checkpoints at each doubling made diagonal
        // inserts 3x slower than the baseline's)
        let q = n / probe;
        let power_of_4 = q.is_power_of_two() && q.trailing_zeros().is_multiple_of(2);
        if n < probe || !n.is_multiple_of(probe) || !power_of_4 {
            return Ok(None);
        }
        // A key set that is a small part of the shared segment stays there: its own grids
        // would add a grid to visit for every query on its keys, where in the segment it only
        // lengthens postings that are read anyway. (Random partial key sets: the 5-key sets,
        // a tenth of the series each, stay; the full set leaves.) Large ones always leave.
        let shared_total: u64 = self
            .shared
            .iter()
            .map(|&g| self.grids[g as usize].live.len())
            .sum();
        if n < LEAVE_ALWAYS && n.saturating_mul(LEAVE_SHARE) < shared_total {
            return Ok(None);
        }
        let plan = policy.plan(self, s, tags)?;
        // A hybrid grid saves only its dense keys' payload slots, and its growth starts a
        // chain of grids that every query on the shape's keys visits. Most of the segment (a
        // single key set: TSBS hosts, UUIDs) leaves for any dense key; a key set sharing the
        // segment with others leaves only for a pure grid (random partial key sets: the full
        // set stays until it can fill one, issue 6).
        let most = n.saturating_mul(LEAVE_MOST_DEN) >= shared_total.saturating_mul(LEAVE_MOST_NUM);
        let worth = plan.sparse.is_empty() || most;
        Ok((!plan.dense.is_empty() && worth).then_some(plan))
    }

    /// Deletes the series at (grid, local).
    pub fn delete(&mut self, gi: usize, local: u32) -> bool {
        if self.grids[gi].shared && self.grids[gi].live.contains(local) {
            let keys = self.shared_keys_of(gi, local);
            if let Some(s) = self.shape_of(&keys) {
                self.shapes[s as usize].forget_shared(gi as u32, local);
            }
            let g = &self.grids[gi];
            let fp = g.fp_of(local, &self.shapes[g.shape as usize].key_fps);
            self.grids[gi].forget_fp(fp, local);
        }
        let done = self.grids[gi].delete(local);
        if done {
            self.live -= 1;
        }
        done
    }

    /// Tags of a live local, sorted by key.
    pub fn tags_of(&self, gi: usize, local: u32) -> Vec<(Vec<u8>, Vec<u8>)> {
        let g = &self.grids[gi];
        let keys = &self.shapes[g.shape as usize].keys;
        g.values_of(local, keys.len())
            .into_iter()
            .zip(keys)
            // a stored value is never empty: empty = a key this series of a shared segment lacks
            .filter(|(v, _)| !v.is_empty())
            .map(|(v, k)| (k.to_vec(), v.to_vec()))
            .collect()
    }

    /// Tag keys with at least one live series, sorted.
    pub fn tag_keys(&self) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = Vec::new();
        for s in &self.shapes {
            if s.union {
                // only the union keys some live series has
                for &g in &s.grids {
                    let g = &self.grids[g as usize];
                    for sk in &g.sparse {
                        if sk.postings.iter().any(|p| p.len() > 0) {
                            out.push(s.keys[sk.key as usize].to_vec());
                        }
                    }
                }
            } else if s
                .grids
                .iter()
                .any(|&g| !self.grids[g as usize].live.is_empty())
            {
                out.extend(s.keys.iter().map(|k| k.to_vec()));
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Values of `key` with at least one live series, sorted.
    pub fn tag_values(&self, key: &[u8]) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = Vec::new();
        for s in &self.shapes {
            let Some(k) = s.keys.iter().position(|k| **k == *key) else {
                continue;
            };
            for &g in &s.grids {
                out.extend(
                    self.grids[g as usize]
                        .live_values(k as u32)
                        .into_iter()
                        .map(<[u8]>::to_vec),
                );
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Records that grid `gi` holds the pair of fingerprint `fp`.
pub(crate) fn note_holder(value_grids: &mut HashMap<u32, u32, MixBuild>, fp: u32, gi: u32) {
    value_grids
        .entry(fp)
        .and_modify(|g| {
            if *g != gi {
                *g = MANY_GRIDS;
            }
        })
        .or_insert(gi);
}

/// Value fingerprints of a canonical tag set.
pub(crate) fn value_fps(tags: &[(&[u8], &[u8])]) -> Vec<u64> {
    tags.iter().map(|t| fingerprint(t.1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::AdaptivePolicy;

    impl Measurement {
        /// `locate` without the pair filter and the full-grid skip: every grid of the shape
        /// probed for both answers (the model the shortcuts must agree with).
        fn locate_by_scan(&self, tags: &[(&[u8], &[u8])], fps: &[u64]) -> Located {
            let Some(s) = self.shape_of(tags) else {
                return Located::Absent(None);
            };
            let mut first_fit = None;
            for &gi in self.shapes[s as usize].grids.iter().rev() {
                match self.grids[gi as usize].probe(tags, fps, Need::Both) {
                    Probe::Found(local) => return Located::Found(gi as usize, local),
                    Probe::Fits => first_fit = Some(gi as usize),
                    Probe::NoRoom => {}
                }
            }
            // and every shared segment holding series of the shape
            let shape = &self.shapes[s as usize];
            let fp = set_fp(shape.key_fps.iter().copied().zip(fps.iter().copied()));
            for (gi, among) in &shape.in_shared {
                let g = &self.grids[*gi as usize];
                let union = &self.shapes[g.shape as usize].keys;
                if let Some(local) = g.find_shared(union, tags, fps, fp, among) {
                    return Located::Found(*gi as usize, local);
                }
            }
            Located::Absent(first_fit)
        }
    }

    fn same(a: &Located, b: &Located) -> bool {
        match (a, b) {
            (Located::Found(g, l), Located::Found(h, k)) => g == h && l == k,
            (Located::Absent(f), Located::Absent(g)) => f == g,
            _ => false,
        }
    }

    /// Inserts, deletes and re-inserts over several shapes sharing values, small grids so that
    /// many fill up: the filtered lookup must find what the full scan finds, and place a new
    /// series in the same grid. (With shared segments the key sets here stay shared, so one
    /// policy turns them off to get many grids of one shape.)
    #[test]
    fn filtered_locate_agrees_with_a_full_scan() {
        let mut most_grids = 0;
        for policy in [
            Policy::Adaptive(AdaptivePolicy {
                probe_rows: 4,
                ..AdaptivePolicy::default()
            }),
            Policy::Adaptive(AdaptivePolicy {
                probe_rows: 4,
                shared_rows: 0,
                ..AdaptivePolicy::default()
            }),
            Policy::default(),
            Policy::Multiplier(crate::policy::MultiplierPolicy::new(2, 2)),
        ] {
            let mut m = Measurement::new(1, b"m");
            let mut next_base = 1u64;
            let mut next_id = 1u32;
            let mut rng = 0x9e37_79b9_7f4a_7c15u64;
            let mut rand = move |n: u64| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng % n
            };
            let mut placed: Vec<(usize, u32)> = Vec::new();
            for i in 0..3000u64 {
                let host = format!("h{}", rand(700)).into_bytes();
                let dc = format!("d{}", rand(3)).into_bytes();
                let rack = format!("r{}", rand(5)).into_bytes();
                let mut tags: Vec<(&[u8], &[u8])> = vec![(b"dc", &dc), (b"host", &host)];
                match i % 3 {
                    0 => tags.push((b"rack", &rack)),
                    1 => tags.truncate(1),
                    _ => {}
                }
                let fps = value_fps(&tags);
                let found = m.locate(&tags, &fps);
                assert!(same(&found, &m.locate_by_scan(&tags, &fps)), "series {i}");
                if let Located::Absent(fit) = found {
                    let mut new_grid = |points: u64| {
                        let base = next_base;
                        next_base += points;
                        next_id += 1;
                        Ok((base, next_id))
                    };
                    let at = m
                        .insert_absent(&tags, &fps, fit, &policy, &mut new_grid)
                        .unwrap();
                    placed.push(at);
                }
                if rand(4) == 0 && !placed.is_empty() {
                    let (gi, local) = placed.swap_remove(rand(placed.len() as u64) as usize);
                    assert!(m.delete(gi, local));
                }
            }
            most_grids = most_grids.max(m.grids.len());
        }
        assert!(most_grids > 4, "the workload must make several grids");
    }
}
