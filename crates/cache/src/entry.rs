//! One key's values in the cache: timestamps plus a typed column, in write order until deduplicated.

use tsmdb_encoding::{Column, ColumnRef, FieldType, StringColumn};

/// Bytes a value of `field_type` counts for in the cache's size estimate (InfluxDB's figures;
/// strings add their length).
pub const fn value_size(field_type: FieldType) -> u64 {
    match field_type {
        FieldType::Float | FieldType::Integer | FieldType::Unsigned => 16,
        FieldType::Boolean => 9,
        FieldType::String => 8,
    }
}

/// The size estimate of a run of values.
pub fn values_size(values: &ColumnRef<'_>) -> u64 {
    let fixed = value_size(values.field_type()) * values.len() as u64;
    match values {
        ColumnRef::String(s) => fixed + s.iter().map(|v| v.len() as u64).sum::<u64>(),
        _ => fixed,
    }
}

/// One key's values.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) timestamps: Vec<i64>,
    pub(crate) values: Column,
    /// True while timestamps strictly increase (then the entry is already deduplicated).
    pub(crate) ordered: bool,
}

impl Entry {
    #[cfg(test)]
    pub(crate) fn new(field_type: FieldType) -> Self {
        Entry {
            timestamps: Vec::new(),
            values: Column::empty(field_type),
            ordered: true,
        }
    }

    /// An empty entry with room for `n` values (strings: for `n` of them, not their bytes).
    pub(crate) fn with_room(field_type: FieldType, n: usize) -> Self {
        let values = match field_type {
            FieldType::Float => Column::Float(Vec::with_capacity(n)),
            FieldType::Integer => Column::Integer(Vec::with_capacity(n)),
            FieldType::Unsigned => Column::Unsigned(Vec::with_capacity(n)),
            FieldType::Boolean => Column::Boolean(Vec::with_capacity(n)),
            FieldType::String => Column::String(StringColumn::with_capacity(n, 0)),
        };
        Entry {
            timestamps: Vec::with_capacity(n),
            values,
            ordered: true,
        }
    }

    pub(crate) fn field_type(&self) -> FieldType {
        self.values.field_type()
    }

    pub(crate) fn len(&self) -> usize {
        self.timestamps.len()
    }

    /// The size estimate of the values (not the key).
    pub(crate) fn size(&self) -> u64 {
        let fixed = value_size(self.field_type()) * self.len() as u64;
        match &self.values {
            Column::String(s) => fixed + s.total_bytes() as u64,
            _ => fixed,
        }
    }

    /// Appends values of the entry's type; values of another type (which the caller's checks
    /// rule out) are not appended, and then `false` is returned.
    ///
    /// `period` is how many values the keys of this entry's partition held on average in the
    /// previous snapshot period (0 if unknown): a full column grows straight to that many, so
    /// a key written at a steady rate grows its columns once per period, to the size it needs,
    /// instead of doubling several times (each a copy) to up to twice that size. Past it, or
    /// without it, columns double as usual. Before a partition's first snapshot the caller
    /// passes a key's share of the snapshot threshold instead (see `part::FreshShare`).
    // Always inlined: it is the innermost step of every write, and the call costs as much as
    // the push of one value.
    #[inline(always)]
    pub(crate) fn append(
        &mut self,
        timestamps: &[i64],
        values: &ColumnRef<'_>,
        period: usize,
    ) -> bool {
        // The usual record holds one value (a line's field): push it, no slice copies.
        if let [t] = *timestamps {
            match (&mut self.values, values) {
                (Column::Float(c), ColumnRef::Float([v])) => push(c, *v, period),
                (Column::Integer(c), ColumnRef::Integer([v])) => push(c, *v, period),
                (Column::Unsigned(c), ColumnRef::Unsigned([v])) => push(c, *v, period),
                (Column::Boolean(c), ColumnRef::Boolean([v])) => push(c, *v, period),
                _ => return self.append_slices(timestamps, values, period),
            }
            if let Some(&last) = self.timestamps.last() {
                self.ordered &= t > last;
            }
            push(&mut self.timestamps, t, period);
            return true;
        }
        self.append_slices(timestamps, values, period)
    }

    /// Asks the CPU to fetch the cache lines the next append writes (the ends of both
    /// columns), so a write can start the memory loads of a few records ahead: a batch touches
    /// each key once, keys' columns are far apart in memory, and waiting for the end of each
    /// column one key after another is most of a fresh or steady write's time.
    #[inline(always)]
    pub(crate) fn prefetch_end(&self) {
        prefetch(self.timestamps.as_ptr().wrapping_add(self.timestamps.len()));
        let len = self.timestamps.len();
        match &self.values {
            Column::Float(c) => prefetch(c.as_ptr().wrapping_add(len)),
            Column::Integer(c) => prefetch(c.as_ptr().wrapping_add(len)),
            Column::Unsigned(c) => prefetch(c.as_ptr().wrapping_add(len)),
            Column::Boolean(c) => prefetch(c.as_ptr().wrapping_add(len)),
            Column::String(_) => {}
        }
    }

