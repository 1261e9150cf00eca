//! P2/P3/P10/P11: random workloads and random expressions give the same sets of tag sets as a
//! naive model (a map of tag sets), for both policies; the roaring baseline of the benchmarks is
//! checked the same way.

#[path = "../benches/support/baseline.rs"]
mod baseline;

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use tsmdb_index_grid::{AdaptivePolicy, Expr, Index, Inserted, MultiplierPolicy, Policy, SeriesId};

type Tags = Vec<(Vec<u8>, Vec<u8>)>;

/// The naive model: every live series of every measurement, with its id.
#[derive(Default)]
struct Naive {
    live: BTreeMap<(Vec<u8>, Tags), SeriesId>,
    ever: BTreeSet<SeriesId>,
}

impl Naive {
    fn matching(&self, m: &[u8], e: &Expr) -> BTreeSet<Tags> {
        self.live
            .keys()
            .filter(|(name, _)| name == m)
            .filter(|(_, t)| {
                let b: Vec<(&[u8], &[u8])> = t.iter().map(|(k, v)| (&k[..], &v[..])).collect();
                e.matches(&b)
            })
            .map(|(_, t)| t.clone())
            .collect()
    }
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u8, Vec<(u8, u8)>),
    Delete(usize),
    DeleteWhere(u8, ExprSpec),
}

#[derive(Debug, Clone)]
enum ExprSpec {
    Eq(u8, u8),
    Neq(u8, u8),
    Re(u8, u8),
    NotRe(u8, u8),
    Exists(u8),
    NotExists(u8),
    And(Vec<ExprSpec>),
    Or(Vec<ExprSpec>),
}

const KEYS: [&str; 6] = ["a", "b", "c", "d", "e", "zz"];
const REGEXES: [&str; 6] = ["^1", "x*", "^$", "0|2", "[13]$", "^u"];

fn value(v: u8) -> Vec<u8> {
    match v {
        0 => Vec::new(),
        1..=6 => (v - 1).to_string().into_bytes(),
        // a high-cardinality tail, UUID-like
        _ => format!("u{v:03}").into_bytes(),
    }
}

fn build(s: &ExprSpec) -> Expr {
    let k = |k: &u8| KEYS[*k as usize % KEYS.len()].as_bytes().to_vec();
    match s {
        ExprSpec::Eq(a, v) => Expr::eq(k(a), value(*v)),
        ExprSpec::Neq(a, v) => Expr::neq(k(a), value(*v)),
        ExprSpec::Re(a, r) => Expr::regex(k(a), REGEXES[*r as usize % REGEXES.len()]).unwrap(),
        ExprSpec::NotRe(a, r) => {
            Expr::not_regex(k(a), REGEXES[*r as usize % REGEXES.len()]).unwrap()
        }
        ExprSpec::Exists(a) => Expr::exists(k(a)),
        ExprSpec::NotExists(a) => Expr::not_exists(k(a)),
        ExprSpec::And(c) => Expr::And(c.iter().map(build).collect()),
        ExprSpec::Or(c) => Expr::Or(c.iter().map(build).collect()),
    }
}

fn expr_spec() -> impl Strategy<Value = ExprSpec> {
    let leaf = prop_oneof![
        (0..6u8, 0..40u8).prop_map(|(k, v)| ExprSpec::Eq(k, v)),
        (0..6u8, 0..40u8).prop_map(|(k, v)| ExprSpec::Neq(k, v)),
        (0..6u8, 0..6u8).prop_map(|(k, r)| ExprSpec::Re(k, r)),
        (0..6u8, 0..6u8).prop_map(|(k, r)| ExprSpec::NotRe(k, r)),
        (0..6u8).prop_map(ExprSpec::Exists),
        (0..6u8).prop_map(ExprSpec::NotExists),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(ExprSpec::And),
            prop::collection::vec(inner, 0..3).prop_map(ExprSpec::Or),
        ]
    })
}

