//! Key handles: where a key lives in the cache, remembered by the caller between batches.

use tsmdb_encoding::FieldType;

/// Where a key's values live in one [`Cache`](crate::Cache): a slot of a partition, valid while
/// that partition keeps its epoch.
///
/// A caller that writes the same keys batch after batch (the engine does) keeps one handle per
/// key and passes it to [`Cache::write_handles`](crate::Cache::write_handles): a valid handle
/// takes the write straight to the key's values, with no hashing, probing or key comparison, and
/// its type check needs neither the partition's lock nor its memory; a stale one (the partition
/// was snapshotted, a key was removed from it, or the handle came from another cache) falls back
/// to a lookup, and the write refreshes it.
///
/// A handle is never wrong in a way that misfiles values: it also records the hash of the key it
/// was issued for, and is only used for a record whose key has that hash. Inside one epoch a
/// slot holds one key, whose type never changes, so the type recorded in the handle is the key's.
///
/// [`KeyHandle::default()`] names nothing (always stale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyHandle {
    pub(crate) epoch: u64,
    pub(crate) hash: u64,
    pub(crate) slot: u32,
    pub(crate) field_type: FieldType,
}

impl KeyHandle {
    /// A handle that names nothing; the same as `KeyHandle::default()`.
    pub const NONE: KeyHandle = KeyHandle {
        epoch: 0,
        hash: 0,
        slot: 0,
        field_type: FieldType::Float,
    };
}

impl Default for KeyHandle {
    fn default() -> Self {
        KeyHandle::NONE
    }
}
