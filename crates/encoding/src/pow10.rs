//! Fast exact division and divisibility by 10^k (k ≤ 15), used by the timestamp codec.
//!
//! 10^k = 2^k · 5^k. Divisibility by 2^k is a trailing-zero count; by the odd 5^k it is one
//! multiplication by the inverse of 5^k modulo 2^64 and a comparison (Granlund–Montgomery), and
//! an exact quotient is the same multiplication. This replaces a 64-bit division per value.

/// 10^k for k = 0..=15.
pub const POW10: [u64; 16] = {
    let mut p = [1u64; 16];
    let mut k = 1;
    while k < 16 {
        p[k] = p[k - 1] * 10;
        k += 1;
    }
    p
};

/// (inverse of 5^k mod 2^64, largest multiple quotient u64::MAX / 5^k) for k = 0..=15.
const INV5: [(u64, u64); 16] = {
    let mut t = [(1u64, u64::MAX); 16];
    let mut k = 1;
    while k < 16 {
        let mut p = 1u64;
        let mut i = 0;
        while i < k {
            p *= 5;
            i += 1;
        }
        // Newton iteration for the inverse of an odd number modulo 2^64.
        let mut inv = p;
        let mut n = 0;
        while n < 6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(p.wrapping_mul(inv)));
            n += 1;
        }
        t[k] = (inv, u64::MAX / p);
        k += 1;
    }
    t
};

/// True when 10^k divides `d`.
#[inline(always)]
pub fn divisible(d: u64, k: u32) -> bool {
    let (inv, limit) = INV5[k as usize & 15];
    d.trailing_zeros() >= k && (d >> k).wrapping_mul(inv) <= limit
}

/// `d / 10^k` for a `d` that 10^k divides.
#[inline(always)]
pub fn exact_div(d: u64, k: u32) -> u64 {
    (d >> k).wrapping_mul(INV5[k as usize & 15].0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_plain_division() {
        let samples = [
            0u64,
            1,
            10,
            1_000_000_000,
            10_000_000_000,
            123_000_000_000_000,
            u64::MAX,
            u64::MAX - 5,
            18_000_000_000_000_000_000,
            5u64.pow(20),
            7 * 10u64.pow(15),
        ];
        for &d in &samples {
            for k in 0..16u32 {
                let p = POW10[k as usize];
                assert_eq!(divisible(d, k), d % p == 0, "{d} {k}");
                if d % p == 0 {
                    assert_eq!(exact_div(d, k), d / p);
                }
            }
        }
    }
}
