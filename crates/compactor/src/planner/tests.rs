//! Planner rules on descriptors only (no disk).

use std::collections::HashSet;
use std::time::Duration;

use tsmdb_tsm_file::FileId;

use super::*;

const MB: u64 = 1 << 20;

fn file(generation: u32, sequence: u32) -> FileInfo {
    FileInfo {
        id: FileId::new(generation, sequence),
        path: format!("/shard/{}", FileId::new(generation, sequence).tsm_name()).into(),
        size: MB,
        min_time: 0,
        max_time: 100,
        key_count: 10,
        has_tombstones: false,
        dense: false,
    }
}

/// Generations `from..=to`, one file each, at `level` (sequence).
fn gens(from: u32, to: u32, level: u32) -> Vec<FileInfo> {
    (from..=to).map(|g| file(g, level)).collect()
}

fn generations_of(plan: &Plan) -> Vec<u32> {
    let mut g: Vec<u32> = plan.files.iter().map(|f| f.id.generation).collect();
    g.dedup();
    g
}

fn none() -> HashSet<FileId> {
    HashSet::new()
}

#[test]
fn level1_needs_eight_generations() {
    let p = Planner::default();
    assert!(p.plan_level(&gens(1, 7, 1), 1, &none()).is_empty());
    let plans = p.plan_level(&gens(1, 8, 1), 1, &none());
    assert_eq!(plans.len(), 1);
    assert_eq!(generations_of(&plans[0]), (1..=8).collect::<Vec<_>>());
    assert_eq!(plans[0].kind, PlanKind::Level(1));
    // 17 generations: two chunks of 8, the 17th waits.
    let plans = p.plan_level(&gens(1, 17, 1), 1, &none());
    assert_eq!(plans.len(), 2);
    assert_eq!(generations_of(&plans[1]), (9..=16).collect::<Vec<_>>());
}

#[test]
fn levels_two_and_three_need_four() {
    let p = Planner::default();
    let mut files = gens(1, 3, 2);
    assert!(p.plan_level(&files, 2, &none()).is_empty());
    files.push(file(4, 2));
    let plans = p.plan_level(&files, 2, &none());
    assert_eq!(plans.len(), 1);
    assert_eq!(generations_of(&plans[0]), [1, 2, 3, 4]);
    assert!(p.plan_level(&files, 1, &none()).is_empty());
    let l3 = gens(10, 13, 3);
    assert_eq!(p.plan_level(&l3, 3, &none()).len(), 1);
}

#[test]
fn short_chunk_with_tombstones_is_kept() {
    let p = Planner::default();
    let mut files = gens(1, 3, 1);
    assert!(p.plan_level(&files, 1, &none()).is_empty());
    files[1].has_tombstones = true;
    let plans = p.plan_level(&files, 1, &none());
    assert_eq!(plans.len(), 1);
    assert_eq!(generations_of(&plans[0]), [1, 2, 3]);
}

#[test]
fn lower_level_joins_the_next_higher_group() {
    // Level-2 generations 1..3, a level-1 generation 4, then level-2 generation 5: generation 4
    // is lower than its successor, so it joins the running level-2 group instead of being left
    // behind alone (§8.2 step 2).
    let p = Planner::default();
    let mut files = gens(1, 3, 2);
    files.push(file(4, 1));
    files.push(file(5, 2));
    let plans = p.plan_level(&files, 2, &none());
    assert_eq!(plans.len(), 1);
    assert_eq!(generations_of(&plans[0]), [1, 2, 3, 4]);
    assert!(p.plan_level(&files, 1, &none()).is_empty());
}

#[test]
fn generation_level_comes_from_first_sequence() {
    let p = Planner::default();
    // Generation 5 has files 1 and 2: level 1 (its first file), and both files go together.
    let mut files = gens(1, 8, 1);
    files.push(file(5, 2));
    let plans = p.plan_level(&files, 1, &none());
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0].files.len(), 9);
    // Sequences above 4 are level 4.
    let files: Vec<FileInfo> = (1..=4).map(|g| file(g, 7)).collect();
    assert_eq!(p.plan_level4(&files, &none()).len(), 1);
}

