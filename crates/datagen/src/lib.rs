//! # tsmdb-datagen
//!
//! Will own the data generator: `influxd generate`-compatible schema TOML, the schema to spec to series pipeline, and the TSBS devops preset.
//!
//! It must not know how the engine stores data beyond the public APIs it writes through.
//!
//! Status: not built yet. This crate exports nothing until its issue lands.
