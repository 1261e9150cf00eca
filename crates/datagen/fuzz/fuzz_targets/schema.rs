//! Any text: schema decoding, planning, and the first blocks of generation must return values or
//! errors, never panic.
//!
//! Seed it with the example schemas (libFuzzer writes new inputs into the first corpus
//! directory, so copy them rather than pointing it at `examples/schemas`):
//!
//! ```sh
//! mkdir -p crates/datagen/fuzz/corpus/schema && cp examples/schemas/*.toml crates/datagen/fuzz/corpus/schema/
//! cargo +nightly fuzz run --fuzz-dir crates/datagen/fuzz schema crates/datagen/fuzz/corpus/schema -- -max_total_time=60
//! ```

#![no_main]

use libfuzzer_sys::fuzz_target;
use tsmdb_datagen::schema::TagSource;
use tsmdb_datagen::{Generator, LineProtocolWriter, Plan, PlanSummary, TimeRange, parse_schema};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // No base directory: relative `file` tags resolve against the working directory and fail.
    let Ok(schema) = parse_schema(text, "fuzz.toml", None) else {
        return;
    };
    // Keep memory bounded: big sequences are legal but slow to materialise.
    let small = schema.measurements.iter().all(|m| {
        m.tags.iter().all(|t| match &t.source {
            TagSource::Sequence { count, .. } => *count <= 10_000,
            TagSource::File { .. } => false,
            TagSource::Values(_) => true,
        })
    });
    if !small {
        return;
    }
    let range = TimeRange {
        start: 0,
        end: 60_000_000_000,
    };
    let Ok(plan) = Plan::new(&schema, range) else {
        return;
    };
    let _ = PlanSummary::new(&plan);
    let mut blocks = 0;
    let mut lp = LineProtocolWriter::new(std::io::sink());
    let _ = Generator::new(&plan).for_each_block(|b| {
        assert_eq!(b.timestamps.len(), b.values.len());
        assert!(b.timestamps.len() <= 1000);
        lp.write_block(b).map_err(|_| ())?;
        blocks += 1;
        if blocks > 200 { Err(()) } else { Ok(()) }
    });
});
