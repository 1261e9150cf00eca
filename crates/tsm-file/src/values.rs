//! Value-level reading and writing on top of the raw block layer: the writer chunks a key's values
//! into blocks and encodes them; the reader decodes blocks into reusable buffers and applies time
//! ranges and tombstones.

use std::ops::Range;

use tsmdb_encoding::{Column, ColumnRef, FieldType, decode_block, encode_block};

use crate::error::{Error, FullReason, Result};
use crate::format::{IndexEntry, TimeRange};
use crate::index::KeyEntries;
use crate::reader::TsmReader;
use crate::writer::{BlockWrite, TsmWriter};

/// Reusable buffers for encoding blocks.
#[derive(Debug, Default)]
pub(crate) struct EncodeScratch {
    block: Vec<u8>,
}

/// What [`TsmWriter::write_values`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a partial write must be continued in the next file"]
pub enum ValuesWrite {
    /// Every value is in the file.
    All,
    /// Only the first `written` values are in the file: it is full. Finish it and write the rest
    /// (`timestamps[written..]`, `values.slice(written..)`) to the next file.
    Partial {
        /// Values written to this file.
        written: usize,
        /// Why the file is full.
        reason: FullReason,
    },
}

impl TsmWriter {
    /// Appends values of `key`, chunked into blocks of at most
    /// [`WriterOptions::max_values_per_block`](crate::WriterOptions) values.
    ///
    /// `key` must be the current key or sort after it; timestamps must strictly increase, also
    /// across calls for the same key. Input is validated before anything is written, so an error
    /// leaves the file as it was. When the file fills up part-way, returns
    /// [`ValuesWrite::Partial`].
    pub fn write_values(
        &mut self,
        key: &[u8],
        timestamps: &[i64],
        values: ColumnRef<'_>,
    ) -> Result<ValuesWrite> {
        let invalid = |what: String| Error::InvalidInput {
            key: key.to_vec(),
            what,
        };
        if timestamps.len() != values.len() {
            return Err(invalid(format!(
                "{} timestamps but {} values",
                timestamps.len(),
                values.len()
            )));
        }
        let Some(&first) = timestamps.first() else {
            return Ok(ValuesWrite::All);
        };
        let field_type = values.field_type();
        self.check_key(key, field_type, first)?;
        if let Some(w) = timestamps.windows(2).find(|w| w[1] <= w[0]) {
            return Err(Error::OutOfOrder {
                key: key.to_vec(),
                time: w[1],
                previous: w[0],
            });
        }
        if let ColumnRef::Float(f) = values
            && let Some(i) = f.iter().position(|v| v.is_nan())
        {
            return Err(invalid(format!(
                "unsupported value: NaN (value {i} at time {})",
                timestamps.get(i).copied().unwrap_or_default()
            )));
        }
        let chunk = self.options().max_values_per_block.max(1);
        let mut start = 0;
        let mut scratch = std::mem::take(&mut self.scratch);
        let result = (|| {
            while start < timestamps.len() {
                let end = (start + chunk).min(timestamps.len());
                let ts = timestamps.get(start..end).unwrap_or_default();
                scratch.block.clear();
                encode_block(ts, values.slice(start..end), &mut scratch.block)
                    .map_err(|e| invalid(e.to_string()))?;
                let (Some(&min), Some(&max)) = (ts.first(), ts.last()) else {
                    break;
                };
                match self.write_block(key, field_type, min, max, &scratch.block)? {
                    BlockWrite::Written => start = end,
                    BlockWrite::Full(reason) => {
                        return Ok(ValuesWrite::Partial {
                            written: start,
                            reason,
                        });
                    }
                }
            }
            Ok(ValuesWrite::All)
        })();
        self.scratch = scratch;
        result
    }
}

/// A key's decoded values: timestamps and a typed column, reused across reads.
#[derive(Debug, Clone)]
pub struct Values {
    /// Timestamps, strictly increasing.
    pub timestamps: Vec<i64>,
    /// The values, one per timestamp.
    pub values: Column,
    scratch_times: Vec<i64>,
    scratch_values: Column,
}

impl Default for Values {
    fn default() -> Self {
        Values::new()
    }
}

impl Values {
    /// Empty buffers.
    pub fn new() -> Values {
        Values {
            timestamps: Vec::new(),
            values: Column::empty(FieldType::Float),
            scratch_times: Vec::new(),
            scratch_values: Column::empty(FieldType::Float),
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.timestamps.len()
    }

    /// True when there is no value.
    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }
}

