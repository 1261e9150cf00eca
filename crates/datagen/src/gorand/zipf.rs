//! Go's `rand.Zipf` (rejection-inversion), drawing from a [`GoRand`].

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
            let k = floor(x + 0.5);
            if k - x <= self.s || ur >= self.h(k + 0.5) - (-go_log(k + self.v) * self.q).exp() {
                return k as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::floor;

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
