//! Which (series key, field) pairs a plan emits, in order (spec §4.2–4.5).
//!
//! Each spec walks its block's tag combinations like an odometer (last tag fastest), drops
//! combinations by sampling, stops at the block's series limit; the specs are then merged by
//! (series key, field) with duplicates removed and the top-level limit applied.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use crate::gorand::GoRand;
use crate::plan::{FieldSpec, Plan};

/// The seed upstream derives from a sample ratio: `int64(float64(MaxInt64 >> 1) × sample)`.
pub fn sample_seed(sample: f64) -> i64 {
    ((i64::MAX >> 1) as f64 * sample) as i64
}

/// The combination indexes one spec emits, before merging.
#[derive(Debug)]
pub struct Combinations {
    next: u64,
    total: u64,
    remaining: u64,
    sampler: Option<(GoRand, f64)>,
}

impl Combinations {
    /// The walk for `spec`: sampling seeded from its ratio, limited by its `series-limit`.
    pub fn new(spec: &FieldSpec) -> Combinations {
        let sampler =
            (spec.sample != 1.0).then(|| (GoRand::new(sample_seed(spec.sample)), spec.sample));
        Combinations {
            next: 0,
            total: spec.tags.combinations,
            remaining: spec.series_limit.unwrap_or(u64::MAX),
            sampler,
        }
    }
}

impl Iterator for Combinations {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if self.remaining == 0 {
            return None;
        }
        while self.next < self.total {
            let i = self.next;
            self.next += 1;
            // Index 0 is always kept; every later index costs exactly one draw.
            let keep = i == 0
                || match &mut self.sampler {
                    None => true,
                    Some((rng, sample)) => {
                        let d = (rng.int63() >> 10) as f64 * (1.0 / (1u64 << 53) as f64);
                        d <= *sample
                    }
                };
            if keep {
                self.remaining -= 1;
                return Some(i);
            }
        }
        None
    }
}

/// Writes the series key of combination `index` of `spec` into `out` (cleared first).
pub fn series_key(spec: &FieldSpec, index: u64, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&spec.measurement_key);
    let tags = &spec.tags;
    // Digit j = (index / Π_{m>j} |V_m|) mod |V_j|: the last tag varies fastest.
    for (parts, &stride) in tags.parts.iter().zip(tags.strides.iter()) {
        let digit = (index / stride) % parts.len() as u64;
        out.extend_from_slice(&parts[digit as usize]);
    }
}

/// One emitted (series key, field) pair.
#[derive(Debug, Clone, Copy)]
pub struct Pair<'a> {
    /// The series key (escaped measurement and tags).
    pub key: &'a [u8],
    /// Index into [`Plan::specs`] of the spec whose values this pair gets.
    pub spec: usize,
    /// True when this key differs from the previous pair's key (a new series).
    pub new_series: bool,
}

struct Head {
    key: Vec<u8>,
    spec: usize,
}

/// Heap order: key, then field name, then spec index (the earlier block wins duplicates).
struct Ordered<'p> {
    head: Head,
    plan: &'p Plan,
}

impl Ordered<'_> {
    fn sort_key(&self) -> (&[u8], &[u8], usize) {
        (
            &self.head.key,
            self.plan.specs[self.head.spec].field.as_bytes(),
            self.head.spec,
        )
    }
}

impl PartialEq for Ordered<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.sort_key() == other.sort_key()
    }
}
impl Eq for Ordered<'_> {}
impl PartialOrd for Ordered<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ordered<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

/// Walks the merged pairs of a plan without producing values.
pub struct SeriesWalker<'p> {
    plan: &'p Plan,
    walks: Vec<Combinations>,
    heap: BinaryHeap<Reverse<Ordered<'p>>>,
    last_key: Vec<u8>,
    last_spec: Option<usize>,
    remaining: u64,
    spare: Vec<Vec<u8>>,
}

impl std::fmt::Debug for SeriesWalker<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeriesWalker")
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

impl<'p> SeriesWalker<'p> {
    /// Starts walking `plan`.
    pub fn new(plan: &'p Plan) -> SeriesWalker<'p> {
        let mut walker = SeriesWalker {
            plan,
            walks: plan.specs.iter().map(Combinations::new).collect(),
            heap: BinaryHeap::with_capacity(plan.specs.len()),
            last_key: Vec::new(),
            last_spec: None,
            remaining: plan.series_limit.unwrap_or(u64::MAX),
            spare: Vec::new(),
        };
        for spec in 0..plan.specs.len() {
            walker.advance(spec, Vec::new());
        }
        walker
    }

    /// Pushes spec's next pair (if any) onto the heap, reusing `buffer` for its key.
    fn advance(&mut self, spec: usize, mut buffer: Vec<u8>) {
        match self.walks[spec].next() {
            Some(index) => {
                series_key(&self.plan.specs[spec], index, &mut buffer);
                self.heap.push(Reverse(Ordered {
                    head: Head { key: buffer, spec },
                    plan: self.plan,
                }));
            }
            None => self.spare.push(buffer),
        }
    }

    /// The next pair, or `None` when the plan is exhausted or the top-level limit reached.
    pub fn next_pair(&mut self) -> Option<Pair<'_>> {
        loop {
            if self.remaining == 0 {
                return None;
            }
            let Reverse(Ordered { head, .. }) = self.heap.pop()?;
            let spec = head.spec;
            let same_key = self.last_spec.is_some() && head.key == self.last_key;
            let duplicate = same_key
                && self
                    .last_spec
                    .is_some_and(|last| self.plan.specs[last].field == self.plan.specs[spec].field);
            // Keep the emitted key in `last_key`; the old buffer goes back to the spec.
            let old = std::mem::replace(&mut self.last_key, head.key);
            self.advance(spec, old);
            if duplicate {
                continue;
            }
            self.last_spec = Some(spec);
            self.remaining -= 1;
            return Some(Pair {
                key: &self.last_key,
                spec,
                new_series: !same_key,
            });
        }
    }
}
