//! Workloads shared by the criterion benches and the report.

use std::hint::black_box;

use tsmdb_datagen::simple::simple_schema;
use tsmdb_datagen::{Plan, TimeRange, parse_schema};

/// One week, as upstream's default range.
pub const WEEK: TimeRange = TimeRange {
    start: 1_577_836_800_000_000_000,
    end: 1_577_836_800_000_000_000 + 7 * 86_400_000_000_000,
};

/// `generate simple --t 100,10 --p <points>`: 1000 series of constant floats.
pub fn simple(points: u64) -> Plan {
    Plan::new(&simple_schema(&[100, 10], points).expect("schema"), WEEK).expect("plan")
}

/// 1000 series of one field from `source` (a TOML source value).
pub fn one_field(points: u64, source: &str) -> Plan {
    let text = format!(
        "[[measurements]]\nname = \"m\"\nsample = 1.0\ntags = [{{ name = \"host\", source = {{ type = \"sequence\", count = 1000 }} }}]\nfields = [{{ name = \"f\", count = {points}, time-interval = \"10s\", source = {source} }}]\n"
    );
    Plan::new(&parse_schema(&text, "bench", None).expect("schema"), WEEK).expect("plan")
}

/// The baseline: write `values` timestamps and float values into reused 1000-value buffers.
pub fn fill_baseline(values: u64, ts: &mut [i64; 1000], vals: &mut [f64; 1000]) {
    let mut done = 0;
    while done < values {
        let n = (values - done).min(1000) as usize;
        for (i, t) in ts[..n].iter_mut().enumerate() {
            *t = 1_000 + i as i64 * 10;
        }
        vals[..n].fill(1.0);
        black_box(&ts[..n]);
        black_box(&vals[..n]);
        done += n as u64;
    }
}
