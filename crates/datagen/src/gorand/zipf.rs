//! Go's `rand.Zipf` (rejection-inversion), drawing from a [`GoRand`].

use super::{GoRand, go_log};

/// Zipf-distributed integers in `[0, imax]` with P(k) ∝ (v + k)^(−s), as Go's `rand.NewZipf`.
#[derive(Debug, Clone)]
pub struct Zipf {
    imax: f64,
    v: f64,
    q: f64,
    s: f64,
    one_minus_q: f64,
    one_minus_q_inv: f64,
    hxm: f64,
    hx0_minus_hxm: f64,
}

impl Zipf {
    /// The distribution for `s > 1`, `v ≥ 1`; `None` otherwise (Go returns nil).
    pub fn new(s: f64, v: f64, imax: u64) -> Option<Zipf> {
        if s.is_nan() || v.is_nan() || s <= 1.0 || v < 1.0 {
            return None;
        }
        let mut z = Zipf {
            imax: imax as f64,
            v,
            q: s,
            s: 0.0,
            one_minus_q: 1.0 - s,
            one_minus_q_inv: 1.0 / (1.0 - s),
            hxm: 0.0,
            hx0_minus_hxm: 0.0,
        };
        z.hxm = z.h(z.imax + 0.5);
        z.hx0_minus_hxm = z.h(0.5) - (go_log(z.v) * (-z.q)).exp() - z.hxm;
        z.s = 1.0 - z.hinv(z.h(1.5) - (-z.q * go_log(z.v + 1.0)).exp());
        Some(z)
    }

    fn h(&self, x: f64) -> f64 {
        (self.one_minus_q * go_log(self.v + x)).exp() * self.one_minus_q_inv
    }

    fn hinv(&self, x: f64) -> f64 {
        (self.one_minus_q_inv * go_log(self.one_minus_q * x)).exp() - self.v
    }

    /// One value, consuming one or more `Float64` draws from `rng`.
    pub fn sample(&self, rng: &mut GoRand) -> u64 {
        loop {
            let r = rng.float64();
            let ur = self.hxm + r * self.hx0_minus_hxm;
            let x = self.hinv(ur);
            let k = (x + 0.5).floor();
            if k - x <= self.s || ur >= self.h(k + 0.5) - (-go_log(k + self.v) * self.q).exp() {
                return k as u64;
            }
        }
    }
}
