//! Identifiers and id sets.

use std::sync::Arc;

use roaring::RoaringBitmap;

/// A series identifier: never 0, never reused, never changed (spec §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesId(pub u64);

impl std::fmt::Display for SeriesId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Whether [`crate::Index::insert`] created the series or found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// The series is new; its id was just assigned.
    Inserted,
    /// The series was already live; its existing id is returned.
    Existed,
}

/// The grid-local ids of one part of a [`SeriesIdSet`]: one series (no bitmap to allocate),
/// a bitmap computed for the query, or a posting of the index shared without a copy.
#[derive(Debug, Clone)]
pub(crate) enum Locals {
    One(u32),
    Owned(RoaringBitmap),
    Shared(Arc<RoaringBitmap>),
}

impl Locals {
    fn bitmap(&self) -> Option<&RoaringBitmap> {
        match self {
            Locals::One(_) => None,
            Locals::Owned(b) => Some(b),
            Locals::Shared(b) => Some(b),
        }
    }

    fn len(&self) -> u64 {
        self.bitmap().map_or(1, RoaringBitmap::len)
    }

    fn is_empty(&self) -> bool {
        self.bitmap().is_some_and(RoaringBitmap::is_empty)
    }

    fn contains(&self, local: u32) -> bool {
        match self {
            Locals::One(x) => *x == local,
            _ => self.bitmap().is_some_and(|b| b.contains(local)),
        }
    }

    fn iter(&self) -> LocalsIter<'_> {
        match self {
            Locals::One(x) => LocalsIter::One(Some(*x)),
            Locals::Owned(b) => LocalsIter::Bits(b.iter()),
            Locals::Shared(b) => LocalsIter::Bits(b.iter()),
        }
    }
}

impl PartialEq for Locals {
    fn eq(&self, other: &Locals) -> bool {
        match (self.bitmap(), other.bitmap()) {
            (Some(a), Some(b)) => a == b,
            _ => self.len() == other.len() && self.iter().eq(other.iter()),
        }
    }
}

/// The locals of a [`Locals`], ascending.
enum LocalsIter<'a> {
    One(Option<u32>),
    Bits(roaring::bitmap::Iter<'a>),
}

impl Iterator for LocalsIter<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        match self {
            LocalsIter::One(x) => x.take(),
            LocalsIter::Bits(i) => i.next(),
        }
    }
}

/// A set of series ids in ascending order: one bitmap of grid-local ids per grid, grids in
/// ascending order of their id ranges (which never overlap).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeriesIdSet {
    parts: Vec<(u64, Locals)>,
}

impl SeriesIdSet {
    /// An empty set with room for `grids` parts.
    pub(crate) fn with_capacity(grids: usize) -> Self {
        SeriesIdSet {
            parts: Vec::with_capacity(grids),
        }
    }

    /// Appends the locals of a grid whose range starts at `base`; bases must ascend.
    pub(crate) fn push(&mut self, base: u64, locals: RoaringBitmap) {
        self.push_locals(base, Locals::Owned(locals));
    }

    /// [`Self::push`] of a shared or owned bitmap.
    pub(crate) fn push_locals(&mut self, base: u64, locals: Locals) {
        debug_assert!(self.parts.last().is_none_or(|(b, _)| *b < base));
        if !locals.is_empty() {
            self.parts.push((base, locals));
        }
    }

    /// Number of ids.
    pub fn len(&self) -> u64 {
        self.parts.iter().map(|(_, b)| b.len()).sum()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Whether `id` is in the set.
    pub fn contains(&self, id: SeriesId) -> bool {
        let i = self.parts.partition_point(|(b, _)| *b <= id.0);
        if i == 0 {
            return false;
        }
        let (base, bm) = &self.parts[i - 1];
        u32::try_from(id.0 - base).is_ok_and(|l| bm.contains(l))
    }

    /// The ids in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = SeriesId> + '_ {
        self.parts
            .iter()
            .flat_map(|(base, bm)| bm.iter().map(move |l| SeriesId(base + u64::from(l))))
    }

    /// The ids in ascending order, collected.
    pub fn to_vec(&self) -> Vec<SeriesId> {
        self.iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_compare_by_content_whatever_their_form() {
        let bits: RoaringBitmap = [7u32].into_iter().collect();
        let mut one = SeriesIdSet::default();
        one.push_locals(10, Locals::One(7));
        let mut owned = SeriesIdSet::default();
        owned.push(10, bits.clone());
        let mut shared = SeriesIdSet::default();
        shared.push_locals(10, Locals::Shared(Arc::new(bits)));
        assert_eq!(one, owned);
        assert_eq!(owned, shared);
        assert_eq!(one.to_vec(), vec![SeriesId(17)]);
        assert!(one.contains(SeriesId(17)) && !one.contains(SeriesId(16)));
        assert_eq!(one.len(), 1);
        let mut other = SeriesIdSet::default();
        other.push_locals(10, Locals::One(8));
        assert_ne!(one, other);
        let mut empty = SeriesIdSet::default();
        empty.push(10, RoaringBitmap::new());
        assert!(empty.is_empty());
    }
}