/// Tag sets: partial key sets over a..e; values mostly low-cardinality, sometimes unique.
fn tagset() -> impl Strategy<Value = Vec<(u8, u8)>> {
    prop::collection::vec(
        (
            0..5u8,
            prop_oneof![4 => 1..7u8, 1 => 7..200u8, 1 => Just(0u8)],
        ),
        0..5,
    )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..3u8, tagset()).prop_map(|(m, t)| Op::Insert(m, t)),
        1 => any::<usize>().prop_map(Op::Delete),
        1 => (0..3u8, expr_spec()).prop_map(|(m, e)| Op::DeleteWhere(m, e)),
    ]
}

fn name(m: u8) -> Vec<u8> {
    format!("m{m}").into_bytes()
}

fn policies() -> Vec<Policy> {
    vec![
        Policy::default(),
        // tiny probes and samples so that hybrid grids, growth and the cost guard all happen
        Policy::Adaptive(AdaptivePolicy {
            probe_rows: 3,
            plan_sample: 16,
            sparse_cardinality: 5,
            min_density: 0.3,
            ..Default::default()
        }),
        // tiny shared segments: many key sets per segment, chains, keys joining the union
        Policy::Adaptive(AdaptivePolicy {
            probe_rows: 2,
            shared_rows: 5,
            plan_sample: 16,
            ..Default::default()
        }),
        // no shared segments: a probe segment per key set (format versions 1 and 2)
        Policy::Adaptive(AdaptivePolicy {
            probe_rows: 3,
            shared_rows: 0,
            plan_sample: 16,
            ..Default::default()
        }),
        Policy::Multiplier(MultiplierPolicy::new(2, 2)),
    ]
}

fn check_all(ix: &Index, naive: &Naive, queries: &[ExprSpec]) {
    for m in 0..3u8 {
        let mut exprs: Vec<Expr> = queries.iter().map(build).collect();
        exprs.push(Expr::all());
        for e in &exprs {
            let got = ix.query(&name(m), e);
            let mut sets = BTreeSet::new();
            for id in got.iter() {
                let k = ix.tags_of(id).expect("returned ids are live");
                assert_eq!(k.measurement, name(m));
                assert!(sets.insert(k.tags), "duplicate tag set in result");
            }
            assert_eq!(sets, naive.matching(&name(m), e), "query {e:?} on m{m}");
        }
    }
    // listings
    let mut ms: Vec<Vec<u8>> = naive.live.keys().map(|k| k.0.clone()).collect();
    ms.dedup();
    assert_eq!(ix.measurements(), ms);
    for m in 0..3u8 {
        let mut keys = BTreeSet::new();
        let mut values: BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>> = BTreeMap::new();
        for (n, t) in naive.live.keys() {
            if *n == name(m) {
                for (k, v) in t {
                    keys.insert(k.clone());
                    values.entry(k.clone()).or_default().insert(v.clone());
                }
            }
        }
        assert_eq!(ix.tag_keys(&name(m)), keys.into_iter().collect::<Vec<_>>());
        for k in KEYS {
            let want: Vec<Vec<u8>> = values
                .get(k.as_bytes())
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default();
            assert_eq!(ix.tag_values(&name(m), k.as_bytes()), want);
        }
    }
    // inverse and lookup
    for ((n, t), id) in &naive.live {
        let k = ix.tags_of(*id).unwrap();
        assert_eq!((&k.measurement, &k.tags), (n, t));
        let b: Vec<(&[u8], &[u8])> = t.iter().map(|(k, v)| (&k[..], &v[..])).collect();
        assert_eq!(ix.lookup(n, &b).unwrap(), Some(*id));
    }
}

