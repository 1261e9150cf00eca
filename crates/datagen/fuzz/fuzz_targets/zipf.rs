//! Any Zipf parameters and seed: the tabled sampler gives the same values as Go's direct
//! computation, draw for draw (the table's zones must cover every rounding error), and neither
//! panics.
//!
//! ```sh
//! cargo +nightly fuzz run --fuzz-dir crates/datagen/fuzz zipf -- -max_total_time=60
//! ```

#![no_main]

use libfuzzer_sys::fuzz_target;
use tsmdb_datagen::gorand::{GoRand, Zipf};

fuzz_target!(|data: [u64; 4]| {
    let [s, v, imax, seed] = data;
    // Half of the inputs near the interesting ranges (s just above 1, small v), half raw bits.
    let (s, v) = if seed & 1 == 0 {
        (
            1.0 + (s % 1_000_000) as f64 * 1e-5 + 1e-9,
            1.0 + (v % 100_000) as f64 * 1e-2,
        )
    } else {
        (f64::from_bits(s), f64::from_bits(v))
    };
    let imax = if seed & 2 == 0 { imax % 10_000 } else { imax };
    let Some(z) = Zipf::new(s, v, imax) else {
        return;
    };
    let (mut a, mut b) = (GoRand::new(seed as i64), GoRand::new(seed as i64));
    for i in 0..2000 {
        assert_eq!(
            z.sample(&mut a),
            z.sample_direct(&mut b),
            "draw {i} of s={s:e} v={v:e} imax={imax}"
        );
    }
});
