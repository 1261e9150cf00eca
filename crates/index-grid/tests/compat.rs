//! Spec §3 test vectors (compatibility policy) and the §5.4 adaptive reference vector.

use tsmdb_index_grid::{
    AdaptivePolicy, Error, Expr, GridKind, Index, Inserted, MultiplierPolicy, Policy, SeriesId,
};

fn compat(base: u32, mult: u32) -> Index {
    Index::new(Policy::Multiplier(MultiplierPolicy::new(base, mult)))
}

fn owned(pairs: &[(&str, String)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    pairs
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

fn insert(ix: &Index, tags: &[(Vec<u8>, Vec<u8>)]) -> Result<(SeriesId, Inserted), Error> {
    let t: Vec<(&[u8], &[u8])> = tags.iter().map(|(k, v)| (&k[..], &v[..])).collect();
    ix.insert(b"m", &t)
}

fn example(s: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    owned(&[
        ("a", format!("0{s}")),
        ("b", format!("1{s}")),
        ("c", format!("2{s}")),
        ("d", format!("3{s}")),
    ])
}

fn diagonal(n: usize, m: usize) -> Vec<Vec<(Vec<u8>, Vec<u8>)>> {
    (0..m)
        .map(|i| {
            (0..n)
                .map(|k| (vec![b'a' + k as u8], i.to_string().into_bytes()))
                .collect()
        })
        .collect()
}

fn full_perm(n: usize, m: usize) -> Vec<Vec<(Vec<u8>, Vec<u8>)>> {
    let total = m.pow(n as u32);
    (0..total)
        .map(|mut i| {
            let mut digits = vec![0; n];
            for d in digits.iter_mut().rev() {
                *d = i % m;
                i /= m;
            }
            digits
                .iter()
                .enumerate()
                .map(|(k, d)| (vec![b'a' + k as u8], d.to_string().into_bytes()))
                .collect()
        })
        .collect()
}

#[test]
fn init_and_get_series_id() {
    let ix = compat(10, 1);
    assert_eq!(
        insert(&ix, &example("0")).unwrap(),
        (SeriesId(1), Inserted::Inserted)
    );
    assert_eq!(
        insert(&ix, &example("0")).unwrap(),
        (SeriesId(1), Inserted::Existed)
    );
    assert_eq!(
        insert(&ix, &example("1")).unwrap(),
        (SeriesId(1112), Inserted::Inserted)
    );
    assert_eq!(
        insert(&ix, &example("1")).unwrap(),
        (SeriesId(1112), Inserted::Existed)
    );
    let mixed = owned(&[
        ("a", "02".into()),
        ("b", "12".into()),
        ("c", "21".into()),
        ("d", "32".into()),
    ]);
    assert_eq!(insert(&ix, &mixed).unwrap().0, SeriesId(2213));
    let hits = ix.query(b"m", &Expr::eq("c", "21"));
    assert_eq!(hits.to_vec(), vec![SeriesId(1112), SeriesId(2213)]);
    let e2 = Expr::And(
        example("2")
            .into_iter()
            .map(|(k, v)| Expr::eq(k, v))
            .collect(),
    );
    assert!(!ix.query(b"m", &e2).contains(SeriesId(1112)));
}

fn ids_of(ix: &Index, series: &[Vec<(Vec<u8>, Vec<u8>)>]) -> Vec<u64> {
    series.iter().map(|s| insert(ix, s).unwrap().0.0).collect()
}

#[test]
fn multi_grid() {
    let ix = compat(2, 1);
    let mut ids = ids_of(&ix, &diagonal(2, 5));
    ids.extend(ids_of(&ix, &diagonal(3, 2)));
    assert_eq!(ids, vec![1, 4, 5, 8, 9, 13, 20]);
}

#[test]
fn multi_grid_with_multiplier() {
    let ix = compat(2, 2);
    let mut ids = ids_of(&ix, &diagonal(2, 5));
    ids.extend(ids_of(&ix, &diagonal(3, 2)));
    assert_eq!(ids, vec![1, 4, 5, 10, 15, 21, 32]);
}

#[test]
fn multi_grid_with_multiplier_exact_queries() {
    // cycledb allocates a 16^10-point fourth grid here; ours caps grids at 2^32 points, so the
    // series that would need it fail with CapacityOverflow instead of aliasing ids
    let ix = compat(2, 2);
    let mut placed = 0;
    for s in &diagonal(10, 20) {
        match insert(&ix, s) {
            Ok((id, _)) => {
                let e = Expr::And(
                    s.iter()
                        .map(|(k, v)| Expr::eq(k.clone(), v.clone()))
                        .collect(),
                );
                assert_eq!(ix.query(b"m", &e).to_vec(), vec![id]);
                placed += 1;
            }
            Err(Error::CapacityOverflow(_)) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(
        placed, 14,
        "grids of 2^10, 4^10 and 8^10 points hold series 0..14"
    );
}

#[test]
fn encode_grid_example() {
    // grid at offset 10, cpu × memory, capacity 5 each: seeded (cpu=1, memory=16G) at (0,0),
    // (cpu=2, memory=32G) lands at (1,1) = 10 + 5 + 1
    let ix = compat(5, 1);
    // reach offset 10 with a one-key grid of 5 points and a throwaway 4-point... instead: a
    // 9-point prefix is not reachable with capacity 5, so check the arithmetic relative to base
    let (a, _) = ix
        .insert(b"m", &[(b"cpu", b"1"), (b"memory", b"16G")])
        .unwrap();
    let (b, _) = ix
        .insert(b"m", &[(b"cpu", b"2"), (b"memory", b"32G")])
        .unwrap();
    assert_eq!(b.0 - a.0, 6);
}

struct Vector {
    n: usize,
    m: usize,
    base: u32,
    mult: u32,
    grids: &'static [(u64, &'static [u32])],
    top: u64,
    last: u64,
}

fn check_vector(v: &Vector) {
    let ix = compat(v.base, v.mult);
    let series = full_perm(v.n, v.m);
    let ids = ids_of(&ix, &series);
    let st = ix.stats();
    let got: Vec<(u64, Vec<u32>)> = st
        .grids
        .iter()
        .map(|g| (g.base, g.dims.iter().map(|d| d.capacity).collect()))
        .collect();
    let want: Vec<(u64, Vec<u32>)> = v.grids.iter().map(|(b, c)| (*b, c.to_vec())).collect();
    assert_eq!(
        got, want,
        "grids of full perm {}x{} ({}, {})",
        v.n, v.m, v.base, v.mult
    );
    assert_eq!(st.next_id - 1, v.top);
    assert_eq!(*ids.last().unwrap(), v.last);
}

#[test]
fn derived_full_permutation_vectors() {
    check_vector(&Vector {
        n: 3,
        m: 10,
        base: 10,
        mult: 2,
        grids: &[(1, &[10, 10, 10])],
        top: 1000,
        last: 1000,
    });
    check_vector(&Vector {
        n: 3,
        m: 10,
        base: 2,
        mult: 2,
        grids: &[
            (1, &[2, 2, 2]),
            (9, &[2, 2, 4]),
            (25, &[2, 2, 8]),
            (57, &[2, 16, 8]),
            (313, &[2, 16, 16]),
            (825, &[64, 16, 16]),
        ],
        top: 17208,
        last: 2770,
    });
    check_vector(&Vector {
        n: 3,
        m: 4,
        base: 2,
        mult: 2,
        grids: &[
            (1, &[2, 2, 2]),
            (9, &[2, 2, 4]),
            (25, &[2, 8, 4]),
            (89, &[16, 8, 8]),
        ],
        top: 1112,
        last: 180,
    });
    check_vector(&Vector {
        n: 3,
        m: 4,
        base: 5,
        mult: 2,
        grids: &[(1, &[5, 5, 5])],
        top: 125,
        last: 94,
    });
}

#[test]
fn derived_full_perm_4x14() {
    check_vector(&Vector {
        n: 4,
        m: 14,
        base: 10,
        mult: 2,
        grids: &[
            (1, &[10, 10, 10, 10]),
            (10001, &[10, 10, 10, 20]),
            (30001, &[10, 10, 40, 20]),
            (110001, &[10, 80, 40, 20]),
            (750001, &[160, 80, 40, 20]),
        ],
        top: 10_990_000,
        last: 952_674,
    });
}

#[test]
fn diagonal_5x50_ids_beyond_2_pow_24() {
    let ix = compat(10, 2);
    let series = diagonal(5, 50);
    let ids = ids_of(&ix, &series);
    let st = ix.stats();
    let bases: Vec<u64> = st.grids.iter().map(|g| g.base).collect();
    assert_eq!(bases, vec![1, 100_001, 3_300_001]);
    assert_eq!(st.next_id - 1, 105_700_000);
    assert_eq!(*ids.last().unwrap(), 53_187_180);
    // still correct above 2^24: every id decodes to its own series
    for (s, id) in series.iter().zip(&ids) {
        let k = ix.tags_of(SeriesId(*id)).unwrap();
        assert_eq!(&k.tags, s);
    }
}

#[test]
fn diagonal_14x10_overflows() {
    let ix = compat(10, 2);
    let s = &diagonal(14, 10)[0];
    assert!(matches!(insert(&ix, s), Err(Error::CapacityOverflow(_))));
    // (2, 2): the first two grids fit, the third (8^14 points) does not
    let ix = compat(2, 2);
    let series = diagonal(14, 10);
    let mut got = Vec::new();
    for s in &series {
        match insert(&ix, s) {
            Ok((id, _)) => got.push(id.0),
            Err(Error::CapacityOverflow(_)) => break,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    let bases: Vec<u64> = ix.stats().grids.iter().map(|g| g.base).collect();
    assert_eq!(bases, vec![1, 16385]);
    assert_eq!(
        got.len(),
        6,
        "series 0..6 fit, the 7th needs the 8^14-point grid"
    );
}

#[test]
fn ids_above_2_pow_32_across_grids() {
    // grids of 2^32 points (two keys of 2^16 values) push bases past 2^32; ids stay exact
    let ix = Index::new(Policy::Multiplier(MultiplierPolicy::new(1 << 16, 2)));
    let mut ids = Vec::new();
    for i in 0..4 {
        let k = format!("k{i}");
        let l = format!("l{i}");
        let (id, _) = ix
            .insert(b"m", &[(k.as_bytes(), b"v"), (l.as_bytes(), b"w")])
            .unwrap();
        ids.push(id);
    }
    assert!(ids[3].0 > 1 << 32);
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            ix.tags_of(*id).unwrap().tags[0].0,
            format!("k{i}").into_bytes()
        );
    }
}

#[test]
fn adaptive_reference_vector() {
    let ix = Index::new(Policy::default());
    let mut ids = Vec::new();
    for i in 0..100 {
        let dc = format!("d{}", i % 2);
        let region = format!("r{}", i % 4);
        let uuid = format!("u{i:02}");
        let (id, how) = ix
            .insert(
                b"m",
                &[
                    (b"dc", dc.as_bytes()),
                    (b"region", region.as_bytes()),
                    (b"uuid", uuid.as_bytes()),
                ],
            )
            .unwrap();
        assert_eq!(how, Inserted::Inserted);
        ids.push(id.0);
    }
    // the first 64 series are the shape's probe in the measurement's shared sparse segment
    // (2^20 rows by default)
    assert_eq!(ids[..64], (1..=64).collect::<Vec<u64>>()[..]);
    // grid 2 (planned at series 64 from the 64 probe series plus it): `uuid` is an identifier
    // (sparse); `dc` is dense (2 cells of 33 and 32: grid density 65 / (2 · 2 · 33) = 0.49);
    // `region` is not: with it, 8 cells of at most 17 need 34 rows, density 65 / (8 · 34) = 0.24
    // < 0.25. Rows = 2 · 33 = 66, so series i ≥ 64 goes to cell i mod 2, row (i − 64) / 2:
    // id = 2^20 + 1 + 66 · (i mod 2) + (i − 64) / 2.
    let want = [
        (64, 1048577),
        (65, 1048643),
        (66, 1048578),
        (67, 1048644),
        (68, 1048579),
        (69, 1048645),
        (96, 1048593),
        (97, 1048659),
        (98, 1048594),
        (99, 1048660),
    ];
    for (i, id) in want {
        assert_eq!(ids[i], id, "series {i}");
    }
    let st = ix.stats();
    assert_eq!(st.next_id, 1048577 + 132);
    assert_eq!(st.grids.len(), 2);
    let g2 = &st.grids[1];
    assert_eq!((g2.base, g2.allocated, g2.row_capacity), (1048577, 132, 66));
    let dense: Vec<(&[u8], u32)> = g2
        .dims
        .iter()
        .filter(|d| d.dense)
        .map(|d| (&d.key[..], d.capacity))
        .collect();
    assert_eq!(dense, vec![(&b"dc"[..], 2)]);
    let hits = ix.query(b"m", &Expr::eq("region", "r1"));
    assert_eq!(hits.len(), 25);
    let in_g2: Vec<u64> = hits.iter().map(|i| i.0).filter(|&i| i >= 1048577).collect();
    // i ≡ 1 (mod 4), i ≥ 64: 65, 69, …, 97, all in cell 1
    assert_eq!(in_g2, (1048643..=1048659).step_by(2).collect::<Vec<u64>>());
}

/// The adaptive policy keeps a key dense only if the whole grid, rows for the sparse keys
/// included, is expected to stay at least `min_density` full. Devops-like hosts (a unique
/// hostname, low-cardinality keys, a 20-value `service`): making `service` dense split the hosts
/// into 2 × 2 × 3 × 3 × 4 × 9 × 20 cells of about two each, with rows for twice the largest
/// cell, so grids were about 0.1 full (0.089 over the 100 K-host benchmark); counting rows in
/// the decision keeps `service` sparse and the ids at least half used.
#[test]
fn adaptive_density_counts_rows() {
    let ix = Index::new(Policy::default());
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: u64| {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    };
    for i in 0..30_000u32 {
        let host = format!("host_{i}");
        let vals: Vec<String> = [2, 2, 3, 3, 4, 9, 20]
            .iter()
            .map(|&n| next(n).to_string())
            .collect();
        let keys = ["arch", "os", "region", "service", "team", "version", "zone"];
        let mut tags: Vec<(&[u8], &[u8])> = keys
            .iter()
            .zip(&vals)
            .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
            .collect();
        tags.push((b"hostname", host.as_bytes()));
        ix.insert(b"cpu", &tags).unwrap();
    }
    let st = ix.stats();
    // the grids of the key set: the shared segment holds its probe (64 series) and reserves
    // ids for the probes of every key set of the measurement
    let grids = st.grids.iter().filter(|g| g.kind != GridKind::Shared);
    let allocated: u64 = grids.clone().map(|g| g.allocated).sum();
    let live: u64 = grids.map(|g| g.live).sum();
    let density = live as f64 / allocated as f64;
    assert!(
        density >= 0.5,
        "density {density:.3} ({live} live, {allocated} allocated)"
    );
    // and the grids still make the low-cardinality keys dimensions
    assert!(
        st.grids
            .iter()
            .any(|g| g.dims.iter().filter(|d| d.dense).count() >= 4),
        "{st:?}"
    );
}

/// A full permutation inserted in nested-loop order (first key slowest) fills pure grids: the
/// plan's sample (the most recent series) is skewed to one value of the first key, which makes
/// every partial prefix need huge rows; the rows test applies to the prefix the plan keeps, and a
/// prefix of every key has none. (Found at 10^6 series with the default 65,536-series sample;
/// a 256-series sample shows it at 10^4.)
#[test]
fn full_permutation_stays_in_pure_grids() {
    let ix = Index::new(Policy::Adaptive(AdaptivePolicy {
        plan_sample: 256,
        ..AdaptivePolicy::default()
    }));
    for i in 0..10_000u32 {
        let v: Vec<String> = [1000, 100, 10, 1]
            .iter()
            .map(|d| (i / d % 10).to_string())
            .collect();
        let tags: Vec<(&[u8], &[u8])> = ["a", "b", "c", "d"]
            .iter()
            .zip(&v)
            .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
            .collect();
        ix.insert(b"m", &tags).unwrap();
    }
    let st = ix.stats();
    for g in st.grids.iter().skip(1) {
        assert_eq!(g.kind, GridKind::Pure, "{g:?}");
    }
}