fn run(policy: Policy, ops: &[Op], queries: &[ExprSpec]) {
    let ix = Index::new(policy);
    let mut base = baseline::Baseline::new();
    let mut naive = Naive::default();
    let mut order: Vec<SeriesId> = Vec::new();
    for op in ops {
        match op {
            Op::Insert(m, t) => {
                let mut seen = BTreeSet::new();
                let tags: Vec<(Vec<u8>, Vec<u8>)> = t
                    .iter()
                    .filter(|(k, _)| seen.insert(*k))
                    .map(|(k, v)| (KEYS[*k as usize].as_bytes().to_vec(), value(*v)))
                    .collect();
                let b: Vec<(&[u8], &[u8])> = tags.iter().map(|(k, v)| (&k[..], &v[..])).collect();
                let (id, how) = match ix.insert(&name(*m), &b) {
                    Ok(x) => x,
                    // the compatibility policy can legitimately run out of grid capacity
                    Err(tsmdb_index_grid::Error::CapacityOverflow(_)) if policy.is_compat() => {
                        continue;
                    }
                    Err(e) => panic!("insert failed: {e}"),
                };
                base.insert(&name(*m), &b);
                let mut canon: Tags = tags.iter().filter(|t| !t.1.is_empty()).cloned().collect();
                canon.sort();
                let key = (name(*m), canon);
                match naive.live.get(&key) {
                    Some(&old) => {
                        assert_eq!((old, how), (id, Inserted::Existed));
                    }
                    None => {
                        assert_eq!(how, Inserted::Inserted);
                        assert!(naive.ever.insert(id), "id {id} reused");
                        naive.live.insert(key, id);
                        order.push(id);
                    }
                }
                // input order is irrelevant (P4)
                let mut rev = b.clone();
                rev.reverse();
                assert_eq!(ix.insert(&name(*m), &rev).unwrap(), (id, Inserted::Existed));
            }
            Op::Delete(i) => {
                if order.is_empty() {
                    continue;
                }
                let id = order[i % order.len()];
                let was_live = naive.live.values().any(|&x| x == id);
                if let Some(k) = ix.tags_of(id) {
                    let b: Vec<(&[u8], &[u8])> =
                        k.tags.iter().map(|(k, v)| (&k[..], &v[..])).collect();
                    if let Some(bid) = base.lookup(&k.measurement, &b) {
                        base.delete(bid);
                    }
                }
                assert_eq!(ix.delete(id).unwrap(), was_live);
                naive.live.retain(|_, v| *v != id);
            }
            Op::DeleteWhere(m, e) => {
                let e = build(e);
                let want = naive.matching(&name(*m), &e);
                for bid in base.query(&name(*m), &e).iter() {
                    base.delete(bid);
                }
                let n = ix.delete_where(&name(*m), &e).unwrap();
                assert_eq!(n as usize, want.len());
                naive
                    .live
                    .retain(|(mm, t), _| !(mm == &name(*m) && want.contains(t)));
            }
        }
    }
    check_all(&ix, &naive, queries);
    // the baseline answers the same, before and after its own serialisation round trip
    let reloaded = baseline::Baseline::from_bytes(&base.to_bytes()).expect("baseline image");
    for base in [&base, &reloaded] {
        for m in 0..3u8 {
            for q in queries {
                let e = build(q);
                let got: BTreeSet<Tags> = base
                    .query(&name(m), &e)
                    .iter()
                    .map(|id| base.tags_of(id).unwrap().1)
                    .collect();
                assert_eq!(got, naive.matching(&name(m), &e), "baseline query {e:?}");
            }
        }
        for (n, t) in naive.live.keys() {
            let b: Vec<(&[u8], &[u8])> = t.iter().map(|(k, v)| (&k[..], &v[..])).collect();
            let id = base
                .lookup(n, &b)
                .expect("baseline finds every live series");
            assert_eq!(base.tags_of(id).unwrap(), (n.clone(), t.clone()));
        }
    }
    // persistence round trip: identical answers and byte-identical image
    let bytes = ix.to_bytes();
    let back = Index::from_bytes(&bytes).unwrap();
    assert_eq!(back.to_bytes(), bytes);
    check_all(&back, &naive, queries);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn grid_matches_naive_model(
        ops in prop::collection::vec(op(), 0..160),
        queries in prop::collection::vec(expr_spec(), 1..12),
    ) {
        for p in policies() {
            run(p, &ops, &queries);
        }
    }
}

