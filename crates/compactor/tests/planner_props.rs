//! Planner invariants on random file sets: plans are runs of adjacent generations, take whole
//! generations, never share a file, never touch a file in use, and do not depend on input order.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use proptest::prelude::*;
use tsmdb_compactor::{FileInfo, Plan, Planner, PlannerConfig};
use tsmdb_tsm_file::FileId;

/// (generation gap, files, first sequence, size in MiB, dense, tombstones, in use)
type GenSpec = (u32, u32, u32, u64, bool, bool, bool);

fn files(gens: &[GenSpec]) -> (Vec<FileInfo>, HashSet<FileId>) {
    let mut out = Vec::new();
    let mut busy = HashSet::new();
    let mut generation = 0;
    for &(gap, count, seq, mib, dense, tomb, in_use) in gens {
        generation += gap;
        for s in 0..count {
            let id = FileId::new(generation, seq + s);
            out.push(FileInfo {
                id,
                path: format!("/d/{}", id.tsm_name()).into(),
                size: mib << 20,
                min_time: 0,
                max_time: 1,
                key_count: 1,
                has_tombstones: tomb && s == 0,
                dense,
            });
            if in_use {
                busy.insert(id);
            }
        }
    }
    (out, busy)
}

fn check(plans: &[Plan], files: &[FileInfo], busy: &HashSet<FileId>) -> Result<(), TestCaseError> {
    let generations: Vec<u32> = files
        .iter()
        .map(|f| f.id.generation)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut seen = HashSet::new();
    for plan in plans {
        prop_assert!(!plan.files.is_empty());
        let mut gens: Vec<u32> = plan.files.iter().map(|f| f.id.generation).collect();
        gens.dedup();
        let start = generations
            .iter()
            .position(|&g| g == gens[0])
            .expect("known");
        prop_assert_eq!(
            &generations[start..start + gens.len()],
            &gens[..],
            "not adjacent"
        );
        for f in files.iter().filter(|f| gens.contains(&f.id.generation)) {
            prop_assert!(
                plan.files.contains(f),
                "generation {} split",
                f.id.generation
            );
        }
        for f in &plan.files {
            prop_assert!(!busy.contains(&f.id), "{} is in use", f.id);
            prop_assert!(seen.insert(f.id), "{} in two plans", f.id);
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn plans_keep_the_invariants(
        gens in prop::collection::vec((1u32..3, 1u32..4, 1u32..6, 0u64..6, any::<bool>(), prop::bool::weighted(0.15), prop::bool::weighted(0.1)), 0..40),
        cold in any::<bool>(),
    ) {
        let (files, busy) = files(&gens);
        let planner = Planner::new(PlannerConfig { max_file_size: 3 << 20, ..PlannerConfig::default() });
        let cold_for = if cold { Duration::MAX } else { Duration::ZERO };
        let plans = planner.plan(&files, &busy, cold_for);
        check(&plans, &files, &busy)?;
        for level in 1..=3 {
            check(&planner.plan_level(&files, level, &busy), &files, &busy)?;
        }
        check(&planner.plan_level4(&files, &busy), &files, &busy)?;
        check(&planner.plan_optimize(&files, &busy), &files, &busy)?;
        check(&planner.plan_full(&files, &busy).into_iter().collect::<Vec<_>>(), &files, &busy)?;
        let mut reversed = files.clone();
        reversed.reverse();
        prop_assert_eq!(planner.plan(&reversed, &busy, cold_for), plans);
    }
}
