//! # tsmdb-engine
//!
//! Will own the engine users embed: databases and shards on disk, the write path, recovery, the read path and aggregates, deletes and retention.
//!
//! It must not know about InfluxQL text, the command line or any network protocol.
//!
//! Status: not built yet. This crate exports nothing until its issue lands.
