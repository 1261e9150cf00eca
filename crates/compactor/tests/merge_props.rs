//! Property test: random files with overlapping ranges, duplicates and tombstones, merged by
//! every plan kind, read back equal to a model merge (BTreeMap, newest file wins).

mod common;

use std::collections::BTreeMap;

use common::{Spec, block_counts, ids, model, read_dir, write_spec};
use proptest::prelude::*;
use tsmdb_compactor::{Compactor, CompactorConfig, Plan, PlanKind, Planner, scan_dir};
use tsmdb_tsm_file::FileId;

const KEYS: [&[u8]; 4] = [
    b"cpu,host=a#!~#idle",
    b"cpu,host=a#!~#user",
    b"cpu,host=b#!~#idle",
    b"mem,host=a#!~#used",
];

fn file_data() -> impl Strategy<Value = BTreeMap<Vec<u8>, Vec<(i64, i64)>>> {
    prop::collection::btree_map(
        prop::sample::select(KEYS.to_vec()).prop_map(<[u8]>::to_vec),
        prop::collection::btree_map(-50i64..150, any::<i64>(), 1..40)
            .prop_map(|m| m.into_iter().collect::<Vec<_>>()),
        1..4,
    )
}

fn deletes() -> impl Strategy<Value = Vec<(Vec<u8>, i64, i64)>> {
    prop::collection::vec(
        (
            prop::sample::select(KEYS.to_vec()).prop_map(<[u8]>::to_vec),
            -60i64..160,
            0i64..60,
        )
            .prop_map(|(k, lo, len)| (k, lo, lo + len)),
        0..3,
    )
}

/// 1–6 generations; some have a second file (sequence + 1); sequences 1–4 (the level).
fn specs() -> impl Strategy<Value = Vec<Spec>> {
    prop::collection::vec(
        (file_data(), deletes(), 1u32..5, any::<bool>(), file_data()),
        1..7,
    )
    .prop_map(|gens| {
        let mut out = Vec::new();
        for (g, (data, dels, seq, two, data2)) in gens.into_iter().enumerate() {
            let generation = g as u32 + 1;
            out.push(Spec {
                id: FileId::new(generation, seq),
                data,
                deletes: dels,
            });
            if two {
                out.push(Spec {
                    id: FileId::new(generation, seq + 1),
                    data: data2,
                    deletes: Vec::new(),
                });
            }
        }
        out
    })
}

const KINDS: [PlanKind; 6] = [
    PlanKind::Level(1),
    PlanKind::Level(2),
    PlanKind::Level(3),
    PlanKind::Level4,
    PlanKind::Optimize,
    PlanKind::Full,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn merged_output_equals_model(
        specs in specs(),
        block in 1usize..6,
        small_files in any::<bool>(),
        range in (0usize..6, 0usize..6),
        kind in prop::sample::select(KINDS.to_vec()),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        for s in &specs {
            write_spec(dir.path(), s, block);
        }
        let expected = model(&specs);
        prop_assert_eq!(&read_dir(dir.path()), &expected, "inputs read back wrong");

        let compactor = Compactor::new(CompactorConfig {
            max_points_per_block: block,
            max_file_size: if small_files { 300 } else { 1 << 30 },
            throughput: 0,
            ..CompactorConfig::default()
        });
        // A plan of adjacent generations, labelled with any kind: execution must not care.
        let files = scan_dir(dir.path(), block).expect("scan");
        let mut generations: Vec<u32> = files.iter().map(|f| f.id.generation).collect();
        generations.dedup();
        let (a, b) = (range.0 % generations.len(), range.1 % generations.len());
        let (lo, hi) = (generations[a.min(b)], generations[a.max(b)]);
        let plan = Plan {
            kind,
            files: files.iter().filter(|f| (lo..=hi).contains(&f.id.generation)).cloned().collect(),
        };
        let report = compactor.compact(&plan).expect("compact");
        prop_assert_eq!(&read_dir(dir.path()), &expected, "after {} plan {:?}", kind, plan.ids());
        let now = ids(dir.path());
        for input in plan.ids() {
            prop_assert!(!now.contains(&input) || report.outputs.iter().any(|p| p.ends_with(input.tsm_name())));
        }
        for out in &report.outputs {
            let id = FileId::parse(out).expect("name");
            prop_assert_eq!(id.generation, hi);
            prop_assert!(now.contains(&id));
        }

        // Then everything, until nothing is left: one generation, every block full but the last.
        compactor.compact_dir(dir.path(), &Planner::default(), true, |_| {}).expect("full");
        prop_assert_eq!(&read_dir(dir.path()), &expected, "after full compaction");
        let generations: std::collections::BTreeSet<u32> =
            ids(dir.path()).iter().map(|id| id.generation).collect();
        prop_assert!(generations.len() <= 1);
        for (key, counts) in block_counts(dir.path()) {
            let (last, rest) = counts.split_last().expect("a block");
            prop_assert!(*last >= 1 && *last <= block);
            prop_assert!(rest.iter().all(|&n| n == block), "{:?}: {:?}", key, counts);
        }
        let leftovers: Vec<String> = dir
            .path()
            .read_dir()
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp") || n.ends_with(".compaction") || n.ends_with(".tombstone"))
            .collect();
        prop_assert!(leftovers.is_empty(), "left behind: {:?}", leftovers);
    }
}
