//! Candidate masks of dense predicates, built a machine word at a time (spec §5.7).
//!
//! A predicate on dense dimension `i` (stride `s`, capacity `c`) allows the locals whose
//! coordinate `(x / s) % c` is in a set `A`: a pattern that repeats every `s · c` locals. The
//! mask of a conjunction is the AND of one such pattern per constrained dimension; ANDed with the
//! live set it is the answer. A pattern is written once per period, then doubled by copying
//! (bit-shifted until its length is a multiple of 64, then whole words), so building it costs
//! about one word operation per 64 candidate locals however many runs it has — where generating
//! one run per tuple of coordinates costs one operation per run.

use roaring::RoaringBitmap;

/// A bit per local in `[origin, origin + 64 · words.len())`; `origin` is a multiple of 64.
pub(crate) struct Mask {
    origin: u64,
    words: Vec<u64>,
}

/// One constrained dense dimension: stride, capacity and allowed coordinates (sorted, unique).
pub(crate) struct Axis<'a> {
    pub stride: u64,
    pub cap: u64,
    pub allowed: &'a [u32],
}

impl Mask {
    /// An all-zero mask covering locals `[first, last]`.
    pub fn new(first: u32, last: u32) -> Mask {
        let origin = u64::from(first) & !63;
        let words = (u64::from(last) - origin) / 64 + 1;
        Mask {
            origin,
            words: vec![0; words as usize],
        }
    }

    /// Sets the mask to the pattern of `axis` (when `first`) or ANDs it in.
    pub fn apply(&mut self, axis: &Axis<'_>, first: bool, scratch: &mut Vec<u64>) {
        if first {
            fill_pattern(&mut self.words, self.origin, axis);
        } else {
            scratch.clear();
            scratch.resize(self.words.len(), 0);
            fill_pattern(scratch, self.origin, axis);
            for (w, p) in self.words.iter_mut().zip(scratch.iter()) {
                *w &= p;
            }
        }
    }

    /// Sets every bit: no axis constrains the mask (the live set alone decides).
    pub fn fill_all(&mut self) {
        self.words.fill(u64::MAX);
    }

    /// The live locals of `[first, last]` the mask allows. `live_in` is the number of live
    /// locals in that range: when it is the whole range no live bit needs to be read, otherwise
    /// roaring intersects container by container (word ANDs where both sides are bitmaps —
    /// reading the live set series by series or run by run costs 10 to 100 times more).
    pub fn and_live(
        mut self,
        live: &RoaringBitmap,
        first: u32,
        last: u32,
        live_in: u64,
    ) -> RoaringBitmap {
        self.clear_outside(first, last);
        let mut out = self.into_bitmap();
        if live_in != u64::from(last - first) + 1 {
            out &= live;
        }
        out
    }

    fn clear_outside(&mut self, first: u32, last: u32) {
        let lo = (u64::from(first) - self.origin) as usize;
        let hi = (u64::from(last) - self.origin) as usize + 1; // exclusive
        if let Some(w) = self.words.first_mut() {
            *w &= u64::MAX << (lo % 64);
        }
        let total = self.words.len() * 64;
        if hi < total
            && let Some(w) = self.words.last_mut()
        {
            *w &= u64::MAX >> (64 - hi % 64);
        }
    }

    /// The mask as a bitmap of locals.
    fn into_bitmap(mut self) -> RoaringBitmap {
        for w in &mut self.words {
            *w = w.to_le();
        }
        // SAFETY: a `[u64]` is readable as `8 · len` initialised bytes (u8 has alignment 1 and
        // no invalid values); the words were just stored little-endian, which is the LSB-first
        // byte order `from_lsb0_bytes` reads. The view lives only while `self.words` is borrowed.
        let bytes = unsafe {
            std::slice::from_raw_parts(self.words.as_ptr().cast::<u8>(), self.words.len() * 8)
        };
        // origin + 64 · words ≤ points ≤ 2^32, and origin is a multiple of 8
        RoaringBitmap::from_lsb0_bytes(self.origin as u32, bytes)
    }
}

/// Sets `len` bits from bit `start` (relative to the buffer).
fn set_range(w: &mut [u64], start: u64, len: u64) {
    let (start, end) = (start as usize, (start + len) as usize);
    let (sw, ew) = (start / 64, (end - 1) / 64);
    let head = u64::MAX << (start % 64);
    let tail = u64::MAX >> (63 - (end - 1) % 64);
    if sw == ew {
        w[sw] |= head & tail;
        return;
    }
    w[sw] |= head;
    w[sw + 1..ew].fill(u64::MAX);
    w[ew] |= tail;
}

