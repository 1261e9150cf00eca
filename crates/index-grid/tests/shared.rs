//! Shared sparse segments: series of many key sets in one postings segment per measurement
//! (issue 6). Checked against a naive model: lookups confirm whole tag sets (absent keys
//! included), predicates on keys some series lack, deletes, listings, persistence, and images
//! of the older format versions.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use tsmdb_index_grid::{AdaptivePolicy, Expr, GridKind, Index, Inserted, Policy, SeriesId};

type Tags = Vec<(Vec<u8>, Vec<u8>)>;

const KEYS: [&str; 6] = ["a", "b", "c", "d", "e", "f"];

/// Random partial key sets (each key absent with probability 1/`absent`), 10 values a key.
fn partial_workload(n: usize, absent: u64, seed: u64) -> Vec<Tags> {
    let mut x = seed | 1;
    let mut next = move |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let mut t = Vec::new();
        for k in KEYS {
            if next(absent) != 0 {
                t.push((k.as_bytes().to_vec(), next(10).to_string().into_bytes()));
            }
        }
        out.push(t);
    }
    out
}

fn refs(t: &Tags) -> Vec<(&[u8], &[u8])> {
    t.iter().map(|(k, v)| (&k[..], &v[..])).collect()
}

/// The live series of the model matching `e`, by the predicate semantics of spec §5.6.
fn model_ids(model: &BTreeMap<Tags, SeriesId>, e: &Expr) -> Vec<SeriesId> {
    let mut out: Vec<SeriesId> = model
        .iter()
        .filter(|(t, _)| e.matches(&refs(t)))
        .map(|(_, &id)| id)
        .collect();
    out.sort_unstable();
    out
}

fn queries() -> Vec<Expr> {
    vec![
        Expr::eq("a", "3"),
        Expr::eq("f", "0"),
        Expr::neq("b", "1"),
        Expr::exists("c"),
        Expr::not_exists("c"),
        Expr::eq("d", ""),
        Expr::neq("d", ""),
        Expr::regex("e", "^1").unwrap(),
        Expr::regex("e", "^$|2").unwrap(),
        Expr::not_regex("a", "^[0-4]").unwrap(),
        Expr::not_regex("a", "^$").unwrap(),
        Expr::And(vec![Expr::eq("a", "1"), Expr::eq("b", "2")]),
        Expr::And(vec![Expr::eq("a", "1"), Expr::not_exists("b")]),
        Expr::Or(vec![Expr::eq("c", "9"), Expr::not_exists("f")]),
        Expr::eq("zz", "1"),
        Expr::all(),
    ]
}

fn check(ix: &Index, model: &BTreeMap<Tags, SeriesId>) {
    for e in queries() {
        assert_eq!(ix.query(b"m", &e).to_vec(), model_ids(model, &e), "{e:?}");
    }
    for (t, &id) in model {
        assert_eq!(ix.lookup(b"m", &refs(t)).unwrap(), Some(id), "{t:?}");
        assert_eq!(ix.tags_of(id).unwrap().tags, *t);
    }
    let keys: BTreeSet<Vec<u8>> = model.keys().flatten().map(|(k, _)| k.clone()).collect();
    assert_eq!(ix.tag_keys(b"m"), keys.into_iter().collect::<Vec<_>>());
    for k in KEYS {
        let vals: BTreeSet<Vec<u8>> = model
            .keys()
            .flatten()
            .filter(|(kk, _)| kk == k.as_bytes())
            .map(|(_, v)| v.clone())
            .collect();
        assert_eq!(
            ix.tag_values(b"m", k.as_bytes()),
            vals.into_iter().collect::<Vec<_>>()
        );
    }
}

