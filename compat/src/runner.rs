//! Timed differential runs: cases of every kind until the time is up, mismatches shrunk and saved.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::case::{CaseKind, generate};
use crate::check::{Verdict, check, signature};
use crate::fixture;
use crate::oracle::Oracle;
use crate::reference::ReferenceError;
use crate::shrink::shrink;

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Total time for all kinds.
    pub duration: Duration,
    /// Seed; case `i` of a kind is reproducible from it.
    pub seed: u64,
    /// Kinds to run.
    pub kinds: Vec<CaseKind>,
    /// Time allowed to shrink one mismatch.
    pub shrink_budget: Duration,
    /// Mismatches per kind to shrink and save; later ones are only counted.
    pub max_saved_per_kind: usize,
    /// Save shrunk cases under `tests/fixtures/compat/`.
    pub save: bool,
    /// Signatures of bugs already saved as open fixtures: reported, not saved again.
    pub known: Vec<String>,
    /// Stop a kind after this many cases (the run is then the same on any machine fast enough
    /// to finish within `duration`); `None`: only the time limit.
    pub max_cases_per_kind: Option<u64>,
}

impl Options {
    /// `seconds` across all kinds, seeded with `seed`.
    pub fn new(seconds: f64, seed: u64) -> Options {
        Options {
            duration: Duration::from_secs_f64(seconds),
            seed,
            kinds: CaseKind::ALL.to_vec(),
            shrink_budget: Duration::from_secs(10),
            max_saved_per_kind: 3,
            save: true,
            known: crate::fixture::open_signatures(),
            max_cases_per_kind: None,
        }
    }
}

/// Counts for one kind.
#[derive(Debug, Default, Clone)]
pub struct KindStats {
    /// Cases run.
    pub cases: u64,
    /// Cases where both sides agreed.
    pub same: u64,
    /// Cases that differed in a deliberate way, by id.
    pub deliberate: BTreeMap<&'static str, u64>,
    /// The first case of each deliberate difference, rendered (so a report can show one).
    pub examples: BTreeMap<&'static str, String>,
    /// Cases that differed otherwise.
    pub mismatches: u64,
    /// Shrunk cases written as new fixtures.
    pub saved: u64,
    /// Why the kind could not run, if our crate is not wired yet.
    pub not_wired: Option<&'static str>,
    /// Time spent.
    pub elapsed: Duration,
}

/// One shrunk mismatch.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Kind.
    pub kind: CaseKind,
    /// Seed and case index it was generated from.
    pub origin: (u64, u64),
    /// The shrunk case, rendered.
    pub case: String,
    /// What differs.
    pub difference: String,
    /// Where it was saved, and whether that file is new.
    pub fixture: Option<(PathBuf, bool)>,
    /// Same signature as an open fixture: a known bug.
    pub known: bool,
}

/// The result of a run.
#[derive(Debug, Default)]
pub struct Report {
    /// Counts per kind.
    pub stats: BTreeMap<CaseKind, KindStats>,
    /// Shrunk mismatches.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Total mismatching cases.
    pub fn mismatches(&self) -> u64 {
        self.stats.values().map(|s| s.mismatches).sum()
    }

    /// Kinds that could not run because our crate has no API yet.
    pub fn not_wired(&self) -> Vec<(CaseKind, &'static str)> {
        self.stats
            .iter()
            .filter_map(|(k, s)| s.not_wired.map(|w| (*k, w)))
            .collect()
    }

