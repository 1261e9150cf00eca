//! # tsmdb-compat
//!
//! The differential compatibility suite: generated inputs run through our crates
//! (`tsmdb-lineproto`, `tsmdb-encoding`, `tsmdb-tsm-file`, `tsmdb-wal`) and through InfluxDB
//! 1.6.7's own Go code, and the answers compared.
//!
//! InfluxDB's side is a small Go program of ours (`compat/reference/main.go`) that calls
//! InfluxDB's `models` and `tsm1` packages as libraries, built against the sources Debian ships
//! (`golang-github-influxdb-influxdb-dev`) and kept running as a subprocess ([`reference`]).
//! Every mismatch is shrunk ([`shrink`]) and saved with the InfluxDB answers it needed
//! ([`fixture`]), so it replays as a plain regression test without Go. Deliberate differences
//! live in one list ([`deliberate`]); anything else that differs is a bug.
//!
//! This crate owns the comparison; it must not know how our crates work inside, only their
//! public APIs ([`ours`]).

pub mod case;
pub mod check;
pub mod convert;
pub mod deliberate;
pub mod fixture;
pub mod gen_lineproto;
pub mod gen_values;
pub mod model;
pub mod oracle;
pub mod ours;
pub mod reference;
pub mod rng;
pub mod runner;
pub mod shrink;
