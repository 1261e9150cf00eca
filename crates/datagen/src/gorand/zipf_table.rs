//! A lookup table that answers most Zipf draws without a logarithm or an exponential, giving
//! exactly the values of the direct computation.
//!
//! Go's rejection-inversion maps a uniform draw `ur` through `x = hinv(ur)` (a log and an exp),
//! rounds to `k = floor(x + 0.5)` and accepts when `k - x <= s`, or else when `ur >= T(k)`,
//! `T(k) = h(k + 0.5) - (k + v)^-q` (two more logs and exps). `hinv` is increasing, so which
//! `k` a draw gives, and whether the first test passes, only changes where `x` crosses a
//! *breakpoint*: `k - 0.5` (the rounding) or `k - s` (the first test). The table stores, for
//! every breakpoint `p`, the draws `h(p - δ)` and `h(p + δ)` around it, where `δ` is thousands
//! of times the rounding error of `hinv` and `h` near `p`. A draw strictly between the zones of
//! two neighbouring breakpoints has the same `k` and first-test outcome as the exact computation
//! would give (the computed `x` is within the error of the true `x`, which is at least `δ` away
//! from any breakpoint); the second test compares `ur` with `T(k)`, itself tabled with the
//! same expression as the direct path. Draws inside a zone (a fraction around 1e-9 of them),
//! beyond the tabled `k` range, or parameters where the breakpoints crowd together take the
//! direct computation.

use super::go_log;

/// Most values of `k` tabled (draws above fall back to the direct computation).
const MAX_TABLED_K: u64 = 4095;

/// Relative width of the zones, against the error bound of `h` and `hinv` in units of
/// 2^-52 (a safety factor of about 20,000).
const ZONE: f64 = 1e-11;

/// The region right of a breakpoint that the direct computation must handle.
const DIRECT: u32 = u32::MAX;

/// The breakpoint table of one distribution.
#[derive(Debug, Clone, Default)]
pub(super) struct Table {
    /// `h(p - δ)` of each breakpoint, ascending.
    lo: Vec<f64>,
    /// `h(p + δ)` of each breakpoint.
    hi: Vec<f64>,
    /// For the draws in `[hi[i], lo[i + 1])`: `k << 1 | first test passes`, or [`DIRECT`].
    region: Vec<u32>,
    /// `T(k)` for the tabled `k`.
    threshold: Vec<f64>,
    /// Where to search: draws are uniform over `[first, first + BUCKETS / scale)`, cut into
    /// [`BUCKETS`] equal buckets; `buckets[j]` is the range of `lo` indices a draw in bucket
    /// `j` can end at, so the search is over a few entries instead of all of them.
    first: f64,
    scale: f64,
    buckets: Vec<(u32, u32)>,
}

/// Buckets of the search index (each holds an equal share of the draws).
const BUCKETS: usize = 1024;

/// What the table says about one draw.
pub(super) enum Lookup {
    /// Accept `k`.
    Accept(u64),
    /// Reject the draw (draw again).
    Reject,
    /// Compute directly.
    Direct,
}

/// The functions of the distribution the table is built from (the same code the direct path
/// runs, so tabled values are identical).
pub(super) trait Curve {
    fn h(&self, x: f64) -> f64;
    fn threshold(&self, k: f64) -> f64;
    fn v(&self) -> f64;
    fn s(&self) -> f64;
    fn one_minus_q_inv(&self) -> f64;
    fn imax(&self) -> f64;
}