    fn append_slices(&mut self, timestamps: &[i64], values: &ColumnRef<'_>, period: usize) -> bool {
        if self.field_type() != values.field_type() {
            debug_assert!(false, "type checked before append");
            return false;
        }
        if let (Some(&last), Some(&first)) = (self.timestamps.last(), timestamps.first()) {
            self.ordered &= first > last;
        }
        if self.ordered {
            self.ordered = timestamps.windows(2).all(|w| w[0] < w[1]);
        }
        extend(&mut self.timestamps, timestamps, period);
        match (&mut self.values, values) {
            (Column::Float(c), ColumnRef::Float(v)) => extend(c, v, period),
            (Column::Integer(c), ColumnRef::Integer(v)) => extend(c, v, period),
            (Column::Unsigned(c), ColumnRef::Unsigned(v)) => extend(c, v, period),
            (Column::Boolean(c), ColumnRef::Boolean(v)) => extend(c, v, period),
            (Column::String(c), ColumnRef::String(v)) => v.iter().for_each(|s| c.push(s)),
            _ => {}
        }
        true
    }

    /// Appends another entry of the same type (used when a snapshot is rolled back).
    pub(crate) fn append_entry(&mut self, other: &Entry) -> bool {
        self.append(&other.timestamps, &other.values.as_ref(), 0)
    }

    /// Sorts by time and keeps the last written value of equal timestamps; returns the size
    /// estimate of the duplicates dropped.
    pub(crate) fn dedup(&mut self) -> u64 {
        if self.ordered {
            return 0;
        }
        let before = self.size();
        let mut order: Vec<usize> = (0..self.len()).collect();
        // Stable, so equal timestamps stay in write order and the last one is the newest.
        order.sort_by_key(|&i| self.timestamps[i]);
        let mut keep: Vec<usize> = Vec::with_capacity(order.len());
        for i in order {
            match keep.last_mut() {
                Some(last) if self.timestamps[*last] == self.timestamps[i] => *last = i,
                _ => keep.push(i),
            }
        }
        self.timestamps = keep.iter().map(|&i| self.timestamps[i]).collect();
        self.values = gather(&self.values, &keep);
        self.ordered = true;
        before - self.size()
    }

    /// Removes the values with `min <= t <= max`; returns the size estimate removed.
    pub(crate) fn delete_range(&mut self, min: i64, max: i64) -> u64 {
        let before = self.size();
        let keep: Vec<usize> = (0..self.len())
            .filter(|&i| !(min..=max).contains(&self.timestamps[i]))
            .collect();
        if keep.len() == self.len() {
            return 0;
        }
        self.timestamps = keep.iter().map(|&i| self.timestamps[i]).collect();
        self.values = gather(&self.values, &keep);
        before - self.size()
    }

    /// The index range of values with `min <= t <= max`; the entry must be deduplicated.
    pub(crate) fn range(&self, min: i64, max: i64) -> std::ops::Range<usize> {
        let start = self.timestamps.partition_point(|&t| t < min);
        let end = self.timestamps.partition_point(|&t| t <= max);
        start..end.max(start)
    }
}

/// A hint to load the cache line at `at`; never faults, whatever the address.
#[inline(always)]
fn prefetch<T>(at: *const T) {
    // SAFETY: `_mm_prefetch` needs SSE, which every x86_64 CPU has (it is in the target's
    // baseline features), and a prefetch only hints: it never reads into the program, and an
    // address that is not mapped (here at most the end of a column) is ignored, not a fault.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at.cast::<i8>());
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
    let _ = at;
}

/// Pushes onto a column, growing a full one as [`Entry::append`] describes.
#[inline]
fn push<T>(column: &mut Vec<T>, value: T, period: usize) {
    if column.len() == column.capacity() {
        grow(column, 1, period);
    }
    column.push(value);
}

/// Extends a column, growing it as [`Entry::append`] describes.
fn extend<T: Copy>(column: &mut Vec<T>, values: &[T], period: usize) {
    if column.capacity() - column.len() < values.len() {
        grow(column, values.len(), period);
    }
    column.extend_from_slice(values);
}

/// Makes room for `n` more values: up to `period` values if that is enough, else the usual
/// doubling.
#[cold]
#[inline(never)]
fn grow<T>(column: &mut Vec<T>, n: usize, period: usize) {
    let len = column.len();
    if len.saturating_add(n) <= period {
        column.reserve_exact(period - len);
    } else {
        column.reserve(n);
    }
}

/// The values at `indexes` of `column`, in that order.
pub(crate) fn gather(column: &Column, indexes: &[usize]) -> Column {
    match column {
        Column::Float(v) => Column::Float(indexes.iter().map(|&i| v[i]).collect()),
        Column::Integer(v) => Column::Integer(indexes.iter().map(|&i| v[i]).collect()),
        Column::Unsigned(v) => Column::Unsigned(indexes.iter().map(|&i| v[i]).collect()),
        Column::Boolean(v) => Column::Boolean(indexes.iter().map(|&i| v[i]).collect()),
        Column::String(v) => {
            let mut out = StringColumn::with_capacity(indexes.len(), 0);
            for &i in indexes {
                out.push(v.get(i).unwrap_or_default());
            }
            Column::String(out)
        }
    }
}

