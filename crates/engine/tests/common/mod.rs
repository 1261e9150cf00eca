//! Helpers shared by several integration tests of this crate.

pub mod crash;
