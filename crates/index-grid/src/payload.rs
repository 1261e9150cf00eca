//! The sparse-key payload of a grid: for each series, the value index of each sparse key.
//!
//! Normally one row per local id, back to back (`slots[local · ns + j]`): a lookup is an
//! index, and the planner keeps grids dense enough that the rows of unused locals cost little.
//! A grid loaded from a file is not planned: its points come from the file, and a few hundred
//! bytes can name a live local near 2^32. Sized by that local, the rows would be gigabytes
//! (issue 6), so such a payload is *mapped*: rows in the order they were written and a map
//! from local to row, in memory proportional to the series the file really holds. Inserts
//! follow the same rule (a fresh grid's first series at a high cell of a large grid would
//! otherwise allocate all rows below it at once), and a mapped payload turns back into rows
//! by local once they would be at least a quarter used.

use std::collections::HashMap;

use crate::dict::MixBuild;
use crate::grid::NO_VALUE;

/// A payload may take rows by local up to this many rows whatever its use.
const DENSE_ROWS_ALWAYS: usize = 1 << 12;
/// Beyond that, rows by local are mapped when less than 1 / this of them would be used ...
const MAP_AT: usize = 8;
/// ... and mapped rows go back to rows by local when at least 1 / this would be (apart, so
/// that a payload at the boundary does not switch at every insert).
const DENSE_AT: usize = 4;

/// Value indexes of the sparse keys of a grid's series (`ns` slots a series; the grid keeps
/// `ns`, since a shared segment widens its rows when it gains a key).
#[derive(Debug, Clone, Default)]
pub(crate) struct Payload {
    /// Rows of `ns` slots back to back.
    slots: Vec<u32>,
    /// Slots a row, as of the last change (for equality only: callers pass it).
    ns: usize,
    /// Rows made by local (never decreased: deleted series keep theirs), or mapped.
    used: usize,
    /// `None`: row = local. Else local -> row, and the highest local mapped.
    map: Option<(HashMap<u32, u32, MixBuild>, u32)>,
}

impl Payload {
    /// An empty payload of `ns` slots a row for `live` series whose highest local is `last`:
    /// rows by local, allocated at once, when at least a quarter of them will be used, else
    /// mapped.
    pub fn for_load(last: Option<u32>, live: u64, ns: usize) -> Self {
        let rows = last.map_or(0, |l| l as usize + 1);
        let live = usize::try_from(live).unwrap_or(usize::MAX);
        let mut p = Payload {
            ns,
            ..Payload::default()
        };
        if dense_enough(rows, live, DENSE_AT) {
            p.slots = vec![NO_VALUE; rows * ns];
        } else {
            p.map = Some((HashMap::default(), 0));
        }
        p
    }

    /// Whether rows are mapped.
    #[cfg(test)]
    pub fn is_mapped(&self) -> bool {
        self.map.is_some()
    }

    fn row(&self, local: u32) -> Option<usize> {
        match &self.map {
            None => Some(local as usize),
            Some((m, _)) => m.get(&local).map(|&r| r as usize),
        }
    }

    /// The row of `local`, if it has one.
    #[inline]
    pub fn get(&self, local: u32, ns: usize) -> Option<&[u32]> {
        let at = self.row(local)?.checked_mul(ns)?;
        self.slots.get(at..at.checked_add(ns)?)
    }

    /// Slot `j` of `local`'s row; [`NO_VALUE`] without a row.
    #[inline]
    pub fn slot(&self, local: u32, ns: usize, j: usize) -> u32 {
        self.get(local, ns).map_or(NO_VALUE, |r| r[j])
    }

    /// The row of `local`, made (every slot [`NO_VALUE`]) if it has none.
    pub fn row_mut(&mut self, local: u32, ns: usize) -> &mut [u32] {
        self.ns = ns;
        let row = match &mut self.map {
            None => {
                let at = local as usize * ns;
                let new = self.slots.get(at..at + ns).is_none_or(unused);
                if new {
                    self.used += 1;
                    let rows = local as usize + 1;
                    if self.slots.len() < rows * ns && !dense_enough(rows, self.used, MAP_AT) {
                        self.map_rows(ns);
                        return self.row_mut(local, ns);
                    }
                }
                local as usize
            }
            Some((m, top)) => {
                let next = m.len();
                let row = *m.entry(local).or_insert(next as u32) as usize;
                if row == next {
                    *top = (*top).max(local);
                    self.slots.resize((next + 1) * ns, NO_VALUE);
                    if dense_enough(*top as usize + 1, next + 1, DENSE_AT) {
                        self.densify(ns);
                        return self.row_mut(local, ns);
                    }
                }
                row
            }
        };
        let need = (row + 1) * ns;
        if self.slots.len() < need {
            self.slots.resize(need, NO_VALUE);
        }
        &mut self.slots[row * ns..need]
    }

    /// Mapped rows instead of rows by local (the rows holding a value keep their order).
    fn map_rows(&mut self, ns: usize) {
        let mut m = HashMap::default();
        let mut slots = Vec::new();
        let mut top = 0;
        for (local, row) in self.slots.chunks_exact(ns.max(1)).enumerate() {
            if !unused(row) {
                m.insert(local as u32, (slots.len() / ns.max(1)) as u32);
                slots.extend_from_slice(row);
                top = local as u32;
            }
        }
        self.used = m.len();
        self.slots = slots;
        self.map = Some((m, top));
    }

    /// Rows by local instead of mapped.
    fn densify(&mut self, ns: usize) {
        let Some((m, top)) = self.map.take() else {
            return;
        };
        let mut slots = vec![NO_VALUE; (top as usize + 1) * ns];
        for (&local, &row) in &m {
            let (to, from) = (local as usize * ns, row as usize * ns);
            slots[to..to + ns].copy_from_slice(&self.slots[from..from + ns]);
        }
        self.used = m.len();
        self.slots = slots;
    }