#[test]
fn full_permutation_and_diagonal_workloads() {
    let mut ops = Vec::new();
    for a in 1..5u8 {
        for b in 1..5u8 {
            for c in 1..5u8 {
                ops.push(Op::Insert(0, vec![(0, a), (1, b), (2, c)]));
            }
        }
    }
    for i in 7..60u8 {
        ops.push(Op::Insert(1, vec![(0, i), (1, i), (2, i), (3, i)]));
    }
    for i in 0..20 {
        ops.push(Op::Delete(i * 3));
    }
    ops.push(Op::Insert(2, vec![]));
    let queries = vec![
        ExprSpec::Eq(0, 2),
        ExprSpec::And(vec![ExprSpec::Eq(0, 2), ExprSpec::Eq(2, 3)]),
        ExprSpec::And(vec![ExprSpec::Eq(0, 2), ExprSpec::Eq(0, 3)]),
        ExprSpec::Re(1, 0),
        ExprSpec::NotRe(3, 1),
        ExprSpec::Neq(5, 1),
        ExprSpec::Or(vec![ExprSpec::Eq(1, 9), ExprSpec::NotExists(3)]),
    ];
    for p in policies() {
        run(p, &ops, &queries);
    }
}

/// Dense dimensions answer from their per-coordinate postings (few coordinates) or from word
/// masks (many coordinates covering much of the grid: `!=`, broad regexes); both must agree
/// with the naive filter, before and after deletes and a snapshot round trip (which rebuilds
/// the postings). A dense key of 24 values makes both paths happen; regexes on the sparse host
/// key match every, most, few and no values.
#[test]
fn dense_postings_and_masks_agree_with_naive() {
    let ix = Index::new(Policy::default());
    let mut all: Vec<Tags> = Vec::new();
    for i in 0..6000u32 {
        let t: Tags = vec![
            (b"env".to_vec(), format!("e{}", (i / 24) % 3).into_bytes()),
            (b"host".to_vec(), format!("h{i}").into_bytes()),
            (b"svc".to_vec(), format!("s{}", (i * 7) % 24).into_bytes()),
        ];
        let b: Vec<(&[u8], &[u8])> = t.iter().map(|(k, v)| (&k[..], &v[..])).collect();
        ix.insert(b"m", &b).unwrap();
        all.push(t);
    }
    let st = ix.stats();
    assert!(
        st.grids
            .iter()
            .any(|g| g.kind == tsmdb_index_grid::GridKind::Hybrid
                && g.dims.iter().any(|d| d.dense && d.capacity >= 16)),
        "the workload must create a hybrid grid with a 24-value dense dimension: {st:?}"
    );
    // delete every 5th series
    for t in all.iter().step_by(5) {
        let b: Vec<(&[u8], &[u8])> = t.iter().map(|(k, v)| (&k[..], &v[..])).collect();
        let id = ix.lookup(b"m", &b).unwrap().unwrap();
        assert!(ix.delete(id).unwrap());
    }
    let live: Vec<&Tags> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 5 != 0)
        .map(|(_, t)| t)
        .collect();
    let mut exprs = vec![
        Expr::eq("svc", "s3"),
        Expr::eq("env", "e1"),
        Expr::neq("svc", "s3"),
        Expr::regex("svc", "^s1").unwrap(),
        Expr::And(vec![Expr::eq("svc", "s5"), Expr::eq("env", "e2")]),
        Expr::And(vec![Expr::eq("svc", "s5"), Expr::eq("host", "h5")]),
        // sparse key: every value, most values (the complement is united), a few, none
        Expr::regex("host", "^h").unwrap(),
        Expr::regex("host", "^h[1-8]").unwrap(),
        Expr::regex("host", "^h1").unwrap(),
        Expr::regex("host", "^x").unwrap(),
        Expr::not_regex("host", "^h").unwrap(),
        Expr::not_regex("host", "^h[1-8]").unwrap(),
        // dense key: every value in use is no constraint
        Expr::regex("svc", "^s").unwrap(),
        Expr::And(vec![
            Expr::regex("env", "^e").unwrap(),
            Expr::regex("host", "^h2").unwrap(),
        ]),
    ];
    exprs.push(Expr::Or(vec![Expr::eq("svc", "s1"), Expr::eq("env", "e0")]));
    let back = Index::from_bytes(&ix.to_bytes()).unwrap();
    for index in [&ix, &back] {
        for e in &exprs {
            let got: BTreeSet<Tags> = index
                .query(b"m", e)
                .iter()
                .map(|id| index.tags_of(id).unwrap().tags)
                .collect();
            let want: BTreeSet<Tags> = live
                .iter()
                .filter(|t| {
                    let b: Vec<(&[u8], &[u8])> = t.iter().map(|(k, v)| (&k[..], &v[..])).collect();
                    e.matches(&b)
                })
                .map(|t| (*t).clone())
                .collect();
            assert_eq!(got, want, "{e:?}");
        }
    }
}

