//! Key hashing: xxh3 of the composite key picks the partition and hashes keys inside it.

use std::hash::{BuildHasher, Hasher};

/// xxh3-64 of a composite key.
pub fn key_hash(key: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key)
}

/// The partition of a key among `n`: taken from bits 32..64 of the hash, so that inside one
/// partition the low bits (which the hash map uses for bucket positions) still vary.
pub fn partition_index(key: &[u8], n: usize) -> usize {
    partition_of_hash(key_hash(key), n)
}

/// The partition for a key whose hash is known: bits 32..64 of the hash scaled to `0..n` by a
/// multiply and a shift (no division: this runs twice per record on the write path).
pub fn partition_of_hash(hash: u64, n: usize) -> usize {
    // At most 2^32 partitions keep the product within 64 bits.
    let n = n.clamp(1, u32::MAX as usize) as u64;
    (((hash >> 32) * n) >> 32) as usize
}

/// A hasher for byte-string keys that runs one-shot xxh3 over the bytes (and ignores the length
/// prefix `Hash for [u8]` adds, which the bytes already determine).
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = self.0.rotate_left(5) ^ key_hash(bytes);
    }

    fn write_usize(&mut self, _len: usize) {}
}

/// Builds [`KeyHasher`]s.
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyHashBuilder;

impl BuildHasher for KeyHashBuilder {
    type Hasher = KeyHasher;

    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_key_hashes_to_its_xxh3() {
        let key: &[u8] = b"cpu#!~#f";
        assert_eq!(KeyHashBuilder.hash_one(key), key_hash(key));
        assert_eq!(
            partition_index(key, 16),
            (key_hash(key) >> 60) as usize,
            "for a power of two, the top bits"
        );
        for n in [1, 3, 16, 1000, usize::from(u16::MAX)] {
            for h in [0, u64::MAX, key_hash(key), 1 << 32, (1 << 32) - 1] {
                assert!(partition_of_hash(h, n) < n, "hash {h:#x} among {n}");
            }
        }
        assert_eq!(partition_of_hash(5, 0), 0, "no partitions counts as one");
    }
}
