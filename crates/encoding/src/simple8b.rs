//! simple8b: up to 240 small unsigned integers per 64-bit word (spec §5.2).
//!
//! Word layout: selector in bits 63–60, payload in bits 59–0, value k in payload bits
//! `[k·b, k·b + b)`. Words are stored big-endian. Selectors 0 and 1 carry 240 and 120 ones.
//!
//! The encoder reproduces InfluxDB's selector choice exactly, including the two different
//! windows its two drivers use for the run-of-ones selectors ([`Window`]).

/// Largest value simple8b can hold (2^60 − 1).
pub const MAX_VALUE: u64 = (1 << 60) - 1;

/// Values per word, by selector.
pub const COUNT: [usize; 16] = [240, 120, 60, 30, 20, 15, 12, 10, 8, 7, 6, 5, 4, 3, 2, 1];
/// Bits per value, by selector.
pub const BITS: [u32; 16] = [0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 30, 60];

/// Which values the encoder looks at when deciding whether a run of ones fills selector 0 or 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// InfluxDB's `EncodeAll` (integers): the whole remaining tail must be ones.
    Tail,
    /// InfluxDB's streaming `Encoder` (timestamps): a 240-value buffer must be ones.
    Stream,
}

/// For a prefix of `k` values (1..=60): the most bits any selector holding at least `k` values
/// allows. Once the running maximum needs more, no longer prefix can fit either.
const PREFIX_CAP_BITS: [u32; 61] = {
    let mut caps = [0u32; 61];
    let mut k = 1;
    while k <= 60 {
        // selectors 15 down to 2 hold 1, 2, 3, … 60 values; the first one holding >= k wins.
        let mut s = 15;
        while COUNT[s] < k {
            s -= 1;
        }
        caps[k] = BITS[s];
        k += 1;
    }
    caps
};

/// For `k` values known to fit their prefix caps: the first selector (in InfluxDB's order, most
/// values first) holding at most `k` values.
const SELECTOR_FOR_PREFIX: [u8; 61] = {
    let mut t = [15u8; 61];
    let mut k = 1;
    while k <= 60 {
        let mut s = 2;
        while COUNT[s] > k {
            s += 1;
        }
        t[k] = s as u8;
        k += 1;
    }
    t
};

/// Appends `values` as big-endian simple8b words. Fails with the index of the first value that
/// is too large (> [`MAX_VALUE`]); `out` may then hold a partial encoding.
pub fn encode(values: &[u64], window: Window, out: &mut Vec<u8>) -> Result<(), usize> {
    let len = values.len();
    // For `Tail`: every value from `ones_from` on is 1.
    let ones_from = values.iter().rposition(|&v| v != 1).map_or(0, |p| p + 1);
    let mut i = 0;
    while i < len {
        let rest = &values[i..];
        let selector = choose(rest, i >= ones_from, window)
            .ok_or_else(|| i + rest.iter().position(|&v| v > MAX_VALUE).unwrap_or(0))?;
        let n = COUNT[selector];
        let bits = BITS[selector];
        let mut word = (selector as u64) << 60;
        if bits > 0 {
            for (k, &v) in rest[..n].iter().enumerate() {
                word |= v << (k as u32 * bits);
            }
        }
        out.extend_from_slice(&word.to_be_bytes());
        i += n;
    }
    Ok(())
}

