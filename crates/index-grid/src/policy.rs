//! Capacity policies: how big a new grid is and which keys are dense (spec §5.4).

use std::collections::{HashMap, HashSet};

use crate::dict::{BytesBuild, MixBuild};
use crate::error::{Error, Result};
use crate::measurement::Measurement;

/// cycledb's `MultiplierOptimizer` (compatibility mode): every key dense, capacity
/// `base × multiplier^fills(k)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultiplierPolicy {
    /// Capacity of a dimension that never filled.
    pub base: u32,
    /// Growth factor per grid of the measurement whose dimension for the key is full.
    pub multiplier: u32,
    /// Largest grid allowed (points).
    pub max_points: u64,
}

impl MultiplierPolicy {
    /// The policy with `max_points = 2^32`.
    pub fn new(base: u32, multiplier: u32) -> Self {
        MultiplierPolicy {
            base,
            multiplier,
            max_points: 1 << 32,
        }
    }
}

/// The default policy: a postings probe per shape, then dense prefixes of keys that are dense
/// in the data, high-cardinality and dependent keys kept sparse.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptivePolicy {
    /// Series of a shape kept in its measurement's shared segment before it may get grids of
    /// its own (with `shared_rows` 0: rows of a shape's first grid, a postings segment).
    pub probe_rows: u32,
    /// Rows of a measurement's first shared sparse segment (later ones double); 0 = none: every
    /// shape gets its own probe segment, the layout of spec §5.4 (and of format versions 1
    /// and 2). Unused rows cost id space only.
    pub shared_rows: u32,
    /// Growth factor of growing dimensions and rows.
    pub multiplier: u32,
    /// Largest grid allowed (points); at most 2^32.
    pub max_points: u64,
    /// Largest capacity of one dense dimension.
    pub max_dim_capacity: u32,
    /// Minimum observed occupancy for a key to stay dense.
    pub min_density: f64,
    /// Keys with more distinct values than this are always sparse.
    pub sparse_cardinality: u32,
    /// Live series examined when planning a grid.
    pub plan_sample: u32,
}

impl Default for AdaptivePolicy {
    fn default() -> Self {
        AdaptivePolicy {
            probe_rows: 64,
            shared_rows: 1 << 20,
            multiplier: 2,
            max_points: 1 << 32,
            max_dim_capacity: 1 << 16,
            min_density: 0.25,
            sparse_cardinality: 4096,
            plan_sample: 65536,
        }
    }
}

/// The capacity policy of an index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Policy {
    /// cycledb compatibility mode.
    Multiplier(MultiplierPolicy),
    /// The default.
    Adaptive(AdaptivePolicy),
}

impl Default for Policy {
    fn default() -> Self {
        Policy::Adaptive(AdaptivePolicy::default())
    }
}

impl Policy {
    /// True for the compatibility policy.
    pub fn is_compat(&self) -> bool {
        matches!(self, Policy::Multiplier(_))
    }

    pub(crate) fn max_points(&self) -> u64 {
        match self {
            Policy::Multiplier(p) => p.max_points,
            Policy::Adaptive(p) => p.max_points,
        }
    }
}

/// The layout of a grid about to be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GridPlan {
    /// `(shape key index, capacity)`, most significant first.
    pub dense: Vec<(u32, u32)>,
    /// Rows per cell, 0 for a pure grid.
    pub row_cap: u32,
    /// Shape key indexes of sparse keys, ascending.
    pub sparse: Vec<u32>,
}

impl Policy {
    /// Plans a new grid of `shape` for the series `tags` (shape order) that fit nowhere.
    pub(crate) fn plan(
        &self,
        m: &Measurement,
        shape: u32,
        tags: &[(&[u8], &[u8])],
    ) -> Result<GridPlan> {
        match self {
            Policy::Multiplier(p) => plan_multiplier(p, m, tags),
            Policy::Adaptive(p) => plan_adaptive(p, m, shape, tags),
        }
    }
}

fn overflow(what: String) -> Error {
    Error::CapacityOverflow(what)
}

