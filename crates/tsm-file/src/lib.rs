//! # tsmdb-tsm-file
//!
//! Will own TSM files: the streaming writer, the validating reader with CRC checks, the block index and tombstone files.
//!
//! It must not know about the cache, the WAL, compaction plans or the engine.
//!
//! Status: not built yet. This crate exports nothing until its issue lands.