/// The selector for the next word of `rest` (non-empty), as InfluxDB picks it.
#[inline]
fn choose(rest: &[u64], tail_all_ones: bool, window: Window) -> Option<usize> {
    let remaining = rest.len();
    let ones = |n: usize| match window {
        Window::Tail => remaining >= n && tail_all_ones,
        // The streaming buffer holds at most 240 values: with more than that pending, the
        // window is exactly 240 values; otherwise it is everything left.
        Window::Stream => {
            let w = remaining.min(240);
            w >= n && rest[..w].iter().all(|&v| v == 1)
        }
    };
    if rest[0] == 1 {
        if ones(240) {
            return Some(0);
        }
        if ones(120) {
            return Some(1);
        }
    }
    // Scan a running OR (same bit length as the maximum) and stop at the first prefix length
    // `k` whose values need more bits than any selector holding `k` or more values allows.
    // Every shorter prefix then fits its own selector (its length's cap is exactly that
    // selector's width when a selector holds exactly that many values), so InfluxDB's first
    // fitting selector is simply the one with the most values not above the scanned length.
    let mut or = 0u64;
    let mut scanned = 0;
    for (k, &v) in rest.iter().take(60).enumerate() {
        or |= v;
        if (64 - or.leading_zeros()) > PREFIX_CAP_BITS[k + 1] {
            break;
        }
        scanned = k + 1;
    }
    if scanned == 0 {
        return None;
    }
    Some(usize::from(SELECTOR_FOR_PREFIX[scanned]))
}

/// Number of values in `words` (a whole number of 8-byte words; the caller checks that).
#[inline]
pub fn count(words: &[u8]) -> usize {
    words
        .chunks_exact(8)
        .map(|w| COUNT[usize::from(w[0] >> 4)])
        .sum()
}

/// Values decoded from u64 (the integer types the decoders fill).
pub trait FromWord: Copy + Default {
    /// The value with these bits.
    fn from_word(v: u64) -> Self;
}

impl FromWord for u64 {
    #[inline(always)]
    fn from_word(v: u64) -> Self {
        v
    }
}

impl FromWord for i64 {
    #[inline(always)]
    fn from_word(v: u64) -> Self {
        v as i64
    }
}

#[inline(always)]
fn unpack<const N: usize, const B: u32, T: FromWord>(word: u64, out: &mut Vec<T>) {
    let mask = (1u64 << B) - 1;
    let mut chunk = [T::default(); N];
    for (k, slot) in chunk.iter_mut().enumerate() {
        *slot = T::from_word((word >> (k as u32 * B)) & mask);
    }
    out.extend_from_slice(&chunk);
}

/// Decodes `words` (a whole number of 8-byte words; a partial word at the end is ignored) and
/// appends the values to `out`: one match per word, then a loop unrolled for that selector's
/// fixed count and width.
pub fn decode_append<T: FromWord>(words: &[u8], out: &mut Vec<T>) {
    out.reserve(count(words));
    for chunk in words.chunks_exact(8) {
        let mut be = [0u8; 8];
        be.copy_from_slice(chunk);
        let word = u64::from_be_bytes(be);
        match word >> 60 {
            0 => out.extend_from_slice(&[T::from_word(1); 240]),
            1 => out.extend_from_slice(&[T::from_word(1); 120]),
            2 => unpack::<60, 1, T>(word, out),
            3 => unpack::<30, 2, T>(word, out),
            4 => unpack::<20, 3, T>(word, out),
            5 => unpack::<15, 4, T>(word, out),
            6 => unpack::<12, 5, T>(word, out),
            7 => unpack::<10, 6, T>(word, out),
            8 => unpack::<8, 7, T>(word, out),
            9 => unpack::<7, 8, T>(word, out),
            10 => unpack::<6, 10, T>(word, out),
            11 => unpack::<5, 12, T>(word, out),
            12 => unpack::<4, 15, T>(word, out),
            13 => unpack::<3, 20, T>(word, out),
            14 => unpack::<2, 30, T>(word, out),
            _ => unpack::<1, 60, T>(word, out),
        }
    }
}