fn plan_multiplier(
    p: &MultiplierPolicy,
    m: &Measurement,
    tags: &[(&[u8], &[u8])],
) -> Result<GridPlan> {
    let mut dense = Vec::with_capacity(tags.len());
    for (i, (key, _)) in tags.iter().enumerate() {
        // fills(k): grids of the measurement, any shape, whose dimension for k is full now
        let fills = m
            .grids
            .iter()
            .filter(|g| {
                let keys = &m.shapes[g.shape as usize].keys;
                g.dense.iter().any(|d| {
                    &*keys[d.key as usize] == *key && d.dict.len() as u64 >= u64::from(d.cap)
                })
            })
            .count();
        let mut cap = u64::from(p.base);
        for _ in 0..fills {
            cap = cap
                .checked_mul(u64::from(p.multiplier))
                .filter(|c| *c <= u64::from(u32::MAX))
                .ok_or_else(|| overflow("dimension capacity over u32".into()))?;
        }
        dense.push((i as u32, cap as u32));
    }
    Ok(GridPlan {
        dense,
        row_cap: 0,
        sparse: Vec::new(),
    })
}

fn plan_adaptive(
    p: &AdaptivePolicy,
    m: &Measurement,
    shape: u32,
    tags: &[(&[u8], &[u8])],
) -> Result<GridPlan> {
    let n = tags.len();
    let s = &m.shapes[shape as usize];
    if n == 0 {
        return Ok(GridPlan {
            dense: Vec::new(),
            row_cap: 0,
            sparse: Vec::new(),
        });
    }
    let all_sparse: Vec<u32> = (0..n as u32).collect();
    // a shape's series in shared segments (its probe) count as its oldest grid: a shape
    // without grids of its own is planned from them alone
    let last_grid = s.grids.last().copied();
    let in_shared = s.shared_live > 0;
    if last_grid.is_none() && !in_shared {
        return Ok(GridPlan {
            dense: Vec::new(),
            row_cap: p.probe_rows.max(2),
            sparse: all_sparse,
        });
    }
    // a. N_k over every dictionary of the shape, plus the new series
    let mut distinct: Vec<HashSet<&[u8], BytesBuild>> = tags
        .iter()
        .map(|t| {
            let mut h = HashSet::default();
            h.insert(t.1);
            h
        })
        .collect();
    // A key with more than `sparse_cardinality` values is sparse whatever its exact count (it
    // is skipped below, and its place in `order` among other skipped keys changes nothing), so
    // counting stops there: hashing every host name or UUID of every grid was most of planning.
    let limit = p.sparse_cardinality as usize;
    for &gi in &s.grids {
        let g = &m.grids[gi as usize];
        let dense = g.dense.iter().map(|d| (d.key, &d.dict));
        for (k, dict) in dense.chain(g.sparse.iter().map(|sk| (sk.key, &sk.dict))) {
            let set = &mut distinct[k as usize];
            for v in dict.iter() {
                if set.len() > limit {
                    break;
                }
                set.insert(v);
            }
        }
    }
    // a shape with no grid of its own: its values are counted by the sample below (which
    // reads its probe, as many series as this pass would)
    let only_shared = last_grid.is_none();
    if in_shared && !only_shared {
        // as many as the sample reads: a diagonal shape keeps all its series in the shared
        // segment, and counting them all at each plan cost more than the inserts
        let mut budget = p.plan_sample;
        m.shared_series_of(shape, &mut |vals| {
            for (d, v) in distinct.iter_mut().zip(vals) {
                d.insert(v);
            }
            budget = budget.saturating_sub(1);
            budget > 0
        });
    }
    let mut big_n: Vec<u64> = distinct.iter().map(|d| d.len() as u64).collect();
    drop(distinct);
    let sparse_for_sure: Vec<bool> = big_n
        .iter()
        .map(|&n| n > u64::from(p.sparse_cardinality))
        .collect();
    // b. the sample: most recent grids first, each ascending; then the new series
    // sized for the values the sample can show: growing the maps of an identifier-like key
    // one rehash at a time was a fifth of the planning cost (callgrind, UUID)
    // the shape's live series and the new one: what the sample stands for
    let population = s
        .grids
        .iter()
        .map(|&gi| m.grids[gi as usize].live.len() as usize)
        .sum::<usize>()
        + s.shared_live as usize
        + 1;
    let sample = (p.plan_sample as usize + 1).min(population);
    let mut ids: Vec<HashMap<&[u8], u32, BytesBuild>> = big_n
        .iter()
        .zip(&sparse_for_sure)
        .map(|(&distinct, &skip)| {
            // (values not counted yet: a guess, grown by rehashing)
            let guess = if only_shared {
                1024
            } else {
                distinct as usize + 1
            };
            let room = if skip { 0 } else { sample.min(guess) };
            HashMap::with_capacity_and_hasher(room, BytesBuild::default())
        })
        .collect();
    let mut rows: Vec<Vec<u32>> = Vec::new(); // rows[s][k] = value id of key k
    // keys sparse for sure are never read from the rows: they are not interned (0)
    fn intern<'a>(
        vals: &[&'a [u8]],
        ids: &mut [HashMap<&'a [u8], u32, BytesBuild>],
        skip: &[bool],
    ) -> Vec<u32> {
        vals.iter()
            .enumerate()
            .map(|(k, v)| {
                if skip[k] {
                    return 0;
                }
                let next = ids[k].len() as u32;
                *ids[k].entry(*v).or_insert(next)
            })
            .collect()
    }
    let (mut vals, mut coords) = (Vec::new(), Vec::new());
    for &gi in s.grids.iter().rev() {
        let budget = (p.plan_sample as usize).saturating_sub(rows.len());
        if budget == 0 {
            break;
        }
        // a grid larger than the budget is sampled evenly: its first series ascending are its
        // first cells (the lowest coordinates of its most significant keys), a skewed sample
        // that made every key after the first look sparse
        let g = &m.grids[gi as usize];
        let step = (g.live.len() as usize).div_ceil(budget).max(1);
        // `step_by` would call the bitmap iterator's `nth`, which recomputes the remaining
        // length of the container for every element it skips or yields (10 % of all insert
        // instructions at 10^5 series, callgrind): skip by counting instead
        let sampled = g.live.iter().enumerate().filter(|(i, _)| i % step == 0);
        for (_, local) in sampled.take(budget) {
            g.values_into(local, n, &mut vals, &mut coords);
            rows.push(intern(&vals, &mut ids, &sparse_for_sure));
        }
    }
    if in_shared && rows.len() < p.plan_sample as usize {
        m.shared_series_of(shape, &mut |vals| {
            if rows.len() >= p.plan_sample as usize {
                return false;
            }
            rows.push(intern(vals, &mut ids, &sparse_for_sure));
            true
        });
    }
    let t_vals: Vec<&[u8]> = tags.iter().map(|t| t.1).collect();
    rows.push(intern(&t_vals, &mut ids, &sparse_for_sure));
    let small_n: Vec<u64> = ids.iter().map(|m| m.len() as u64).collect();
    if only_shared {
        big_n.clone_from(&small_n);
    }
    // c. choose the dense prefix
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by(|&a, &b| {
        big_n[a as usize]
            .cmp(&big_n[b as usize])
            .then(tags[a as usize].0.cmp(tags[b as usize].0))
    });
    let mut dense_keys: Vec<u32> = Vec::new();
    let mut prefix_density: Vec<f64> = Vec::new();
    let mut proj_hist: Vec<Vec<u32>> = vec![vec![0; rows.len()]];
    let mut denom = 1f64;
    for &k in &order {
        // an identifier-like key (most sample series have their own value) gains nothing from a
        // coordinate and would fill the dimension with one series per value: sparse
        if sparse_for_sure[k as usize] || small_n[k as usize].saturating_mul(2) > rows.len() as u64
        {
            continue;
        }
        let prev = proj_hist.last().map(Vec::as_slice).unwrap_or(&[]);
        let mut map: HashMap<(u32, u32), u32, MixBuild> = HashMap::default();
        let next: Vec<u32> = prev
            .iter()
            .zip(&rows)
            .map(|(&pr, row)| {
                let len = map.len() as u32;
                *map.entry((pr, row[k as usize])).or_insert(len)
            })
            .collect();
        let d_den = denom * small_n[k as usize] as f64;
        // Distinct tuples of the whole shape, estimated from the sample: a sample of R series
        // standing for T shows at most R tuples, so its count is scaled by T / R (an upper
        // estimate: a full permutation sampled 65,536 out of 10^6 must not look sparse). The
        // shape's own size bounds it too: 65 series cannot show that 10^6 cells will be a
        // quarter full, and planning them dense gave the full key set of random partial data
        // a pure grid of 10^6 points for 5,674 series (issue 6).
        let scale = population as f64 / rows.len() as f64;
        let tuples = (map.len() as f64 * scale).min(d_den);
        if tuples / d_den >= p.min_density {
            // Density of the grid if the prefix stopped here: keys left sparse need rows, 2 ×
            // the largest group sharing a dense projection, so the grid holds the sample in
            // cells × rows points. (If every key ends up dense there are no rows: see below.)
            let mut counts = vec![0u32; map.len()];
            for &x in &next {
                counts[x as usize] += 1;
            }
            let largest = counts.iter().copied().max().unwrap_or(1).max(1);
            prefix_density.push(rows.len() as f64 / (d_den * 2.0 * f64::from(largest)));
            denom = d_den;
            dense_keys.push(k);
            proj_hist.push(next);
        }
    }
    // The longest prefix whose whole grid, rows included, stays min_density full. Small groups
    // make rows expensive (the largest of many small groups is far above their mean): without
    // this, devops hosts were split into cells of about two with rows for seven, and grids were
    // about 0.1 full. A prefix of every key has no rows: its projection density was checked.
    if dense_keys.len() < n {
        let keep = prefix_density
            .iter()
            .rposition(|&d| d >= p.min_density)
            .map_or(0, |i| i + 1);
        dense_keys.truncate(keep);
        proj_hist.truncate(keep + 1);
    }
    // d. capacities
    let prev = last_grid.map(|g| &m.grids[g as usize]);
    let mut dense: Vec<(u32, u32)> = dense_keys
        .iter()
        .map(|&k| {
            let nk = big_n[k as usize];
            let growing =
                prev.is_some_and(|g| g.dense.iter().any(|d| d.key == k && nk > u64::from(d.cap)));
            let c = if growing {
                nk.saturating_mul(u64::from(p.multiplier))
            } else {
                nk
            };
            (k, c.clamp(1, u64::from(p.max_dim_capacity.max(1))) as u32)
        })
        .collect();
    // e, f. rows, and shrink until the grid fits
    loop {
        let has_sparse = dense.len() < n;
        let row_cap = if has_sparse {
            let proj = &proj_hist[dense.len()];
            let mut counts: HashMap<u32, u64, MixBuild> = HashMap::default();
            for &x in proj {
                *counts.entry(x).or_default() += 1;
            }
            let g = counts.values().copied().max().unwrap_or(1);
            g.saturating_mul(u64::from(p.multiplier))
                .clamp(2, u64::from(u32::MAX)) as u32
        } else {
            0
        };
        let mut row_cap = row_cap;
        let dense_points = dense
            .iter()
            .try_fold(1u64, |acc, &(_, c)| acc.checked_mul(u64::from(c)));
        loop {
            let total = dense_points.and_then(|d| d.checked_mul(u64::from(row_cap.max(1))));
            if total.is_some_and(|t| t <= p.max_points) {
                let mut sparse: Vec<u32> = (0..n as u32)
                    .filter(|k| !dense.iter().any(|d| d.0 == *k))
                    .collect();
                sparse.sort_unstable();
                return Ok(GridPlan {
                    dense,
                    row_cap,
                    sparse,
                });
            }
            if row_cap > 2 {
                row_cap = row_cap.div_ceil(2);
            } else {
                break;
            }
        }
        if dense.pop().is_none() {
            return Err(overflow(format!(
                "no layout of shape fits {} points",
                p.max_points
            )));
        }
    }
}
