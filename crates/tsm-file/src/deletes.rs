//! Tombstones applied to one open file (spec §4.3): keys removed entirely, or time ranges hidden.

use std::collections::HashMap;

use crate::format::TimeRange;

/// What is deleted from one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyDeletes {
    /// The key no longer exists for readers.
    All,
    /// Values in these ranges are hidden (sorted, merged, non-adjacent).
    Ranges(Vec<TimeRange>),
}

/// The deletes of one file, by key position.
#[derive(Debug, Default)]
pub(crate) struct Deletes {
    pub(crate) by_key: HashMap<usize, KeyDeletes>,
}

impl Deletes {
    /// Applies a delete of `range` to the key at `position` spanning `[first, last]`.
    pub(crate) fn apply(&mut self, position: usize, first: i64, last: i64, range: TimeRange) {
        if range.min <= first && range.max >= last {
            self.by_key.insert(position, KeyDeletes::All);
            return;
        }
        let entry = self
            .by_key
            .entry(position)
            .or_insert_with(|| KeyDeletes::Ranges(Vec::new()));
        let KeyDeletes::Ranges(ranges) = entry else {
            return;
        };
        ranges.push(range);
        merge(ranges);
        if ranges.iter().any(|r| r.min <= first && r.max >= last) {
            *entry = KeyDeletes::All;
        }
    }

    pub(crate) fn get(&self, position: usize) -> Option<&KeyDeletes> {
        self.by_key.get(&position)
    }
}

/// Sorts and merges overlapping or adjacent ranges.
fn merge(ranges: &mut Vec<TimeRange>) {
    ranges.sort_unstable();
    let mut out: Vec<TimeRange> = Vec::with_capacity(ranges.len());
    for r in ranges.drain(..) {
        match out.last_mut() {
            Some(last) if r.min <= last.max.saturating_add(1) => last.max = last.max.max(r.max),
            _ => out.push(r),
        }
    }
    *ranges = out;
}

/// True when `t` is inside one of the sorted, merged `ranges`.
#[cfg(test)]
pub(crate) fn is_deleted(ranges: &[TimeRange], t: i64) -> bool {
    let i = ranges.partition_point(|r| r.max < t);
    ranges.get(i).is_some_and(|r| r.min <= t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_adjacent_ranges_and_removes_covered_keys() {
        let mut d = Deletes::default();
        d.apply(0, 0, 100, TimeRange::new(0, 10));
        d.apply(0, 0, 100, TimeRange::new(30, 40));
        assert_eq!(
            d.get(0),
            Some(&KeyDeletes::Ranges(vec![
                TimeRange::new(0, 10),
                TimeRange::new(30, 40)
            ]))
        );
        d.apply(0, 0, 100, TimeRange::new(11, 29));
        assert_eq!(
            d.get(0),
            Some(&KeyDeletes::Ranges(vec![TimeRange::new(0, 40)]))
        );
        d.apply(0, 0, 100, TimeRange::new(41, 200));
        assert_eq!(d.get(0), Some(&KeyDeletes::All));
        d.apply(1, 5, 6, TimeRange::ALL);
        assert_eq!(d.get(1), Some(&KeyDeletes::All));
    }

    #[test]
    fn membership() {
        let r = [TimeRange::new(0, 10), TimeRange::new(20, 20)];
        assert!(is_deleted(&r, 0) && is_deleted(&r, 10) && is_deleted(&r, 20));
        assert!(!is_deleted(&r, -1) && !is_deleted(&r, 11) && !is_deleted(&r, 21));
    }
}