/// The straightforward decoder (one value at a time, selector looked up per value): the
/// same-run baseline for the unrolled [`decode_into`] in the benchmarks, and a cross-check in
/// tests.
pub fn decode_naive(words: &[u8], out: &mut Vec<u64>) {
    for chunk in words.chunks_exact(8) {
        let mut be = [0u8; 8];
        be.copy_from_slice(chunk);
        let word = u64::from_be_bytes(be);
        let selector = (word >> 60) as usize;
        let bits = BITS[selector];
        for k in 0..COUNT[selector] {
            out.push(if bits == 0 {
                1
            } else {
                (word >> (k as u32 * bits)) & ((1u64 << bits) - 1)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(values: &[u64], window: Window) -> Vec<u64> {
        let mut out = Vec::new();
        encode(values, window, &mut out).unwrap();
        out.chunks(8)
            .map(|c| u64::from_be_bytes(c.try_into().unwrap()))
            .collect()
    }

    #[test]
    fn spec_vectors_for_both_drivers() {
        let mut v = vec![1u64; 480];
        v.push(2);
        assert_eq!(words(&v, Window::Stream), [0, 0, 0xf000000000000002]);
        // Integer driver on zigzag(+100) then 480 zigzag(-1): selectors 9, 0, 1, 2, 3, 4, 12.
        let mut z = vec![200u64];
        z.extend(std::iter::repeat_n(1, 480));
        let sel: Vec<u64> = words(&z, Window::Tail).iter().map(|w| w >> 60).collect();
        assert_eq!(sel, [9, 0, 1, 2, 3, 4, 12]);
    }

    /// InfluxDB's selector choice written the obvious way (`canPack` for each selector in
    /// order), to check the fast scan against.
    fn reference(values: &[u64], window: Window) -> Option<Vec<u64>> {
        let mut words = Vec::new();
        let mut i = 0;
        while i < values.len() {
            let rest = &values[i..];
            let view = match window {
                Window::Tail => rest,
                Window::Stream => &rest[..rest.len().min(240)],
            };
            let s = (0..16).find(|&s| {
                let n = COUNT[s];
                if view.len() < n {
                    return false;
                }
                if BITS[s] == 0 {
                    return view.iter().all(|&v| v == 1);
                }
                rest[..n].iter().all(|&v| v < (1u64 << BITS[s]))
            })?;
            let mut w = (s as u64) << 60;
            if BITS[s] > 0 {
                for (k, v) in rest[..COUNT[s]].iter().enumerate() {
                    w |= v << (k as u32 * BITS[s]);
                }
            }
            words.push(w);
            i += COUNT[s];
        }
        Some(words)
    }

    proptest::proptest! {
        #[test]
        fn fast_selector_choice_matches_reference(
            values in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(1u64),
                    0u64..4,
                    0u64..(1 << 12),
                    0u64..(1 << 30),
                    0u64..(1 << 61),
                ],
                0..700,
            ),
            stream in proptest::bool::ANY,
        ) {
            let window = if stream { Window::Stream } else { Window::Tail };
            let mut out = Vec::new();
            let ours = encode(&values, window, &mut out).ok().map(|()| {
                out.chunks(8).map(|c| u64::from_be_bytes(c.try_into().unwrap())).collect::<Vec<_>>()
            });
            proptest::prop_assert_eq!(ours, reference(&values, window));
        }
    }

    #[test]
    fn never_pads_and_rejects_out_of_range() {
        assert_eq!(words(&[5, 6, 7], Window::Tail).len(), 1);
        assert_eq!(words(&[5, 6, 7], Window::Tail)[0] >> 60, 13);
        assert_eq!(words(&[9], Window::Tail)[0] >> 60, 15);
        let mut out = Vec::new();
        assert_eq!(
            encode(&[1, 2, MAX_VALUE + 1], Window::Tail, &mut out),
            Err(2)
        );
    }

    #[test]
    fn unrolled_decoder_matches_naive_for_every_selector() {
        for s in 0..16u64 {
            let word = (s << 60) | 0x0123_4567_89ab_cdef;
            let bytes = word.to_be_bytes();
            let mut naive = Vec::new();
            decode_naive(&bytes, &mut naive);
            assert_eq!(naive.len(), count(&bytes));
            let mut fast = vec![9u64];
            decode_append(&bytes, &mut fast);
            assert_eq!(fast[1..], naive[..]);
        }
    }
}