impl Table {
    /// The table for `curve`; empty (every draw direct) when the parameters make breakpoints
    /// too close to tell apart.
    pub(super) fn new(curve: &impl Curve, draws: (f64, f64)) -> Table {
        let s = curve.s();
        let top = curve.imax().min(MAX_TABLED_K as f64);
        if !s.is_finite() || !top.is_finite() || (s.abs() - 0.5).abs() < 1e-6 {
            return Table::default();
        }
        // The first test's breakpoint `k - s` lies inside k's rounding interval only when
        // |s| < 0.5; otherwise the test always passes (s > 0.5) or never does (s < -0.5).
        let with_s = s.abs() < 0.5;
        let mut points = Vec::new();
        let mut k = 0.0;
        while k <= top {
            points.push(k - 0.5);
            if with_s {
                points.push(k - s);
            }
            k += 1.0;
        }
        points.push(top + 0.5);

        let c = curve.one_minus_q_inv().abs();
        let mut table = Table::default();
        for &p in &points {
            let scale = (curve.v() + p).abs().max(1.0);
            let delta = scale * (c * (go_log(scale).abs() + 1.0) + 4.0) * ZONE;
            let (lo, hi) = (curve.h(p - delta), curve.h(p + delta));
            // Zones must be ordered and apart; stop the table where they are not.
            if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less)
                || table.hi.last().is_some_and(|&prev| prev >= lo)
            {
                break;
            }
            table.lo.push(lo);
            table.hi.push(hi);
        }
        let n = table.lo.len();
        for i in 0..n {
            let region = match (points.get(i), points.get(i + 1)) {
                (Some(&a), Some(&b)) if i + 1 < n => {
                    let mid = (a + b) / 2.0;
                    let k = (mid + 0.5).floor();
                    ((k as u32) << 1) | u32::from(k - mid <= s)
                }
                _ => DIRECT,
            };
            table.region.push(region);
        }
        let last_k = table
            .region
            .iter()
            .filter(|&&r| r != DIRECT)
            .map(|&r| r >> 1)
            .max();
        if let Some(last_k) = last_k {
            table.threshold = (0..=last_k)
                .map(|k| curve.threshold(f64::from(k)))
                .collect();
        }
        table.index(draws);
        table
    }

    /// Builds the bucket index for draws between `a` and `b` (either order).
    fn index(&mut self, (a, b): (f64, f64)) {
        let (first, last) = (a.min(b), a.max(b));
        let width = last - first;
        if self.lo.is_empty() || width.is_nan() || width <= 0.0 || !width.is_finite() {
            return;
        }
        self.first = first;
        self.scale = BUCKETS as f64 / width;
        let at = |u: f64| self.lo.partition_point(|&lo| lo <= u) as u32;
        self.buckets = (0..BUCKETS)
            .map(|j| {
                let start = first + width * j as f64 / BUCKETS as f64;
                let end = first + width * (j + 1) as f64 / BUCKETS as f64;
                (at(start), at(end))
            })
            .collect();
    }

    /// `lo.partition_point(|lo| lo <= ur)`, searching only the draw's bucket when it can.
    #[inline]
    fn position(&self, ur: f64) -> usize {
        let j = ((ur - self.first) * self.scale) as usize;
        if let Some(&(a, b)) = self.buckets.get(j) {
            let (a, b) = (a as usize, b as usize);
            if let Some(slice) = self.lo.get(a..b) {
                let i = a + slice.partition_point(|&lo| lo <= ur);
                // The bucket bounds were computed in floating point: confirm the answer is the
                // global one (both neighbours), else search everything.
                let below = i == 0 || self.lo.get(i - 1).is_some_and(|&lo| lo <= ur);
                let above = self.lo.get(i).is_none_or(|&lo| lo > ur);
                if below && above {
                    return i;
                }
            }
        }
        self.lo.partition_point(|&lo| lo <= ur)
    }

    /// What the table knows about the draw `ur`.
    #[inline]
    pub(super) fn lookup(&self, ur: f64) -> Lookup {
        let Some(i) = self.position(ur).checked_sub(1) else {
            return Lookup::Direct;
        };
        let (Some(&hi), Some(&region)) = (self.hi.get(i), self.region.get(i)) else {
            return Lookup::Direct;
        };
        if ur < hi || region == DIRECT {
            return Lookup::Direct;
        }
        let k = region >> 1;
        if region & 1 == 1 {
            return Lookup::Accept(u64::from(k));
        }
        match self.threshold.get(k as usize) {
            Some(&t) if ur >= t => Lookup::Accept(u64::from(k)),
            Some(_) => Lookup::Reject,
            None => Lookup::Direct,
        }
    }
}
