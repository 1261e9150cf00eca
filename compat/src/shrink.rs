//! Greedy shrinking: keep replacing the case by the first smaller variant that still mismatches.

use std::time::{Duration, Instant};

use crate::case::{Case, shrink_candidates};
use crate::check::{Verdict, check};
use crate::oracle::Oracle;
use crate::reference::ReferenceError;

/// Shrinks a mismatching case within `budget`; returns the smallest mismatching case found and
/// its mismatch text.
pub fn shrink(
    case: Case,
    found: String,
    oracle: &mut dyn Oracle,
    budget: Duration,
) -> Result<(Case, String), ReferenceError> {
    let deadline = Instant::now() + budget;
    let (mut best, mut text) = (case, found);
    'outer: while Instant::now() < deadline {
        for candidate in shrink_candidates(&best) {
            if Instant::now() >= deadline {
                break 'outer;
            }
            if let Verdict::Mismatch(t) = check(&candidate, oracle)? {
                best = candidate;
                text = t;
                continue 'outer;
            }
        }
        break;
    }
    Ok((best, text))
}
