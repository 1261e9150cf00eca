//! A bit-exact port of Go's `math/rand` (v1) source and the distributions the generators use.
//!
//! `influxd generate` samples tag combinations and draws `rand<float>` / `zipf<integer>` values
//! with Go's additive lagged Fibonacci generator; TSBS draws its hosts and random walks from the
//! same source. Matching it draw for draw is what makes our data identical to theirs (spec §4.9).

mod cooked;
mod log;
mod ziggurat;

pub use log::go_log;
pub use zipf::Zipf;

mod zipf;
mod zipf_table;

const LEN: usize = 607;
const TAP: usize = 273;
const MASK63: u64 = (1 << 63) - 1;
const M31: i64 = (1 << 31) - 1;

/// Go's `math/rand` v1 source with the `Rand` methods the generators need.
///
/// Every method consumes exactly the draws Go's would, so the streams stay in step.
#[derive(Clone)]
pub struct GoRand {
    vec: Box<[u64; LEN]>,
    tap: usize,
    feed: usize,
}

impl std::fmt::Debug for GoRand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoRand")
            .field("tap", &self.tap)
            .field("feed", &self.feed)
            .finish_non_exhaustive()
    }
}

/// One step of the Park–Miller generator used only while seeding (Schrage's method, as Go).
fn seed_step(x: i32) -> i32 {
    const A: i32 = 48271;
    const Q: i32 = 44488;
    const R: i32 = 3399;
    let hi = x / Q;
    let lo = x % Q;
    let mut x = A.wrapping_mul(lo).wrapping_sub(R.wrapping_mul(hi));
    if x < 0 {
        x = x.wrapping_add(M31 as i32);
    }
    x
}

impl GoRand {
    /// A source seeded like Go's `rand.NewSource(seed)`.
    pub fn new(seed: i64) -> GoRand {
        let mut seed = seed % M31;
        if seed < 0 {
            seed += M31;
        }
        if seed == 0 {
            seed = 89_482_311;
        }
        let mut vec = Box::new([0u64; LEN]);
        let mut x = seed as i32;
        for i in -20..LEN as i32 {
            x = seed_step(x);
            if i >= 0 {
                let mut u = (x as i64) << 40;
                x = seed_step(x);
                u ^= (x as i64) << 20;
                x = seed_step(x);
                u ^= x as i64;
                u ^= cooked::RNG_COOKED[i as usize];
                vec[i as usize] = u as u64;
            }
        }
        GoRand {
            vec,
            tap: 0,
            feed: LEN - TAP,
        }
    }

    /// Go's `Uint64` of the source.
    #[inline]
    pub fn uint64(&mut self) -> u64 {
        self.tap = if self.tap == 0 { LEN - 1 } else { self.tap - 1 };
        self.feed = if self.feed == 0 {
            LEN - 1
        } else {
            self.feed - 1
        };
        let x = self.vec[self.feed].wrapping_add(self.vec[self.tap]);
        self.vec[self.feed] = x;
        x
    }

    /// Go's `Int63`: a non-negative 63-bit integer.
    #[inline]
    pub fn int63(&mut self) -> i64 {
        (self.uint64() & MASK63) as i64
    }

    /// Go's `Int31`.
    #[inline]
    pub fn int31(&mut self) -> i32 {
        (self.int63() >> 32) as i32
    }

    /// Go's `Uint32`.
    #[inline]
    pub fn uint32(&mut self) -> u32 {
        (self.int63() >> 31) as u32
    }

    /// Go's `Float64`: uniform in [0, 1), redrawing the rare 1.0.
    #[inline]
    pub fn float64(&mut self) -> f64 {
        loop {
            let f = self.int63() as f64 / (1u64 << 63) as f64;
            if f < 1.0 {
                return f;
            }
        }
    }

    /// Go's `Int63n(n)`; `n` must be positive.
    pub fn int63n(&mut self, n: i64) -> i64 {
        debug_assert!(n > 0);
        if n & (n - 1) == 0 {
            return self.int63() & (n - 1);
        }
        let max = i64::MAX - ((1u64 << 63) % n as u64) as i64;
        let mut v = self.int63();
        while v > max {
            v = self.int63();
        }
        v % n
    }

    /// Go's `Int31n(n)`; `n` must be positive.
    pub fn int31n(&mut self, n: i32) -> i32 {
        debug_assert!(n > 0);
        if n & (n - 1) == 0 {
            return self.int31() & (n - 1);
        }
        let max = (i32::MAX as u32 - ((1u32 << 31) % n as u32)) as i32;
        let mut v = self.int31();
        while v > max {
            v = self.int31();
        }
        v % n
    }

    /// Go's `Intn(n)` for `0 < n < 2^31` (it delegates to `Int31n` there, as Go does).
    pub fn intn(&mut self, n: usize) -> usize {
        if n <= i32::MAX as usize {
            self.int31n(n as i32) as usize
        } else {
            self.int63n(n as i64) as usize
        }
    }

    /// Go's `NormFloat64`: a standard normal variate (ziggurat method).
    pub fn norm_float64(&mut self) -> f64 {
        const RN: f64 = 3.442619855899;
        loop {
            let j = self.uint32() as i32;
            let i = (j & 0x7f) as usize;
            let x = j as f64 * ziggurat::WN[i] as f64;
            if j.unsigned_abs() < ziggurat::KN[i] {
                return x;
            }
            if i == 0 {
                let mut x;
                loop {
                    x = -go_log(self.float64()) * (1.0 / RN);
                    let y = -go_log(self.float64());
                    if y + y >= x * x {
                        break;
                    }
                }
                return if j > 0 { RN + x } else { -RN - x };
            }
            let f =
                ziggurat::FN[i] + self.float64() as f32 * (ziggurat::FN[i - 1] - ziggurat::FN[i]);
            if f < (-0.5 * x * x).exp() as f32 {
                return x;
            }
        }
    }
}

#[cfg(test)]
mod tests;