/// Keeps, in place, the pairs whose time is inside `range` and outside every range of `deleted`
/// (sorted and disjoint, as tombstones are merged). `times` is sorted, so the kept pairs form
/// runs whose bounds are found by binary search; each run moves down in one copy instead of the
/// values being tested one at a time.
fn keep_live(times: &mut Vec<i64>, values: &mut Column, range: TimeRange, deleted: &[TimeRange]) {
    let lo = times.partition_point(|&t| t < range.min);
    let hi = times.partition_point(|&t| t <= range.max);
    let mut write = 0;
    let mut pos = lo;
    // Deletes ending before the first time in range cannot cut anything.
    let first = times
        .get(lo)
        .map_or(deleted.len(), |&t| deleted.partition_point(|d| d.max < t));
    for d in deleted.get(first..).unwrap_or_default() {
        let window = times.get(pos..hi).unwrap_or_default();
        let cut_start = pos + window.partition_point(|&t| t < d.min);
        if cut_start >= hi {
            break;
        }
        let cut_end = pos + window.partition_point(|&t| t <= d.max);
        write = move_run(times, values, pos..cut_start, write);
        pos = cut_end;
    }
    write = move_run(times, values, pos..hi, write);
    times.truncate(write);
    match values {
        Column::Float(v) => v.truncate(write),
        Column::Integer(v) => v.truncate(write),
        Column::Boolean(v) => v.truncate(write),
        Column::Unsigned(v) => v.truncate(write),
        Column::String(v) => v.truncate(write),
    }
}

/// Moves pairs `run` down to start at `write` (`write <= run.start`) and returns the position
/// after them.
fn move_run(times: &mut [i64], values: &mut Column, run: Range<usize>, write: usize) -> usize {
    let len = run.len();
    if len == 0 || run.start == write {
        return write + len;
    }
    times.copy_within(run.clone(), write);
    match values {
        Column::Float(v) => v.copy_within(run, write),
        Column::Integer(v) => v.copy_within(run, write),
        Column::Boolean(v) => v.copy_within(run, write),
        Column::Unsigned(v) => v.copy_within(run, write),
        Column::String(v) => v.move_down(run, write),
    }
    write + len
}

/// Appends every pair of `(src_t, src_v)` to `(dst_t, dst_v)`; `dst_v` takes `src_v`'s type when
/// empty. Returns false on a type clash (checked by the caller beforehand).
fn append(src_t: &[i64], src_v: &Column, dst_t: &mut Vec<i64>, dst_v: &mut Column) -> bool {
    if dst_v.is_empty() && dst_v.field_type() != src_v.field_type() {
        dst_v.reset(src_v.field_type());
    }
    match (src_v, dst_v) {
        (Column::Float(s), Column::Float(d)) => d.extend_from_slice(s),
        (Column::Integer(s), Column::Integer(d)) => d.extend_from_slice(s),
        (Column::Boolean(s), Column::Boolean(d)) => d.extend_from_slice(s),
        (Column::Unsigned(s), Column::Unsigned(d)) => d.extend_from_slice(s),
        (Column::String(s), Column::String(d)) => {
            for x in s.iter() {
                d.push(x);
            }
        }
        _ => return false,
    }
    dst_t.extend_from_slice(src_t);
    true
}

impl TsmReader {
    /// Decodes the block at `entry` of `key` into `times` and `values` (CRC checked, decoded
    /// counts and the index's type and time range cross-checked). Tombstones are not applied.
    pub fn decode_block(
        &self,
        key: &KeyEntries<'_>,
        entry: &IndexEntry,
        times: &mut Vec<i64>,
        values: &mut Column,
    ) -> Result<()> {
        let block = self.block(key.key, entry)?;
        let corrupt = |what: String| Error::BlockCorrupt {
            path: self.path().to_path_buf(),
            key: key.key.to_vec(),
            offset: entry.offset,
            what,
        };
        let field_type = decode_block(block, times, values).map_err(|e| corrupt(e.to_string()))?;
        if field_type != key.field_type {
            return Err(corrupt(format!(
                "block holds {field_type} values but the index says {}",
                key.field_type
            )));
        }
        let (first, last) = (times.first().copied(), times.last().copied());
        if first != Some(entry.min_time) || last != Some(entry.max_time) {
            return Err(corrupt(format!(
                "block times {first:?}..{last:?} differ from the index's {}..{}",
                entry.min_time, entry.max_time
            )));
        }
        if let Some(w) = times.windows(2).find(|w| w[1] <= w[0]) {
            return Err(corrupt(format!(
                "timestamps not increasing: {} then {}",
                w[0], w[1]
            )));
        }
        Ok(())
    }

    /// Decodes one block and drops the values outside `range` or deleted by tombstones (when the
    /// reader applies them).
    pub fn read_block_values(
        &self,
        key: &KeyEntries<'_>,
        entry: &IndexEntry,
        range: TimeRange,
        times: &mut Vec<i64>,
        values: &mut Column,
    ) -> Result<()> {
        self.with_deleted_ranges(key.position, |deleted| {
            self.filtered_block(key, entry, range, deleted, times, values)
        })
    }

