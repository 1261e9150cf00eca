//! Model-based test: random sequences of writes (duplicates, out of order, several series and
//! fields), deletes, snapshots, compactions and reopens, checked after every step against an
//! in-memory model by reading everything back.

use std::collections::BTreeMap;

use proptest::prelude::*;
use tsmdb_encoding::Column;
use tsmdb_engine::{Engine, Expr, Options, Select};
use tsmdb_lineproto::Precision;

#[derive(Debug, Clone)]
enum Op {
    /// (host, field, time, value) points written in one batch.
    Write(Vec<(u8, u8, i64, i64)>),
    /// Delete host's values in [min, max].
    Delete(u8, i64, i64),
    Snapshot,
    Compact(bool),
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => proptest::collection::vec((0u8..3, 0u8..2, 0i64..60, -5i64..5), 1..30).prop_map(Op::Write),
        1 => (0u8..3, 0i64..60, 0i64..60).prop_map(|(h, a, b)| Op::Delete(h, a.min(b), a.max(b))),
        1 => Just(Op::Snapshot),
        1 => any::<bool>().prop_map(Op::Compact),
        1 => Just(Op::Reopen),
    ]
}

type Model = BTreeMap<(String, String), BTreeMap<i64, i64>>;

fn options() -> Options {
    // Tiny blocks so that compactions merge and split blocks, two-minute shards so that data
    // spans several shards.
    Options::default()
        .background(false)
        .max_points_per_block(4)
        .shard_duration(std::time::Duration::from_nanos(40))
}

fn read_all(e: &Engine) -> Model {
    let mut out = Model::new();
    for s in e.select("db", &Select::all("m")).unwrap() {
        let Column::Integer(v) = s.values else {
            panic!("type")
        };
        let key = (
            String::from_utf8(s.series_key).unwrap(),
            String::from_utf8(s.field).unwrap(),
        );
        out.insert(key, s.timestamps.into_iter().zip(v).collect());
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn engine_matches_a_model(ops in proptest::collection::vec(op(), 1..25)) {
        let dir = tempfile::tempdir().unwrap();
        let mut engine = Engine::open(dir.path(), options()).unwrap();
        engine.create_database("db", None).unwrap();
        let mut model = Model::new();
        for op in ops {
            match op {
                Op::Write(points) => {
                    let lp: String = points.iter().map(|(h, f, t, v)| format!("m,host=h{h} f{f}={v}i {t}\n")).collect();
                    let s = engine.write_lp("db", lp.as_bytes(), Precision::Nanosecond).unwrap();
                    prop_assert!(s.is_complete());
                    for (h, f, t, v) in points {
                        model.entry((format!("m,host=h{h}"), format!("f{f}"))).or_default().insert(t, v);
                    }
                }
                Op::Delete(h, min, max) => {
                    engine.delete("db", b"m", &Expr::eq("host", format!("h{h}")), min, max).unwrap();
                    for ((series, _), values) in model.iter_mut() {
                        if *series == format!("m,host=h{h}") {
                            values.retain(|t, _| *t < min || *t > max);
                        }
                    }
                }
                Op::Snapshot => {
                    engine.snapshot_all().unwrap();
                }
                Op::Compact(full) => {
                    engine.compact_all(full).unwrap();
                }
                Op::Reopen => {
                    drop(engine);
                    engine = Engine::open(dir.path(), options()).unwrap();
                }
            }
            model.retain(|_, v| !v.is_empty());
            prop_assert_eq!(read_all(&engine), model.clone());
        }
    }
}
