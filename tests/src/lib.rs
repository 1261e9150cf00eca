//! Shared helpers for the cross-crate integration tests in `tests/tests/`.
//!
//! Fixtures live in `tests/fixtures/`; tests never read anything outside the repository.

use std::path::PathBuf;

pub mod influxd;

/// Path of a file under `tests/fixtures/`.
pub fn fixture(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

/// Reads a fixture file, panicking with its path when it is missing (a broken checkout).
pub fn read_fixture(relative: &str) -> Vec<u8> {
    let path = fixture(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading fixture {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_are_present() {
        let sums = read_fixture("influxdb-1.6.7/SHA256SUMS");
        assert!(sums.len() > 1000, "SHA256SUMS looks truncated");
    }
}
