//! # tsmdb-lineproto
//!
//! Parses InfluxDB 1.x line protocol into points that borrow from the input, renders points back to line protocol, and builds canonical series keys and composite TSM keys.
//!
//! It knows nothing of how values are encoded or stored: no blocks, files, WAL or index.
//!
//! Status: not built yet. This crate exports nothing until its issue lands.
