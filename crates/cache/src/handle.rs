//! Key handles: where a key lives in the cache, remembered by the caller between batches.

/// Where a key's values live in one [`Cache`](crate::Cache): a slot of a partition, valid while
/// that partition keeps its epoch.
///
/// A caller that writes the same keys batch after batch (the engine does) keeps one handle per
/// key and passes it to [`Cache::write_handles`](crate::Cache::write_handles): a valid handle
/// takes the write straight to the key's values, with no hashing, probing or key comparison; a
/// stale one (the partition was snapshotted, a key was removed from it, or the handle came from
/// another cache) falls back to a lookup, and the write refreshes it. A handle is never wrong in
/// a way that misfiles values: besides the epoch, the slot must hold a key of the same hash.
///
/// [`KeyHandle::default()`] names nothing (always stale).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyHandle {
    pub(crate) epoch: u64,
    pub(crate) slot: u32,
}

impl KeyHandle {
    /// A handle that names nothing; the same as `KeyHandle::default()`.
    pub const NONE: KeyHandle = KeyHandle { epoch: 0, slot: 0 };
}
