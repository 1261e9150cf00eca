//! # tsmdb-encoding
//!
//! Encodes and decodes the value sections and whole blocks of InfluxDB 1.x TSM files, byte for byte
//! compatible, into and out of column slices.
//!
//! It knows nothing of files, keys, line protocol or where blocks live.

mod types;

pub use types::{Column, FieldType, StringColumn};