#[test]
fn in_use_generations_split_groups_and_are_never_planned() {
    let p = Planner::default();
    let files = gens(1, 16, 1);
    let busy: HashSet<FileId> = [FileId::new(4, 1)].into();
    let plans = p.plan_level(&files, 1, &busy);
    // 1..3 is too short; 5..12 is a full chunk; 13..16 too short.
    assert_eq!(plans.len(), 1);
    assert_eq!(generations_of(&plans[0]), (5..=12).collect::<Vec<_>>());
    for plan in p.plan(&files, &busy, Duration::ZERO) {
        assert!(plan.files.iter().all(|f| !busy.contains(&f.id)));
    }
    assert!(p.plan_full(&files, &busy).is_none());
}

#[test]
fn full_plan_only_when_cold() {
    let p = Planner::default();
    let mut files = gens(1, 2, 4);
    files.extend(gens(3, 5, 1));
    let warm = p.plan(&files, &none(), Duration::from_secs(3600));
    assert!(warm.iter().all(|plan| plan.kind != PlanKind::Full));
    let cold = p.plan(&files, &none(), Duration::from_secs(4 * 3600));
    assert_eq!(cold.len(), 1);
    assert_eq!(cold[0].kind, PlanKind::Full);
    assert_eq!(generations_of(&cold[0]), [1, 2, 3, 4, 5]);
}

#[test]
fn full_plan_skips_leading_finished_generations() {
    let config = PlannerConfig {
        max_file_size: 4 * MB,
        ..PlannerConfig::default()
    };
    let p = Planner::new(config);
    let mut files = gens(1, 4, 4);
    files[0].size = 5 * MB;
    files[0].dense = true;
    let plan = p.plan_full(&files, &none()).expect("a plan");
    assert_eq!(generations_of(&plan), [2, 3, 4]);
    // A finished generation in the middle is not skipped: that would reorder 1 and 3.
    let mut files = gens(1, 4, 4);
    files[1].size = 5 * MB;
    files[1].dense = true;
    let plan = p.plan_full(&files, &none()).expect("a plan");
    assert_eq!(generations_of(&plan), [1, 2, 3, 4]);
}

#[test]
fn fully_compacted_shard_has_no_plan() {
    let p = Planner::default();
    let mut one = vec![file(9, 4)];
    one[0].dense = true;
    assert!(p.fully_compacted(&one));
    assert!(p.plan_full(&one, &none()).is_none());
    assert!(p.plan(&one, &none(), Duration::MAX).is_empty());
    one[0].has_tombstones = true;
    assert!(!p.fully_compacted(&one));
    assert_eq!(p.plan_full(&one, &none()).map(|pl| pl.files.len()), Some(1));
}

#[test]
fn optimize_merges_level4_groups_when_no_level4_plan() {
    let p = Planner::default();
    let files = gens(1, 3, 4);
    assert!(p.plan_level4(&files, &none()).is_empty());
    assert!(p.plan_optimize(&files, &none()).is_empty());
    let mut with_tomb = files.clone();
    with_tomb[2].has_tombstones = true;
    let opt = p.plan_optimize(&with_tomb, &none());
    assert_eq!(opt.len(), 1);
    assert_eq!(opt[0].kind, PlanKind::Optimize);
    let plans = p.plan(&with_tomb, &none(), Duration::ZERO);
    assert!(plans.iter().any(|pl| pl.kind != PlanKind::Level(1)));
}

#[test]
fn level4_restarts_after_a_much_smaller_generation() {
    let p = Planner::default();
    let mut files = gens(1, 6, 4);
    for f in &mut files[..2] {
        f.size = 100 * MB;
    }
    // Generation 3 is less than half of generation 2: the plan starts there.
    let plans = p.plan_level4(&files, &none());
    assert_eq!(plans.len(), 1);
    assert_eq!(generations_of(&plans[0]), [3, 4, 5, 6]);
}

#[test]
fn plans_are_deterministic_and_disjoint() {
    let p = Planner::default();
    let mut files = gens(1, 8, 1);
    files.extend(gens(9, 12, 2));
    files.extend(gens(13, 16, 3));
    let mut shuffled = files.clone();
    shuffled.reverse();
    let a = p.plan(&files, &none(), Duration::ZERO);
    let b = p.plan(&shuffled, &none(), Duration::ZERO);
    assert_eq!(a, b);
    assert_eq!(a.len(), 3);
    let mut seen = HashSet::new();
    for plan in &a {
        for f in &plan.files {
            assert!(seen.insert(f.id), "{} planned twice", f.id);
        }
    }
}
