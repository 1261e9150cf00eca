//! P13: concurrent inserts of overlapping workloads while others query; each series gets exactly
//! one id, and the final state answers like a sequential build.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread;

use tsmdb_index_grid::{Expr, Index, Policy, SeriesId};

fn diagonal(i: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..10)
        .map(|k| (vec![b'a' + k as u8], i.to_string().into_bytes()))
        .collect()
}

fn series(i: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    // diagonal(10, 20) as in cycledb's test, plus a dense and a sparse tail
    if i < 20 {
        diagonal(i)
    } else {
        vec![
            (b"host".to_vec(), format!("h{i}").into_bytes()),
            (b"zone".to_vec(), format!("z{}", i % 5).into_bytes()),
        ]
    }
}

#[test]
fn concurrent_inserts_assign_one_id_per_series() {
    for policy in [
        Policy::default(),
        Policy::Multiplier(tsmdb_index_grid::MultiplierPolicy::new(4, 2)),
    ] {
        let n = 600;
        let ix = Arc::new(Index::new(policy));
        let mut handles = Vec::new();
        for w in 0..4usize {
            let ix = ix.clone();
            handles.push(thread::spawn(move || {
                let mut got = BTreeMap::new();
                // writers 0 and 1 insert everything, 2 and 3 every second series, in
                // different orders
                let step = if w < 2 { 1 } else { 2 };
                let mut order: Vec<usize> = (0..n).step_by(step).collect();
                if w % 2 == 1 {
                    order.reverse();
                }
                for i in order {
                    let s = series(i);
                    let t: Vec<(&[u8], &[u8])> = s.iter().map(|(k, v)| (&k[..], &v[..])).collect();
                    match ix.insert(b"m", &t) {
                        Ok((id, _)) => {
                            got.insert(i, id);
                        }
                        // (4, 2) cannot hold all of diagonal(10, _): overflow, never a wrap
                        Err(tsmdb_index_grid::Error::CapacityOverflow(_)) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
                got
            }));
        }
        for _ in 0..2 {
            let ix = ix.clone();
            handles.push(thread::spawn(move || {
                for r in 0..200 {
                    let q = Expr::eq("zone", format!("z{}", r % 5));
                    for id in ix.query(b"m", &q).iter() {
                        // every id a query returns decodes to a series that matches
                        let k = ix.tags_of(id).expect("live");
                        assert!(
                            k.tags
                                .iter()
                                .any(|(k, v)| k == b"zone"
                                    && *v == format!("z{}", r % 5).into_bytes())
                        );
                    }
                    let _ = ix.tag_values(b"m", b"zone");
                }
                BTreeMap::new()
            }));
        }
        let maps: Vec<BTreeMap<usize, SeriesId>> =
            handles.into_iter().map(|h| h.join().unwrap()).collect();
        let mut ids: BTreeMap<usize, SeriesId> = BTreeMap::new();
        for m in &maps {
            for (i, id) in m {
                if let Some(prev) = ids.insert(*i, *id) {
                    assert_eq!(prev, *id, "series {i} got two ids");
                }
            }
        }
        let mut distinct: Vec<SeriesId> = ids.values().copied().collect();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), ids.len(), "two series share an id");
        assert_eq!(ix.len() as usize, ids.len());
        for (i, id) in &ids {
            assert_eq!(ix.tags_of(*id).unwrap().tags, series(*i));
        }
        for z in 0..5 {
            let want = ids.keys().filter(|&&i| i >= 20 && i % 5 == z).count() as u64;
            assert_eq!(
                ix.query(b"m", &Expr::eq("zone", format!("z{z}"))).len(),
                want
            );
        }
    }
}
