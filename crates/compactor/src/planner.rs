//! The compaction planner (spec §8.1–8.3): which files to merge next, decided from file
//! descriptors alone, so it is deterministic and testable without a disk.
//!
//! Differences from InfluxDB, all for correctness:
//! * Generations held by a running compaction, and generations a plan skips (already "finished"),
//!   split groups instead of being left out of them. A compaction output takes the highest input
//!   generation, so merging generations 1 and 3 around a generation 2 would make 1's values newer
//!   than 2's: plans are always runs of adjacent generations.
//! * A file is "dense" when all its blocks are full, not only its first (§12.5 Q8).

use std::collections::HashSet;
use std::time::Duration;

use tsmdb_tsm_file::{DEFAULT_MAX_FILE_SIZE, DEFAULT_MAX_VALUES_PER_BLOCK, FileId};

use crate::files::FileInfo;

/// Planner settings; the defaults are InfluxDB's.
#[derive(Debug, Clone)]
pub struct PlannerConfig {
    /// Generations per level-1 compaction (8).
    pub level1_generations: usize,
    /// Generations per level-2, level-3 and level-4 compaction (4).
    pub level_generations: usize,
    /// A shard this long without writes or file changes gets a full compaction (4 h).
    pub full_cold_duration: Duration,
    /// Files are cut at this size; a generation above it with dense blocks is "finished" (2 GiB).
    pub max_file_size: u64,
    /// Values per block (1000).
    pub max_points_per_block: usize,
}

impl Default for PlannerConfig {
    fn default() -> Self {
        PlannerConfig {
            level1_generations: 8,
            level_generations: 4,
            full_cold_duration: Duration::from_secs(4 * 3600),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            max_points_per_block: DEFAULT_MAX_VALUES_PER_BLOCK,
        }
    }
}

/// Why a plan exists; it decides nothing about how it runs except for reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlanKind {
    /// Level 1, 2 or 3 generations merged into one of the next level.
    Level(u8),
    /// Four level-4 generations merged.
    Level4,
    /// Level-4 groups merged when no level-4 plan exists.
    Optimize,
    /// Every generation (but leading finished ones) merged into one.
    Full,
}

impl std::fmt::Display for PlanKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanKind::Level(l) => write!(f, "level {l}"),
            PlanKind::Level4 => f.write_str("level 4"),
            PlanKind::Optimize => f.write_str("optimize"),
            PlanKind::Full => f.write_str("full"),
        }
    }
}

/// One compaction: files of adjacent generations, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// What kind of plan.
    pub kind: PlanKind,
    /// The input files, sorted by (generation, sequence).
    pub files: Vec<FileInfo>,
}

impl Plan {
    /// The ids of the input files.
    pub fn ids(&self) -> Vec<FileId> {
        self.files.iter().map(|f| f.id).collect()
    }

    /// Total input bytes.
    pub fn input_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// All files sharing a generation number: the planner's unit.
#[derive(Debug, Clone)]
struct Generation<'a> {
    files: Vec<&'a FileInfo>,
    /// Sequence of the first file: 1, 2, 3, or 4 for anything higher.
    level: u8,
    size: u64,
    tombstones: bool,
    dense: bool,
    in_use: bool,
}

fn generations<'a>(files: &'a [FileInfo], in_use: &HashSet<FileId>) -> Vec<Generation<'a>> {
    let mut sorted: Vec<&FileInfo> = files.iter().collect();
    sorted.sort_by_key(|f| f.id);
    let mut out: Vec<Generation<'a>> = Vec::new();
    for f in sorted {
        match out.last_mut() {
            Some(g) if g.files.first().map(|x| x.id.generation) == Some(f.id.generation) => {
                g.files.push(f);
                g.size += f.size;
                g.tombstones |= f.has_tombstones;
                g.dense &= f.dense;
                g.in_use |= in_use.contains(&f.id);
            }
            _ => out.push(Generation {
                files: vec![f],
                level: f.id.sequence.clamp(1, 4) as u8,
                size: f.size,
                tombstones: f.has_tombstones,
                dense: f.dense,
                in_use: in_use.contains(&f.id),
            }),
        }
    }
    out
}

/// A run of adjacent generations.
type Group<'a> = Vec<Generation<'a>>;