/// Appends value `index` of `src` to `dst` (same type; a mismatch is ignored).
pub(crate) fn push_from(dst: &mut Column, src: &Column, index: usize) {
    match (dst, src) {
        (Column::Float(d), Column::Float(s)) => d.push(s[index]),
        (Column::Integer(d), Column::Integer(s)) => d.push(s[index]),
        (Column::Unsigned(d), Column::Unsigned(s)) => d.push(s[index]),
        (Column::Boolean(d), Column::Boolean(s)) => d.push(s[index]),
        (Column::String(d), Column::String(s)) => d.push(s.get(index).unwrap_or_default()),
        _ => debug_assert!(false, "merge of different types"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_keeps_last_write_of_equal_timestamps() {
        // The spec's example: writes (3,1),(1,1) then (3,2) → [(1,1),(3,2)].
        let mut e = Entry::new(FieldType::Integer);
        assert!(e.append(&[3, 1], &ColumnRef::Integer(&[1, 1]), 0));
        assert!(e.append(&[3], &ColumnRef::Integer(&[2]), 0));
        assert!(!e.ordered);
        e.dedup();
        assert_eq!(e.timestamps, [1, 3]);
        assert_eq!(e.values, Column::Integer(vec![1, 2]));
        assert_eq!(e.range(2, 3), 1..2);
        assert_eq!(e.range(5, 1), 2..2);
    }

    #[test]
    fn a_full_column_grows_to_the_period_then_doubles() {
        let mut e = Entry::with_room(FieldType::Float, 12);
        for t in 0..13 {
            assert!(e.append(&[t], &ColumnRef::Float(&[1.0]), 50));
        }
        assert_eq!(e.timestamps.capacity(), 50, "straight to the period");
        let Column::Float(v) = &e.values else {
            panic!("float entry")
        };
        assert_eq!(v.capacity(), 50);
        for t in 13..51 {
            assert!(e.append(&[t], &ColumnRef::Float(&[1.0]), 50));
        }
        assert!(e.timestamps.capacity() >= 100, "past the period: doubling");
        // Several values at once, and without a period: the usual growth.
        let mut e = Entry::with_room(FieldType::Integer, 1);
        assert!(e.append(&[1, 2, 3], &ColumnRef::Integer(&[1, 2, 3]), 40));
        assert_eq!(e.timestamps.capacity(), 40);
        let mut e = Entry::with_room(FieldType::Integer, 1);
        assert!(e.append(&[1, 2, 3], &ColumnRef::Integer(&[1, 2, 3]), 0));
        assert!(e.timestamps.capacity() < 40);
        assert!(e.ordered);
        assert!(e.append(&[3], &ColumnRef::Integer(&[4]), 0));
        assert!(
            !e.ordered,
            "an equal timestamp ends the strictly increasing run"
        );
    }

    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "type checked"))]
    fn a_value_of_another_type_is_not_appended() {
        let mut e = Entry::new(FieldType::Float);
        assert!(!e.append(&[1], &ColumnRef::Integer(&[1]), 0));
        assert_eq!(e.len(), 0, "no timestamp without its value");
    }

    #[test]
    fn prefetching_a_columns_end_changes_nothing_whatever_the_column() {
        // Empty (dangling pointers), exactly full (one past the allocation) and with room.
        for t in [
            FieldType::Float,
            FieldType::Integer,
            FieldType::Unsigned,
            FieldType::Boolean,
            FieldType::String,
        ] {
            for room in [0, 1, 8] {
                let mut e = Entry::with_room(t, room);
                e.prefetch_end();
                let one = match t {
                    FieldType::Float => Column::Float(vec![1.5]),
                    FieldType::Integer => Column::Integer(vec![-1]),
                    FieldType::Unsigned => Column::Unsigned(vec![1]),
                    FieldType::Boolean => Column::Boolean(vec![true]),
                    FieldType::String => Column::String([&b"s"[..]].into_iter().collect()),
                };
                assert!(e.append(&[7], &one.as_ref(), 0));
                e.prefetch_end();
                assert_eq!((e.timestamps.as_slice(), &e.values), (&[7][..], &one));
            }
        }
    }

    #[test]
    fn sizes_follow_influxdb() {
        let strings: StringColumn = [&b"abc"[..], b""].into_iter().collect();
        let v = ColumnRef::String(strings.as_slice());
        assert_eq!(values_size(&v), 8 + 3 + 8);
        assert_eq!(values_size(&ColumnRef::Boolean(&[true])), 9);
        let mut e = Entry::new(FieldType::String);
        assert!(e.append(&[1, 2], &v, 0));
        assert_eq!(e.size(), 19);
        assert_eq!(e.delete_range(1, 1), 11);
        assert_eq!(e.size(), 8);
    }
}