    fn filtered_block(
        &self,
        key: &KeyEntries<'_>,
        entry: &IndexEntry,
        range: TimeRange,
        deleted: &[TimeRange],
        times: &mut Vec<i64>,
        values: &mut Column,
    ) -> Result<()> {
        self.decode_block(key, entry, times, values)?;
        let inside = range.min <= entry.min_time && entry.max_time <= range.max;
        let hit = deleted
            .iter()
            .any(|d| d.min <= entry.max_time && d.max >= entry.min_time);
        if !inside || hit {
            keep_live(times, values, range, deleted);
        }
        Ok(())
    }

    /// Reads the values of `key` with times in `range` into `out` (cleared first), tombstones
    /// applied. Returns false when the file lacks the key or tombstones removed it.
    ///
    /// The key's deletes are read once, so a delete committed meanwhile is seen entirely or not
    /// at all.
    pub fn read_values(&self, key: &[u8], range: TimeRange, out: &mut Values) -> Result<bool> {
        out.timestamps.clear();
        out.values.clear();
        let Some(k) = self.position_of(key).and_then(|p| self.key_at(p)) else {
            return Ok(false);
        };
        self.with_deleted_ranges(k.position, |deleted| {
            // A key removed entirely comes as `[ALL]` (a merged `ALL` range is always "removed").
            if deleted == [TimeRange::ALL] {
                return Ok(false);
            }
            out.values.reset(k.field_type);
            let Values {
                timestamps,
                values,
                scratch_times,
                scratch_values,
            } = out;
            for entry in k.overlapping(range.min, range.max) {
                self.filtered_block(&k, &entry, range, deleted, scratch_times, scratch_values)?;
                append(scratch_times, scratch_values, timestamps, values);
            }
            Ok(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The plain definition: every pair tested one at a time.
    fn naive(
        times: &[i64],
        strings: &[Vec<u8>],
        range: TimeRange,
        deleted: &[TimeRange],
    ) -> Vec<(i64, Vec<u8>)> {
        times
            .iter()
            .zip(strings)
            .filter(|(t, _)| range.contains(**t) && !deleted.iter().any(|d| d.contains(**t)))
            .map(|(t, s)| (*t, s.clone()))
            .collect()
    }

    /// Sorted, disjoint ranges from arbitrary (start, length) pairs, as merged tombstones are.
    fn disjoint(raw: Vec<(i64, i64)>) -> Vec<TimeRange> {
        let mut raw: Vec<(i64, i64)> = raw;
        raw.sort();
        let mut out: Vec<TimeRange> = Vec::new();
        for (min, len) in raw {
            let max = min + len;
            match out.last_mut() {
                Some(last) if min <= last.max + 1 => last.max = last.max.max(max),
                _ => out.push(TimeRange::new(min, max)),
            }
        }
        out
    }

    proptest! {
        #[test]
        fn keep_live_equals_testing_each_value(
            set in proptest::collection::btree_set(-50i64..50, 0..60),
            (rmin, rmax) in (-60i64..60, -60i64..60),
            raw in proptest::collection::vec((-60i64..60, 0i64..8), 0..6),
        ) {
            let times: Vec<i64> = set.into_iter().collect();
            let strings: Vec<Vec<u8>> = times.iter().map(|t| t.to_string().into_bytes()).collect();
            let range = TimeRange::new(rmin, rmax);
            let deleted = disjoint(raw);
            let want = naive(&times, &strings, range, &deleted);

            let mut t = times.clone();
            let mut c = Column::String(strings.iter().map(Vec::as_slice).collect());
            keep_live(&mut t, &mut c, range, &deleted);
            let Column::String(s) = &c else { unreachable!() };
            let got: Vec<(i64, Vec<u8>)> = t.iter().copied().zip(s.iter().map(<[u8]>::to_vec)).collect();
            prop_assert_eq!(&got, &want);

            let mut t = times.clone();
            let mut c = Column::Float(times.iter().map(|&t| t as f64).collect());
            keep_live(&mut t, &mut c, range, &deleted);
            let want_f: Vec<f64> = want.iter().map(|(t, _)| *t as f64).collect();
            let want_t: Vec<i64> = want.iter().map(|(t, _)| *t).collect();
            prop_assert_eq!(t, want_t);
            prop_assert_eq!(c, Column::Float(want_f));
        }
    }

    #[test]
    fn keep_live_cuts_ranges_and_deletes_out_of_the_middle() {
        let mut t: Vec<i64> = (0..10).collect();
        let mut c = Column::Integer((0..10).map(|i| i * 100).collect());
        // Range 1..=8, deletes 3..=4 and 6..=6: keeps 1, 2, 5, 7, 8.
        keep_live(
            &mut t,
            &mut c,
            TimeRange::new(1, 8),
            &[TimeRange::new(3, 4), TimeRange::new(6, 6)],
        );
        assert_eq!(t, [1, 2, 5, 7, 8]);
        assert_eq!(c, Column::Integer(vec![100, 200, 500, 700, 800]));
    }
}
