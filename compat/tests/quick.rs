//! The quick differential run (500 cases per kind, about 30 s) against InfluxDB 1.6.7's own code.
//! The case count, not the clock, bounds it, so every machine fast enough runs the same cases. Skips with a
//! message when Go and InfluxDB's sources are absent and cannot be installed here.
//!
//! `TSMDB_COMPAT_SECONDS` and `TSMDB_COMPAT_SEED` override the time and the seed; the long run is
//! `cargo xtask compat --seconds 3600`.

use tsmdb_compat::reference::{Reference, ReferenceError};
use tsmdb_compat::runner::{Options, run};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn quick_differential_run_against_influxdb() {
    let mut reference = match Reference::start() {
        Ok(r) => r,
        Err(ReferenceError::Unavailable(why)) => {
            eprintln!("SKIPPED: differential compatibility run: {why}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let options = Options {
        shrink_budget: std::time::Duration::from_secs(3),
        max_saved_per_kind: 5,
        max_cases_per_kind: Some(env_or("TSMDB_COMPAT_CASES", 500)),
        ..Options::new(
            env_or("TSMDB_COMPAT_SECONDS", 120.0),
            env_or("TSMDB_COMPAT_SEED", 1),
        )
    };
    let report = run(&mut reference, &options).expect("reference program failed");
    eprintln!("{}", report.render());
    let total: u64 = report.stats.values().map(|s| s.cases).sum();
    let not_wired = report.not_wired();
    assert!(
        total > 0 || not_wired.len() == report.stats.len(),
        "no case ran"
    );
    // A mismatch of the same signature as an open fixture is a known bug (listed above and
    // reported by the fixture replay); any other fails.
    let new: Vec<_> = report.findings.iter().filter(|f| !f.known).collect();
    assert!(
        new.is_empty(),
        "{} new mismatch(es) with InfluxDB, saved under tests/fixtures/compat/ (see above)",
        new.len()
    );
}
