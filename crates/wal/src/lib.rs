//! # tsmdb-wal
//!
//! Will own the WAL segment files (`_NNNNN.wal`) in InfluxDB's framing: durable appends with group commit, rotation, replay and torn-tail recovery.
//!
//! It must not know about the cache, TSM files or the engine's scheduling.
//!
//! Status: not built yet. This crate exports nothing until its issue lands.