fn group_level(group: &[Generation<'_>]) -> u8 {
    group.iter().map(|g| g.level).max().unwrap_or(0)
}

fn group_tombstones(group: &[Generation<'_>]) -> bool {
    group.iter().any(|g| g.tombstones)
}

fn to_plan(kind: PlanKind, gens: &[Generation<'_>]) -> Plan {
    Plan {
        kind,
        files: gens
            .iter()
            .flat_map(|g| g.files.iter().map(|f| (*f).clone()))
            .collect(),
    }
}

/// Groups adjacent generations as §8.2 step 2 does; a generation for which `barrier` holds ends
/// the current group and joins none.
fn group_generations<'a>(
    gens: &[Generation<'a>],
    barrier: impl Fn(&Generation<'a>) -> bool,
) -> Vec<Group<'a>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    let mut current: Group<'a> = Vec::new();
    for (i, g) in gens.iter().enumerate() {
        if barrier(g) {
            if !current.is_empty() {
                groups.push(std::mem::take(&mut current));
            }
            continue;
        }
        // A generation of a lower level than the next one joins the current group, so it is not
        // left behind on its own until a full compaction.
        let next_higher = gens
            .get(i + 1)
            .is_some_and(|n| !barrier(n) && g.level < n.level);
        if next_higher || current.is_empty() || group_level(&current) == g.level {
            current.push(g.clone());
            continue;
        }
        groups.push(std::mem::replace(&mut current, vec![g.clone()]));
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
}

/// The compaction planner. Stateless: the same files, in-use set and coldness give the same plans.
#[derive(Debug, Clone, Default)]
pub struct Planner {
    config: PlannerConfig,
}

impl Planner {
    /// A planner with these settings.
    pub fn new(config: PlannerConfig) -> Planner {
        Planner { config }
    }

    /// The settings.
    pub fn config(&self) -> &PlannerConfig {
        &self.config
    }

    /// Every plan worth running now, in priority order: when the shard has been cold for
    /// [`PlannerConfig::full_cold_duration`] the full plan alone; otherwise the level 1, 2, 3 plans
    /// and the level-4 plans, or the optimize plans when there is no level-4 plan. Plans never share
    /// a file and never include a file in `in_use`.
    pub fn plan(
        &self,
        files: &[FileInfo],
        in_use: &HashSet<FileId>,
        cold_for: Duration,
    ) -> Vec<Plan> {
        if cold_for >= self.config.full_cold_duration
            && let Some(full) = self.plan_full(files, in_use)
        {
            return vec![full];
        }
        let mut plans = Vec::new();
        for level in 1..=3 {
            plans.extend(self.plan_level(files, level, in_use));
        }
        let level4 = self.plan_level4(files, in_use);
        if level4.is_empty() {
            plans.extend(self.plan_optimize(files, in_use));
        } else {
            plans.extend(level4);
        }
        plans
    }

    /// Level plans (§8.2) for `level` 1, 2 or 3.
    pub fn plan_level(&self, files: &[FileInfo], level: u8, in_use: &HashSet<FileId>) -> Vec<Plan> {
        let gens = generations(files, in_use);
        if gens.len() <= 1 && !group_tombstones(&gens) {
            return Vec::new();
        }
        let chunk = if level == 1 {
            self.config.level1_generations
        } else {
            self.config.level_generations
        }
        .max(1);
        let mut plans = Vec::new();
        for group in group_generations(&gens, |g| g.in_use) {
            if group_level(&group) != level {
                continue;
            }
            for part in group.chunks(chunk) {
                if part.len() < chunk && !group_tombstones(part) {
                    continue;
                }
                plans.push(to_plan(PlanKind::Level(level), part));
            }
        }
        plans
    }

    /// A generation that rewriting cannot improve: over the size limit, dense, no tombstones.
    fn finished(&self, g: &Generation<'_>) -> bool {
        g.size >= self.config.max_file_size && g.dense && !g.tombstones
    }

    /// The full plan (§8.3): all generations except a leading run of finished ones, if that leaves
    /// at least two generations (or one with tombstones or several files). None while any file is
    /// in use: a full plan must see every generation.
    pub fn plan_full(&self, files: &[FileInfo], in_use: &HashSet<FileId>) -> Option<Plan> {
        let gens = generations(files, in_use);
        if gens.iter().any(|g| g.in_use) {
            return None;
        }
        let mut start = 0;
        if gens.len() > 2 {
            while let (Some(g), Some(next)) = (gens.get(start), gens.get(start + 1)) {
                if self.finished(g) && next.level > 3 {
                    start += 1;
                } else {
                    break;
                }
            }
        }
        let rest = gens.get(start..).unwrap_or_default();
        let worth = match rest {
            [] => false,
            [one] => one.tombstones || (one.files.len() > 1 && !one.dense),
            _ => true,
        };
        worth.then(|| to_plan(PlanKind::Full, rest))
    }

    /// Level-4 plans (§8.3): the leading run of level-4 generations, past finished ones, in steps
    /// of four generations (shorter steps only with tombstones).
    pub fn plan_level4(&self, files: &[FileInfo], in_use: &HashSet<FileId>) -> Vec<Plan> {
        let gens = generations(files, in_use);
        if gens.len() <= 1 && !group_tombstones(&gens) {
            return Vec::new();
        }
        let run_len = gens
            .iter()
            .take_while(|g| g.level == 4 && !g.in_use)
            .count();
        let run = gens.get(..run_len).unwrap_or_default();
        let mut start = 0;
        for (i, g) in run.iter().enumerate() {
            if g.tombstones {
                break;
            }
            if self.finished(g) {
                start = i + 1;
                continue;
            }
            if let Some(prev) = i.checked_sub(1).and_then(|p| run.get(p))
                && g.size.saturating_mul(2) < prev.size
            {
                start = i;
                break;
            }
        }
        let step = self.config.level_generations.max(1);
        run.get(start..)
            .unwrap_or_default()
            .chunks(step)
            .filter(|part| part.len() == step || group_tombstones(part))
            .filter(|part| part.len() > 1 || group_tombstones(part))
            .map(|part| to_plan(PlanKind::Level4, part))
            .collect()
    }

    /// Optimize plans (§8.3): level-4 groups of at least four generations, or with tombstones,
    /// skipping finished generations (which split groups).
    pub fn plan_optimize(&self, files: &[FileInfo], in_use: &HashSet<FileId>) -> Vec<Plan> {
        let gens = generations(files, in_use);
        if gens.len() <= 1 && !group_tombstones(&gens) {
            return Vec::new();
        }
        group_generations(&gens, |g| {
            g.in_use || (g.files.len() > 2 && self.finished(g))
        })
        .into_iter()
        .filter(|group| group_level(group) == 4)
        .filter(|group| group.len() >= self.config.level_generations || group_tombstones(group))
        .filter(|group| group.len() > 1 || group_tombstones(group))
        .map(|group| to_plan(PlanKind::Optimize, &group))
        .collect()
    }

    /// True when nothing is left to merge: at most one generation and no tombstones.
    pub fn fully_compacted(&self, files: &[FileInfo]) -> bool {
        let gens = generations(files, &HashSet::new());
        gens.len() <= 1 && !group_tombstones(&gens)
    }
}

#[cfg(test)]
mod tests;