/// Many key sets share segments (a small probe chains several, keys join the union as they
/// appear); deletes and re-inserts never bring an id back; the image round-trips.
#[test]
fn mixed_key_sets_share_segments() {
    let policy = Policy::Adaptive(AdaptivePolicy {
        probe_rows: 2,
        shared_rows: 300,
        ..AdaptivePolicy::default()
    });
    let ix = Index::new(policy);
    let mut model: BTreeMap<Tags, SeriesId> = BTreeMap::new();
    let mut ever = BTreeSet::new();
    // a key set without `f` first: `f` joins the open segment's union later
    let first: Tags = vec![(b"a".to_vec(), b"1".to_vec())];
    let series = std::iter::once(first).chain(partial_workload(3000, 3, 7));
    for (i, t) in series.enumerate() {
        let (id, how) = ix.insert(b"m", &refs(&t)).unwrap();
        match model.get(&t) {
            Some(&old) => assert_eq!((id, how), (old, Inserted::Existed)),
            None => {
                assert_eq!(how, Inserted::Inserted);
                assert!(ever.insert(id), "id {id} handed out twice");
                model.insert(t.clone(), id);
            }
        }
        if i % 5 == 0 {
            assert!(ix.delete(id).unwrap());
            model.remove(&t);
        }
    }
    let st = ix.stats();
    // series of at least 30 key sets sit in segments holding several key sets each
    let shared = st
        .grids
        .iter()
        .filter(|g| g.kind == GridKind::Shared && g.dims.len() == KEYS.len())
        .count();
    assert!(shared >= 2, "{st:?}");
    check(&ix, &model);
    // re-inserting deleted series gives new ids
    for t in partial_workload(200, 3, 99) {
        let (id, _) = ix.insert(b"m", &refs(&t)).unwrap();
        if let Entry::Vacant(e) = model.entry(t) {
            assert!(ever.insert(id), "id {id} came back");
            e.insert(id);
        }
    }
    check(&ix, &model);
    let bytes = ix.to_bytes();
    assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 3);
    let back = Index::from_bytes(&bytes).unwrap();
    assert_eq!(back.to_bytes(), bytes);
    check(&back, &model);
    // the loaded index keeps placing and deleting like the original
    for t in partial_workload(300, 2, 5) {
        let a = ix.insert(b"m", &refs(&t)).unwrap();
        assert_eq!(back.insert(b"m", &refs(&t)).unwrap(), a);
        if let Entry::Vacant(e) = model.entry(t) {
            assert!(ever.insert(a.0), "id {} came back", a.0);
            e.insert(a.0);
        }
    }
    let victims: Vec<(Tags, SeriesId)> = model
        .iter()
        .step_by(3)
        .map(|(t, &id)| (t.clone(), id))
        .collect();
    for (t, id) in victims {
        assert!(ix.delete(id).unwrap() && back.delete(id).unwrap());
        model.remove(&t);
    }
    assert_eq!(back.to_bytes(), ix.to_bytes());
    check(&back, &model);
}

/// A key set moves to grids of its own once its probe is full and the policy finds a dense
/// key; its probe series stay found in the shared segment.
#[test]
fn a_dense_key_set_leaves_the_shared_segment() {
    let ix = Index::default();
    let mut ids = Vec::new();
    for i in 0..2000u32 {
        let a = (i % 7).to_string();
        let b = (i / 7 % 11).to_string();
        let c = i.to_string();
        let t: Vec<(&[u8], &[u8])> = vec![
            (b"a", a.as_bytes()),
            (b"b", b.as_bytes()),
            (b"c", c.as_bytes()),
        ];
        ids.push(ix.insert(b"m", &t).unwrap().0);
        // a rare key set that stays in the shared segment
        if i % 100 == 0 {
            ix.insert(b"m", &[(b"z", c.as_bytes())]).unwrap();
        }
    }
    let st = ix.stats();
    assert!(
        st.grids.iter().any(|g| g.dims.iter().any(|d| d.dense)),
        "{st:?}"
    );
    assert_eq!(st.grids[0].kind, GridKind::Shared);
    assert_eq!(st.grids[0].live, 64 + 20, "{st:?}");
    for (i, id) in ids.iter().enumerate() {
        let k = ix.tags_of(*id).unwrap();
        assert_eq!(k.tags[2].1, i.to_string().into_bytes());
    }
    assert_eq!(ix.query(b"m", &Expr::exists("z")).len(), 20);
    let threes = (0..2000u32).filter(|i| i % 7 == 3).count() as u64;
    assert_eq!(ix.query(b"m", &Expr::eq("a", "3")).len(), threes);
    assert_eq!(ix.query(b"m", &Expr::not_exists("a")).len(), 20);
}

