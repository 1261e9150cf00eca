//! # tsmdb-compactor
//!
//! Will own compaction: the level planner, the k-way block merge, tombstone application, snapshot writing and the write throttle.
//!
//! It must not know about the WAL, the index, queries or shards.
//!
//! Status: not built yet. This crate exports nothing until its issue lands.