/// An equality answers with the index's own posting, shared: later inserts and deletes must
/// copy it, never change a result already handed out.
#[test]
fn shared_equality_results_do_not_change_after_writes() {
    let ix = Index::new(Policy::default());
    let mut ids = Vec::new();
    for i in 0..200u32 {
        let host = format!("h{i}");
        let (id, _) = ix
            .insert(b"m", &[(b"rack", b"r1"), (b"host", host.as_bytes())])
            .unwrap();
        ids.push(id);
    }
    let before = ix.query(b"m", &Expr::eq("rack", "r1"));
    let snapshot = before.to_vec();
    assert_eq!(snapshot, ids);
    for i in 200..260u32 {
        let host = format!("h{i}");
        ix.insert(b"m", &[(b"rack", b"r1"), (b"host", host.as_bytes())])
            .unwrap();
    }
    for id in &ids[..50] {
        assert!(ix.delete(*id).unwrap());
    }
    assert_eq!(before.to_vec(), snapshot, "a held result changed");
    let after = ix.query(b"m", &Expr::eq("rack", "r1"));
    assert_eq!(after.len(), 210);
    assert!(ids[..50].iter().all(|id| !after.contains(*id)));
    // a value held by one grid, and one held by none
    assert_eq!(
        ix.query(b"m", &Expr::eq("host", "h77")).to_vec(),
        vec![ids[77]]
    );
    assert!(ix.query(b"m", &Expr::eq("host", "h7")).is_empty());
    assert!(ix.query(b"m", &Expr::eq("host", "nope")).is_empty());
    let both = Expr::And(vec![Expr::eq("host", "h77"), Expr::eq("host", "h78")]);
    assert!(ix.query(b"m", &both).is_empty());
    // intersections: a posting with itself, a bitmap with a single series, two bitmaps
    let twice = Expr::And(vec![Expr::eq("rack", "r1"), Expr::eq("rack", "r1")]);
    assert_eq!(ix.query(b"m", &twice), after);
    let one = Expr::And(vec![Expr::eq("rack", "r1"), Expr::eq("host", "h80")]);
    assert_eq!(ix.query(b"m", &one).to_vec(), vec![ids[80]]);
    ix.insert(b"m", &[(b"rack", b"r2"), (b"host", b"h80")])
        .unwrap();
    let rows = Expr::And(vec![Expr::eq("rack", "r2"), Expr::eq("host", "h80")]);
    assert_eq!(ix.query(b"m", &rows).len(), 1);
    assert_eq!(ix.query(b"m", &Expr::eq("host", "h80")).len(), 2);
}