/// Images of format versions 1 and 2 (fuzz seeds written by those versions) still open, are
/// rewritten as version 3 with the same series, and take new series.
#[test]
fn older_images_still_open() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/seeds/read_index/");
    for (name, version) in [("adaptive", 1), ("adaptive_v2", 2), ("compat_v2", 2)] {
        let old = std::fs::read(format!("{dir}{name}")).unwrap();
        assert_eq!(u16::from_le_bytes([old[8], old[9]]), version, "{name}");
        let ix = Index::from_bytes(&old).unwrap();
        let now = ix.to_bytes();
        assert_eq!(u16::from_le_bytes([now[8], now[9]]), 3);
        let back = Index::from_bytes(&now).unwrap();
        assert_eq!(back.to_bytes(), now);
        for m in ix.measurements() {
            assert!(!ix.series(&m).is_empty());
            assert_eq!(back.series(&m), ix.series(&m));
            for (id, tags) in ix.series(&m) {
                assert_eq!(ix.lookup(&m, &refs(&tags)).unwrap(), Some(id));
            }
            let (id, how) = back.insert(&m, &[(b"new", b"1")]).unwrap();
            assert_eq!(how, Inserted::Inserted);
            assert_eq!(
                back.tags_of(id).unwrap().tags,
                vec![(b"new".to_vec(), b"1".to_vec())]
            );
        }
    }
}

/// A key every series of a segment has is answered as in any postings segment; once one
/// series lacks it (and after that series is deleted) the answers follow.
#[test]
fn keys_present_everywhere_and_then_not() {
    let ix = Index::default();
    for i in 0..50u32 {
        let v = i.to_string();
        ix.insert(b"m", &[(b"k", v.as_bytes()), (b"x", v.as_bytes())])
            .unwrap();
    }
    let count = |e: Expr| ix.query(b"m", &e).len();
    assert_eq!(count(Expr::exists("k")), 50);
    assert_eq!(count(Expr::not_exists("k")), 0);
    assert_eq!(count(Expr::neq("k", "3")), 49);
    assert_eq!(count(Expr::regex("k", "^$|^1").unwrap()), 11);
    let (lone, _) = ix.insert(b"m", &[(b"x", b"lone")]).unwrap();
    assert_eq!(count(Expr::exists("k")), 50);
    assert_eq!(count(Expr::not_exists("k")), 1);
    assert_eq!(count(Expr::neq("k", "3")), 50);
    assert_eq!(count(Expr::regex("k", "^$|^1").unwrap()), 12);
    assert!(ix.delete(lone).unwrap());
    assert_eq!(count(Expr::not_exists("k")), 0);
    assert_eq!(count(Expr::regex("k", "^$|^1").unwrap()), 11);
    let back = Index::from_bytes(&ix.to_bytes()).unwrap();
    assert_eq!(back.query(b"m", &Expr::not_exists("k")).len(), 0);
    assert_eq!(back.query(b"m", &Expr::exists("x")).len(), 50);
}

/// A series whose key set equals a shared segment's key union (the union grew to exactly its
/// keys) is found again: the union is no series' key set, so it is never taken for the
/// series' shape (the differential proptest's minimal case after the merge of the shared
/// segments with the few-shapes lookup by key comparison).
#[test]
fn a_key_set_equal_to_the_union_is_found_again() {
    let ix = Index::new(Policy::default());
    let one: Vec<(&[u8], &[u8])> = vec![(b"k2", b"v1")];
    let two: Vec<(&[u8], &[u8])> = vec![(b"k2", b"v1"), (b"k3", b"v1")];
    let (a, how) = ix.insert(b"m", &one).unwrap();
    assert_eq!(how, Inserted::Inserted);
    let (b, how) = ix.insert(b"m", &two).unwrap();
    assert_eq!(how, Inserted::Inserted);
    assert_ne!(a, b);
    assert_eq!(ix.insert(b"m", &two).unwrap(), (b, Inserted::Existed));
    let rev: Vec<(&[u8], &[u8])> = two.iter().rev().copied().collect();
    assert_eq!(ix.insert(b"m", &rev).unwrap(), (b, Inserted::Existed));
    assert_eq!(ix.lookup(b"m", &two).unwrap(), Some(b));
    assert_eq!(ix.insert(b"m", &one).unwrap(), (a, Inserted::Existed));
    assert_eq!(ix.len(), 2);
}
