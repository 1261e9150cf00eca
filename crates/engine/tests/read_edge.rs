//! `select_edge` and `select_columns` against the full `select`: the first and last value of
//! every key, whichever mix of shards, TSM files (several blocks, overlapping generations),
//! cache and deletes holds the data.

use std::time::Duration;

use proptest::prelude::*;
use tsmdb_engine::{Edge, Engine, Expr, Options, Select, SeriesValues};
use tsmdb_lineproto::Precision;

/// One step of a history.
#[derive(Debug, Clone)]
enum Step {
    /// Write `v` at time `t` (seconds) into host `h`'s fields a (and b when `both`).
    Write {
        h: u8,
        t: i64,
        v: i64,
        both: bool,
    },
    Snapshot,
    /// Delete host `h`'s values in `[lo, hi]` seconds.
    Delete {
        h: u8,
        lo: i64,
        hi: i64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (0u8..3, 0i64..400, -50i64..50, any::<bool>())
            .prop_map(|(h, t, v, both)| Step::Write { h, t, v, both }),
        1 => Just(Step::Snapshot),
        1 => (0u8..3, 0i64..400, 0i64..100).prop_map(|(h, lo, len)| Step::Delete { h, lo, hi: lo + len }),
    ]
}

fn apply(engine: &Engine, steps: &[Step]) {
    // Consecutive writes go in one batch (one WAL sync).
    let mut batch = String::new();
    let flush = |batch: &mut String| {
        if !batch.is_empty() {
            engine
                .write_lp("db", batch.as_bytes(), Precision::Nanosecond)
                .unwrap();
            batch.clear();
        }
    };
    for s in steps {
        match s {
            Step::Write { h, t, v, both } => {
                let extra = if *both {
                    format!(",b={v}i")
                } else {
                    String::new()
                };
                batch.push_str(&format!(
                    "m,host=h{h} a={v}i{extra} {}\n",
                    t * 1_000_000_000
                ));
            }
            Step::Snapshot => {
                flush(&mut batch);
                engine.snapshot_all().unwrap();
            }
            Step::Delete { h, lo, hi } => {
                flush(&mut batch);
                engine
                    .delete(
                        "db",
                        b"m",
                        &Expr::eq("host", format!("h{h}")),
                        lo * 1_000_000_000,
                        hi * 1_000_000_000,
                    )
                    .unwrap();
            }
        }
    }
    flush(&mut batch);
}

/// The first or last point of each full series, in `select_edge`'s shape.
fn edges_of(full: &[SeriesValues], edge: Edge) -> Vec<SeriesValues> {
    full.iter()
        .map(|s| {
            let i = match edge {
                Edge::First => 0,
                Edge::Last => s.timestamps.len() - 1,
            };
            let tsmdb_encoding::Column::Integer(v) = &s.values else {
                panic!("integers were written")
            };
            SeriesValues {
                timestamps: vec![s.timestamps[i]],
                values: tsmdb_encoding::Column::Integer(vec![v[i]]),
                ..s.clone()
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn edges_match_the_full_read(
        steps in proptest::collection::vec(step(), 1..60),
        lo in 0i64..200,
        len in 0i64..300,
    ) {
        let dir = tempfile::tempdir().unwrap();
        // 100-second shards and 4-point blocks: the history spans shards, files and blocks.
        let options = Options::default()
            .background(false)
            .shard_duration(Duration::from_secs(100))
            .max_points_per_block(4);
        let engine = Engine::open(dir.path(), options).unwrap();
        engine.create_database("db", None).unwrap();
        apply(&engine, &steps);
        let select = Select::all("m").time_range(lo * 1_000_000_000, (lo + len) * 1_000_000_000);
        let full = engine.select("db", &select).unwrap();
        for edge in [Edge::First, Edge::Last] {
            let got = engine.select_edge("db", &select, edge).unwrap();
            prop_assert_eq!(got, edges_of(&full, edge), "{:?}", edge);
        }
        // series_with_values names exactly the series select finds.
        let mut with: Vec<Vec<u8>> = full.iter().map(|s| s.series_key.clone()).collect();
        with.dedup();
        prop_assert_eq!(engine.series_with_values("db", &select).unwrap(), with);
        // select_columns carries the same values, one entry per series.
        let columns = engine
            .select_columns("db", &select.clone().fields(["b", "a"]), None)
            .unwrap();
        // map_series hands over the same series, in the same order.
        let mapped = engine
            .map_series("db", &select.clone().fields(["b", "a"]), |s| s)
            .unwrap();
        prop_assert_eq!(&mapped, &columns);
        let mut flat = Vec::new();
        for s in columns {
            for (field, c) in ["b", "a"].iter().zip(s.fields) {
                if let Some(c) = c {
                    flat.push((s.series_key.clone(), field.as_bytes().to_vec(), c.timestamps, c.values));
                }
            }
        }
        flat.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
        let want: Vec<_> = full
            .into_iter()
            .map(|s| (s.series_key, s.field, s.timestamps, s.values))
            .collect();
        prop_assert_eq!(flat, want);
    }
}