    /// A table of counts per kind and every finding.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<15} {:>8} {:>8} {:>11} {:>10} {:>6} {:>7}  note",
            "kind", "cases", "same", "deliberate", "mismatch", "saved", "secs"
        );
        for (kind, s) in &self.stats {
            let deliberate: u64 = s.deliberate.values().sum();
            let note = match s.not_wired {
                Some(w) => format!("NOT YET WIRED: {w}"),
                None => s
                    .deliberate
                    .iter()
                    .map(|(id, n)| format!("{id}: {n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            let _ = writeln!(
                out,
                "{:<15} {:>8} {:>8} {:>11} {:>10} {:>6} {:>7.1}  {note}",
                kind.name(),
                s.cases,
                s.same,
                deliberate,
                s.mismatches,
                s.saved,
                s.elapsed.as_secs_f64()
            );
        }
        for (kind, s) in &self.stats {
            for (id, example) in &s.examples {
                let mut example = example.clone();
                if example.len() > 300 {
                    let mut end = 300;
                    while !example.is_char_boundary(end) {
                        end -= 1;
                    }
                    example.truncate(end);
                    example.push_str("...");
                }
                let _ = writeln!(out, "example of {id} [{}]: {example}", kind.name());
            }
        }
        for f in &self.findings {
            let _ = writeln!(
                out,
                "\nMISMATCH [{}] (seed {}, case {}):\n  case: {}\n  {}",
                f.kind.name(),
                f.origin.0,
                f.origin.1,
                f.case,
                f.difference.replace('\n', "\n  ")
            );
            if f.known {
                let _ = writeln!(out, "  known: same bug as an open fixture");
            }
            if let Some((path, new)) = &f.fixture {
                let _ = writeln!(
                    out,
                    "  saved: {}{}",
                    path.display(),
                    if *new { " (new)" } else { " (already saved)" }
                );
            }
        }
        out
    }
}

/// Runs every kind in `options` against `oracle`, giving each kind an equal share of the time.
pub fn run(oracle: &mut dyn Oracle, options: &Options) -> Result<Report, ReferenceError> {
    let start = Instant::now();
    let mut report = Report::default();
    for k in &options.kinds {
        report.stats.insert(*k, KindStats::default());
    }
    let mut active: BTreeSet<CaseKind> = options.kinds.iter().copied().collect();
    let mut next_index: BTreeMap<CaseKind, u64> = BTreeMap::new();
    let mut saved_per_kind: BTreeMap<CaseKind, usize> = BTreeMap::new();
    // Signatures before and after shrinking: a bug already shrunk is not shrunk again, and two
    // cases that shrink to the same bug are saved once.
    let mut seen_raw: BTreeSet<String> = BTreeSet::new();
    let mut seen_shrunk: BTreeSet<String> = BTreeSet::new();
    while start.elapsed() < options.duration && !active.is_empty() {
        // The active kind with the least time so far goes next.
        let Some(kind) = active
            .iter()
            .copied()
            .min_by_key(|k| report.stats.get(k).map(|s| s.elapsed).unwrap_or_default())
        else {
            break;
        };
        let index = next_index.entry(kind).or_insert(0);
        if options.max_cases_per_kind.is_some_and(|max| *index >= max) {
            active.remove(&kind);
            continue;
        }
        let case_index = *index;
        *index += 1;
        let t0 = Instant::now();
        let case = generate(kind, options.seed, case_index, oracle)?;
        let verdict = check(&case, oracle)?;
        let mut finding = None;
        if let Verdict::Mismatch(text) = &verdict {
            let n = saved_per_kind.entry(kind).or_insert(0);
            if *n < options.max_saved_per_kind && seen_raw.insert(signature(text)) {
                let (small, text) =
                    shrink(case.clone(), text.clone(), oracle, options.shrink_budget)?;
                if seen_shrunk.insert(signature(&text)) {
                    *n += 1;
                    let known = options.known.contains(&signature(&text));
                    let saved = if options.save && !known {
                        Some(fixture::save(&small, &text, oracle)?)
                    } else {
                        None
                    };
                    finding = Some(Finding {
                        kind,
                        origin: (options.seed, case_index),
                        case: small.describe(),
                        difference: text,
                        fixture: saved,
                        known,
                    });
                }
            }
        }
        let stats = report.stats.entry(kind).or_default();
        stats.elapsed += t0.elapsed();
        stats.cases += 1;
        match verdict {
            Verdict::Same => stats.same += 1,
            Verdict::Deliberate(id) => {
                *stats.deliberate.entry(id).or_insert(0) += 1;
                stats.examples.entry(id).or_insert_with(|| case.describe());
            }
            Verdict::Mismatch(_) => stats.mismatches += 1,
            Verdict::NotWired(why) => {
                stats.cases -= 1;
                stats.not_wired = Some(why);
                active.remove(&kind);
            }
            Verdict::NeedsGo => {}
        }
        if let Some(f) = finding {
            if f.fixture.as_ref().is_some_and(|(_, new)| *new) {
                stats.saved += 1;
            }
            report.findings.push(f);
        }
    }
    Ok(report)
}