    /// Inserts an absent slot at position `at` of every row (`ns` slots a row before).
    pub fn widen(&mut self, ns: usize, at: usize) {
        let rows = self.slots.len().checked_div(ns).unwrap_or(0);
        let mut slots = Vec::with_capacity(rows * (ns + 1));
        for row in self.slots.chunks_exact(ns.max(1)) {
            slots.extend_from_slice(&row[..at]);
            slots.push(NO_VALUE);
            slots.extend_from_slice(&row[at..]);
        }
        self.slots = slots;
        self.ns = ns + 1;
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * 4 + self.map.as_ref().map_or(0, |(m, _)| m.capacity() * 9)
    }

    /// `(local, row)` of every row holding a value, ascending.
    fn used_rows(&self) -> Vec<(u32, &[u32])> {
        let ns = self.ns;
        let used = |r: &[u32]| r.iter().any(|&v| v != NO_VALUE);
        let mut out: Vec<(u32, &[u32])> = match &self.map {
            None => self
                .slots
                .chunks_exact(ns.max(1))
                .enumerate()
                .map(|(l, r)| (l as u32, r))
                .collect(),
            Some((m, _)) => m
                .keys()
                .filter_map(|&l| Some((l, self.get(l, ns)?)))
                .collect(),
        };
        out.retain(|(_, r)| ns > 0 && used(r));
        out.sort_unstable_by_key(|e| e.0);
        out
    }
}

/// Equal when the same locals hold the same values, however stored (a loaded grid may be
/// mapped where the grid it was saved from was not).
impl PartialEq for Payload {
    fn eq(&self, other: &Payload) -> bool {
        self.used_rows() == other.used_rows()
    }
}

/// Whether `rows` rows by local holding `used` series are at least 1 / `share` used.
fn dense_enough(rows: usize, used: usize, share: usize) -> bool {
    rows <= DENSE_ROWS_ALWAYS || rows / share <= used
}

/// A row without a value (never written, or its series deleted).
fn unused(row: &[u32]) -> bool {
    row.iter().all(|&v| v == NO_VALUE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `(local, slot, value)` and checks every row against a plain model.
    fn check(writes: &[(u32, usize, u32)], ns: usize, start: Payload) -> Payload {
        let mut p = start;
        let mut model = std::collections::BTreeMap::new();
        for &(local, j, v) in writes {
            p.row_mut(local, ns)[j] = v;
            model.entry(local).or_insert_with(|| vec![NO_VALUE; ns])[j] = v;
        }
        for (&local, row) in &model {
            assert_eq!(p.get(local, ns), Some(&row[..]), "local {local}");
            for (j, &v) in row.iter().enumerate() {
                assert_eq!(p.slot(local, ns, j), v);
            }
        }
        assert_eq!(p.get(u32::MAX - 1, ns), None);
        assert_eq!(p.slot(u32::MAX - 1, ns, 0), NO_VALUE);
        p
    }

    #[test]
    fn low_locals_are_rows_by_local() {
        let writes: Vec<_> = (0..5000).map(|l| (l, (l % 2) as usize, l)).collect();
        let p = check(&writes, 2, Payload::default());
        assert!(!p.is_mapped());
        assert!(p.heap_bytes() < 5000 * 2 * 4 * 2);
    }

    /// One series at a local near 2^32 costs a row, not 2^32 of them.
    #[test]
    fn a_high_local_is_mapped() {
        let writes = vec![(u32::MAX - 3, 1, 7), (1 << 30, 0, 9), (5, 2, 1)];
        let p = check(&writes, 3, Payload::default());
        assert!(p.is_mapped());
        assert!(p.heap_bytes() < 4096, "{} bytes", p.heap_bytes());
    }

    /// Mapped rows turn back into rows by local once a quarter of those would be used, and
    /// the content does not change.
    #[test]
    fn mapped_rows_densify_when_used() {
        let mut writes = vec![(100_000, 1, 7)];
        let p = check(&writes, 3, Payload::default());
        assert!(p.is_mapped());
        writes.extend((0..30_000).map(|l| (l, 2, l)));
        let dense = check(&writes, 3, Payload::default());
        assert!(!dense.is_mapped());
        assert_eq!(dense.get(100_000, 3), Some(&[NO_VALUE, 7, NO_VALUE][..]));
    }

    /// The loader's choice: rows by local when a quarter of them hold a series, else mapped;
    /// equality ignores the representation.
    #[test]
    fn loaded_payload_equals_built() {
        let writes: Vec<_> = (0..100u32).map(|i| (i * 1000, 0, i)).collect();
        let built = check(&writes, 1, Payload::default());
        let loaded = check(&writes, 1, Payload::for_load(Some(99_000), 100, 1));
        assert!(loaded.is_mapped());
        assert_eq!(built, loaded);
        let near = check(&writes[..5], 1, Payload::for_load(Some(4000), 5, 1));
        assert!(!near.is_mapped());
        assert_ne!(near, loaded);
    }

    /// Widening (a shared segment gaining a key) keeps every value in its place.
    #[test]
    fn widen_inserts_an_absent_slot() {
        let mut p = Payload::default();
        p.row_mut(3, 2).copy_from_slice(&[1, 2]);
        p.widen(2, 1);
        assert_eq!(p.get(3, 3), Some(&[1, NO_VALUE, 2][..]));
        assert_eq!(p.get(0, 3), Some(&[NO_VALUE; 3][..]));
    }
}
