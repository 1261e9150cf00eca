//! # tsmdb-cache
//!
//! Will own the in-memory cache of recent writes: partitions chosen by xxhash of the composite key, typed columns per key, snapshots and memory accounting.
//!
//! It must not know about the WAL, files on disk or the engine.
//!
//! Status: not built yet. This crate exports nothing until its issue lands.
