//! Value-level reading and writing: filled in once the block codecs land.

/// Reusable buffers for encoding blocks.
#[derive(Debug, Default)]
pub(crate) struct EncodeScratch {
    pub(crate) block: Vec<u8>,
}
