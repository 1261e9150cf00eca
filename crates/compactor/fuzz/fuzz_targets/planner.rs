//! The planner on arbitrary file sets: plans are runs of adjacent whole generations, disjoint,
//! never in use, and independent of the input order.
#![no_main]

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use tsmdb_compactor::{FileInfo, Plan, Planner, PlannerConfig};
use tsmdb_tsm_file::FileId;

fn check(plans: &[Plan], files: &[FileInfo], busy: &HashSet<FileId>) {
    let generations: Vec<u32> = files
        .iter()
        .map(|f| f.id.generation)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut seen = HashSet::new();
    for plan in plans {
        let mut gens: Vec<u32> = plan.files.iter().map(|f| f.id.generation).collect();
        gens.dedup();
        let start = generations.iter().position(|&g| g == gens[0]).expect("known generation");
        assert_eq!(&generations[start..start + gens.len()], &gens[..]);
        for f in files.iter().filter(|f| gens.contains(&f.id.generation)) {
            assert!(plan.files.contains(f));
        }
        for f in &plan.files {
            assert!(!busy.contains(&f.id));
            assert!(seen.insert(f.id));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // Four bytes per file: generation step, sequence, size, flags.
    let mut files = Vec::new();
    let mut busy = HashSet::new();
    let mut generation = 0u32;
    for c in data.chunks_exact(4) {
        generation += u32::from(c[0] % 3);
        let id = FileId::new(generation, u32::from(c[1] % 8));
        if files.iter().any(|f: &FileInfo| f.id == id) {
            continue;
        }
        files.push(FileInfo {
            id,
            path: format!("/d/{}", id.tsm_name()).into(),
            size: u64::from(c[2]) << 16,
            min_time: 0,
            max_time: 0,
            key_count: 1,
            has_tombstones: c[3] & 1 != 0,
            dense: c[3] & 2 != 0,
        });
        if c[3] & 4 != 0 {
            busy.insert(id);
        }
    }
    let planner = Planner::new(PlannerConfig { max_file_size: 8 << 20, ..PlannerConfig::default() });
    let cold = data.first().is_some_and(|b| b & 0x80 != 0);
    let cold_for = if cold { Duration::MAX } else { Duration::ZERO };
    let plans = planner.plan(&files, &busy, cold_for);
    check(&plans, &files, &busy);
    for level in 1..=3 {
        check(&planner.plan_level(&files, level, &busy), &files, &busy);
    }
    check(&planner.plan_level4(&files, &busy), &files, &busy);
    check(&planner.plan_optimize(&files, &busy), &files, &busy);
    check(&planner.plan_full(&files, &busy).into_iter().collect::<Vec<_>>(), &files, &busy);
    let mut reversed = files.clone();
    reversed.reverse();
    assert_eq!(planner.plan(&reversed, &busy, cold_for), plans);
});
