//! Fuzzes the WAL's durability against its disk model: the input chooses the process lifetimes
//! (writers, rotations, snapshot removals), when the power goes or the process is killed, which
//! fsync or write fails, and what survives each power cut. After every reopen the checker's rules
//! must hold (every acknowledged entry replays, in order, nothing unattempted, no gaps, only torn
//! tails as damage, a failed WAL refuses every later write).
//!
//! Run it with `-- -detect_leaks=0`: writer threads are scoped threads, whose thread-local encode
//! buffers are freed as each thread exits, which can be just after the scope (and the input) has
//! ended; LeakSanitizer's per-input check then reports them as leaks.

#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use tsmdb_wal::sim::Faults;
use tsmdb_wal::sim::check::{Generation, Step, run};

/// Reads the input byte by byte; past its end everything is zero.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |acc, _| acc << 8 | u64::from(self.byte()))
    }
}

fn generation(input: &mut Bytes<'_>) -> Generation {
    let shape = input.byte();
    let steps = (0..1 + shape % 5)
        .map(|_| {
            let b = input.byte();
            match b % 8 {
                0 => Step::Roll,
                1 => Step::Snapshot,
                _ => Step::Writes {
                    writers: 1 + usize::from(b >> 3) % 4,
                    each: 1 + usize::from(b >> 5) % 6,
                    snapshot: b % 8 == 7,
                },
            }
        })
        .collect();
    let flags = input.byte();
    let mut faults = Faults::default();
    if flags & 1 != 0 {
        faults.cut_at_op = Some(u64::from(input.byte()));
    }
    if flags & 2 != 0 {
        faults.fail_syncs = [u64::from(input.byte() % 64)].into();
    }
    if flags & 4 != 0 {
        let nth = u64::from(input.byte() % 64);
        let written = usize::from(input.byte()) * 8;
        faults.fail_write = Some((nth, written));
    }
    let power_cut_seed = (flags & 8 == 0).then(|| input.u64());
    Generation {
        steps,
        faults,
        fsync_delay: Duration::from_micros(u64::from(flags >> 4) * 20),
        power_cut_seed,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Bytes(data);
    let count = 1 + input.byte() % 6;
    let generations: Vec<Generation> = (0..count).map(|_| generation(&mut input)).collect();
    let violations = run(&generations);
    assert!(violations.is_empty(), "{generations:#?}\n{violations:#?}");
});
