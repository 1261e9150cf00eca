//! Go's `rand.Zipf` (rejection-inversion), drawing from a [`GoRand`].

use super::zipf_table::{Curve, Lookup, Table};
use super::{GoRand, go_log};

/// `f64::floor` without the libm call (the target baseline has no rounding instruction, and the
/// call was a tenth of the draw's time). Equal to `floor` for every input except that −0.0
/// becomes +0.0, which no caller can observe.
#[inline]
fn floor(y: f64) -> f64 {
    // At 2^52 and beyond every f64 is an integer; NaN and infinities pass through.
    if y.is_nan() || y.abs() >= 4_503_599_627_370_496.0 {
        return y;
    }
    let t = y as i64 as f64;
    if t > y { t - 1.0 } else { t }
}

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
    /// Answers most draws without `h`/`hinv` (see `zipf_table.rs`).
    table: Table,
}

impl Curve for Zipf {
    fn h(&self, x: f64) -> f64 {
        Zipf::h(self, x)
    }
    fn threshold(&self, k: f64) -> f64 {
        Zipf::threshold(self, k)
    }
    fn v(&self) -> f64 {
        self.v
    }
    fn s(&self) -> f64 {
        self.s
    }
    fn one_minus_q_inv(&self) -> f64 {
        self.one_minus_q_inv
    }
    fn imax(&self) -> f64 {
        self.imax
    }
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
            table: Table::default(),
        };
        z.hxm = z.h(z.imax + 0.5);
        z.hx0_minus_hxm = z.h(0.5) - (go_log(z.v) * (-z.q)).exp() - z.hxm;
        z.s = 1.0 - z.hinv(z.h(1.5) - (-z.q * go_log(z.v + 1.0)).exp());
        z.table = Table::new(&z, (z.hxm, z.hxm + z.hx0_minus_hxm));
        Some(z)
    }

    fn h(&self, x: f64) -> f64 {
        (self.one_minus_q * go_log(self.v + x)).exp() * self.one_minus_q_inv
    }

    /// The second acceptance test's bound for `k`.
    fn threshold(&self, k: f64) -> f64 {
        self.h(k + 0.5) - (-go_log(k + self.v) * self.q).exp()
    }

    fn hinv(&self, x: f64) -> f64 {
        (self.one_minus_q_inv * go_log(self.one_minus_q * x)).exp() - self.v
    }

    /// One value, consuming one or more `Float64` draws from `rng`.
    #[inline]
    pub fn sample(&self, rng: &mut GoRand) -> u64 {
        loop {
            let r = rng.float64();
            let ur = self.hxm + r * self.hx0_minus_hxm;
            match self.table.lookup(ur) {
                Lookup::Accept(k) => return k,
                Lookup::Reject => continue,
                Lookup::Direct => {}
            }
            if let Some(k) = self.direct(ur) {
                return k;
            }
        }
    }

    /// Go's computation for one draw `ur`: the value, or `None` when the draw is rejected.
    fn direct(&self, ur: f64) -> Option<u64> {
        let x = self.hinv(ur);
        let k = floor(x + 0.5);
        if k - x <= self.s || ur >= self.threshold(k) {
            return Some(k as u64);
        }
        None
    }

    /// The same as [`Zipf::sample`] without the table: Go's code as written (for the tests and
    /// the `zipf` fuzz target that compare the two).
    #[doc(hidden)]
    pub fn sample_direct(&self, rng: &mut GoRand) -> u64 {
        loop {
            let r = rng.float64();
            let ur = self.hxm + r * self.hx0_minus_hxm;
            let x = self.hinv(ur);
            let k = floor(x + 0.5);
            if k - x <= self.s || ur >= self.h(k + 0.5) - (-go_log(k + self.v) * self.q).exp() {
                return k as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{GoRand, Lookup, Zipf, floor};

    /// The table and the direct computation give the same stream, draw for draw.
    fn same_stream(s: f64, v: f64, imax: u64, seed: i64, n: usize) {
        let z = Zipf::new(s, v, imax).unwrap();
        let (mut a, mut b) = (GoRand::new(seed), GoRand::new(seed));
        for i in 0..n {
            assert_eq!(
                z.sample(&mut a),
                z.sample_direct(&mut b),
                "draw {i} of s={s} v={v} imax={imax} seed={seed}"
            );
        }
    }

    #[test]
    fn tabled_draws_equal_direct_draws() {
        for (s, v, imax) in [
            (1.5, 1.0, 1000),
            (2.0, 1.0, 10),
            (1.1, 1.0, 1000),
            (1.3, 2.5, 100_000),
            (3.7, 1.0, 50),
            (1.0001, 1.0, 5000),
            (1.01, 3.0, u64::MAX),
            (20.0, 1.0, 3),
            (1.5, 1e6, 1000),
            (1.5, 1.0, 0),
        ] {
            same_stream(s, v, imax, 42, 200_000);
        }
    }

    #[test]
    fn the_table_answers_almost_every_draw() {
        let z = Zipf::new(1.5, 1.0, 1000).unwrap();
        let mut r = GoRand::new(1);
        let direct = (0..100_000)
            .filter(|_| {
                let ur = z.hxm + r.float64() * z.hx0_minus_hxm;
                matches!(z.table.lookup(ur), Lookup::Direct)
            })
            .count();
        assert!(direct < 100, "{direct} of 100000 draws computed directly");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]
        #[test]
        fn tabled_streams_are_go_streams(
            s in 1.000_001f64..8.0,
            v in 1.0f64..50.0,
            imax in 0u64..20_000,
            seed: i64,
        ) {
            same_stream(s, v, imax, seed, 5_000);
        }
    }

    #[test]
    fn floor_matches_std() {
        for y in [
            0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            1.5,
            -1.5,
            2.999_999,
            -7.25,
            4.5e15,
            -4.5e15,
            1e300,
            f64::MIN_POSITIVE,
        ] {
            assert_eq!(floor(y), y.floor(), "{y}");
        }
        assert!(floor(f64::NAN).is_nan());
        assert_eq!(floor(f64::INFINITY), f64::INFINITY);
    }

    proptest::proptest! {
        #[test]
        fn floor_is_std_floor(y in proptest::prelude::any::<f64>()) {
            let (a, b) = (floor(y), y.floor());
            proptest::prop_assert!(a == b || (a.is_nan() && b.is_nan()));
        }
    }
}