/// `n ≤ 64` bits of `w` starting at bit `pos`, as the low bits of a word.
fn read_bits(w: &[u64], pos: usize, n: usize) -> u64 {
    let (i, o) = (pos / 64, pos % 64);
    let mut v = w[i] >> o;
    if o > 0
        && let Some(next) = w.get(i + 1)
    {
        v |= next << (64 - o);
    }
    if n < 64 { v & ((1u64 << n) - 1) } else { v }
}

/// Copies bits `[0, len)` to `[dst, dst + len)`; `dst ≥ len` and the target bits are zero.
fn copy_prefix(w: &mut [u64], dst: usize, len: usize) {
    let mut done = 0;
    while done < len {
        let d = dst + done;
        let take = (64 - d % 64).min(len - done);
        let v = read_bits(w, done, take);
        w[d / 64] |= v << (d % 64);
        done += take;
    }
}

/// Writes the pattern of `axis` into zeroed `w`, whose bit 0 is local `origin`.
fn fill_pattern(w: &mut [u64], origin: u64, axis: &Axis<'_>) {
    let total = w.len() as u64 * 64;
    let period = axis.stride * axis.cap;
    // 1. one period (or the whole buffer if shorter), run by run
    let first = period.min(total);
    let mut p0 = origin / period * period;
    while p0 < origin + first {
        for &a in axis.allowed {
            let s = p0 + u64::from(a) * axis.stride;
            let e = s + axis.stride; // exclusive
            let (s, e) = (s.max(origin), e.min(origin + first));
            if s < e {
                set_range(w, s - origin, e - s);
            }
        }
        p0 += period;
    }
    if first == total {
        return;
    }
    // 2. double, bit-shifted, up to a whole number of words: the period times a power of two
    let aligned = period * (64 / gcd(period, 64));
    let mut filled = period;
    while filled < aligned.min(total) {
        let n = filled.min(total - filled);
        copy_prefix(w, filled as usize, n as usize);
        filled += n;
    }
    if filled == total {
        return;
    }
    // 3. double whole words
    let mut fw = (filled / 64) as usize;
    while fw < w.len() {
        let n = fw.min(w.len() - fw);
        w.copy_within(0..n, fw);
        fw += n;
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(
        first: u32,
        last: u32,
        axes: &[(u64, u64, Vec<u32>)],
        live: &RoaringBitmap,
    ) -> Vec<u32> {
        (first..=last)
            .filter(|&x| live.contains(x))
            .filter(|&x| {
                axes.iter()
                    .all(|(s, c, a)| a.contains(&((u64::from(x) / s % c) as u32)))
            })
            .collect()
    }

    proptest! {
        #[test]
        fn mask_equals_naive_filter(
            dims in prop::collection::vec((1u64..7, prop::collection::vec(0u32..7, 1..4)), 1..4),
            row in 1u64..5,
            first in 0u32..300,
            span in 0u32..2000,
            live in prop::collection::vec(0u32..2400, 0..400),
            full_live in any::<bool>(),
        ) {
            // strides of a mixed-radix grid: the last dimension's stride is the row factor
            let mut stride = row;
            let mut axes = Vec::new();
            for (cap, allowed) in dims.iter().rev() {
                let mut a: Vec<u32> = allowed.iter().map(|x| x % *cap as u32).collect();
                a.sort_unstable();
                a.dedup();
                axes.push((stride, *cap, a));
                stride *= cap;
            }
            let last = first + span;
            let live: RoaringBitmap = if full_live {
                (first..=last).collect()
            } else {
                live.into_iter().collect()
            };
            let live_in = live.range_cardinality(first..=last);
            let mut m = Mask::new(first, last);
            let mut scratch = Vec::new();
            for (i, (s, c, a)) in axes.iter().enumerate() {
                m.apply(&Axis { stride: *s, cap: *c, allowed: a }, i == 0, &mut scratch);
            }
            let got: Vec<u32> = m.and_live(&live, first, last, live_in).iter().collect();
            prop_assert_eq!(got, naive(first, last, &axes, &live));
        }
    }

    #[test]
    fn long_patterns_double_by_words() {
        // period 10 over 100,000 locals: bit-shifted doubling to 320 bits, then word copies
        let mut m = Mask::new(0, 99_999);
        let mut scratch = Vec::new();
        m.apply(
            &Axis {
                stride: 1,
                cap: 10,
                allowed: &[3],
            },
            true,
            &mut scratch,
        );
        let live: RoaringBitmap = (0..100_000).collect();
        let got = m.and_live(&live, 0, 99_999, 100_000);
        assert_eq!(got.len(), 10_000);
        assert!(got.iter().all(|x| x % 10 == 3));
    }
}
