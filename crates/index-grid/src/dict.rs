//! An append-only dictionary of byte strings: value <-> coordinate, each string stored once.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::tagset::fingerprint;

/// Hasher for keys that already are well-mixed 64-bit fingerprints.
#[derive(Default, Clone, Copy)]
pub(crate) struct FpHasher(u64);

impl Hasher for FpHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed with this hasher; fold anything else deterministically.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// Build hasher of fingerprint-keyed maps.
pub(crate) type FpBuild = BuildHasherDefault<FpHasher>;

/// Hasher for small integer keys (cell numbers): splitmix64's finaliser.
#[derive(Default, Clone, Copy)]
pub(crate) struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        let mut z = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u32(&mut self, v: u32) {
        // two u32 keys (a tuple) combine exactly into the 64-bit state
        self.0 = self.0.rotate_left(32) ^ u64::from(v);
    }
}

/// Build hasher of maps keyed by small integers.
pub(crate) type MixBuild = BuildHasherDefault<MixHasher>;

/// Hasher for byte-string keys: xxh3, chained over the pieces written.
#[derive(Default, Clone, Copy)]
pub(crate) struct BytesHasher(u64);

impl Hasher for BytesHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, self.0);
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = self.0.rotate_left(17) ^ n as u64;
    }
}

/// Build hasher of maps keyed by byte strings.
pub(crate) type BytesBuild = BuildHasherDefault<BytesHasher>;

/// `a == b` without a `memcmp` call for the short strings tag values mostly are (the call
/// and its setup were a fifth of an equality query's dictionary lookups, callgrind): two
/// overlapping word loads compare 8 to 16 bytes.
#[inline]
fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_le_bytes(w)
    };
    match n {
        0..=7 => a.iter().zip(b).all(|(x, y)| x == y),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

/// Byte strings in one arena, addressed by position (their coordinate), found by fingerprint.
#[derive(Default, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Dict {
    arena: Vec<u8>,
    ends: Vec<u32>,
    by_fp: HashMap<u64, u32, FpBuild>,
    /// Further positions whose fingerprint collides with one in `by_fp` (almost always empty).
    collisions: Vec<(u64, u32)>,
}

impl Dict {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The value at `i`.
    pub fn get(&self, i: u32) -> &[u8] {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.arena[start..self.ends[i] as usize]
    }

    /// Position of `v`, whose fingerprint is `fp`.
    pub fn find(&self, fp: u64, v: &[u8]) -> Option<u32> {
        let &i = self.by_fp.get(&fp)?;
        if bytes_eq(self.get(i), v) {
            return Some(i);
        }
        self.collisions
            .iter()
            .find(|&&(f, j)| f == fp && self.get(j) == v)
            .map(|&(_, j)| j)
    }

    /// Position of `v` (computes the fingerprint).
    pub fn find_bytes(&self, v: &[u8]) -> Option<u32> {
        self.find(fingerprint(v), v)
    }

    /// Whether a value of `len` bytes can still be pushed (ids and offsets are u32).
    pub fn has_room(&self, len: usize) -> bool {
        u32::try_from(self.ends.len()).is_ok()
            && (self.arena.len())
                .checked_add(len)
                .is_some_and(|end| u32::try_from(end).is_ok())
    }

    /// Appends `v` (which must not be present) and returns its position, or `None` when the
    /// arena would exceed 4 GiB.
    pub fn push(&mut self, fp: u64, v: &[u8]) -> Option<u32> {
        let i = u32::try_from(self.ends.len()).ok()?;
        let end = u32::try_from(self.arena.len() + v.len()).ok()?;
        self.arena.extend_from_slice(v);
        self.ends.push(end);
        if let Some(&_first) = self.by_fp.get(&fp) {
            self.collisions.push((fp, i));
        } else {
            self.by_fp.insert(fp, i);
        }
        Some(i)
    }

    /// Iterates values in coordinate order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.ends.len() as u32).map(|i| self.get(i))
    }

    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.arena.capacity()
            + self.ends.capacity() * 4
            + self.by_fp.capacity() * 17
            + self.collisions.capacity() * 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_compares_agree_with_slice_equality() {
        let words: Vec<Vec<u8>> = (0..40)
            .flat_map(|n: usize| {
                let base: Vec<u8> = (0..n).map(|i| b'a' + i as u8).collect();
                // the same length differing in the first, a middle, and the last byte
                let mut variants = vec![base.clone()];
                for at in [0, n / 2, n.saturating_sub(1)] {
                    if at < n {
                        let mut v = base.clone();
                        v[at] ^= 1;
                        variants.push(v);
                    }
                }
                variants
            })
            .collect();
        for a in &words {
            for b in &words {
                assert_eq!(bytes_eq(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn push_find_and_collisions() {
        let mut d = Dict::default();
        assert_eq!(d.push(fingerprint(b"a"), b"a"), Some(0));
        assert_eq!(d.push(fingerprint(b"bb"), b"bb"), Some(1));
        // Force a collision: same fingerprint, different bytes.
        assert_eq!(d.push(fingerprint(b"a"), b"zz"), Some(2));
        assert_eq!(d.find(fingerprint(b"a"), b"a"), Some(0));
        assert_eq!(d.find(fingerprint(b"a"), b"zz"), Some(2));
        assert_eq!(d.find(fingerprint(b"a"), b"q"), None);
        assert_eq!(d.find_bytes(b"bb"), Some(1));
        assert_eq!(d.iter().collect::<Vec<_>>(), vec![&b"a"[..], b"bb", b"zz"]);
        assert_eq!(d.get(1), b"bb");
    }

    /// Room is measured against the u32 offsets, without overflowing on the way.
    #[test]
    fn room_follows_the_u32_offsets() {
        let mut d = Dict::default();
        d.push(fingerprint(b"abc"), b"abc");
        assert!(d.has_room(0));
        assert!(d.has_room(u32::MAX as usize - 3));
        assert!(!d.has_room(u32::MAX as usize - 2));
        assert!(!d.has_room(usize::MAX));
    }
}
