//! # tsmdb-index-grid
//!
//! Will own the series index: stable series ids computed from grid coordinates, predicate evaluation to id sets, deletes and persistence.
//!
//! It must not know about TSM files, values or the engine.
//!
//! Status: not built yet. This crate exports nothing until its issue lands.
