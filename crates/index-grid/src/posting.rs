//! The postings list of one sparse tag value inside one grid.

use std::sync::Arc;

use roaring::RoaringBitmap;

/// Grid-local ids of the live series carrying one value. Most values of a high-cardinality key
/// (host names, UUIDs) have exactly one series, so that case costs no bitmap. A bitmap is
/// shared with query results (an equality answers with the posting itself, not a copy); a
/// change while a result still holds it copies it first.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum Posting {
    #[default]
    Empty,
    One(u32),
    Many(Arc<RoaringBitmap>),
}

impl Posting {
    pub fn insert(&mut self, local: u32) {
        match self {
            Posting::Empty => *self = Posting::One(local),
            Posting::One(x) => {
                let mut b = RoaringBitmap::new();
                b.insert(*x);
                b.insert(local);
                *self = Posting::Many(Arc::new(b));
            }
            Posting::Many(b) => {
                Arc::make_mut(b).insert(local);
            }
        }
    }

    pub fn remove(&mut self, local: u32) {
        match self {
            Posting::Empty => {}
            Posting::One(x) => {
                if *x == local {
                    *self = Posting::Empty;
                }
            }
            Posting::Many(b) => {
                Arc::make_mut(b).remove(local);
                if b.len() == 1 {
                    let only = b.min().unwrap_or(local);
                    *self = Posting::One(only);
                }
            }
        }
    }

    pub fn contains(&self, local: u32) -> bool {
        match self {
            Posting::Empty => false,
            Posting::One(x) => *x == local,
            Posting::Many(b) => b.contains(local),
        }
    }

    pub fn len(&self) -> u64 {
        match self {
            Posting::Empty => 0,
            Posting::One(_) => 1,
            Posting::Many(b) => b.len(),
        }
    }

    /// Adds the postings to `out`.
    pub fn union_into(&self, out: &mut RoaringBitmap) {
        match self {
            Posting::Empty => {}
            Posting::One(x) => {
                out.insert(*x);
            }
            Posting::Many(b) => *out |= &**b,
        }
    }

    pub fn to_bitmap(&self) -> RoaringBitmap {
        match self {
            // a clone copies containers whole; a union into an empty bitmap rebuilds them
            Posting::Many(b) => (**b).clone(),
            _ => {
                let mut out = RoaringBitmap::new();
                self.union_into(&mut out);
                out
            }
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            // the Arc's counters and the bitmap's vector header, then the containers
            Posting::Many(b) => 40 + b.serialized_size(),
            _ => 0,
        }
    }
}
