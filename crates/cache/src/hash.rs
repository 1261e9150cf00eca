//! Key hashing: xxh3 of the composite key picks the partition and hashes keys inside it.

use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use crate::entry::Entry;

/// xxh3-64 of a composite key.
pub fn key_hash(key: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key)
}

/// The partition of a key among `n`: taken from bits 32..64 of the hash, so that inside one
/// partition the low bits (which the hash map uses for bucket positions) still vary.
pub fn partition_index(key: &[u8], n: usize) -> usize {
    partition_of_hash(key_hash(key), n)
}

/// The partition for a key whose hash is known.
pub fn partition_of_hash(hash: u64, n: usize) -> usize {
    ((hash >> 32) % n.max(1) as u64) as usize
}

thread_local! {
    /// The hash of one key the caller has already computed: (address, length, hash).
    static KNOWN: Cell<(usize, usize, u64)> = const { Cell::new((0, usize::MAX, 0)) };
}

/// Runs `f` with the hash of `key` (the exact bytes at that address) known, so map lookups of
/// that key inside `f` reuse it instead of hashing again. The key is borrowed for the whole call,
/// so no other bytes can appear at that address meanwhile.
pub(crate) fn with_known_hash<R>(key: &[u8], hash: u64, f: impl FnOnce() -> R) -> R {
    KNOWN.set((key.as_ptr() as usize, key.len(), hash));
    let result = f();
    KNOWN.set((0, usize::MAX, 0));
    result
}

/// A hasher for byte-string keys that runs one-shot xxh3 over the bytes (and ignores the length
/// prefix `Hash for [u8]` adds, which the bytes already determine). A hash announced with
/// [`with_known_hash`] is reused.
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let (addr, len, known) = KNOWN.get();
        let h = if bytes.as_ptr() as usize == addr && bytes.len() == len {
            known
        } else {
            key_hash(bytes)
        };
        self.0 = self.0.rotate_left(5) ^ h;
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

/// One partition's (or one snapshot partition's) keys.
pub(crate) type KeyMap = HashMap<Box<[u8]>, Entry, KeyHashBuilder>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_hash_is_used_only_for_those_exact_bytes() {
        let key = b"cpu#!~#f".to_vec();
        let copy = key.clone();
        let mut map: KeyMap = HashMap::default();
        map.insert(
            key.clone().into(),
            Entry::new(tsmdb_encoding::FieldType::Float),
        );
        let h = key_hash(&key);
        with_known_hash(&key, h, || {
            assert!(map.contains_key(&key[..]));
            // Same bytes elsewhere hash normally, to the same value.
            assert!(map.contains_key(&copy[..]));
        });
        // A wrong "known" hash only affects that address, and only inside the call.
        with_known_hash(&key, h ^ 1, || assert!(map.contains_key(&copy[..])));
        assert!(map.contains_key(&key[..]));
    }
}
