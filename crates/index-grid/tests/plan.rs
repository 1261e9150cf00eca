//! Planning from small samples (issue 6): a plan must not allocate far more points than the
//! key set has series to fill them, and a key set sharing its measurement's shared segment
//! with others leaves it only for a pure grid.

use tsmdb_index_grid::{GridKind, Index, Policy};

const KEYS: [&str; 6] = ["a", "b", "c", "d", "e", "f"];

/// xorshift64: a fixed-seed generator.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Six keys of ten values each, every key present with probability `present` in 11.
fn insert_random(ix: &Index, n: usize, present: u64, seed: u64) {
    let mut rng = Rng(seed | 1);
    for _ in 0..n {
        let mut vals = Vec::new();
        for k in KEYS {
            if rng.below(11) < present {
                vals.push((k, rng.below(10).to_string()));
            }
        }
        if vals.is_empty() {
            continue;
        }
        let tags: Vec<(&[u8], &[u8])> = vals
            .iter()
            .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
            .collect();
        ix.insert(b"m", &tags).unwrap();
    }
}

/// Points of every grid that is not a shared segment, and the series of the index.
fn own_grids(ix: &Index) -> (Vec<(GridKind, u64, u64)>, u64) {
    let st = ix.stats();
    let grids = st
        .grids
        .iter()
        .filter(|g| g.kind != GridKind::Shared)
        .map(|g| (g.kind, g.allocated, g.live))
        .collect();
    (grids, st.live)
}

/// Six independent uniform keys, one key set: every tuple of a 65-series probe is distinct,
/// which once made all six keys look dense and gave 2,000 series a pure grid of 10^6 points.
/// A plan may now only allocate what the key set's series could fill a quarter of.
#[test]
fn small_sample_plans_no_sparse_pure_grid() {
    let ix = Index::new(Policy::default());
    insert_random(&ix, 2000, 11, 7);
    let (grids, live) = own_grids(&ix);
    assert!(
        !grids.is_empty(),
        "the single key set leaves the shared segment"
    );
    for (kind, allocated, _) in &grids {
        assert!(
            *allocated <= 8 * live,
            "{kind:?} grid of {allocated} points for {live} series: {grids:?}"
        );
    }
}

/// Random partial key sets at 10^4 series: the full key set (about half the series) shares
/// the segment with 63 others and cannot fill a pure grid of 10^6 points; it stays in the
/// shared segment, where a two-tag query is one intersection of two postings.
#[test]
fn partial_key_sets_stay_shared_until_pure() {
    let ix = Index::new(Policy::default());
    insert_random(&ix, 10_000, 10, 11);
    let (grids, live) = own_grids(&ix);
    for (kind, allocated, _) in &grids {
        assert_eq!(*kind, GridKind::Pure, "{grids:?}");
        assert!(*allocated <= 8 * live, "{grids:?}");
    }
}

/// A dense key set still gets its pure grid once its series can fill it: the whole
/// permutation of 4 keys x 10 values, inserted at random, ends in pure grids holding most of
/// its series.
#[test]
fn dense_key_set_still_gets_pure_grids() {
    let ix = Index::new(Policy::default());
    let mut order: Vec<u32> = (0..10_000).collect();
    let mut rng = Rng(3);
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    for i in order {
        let v: Vec<String> = [1000, 100, 10, 1]
            .iter()
            .map(|d| (i / d % 10).to_string())
            .collect();
        let tags: Vec<(&[u8], &[u8])> = KEYS
            .iter()
            .zip(&v)
            .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
            .collect();
        ix.insert(b"m", &tags).unwrap();
    }
    let (grids, live) = own_grids(&ix);
    assert_eq!(live, 10_000);
    let in_pure: u64 = grids
        .iter()
        .filter(|g| g.0 == GridKind::Pure)
        .map(|g| g.2)
        .sum();
    assert!(
        in_pure * 2 >= live,
        "{in_pure} of {live} in pure grids: {grids:?}"
    );
}
