//! A write batch being assembled: values grouped by shard, series and composite key, plus the
//! points that were refused and why.
//!
//! Built for the hot path: every key lives in one byte arena, every value in one flat list, and
//! keys are found by a hash computed once per point. Nothing here allocates per value.
//!
//! A batch is reused for the next one ([`Batch::clear`]): its values go, but the series and
//! composite keys it learnt stay (up to a memory cap), so a stream that writes the same series
//! again builds each key once, not once per batch. A remembered key also stands for "the schema
//! has this field with this type": [`Batch::clear`] forgets everything when the schema's
//! generation moved (a measurement was dropped). [`ShardBatch::seal`] groups the values by key
//! (a counting sort) so that the WAL and the cache get one contiguous run per key.

use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;

use tsmdb_encoding::{ColumnRef, FieldType, StringColumn};

use crate::layout::ShardRange;

/// Why one point (or line) of a write was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 1-based line number in the line-protocol input (for typed points: 1-based index).
    pub line: u64,
    /// InfluxDB's reason text (parse error, field type conflict, `time` tag, ...).
    pub reason: String,
}

/// What a write did: explicit about every point it refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteSummary {
    /// Points written.
    pub points: u64,
    /// Field values written.
    pub values: u64,
    /// Series created by this write.
    pub series_created: u64,
    /// Every refused line or point, in input order.
    pub rejected: Vec<Rejection>,
}

impl WriteSummary {
    /// True when nothing was refused.
    pub fn is_complete(&self) -> bool {
        self.rejected.is_empty()
    }
}

/// "No slot": the end of a chain.
const NONE: u32 = u32::MAX;

/// A hasher for keys that already are hashes (xxh3 of the key bytes).
#[derive(Default)]
pub(crate) struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed with it; fold anything else so it still works.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type HashIndex = HashMap<u64, u32, BuildHasherDefault<PassThrough>>;

fn range_of(start: usize, end: usize) -> Range<u32> {
    // The batch is capped far below 4 GiB by the engine's batch sizes; saturate rather than wrap.
    let clamp = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    clamp(start)..clamp(end)
}

fn usize_range(r: &Range<u32>) -> Range<usize> {
    r.start as usize..r.end as usize
}

/// One way a series was named in the input (its canonical key, or a differently escaped spelling
/// of it), pointing at its series slot.
#[derive(Debug, Clone)]
struct Spelling {
    key: Range<u32>,
    series: u32,
    /// Next spelling with the same hash.
    next: u32,
}

/// One series of the batch.
#[derive(Debug, Clone)]
pub(crate) struct SeriesSlot {
    /// The canonical series key.
    pub key: Range<u32>,
    /// The unescaped measurement.
    pub measurement: Range<u32>,
    /// Its unescaped tags: a range of [`ShardBatch::tags`].
    pub tags: Range<u32>,
    /// The series' first composite key; the others follow through [`KeySlot::next_in_series`].
    first_key: u32,
    last_key: u32,
    /// Keys of the series, in creation order (what a point's n-th field usually maps to).
    key_count: u32,
    /// The last round (batch) that wrote to the series.
    round: u32,
    /// The shard index epoch in which the series was last inserted into the index (0: never).
    indexed_in: u64,
}

/// One composite key of the batch.
#[derive(Debug, Clone)]
struct KeySlot {
    /// The composite key; its field name is the tail after `field_at`.
    key: Range<u32>,
    field_at: u32,
    field_type: FieldType,
    count: u32,
    next_in_series: u32,
    /// The cache's hash of the key, computed once when the key is made.
    hash: u64,
    /// Where the shard's cache keeps the key, kept from batch to batch so that a write of a
    /// known key skips the cache's lookup (a stale handle just falls back to it). A `Cell`
    /// because the cache fills it in while the batch is shared with the commit path.
    handle: Cell<tsmdb_cache::KeyHandle>,
}

/// One value as it arrived: its key slot, time and payload (numbers as bits, booleans as 0/1,
/// strings as an index into [`ShardBatch::strings`]).
#[derive(Debug, Clone, Copy)]
struct Pending {
    key: u32,
    time: i64,
    bits: u64,
}

/// Where one key's values sit after [`ShardBatch::seal`].
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    time_start: u32,
    value_start: u32,
}

/// The values of a sealed batch, grouped by key.
#[derive(Debug, Default)]
struct Sealed {
    timestamps: Vec<i64>,
    floats: Vec<f64>,
    integers: Vec<i64>,
    unsigneds: Vec<u64>,
    booleans: Vec<bool>,
    strings: StringColumn,
    runs: Vec<Run>,
    /// Scratch of the counting sort.
    cursors: Vec<Run>,
    string_order: Vec<u32>,
}

/// One value of a point, borrowed from whichever input it came from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ValueRef<'v> {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    Boolean(bool),
    String(&'v [u8]),
}

/// Everything of a batch that goes to one shard.
#[derive(Debug, Default)]
pub(crate) struct ShardBatch {
    pub range: Option<ShardRange>,
    /// Counts the batches this part was reused for.
    round: u32,
    /// Series written in this round, in first-written order.
    touched: Vec<u32>,
    /// Every key and name of the batch, back to back.
    arena: Vec<u8>,
    spellings: Vec<Spelling>,
    by_hash: HashIndex,
    pub series: Vec<SeriesSlot>,
    /// Unescaped tag (key, value) ranges of every series.
    pub tags: Vec<(Range<u32>, Range<u32>)>,
    keys: Vec<KeySlot>,
    pending: Vec<Pending>,
    strings: StringColumn,
    sealed: Sealed,
}

impl ShardBatch {
    /// Drops this round's values, keeping the series and keys for the next round.
    fn next_round(&mut self) {
        self.round = self.round.wrapping_add(1);
        self.touched.clear();
        for k in &mut self.keys {
            k.count = 0;
        }
        self.pending.clear();
        self.strings.clear();
    }

    /// Bytes held by the remembered keys.
    fn remembered_bytes(&self) -> usize {
        self.arena.len()
    }

    /// Forgets everything, keeping every buffer's capacity.
    pub(crate) fn clear(&mut self) {
        self.range = None;
        self.round = self.round.wrapping_add(1);
        self.touched.clear();
        self.arena.clear();
        self.spellings.clear();
        self.by_hash.clear();
        self.series.clear();
        self.tags.clear();
        self.keys.clear();
        self.pending.clear();
        self.strings.clear();
    }

    /// Bytes of the arena range `r`.
    pub(crate) fn bytes(&self, r: &Range<u32>) -> &[u8] {
        &self.arena[usize_range(r)]
    }

    /// The series named `key` (hash `hash`), in any spelling seen so far.
    pub(crate) fn find_series(&self, key: &[u8], hash: u64) -> Option<u32> {
        let mut at = *self.by_hash.get(&hash)?;
        while at != NONE {
            let s = &self.spellings[at as usize];
            if self.bytes(&s.key) == key {
                return Some(s.series);
            }
            at = s.next;
        }
        None
    }

    /// Records another spelling (`key`, hash `hash`) of series `series`.
    pub(crate) fn add_spelling(&mut self, key: &[u8], hash: u64, series: u32) {
        let start = self.arena.len();
        self.arena.extend_from_slice(key);
        self.push_spelling(range_of(start, self.arena.len()), hash, series);
    }

    fn push_spelling(&mut self, key: Range<u32>, hash: u64, series: u32) {
        let at = self.spellings.len() as u32;
        let next = self.by_hash.insert(hash, at).unwrap_or(NONE);
        self.spellings.push(Spelling { key, series, next });
    }

    /// Adds a series under its canonical key (hash `hash`) with its unescaped parts.
    pub(crate) fn add_series<'t>(
        &mut self,
        key: &[u8],
        hash: u64,
        measurement: &[u8],
        tags: impl Iterator<Item = (&'t [u8], &'t [u8])>,
    ) -> u32 {
        let push = |arena: &mut Vec<u8>, bytes: &[u8]| {
            let start = arena.len();
            arena.extend_from_slice(bytes);
            range_of(start, arena.len())
        };
        let key = push(&mut self.arena, key);
        let measurement = push(&mut self.arena, measurement);
        let tag_start = self.tags.len();
        for (k, v) in tags {
            // Tags with an empty value are not part of the series (InfluxDB drops them).
            if v.is_empty() {
                continue;
            }
            let k = push(&mut self.arena, k);
            let v = push(&mut self.arena, v);
            self.tags.push((k, v));
        }
        let id = self.series.len() as u32;
        self.series.push(SeriesSlot {
            key: key.clone(),
            measurement,
            tags: range_of(tag_start, self.tags.len()),
            first_key: NONE,
            last_key: NONE,
            key_count: 0,
            round: self.round.wrapping_sub(1),
            indexed_in: 0,
        });
        self.push_spelling(key, hash, id);
        id
    }

    /// The key slot of `series` for `field` with type `t`; `None` when the batch has no such key
    /// (or has it with another type: the schema check then reports the conflict). `guess` is the
    /// field's position in its point, which is usually its position in the series.
    pub(crate) fn find_key(
        &self,
        series: u32,
        field: &[u8],
        t: FieldType,
        guess: usize,
    ) -> Option<u32> {
        let s = &self.series[series as usize];
        let contiguous = s.key_count > 0 && s.last_key - s.first_key + 1 == s.key_count;
        if contiguous && guess < s.key_count as usize {
            let slot = s.first_key + guess as u32;
            let k = &self.keys[slot as usize];
            if self.field_of(k) == field {
                return (k.field_type == t).then_some(slot);
            }
        }
        let mut at = s.first_key;
        while at != NONE {
            let k = &self.keys[at as usize];
            if self.field_of(k) == field {
                return (k.field_type == t).then_some(at);
            }
            at = k.next_in_series;
        }
        None
    }

    fn field_of(&self, k: &KeySlot) -> &[u8] {
        &self.arena[k.field_at as usize..k.key.end as usize]
    }

    /// Adds the key of `series` for `field` with type `t`.
    pub(crate) fn add_key(&mut self, series: u32, field: &[u8], t: FieldType) -> u32 {
        let slot = self.keys.len() as u32;
        let s = &self.series[series as usize];
        let series_key = usize_range(&s.key);
        let start = self.arena.len();
        self.arena.extend_from_within(series_key);
        self.arena
            .extend_from_slice(tsmdb_lineproto::FIELD_SEPARATOR);
        let field_at = self.arena.len();
        self.arena.extend_from_slice(field);
        let hash = tsmdb_cache::key_hash(&self.arena[start..]);
        self.keys.push(KeySlot {
            key: range_of(start, self.arena.len()),
            field_at: field_at as u32,
            field_type: t,
            count: 0,
            next_in_series: NONE,
            hash,
            handle: Cell::new(tsmdb_cache::KeyHandle::NONE),
        });
        let s = &mut self.series[series as usize];
        if s.first_key == NONE {
            s.first_key = slot;
        } else {
            let last = s.last_key as usize;
            self.keys[last].next_in_series = slot;
        }
        s.last_key = slot;
        s.key_count += 1;
        slot
    }

    /// Notes that `series` gets values in this round (for the index).
    pub(crate) fn touch(&mut self, series: u32) {
        if let Some(s) = self.series.get_mut(series as usize)
            && s.round != self.round
        {
            s.round = self.round;
            self.touched.push(series);
        }
    }

    /// Adds one value to key slot `key` (whose type is the value's type).
    pub(crate) fn push(&mut self, key: u32, time: i64, value: ValueRef<'_>) {
        let bits = match value {
            ValueRef::Float(v) => v.to_bits(),
            ValueRef::Integer(v) => v as u64,
            ValueRef::Unsigned(v) => v,
            ValueRef::Boolean(v) => u64::from(v),
            ValueRef::String(s) => {
                self.strings.push(s);
                (self.strings.len() - 1) as u64
            }
        };
        if let Some(k) = self.keys.get_mut(key as usize) {
            k.count += 1;
        }
        self.pending.push(Pending { key, time, bits });
    }

    /// Groups the values by key (in key creation order, values in arrival order). Call once,
    /// after the last [`ShardBatch::push`], before [`ShardBatch::records`].
    pub(crate) fn seal(&mut self) {
        let s = &mut self.sealed;
        s.runs.clear();
        s.cursors.clear();
        let mut time_at = 0u32;
        let mut typed_at = [0u32; 5];
        for k in &self.keys {
            let t = type_slot(k.field_type);
            s.runs.push(Run {
                time_start: time_at,
                value_start: typed_at[t],
            });
            time_at += k.count;
            typed_at[t] += k.count;
        }
        s.cursors.extend_from_slice(&s.runs);
        let n = self.pending.len();
        s.timestamps.clear();
        s.timestamps.resize(n, 0);
        s.floats.clear();
        s.floats.resize(typed_at[0] as usize, 0.0);
        s.integers.clear();
        s.integers.resize(typed_at[1] as usize, 0);
        s.unsigneds.clear();
        s.unsigneds.resize(typed_at[2] as usize, 0);
        s.booleans.clear();
        s.booleans.resize(typed_at[3] as usize, false);
        s.string_order.clear();
        s.string_order.resize(typed_at[4] as usize, 0);
        for p in &self.pending {
            let (Some(c), Some(k)) = (
                s.cursors.get_mut(p.key as usize),
                self.keys.get(p.key as usize),
            ) else {
                continue;
            };
            let (ti, vi) = (c.time_start as usize, c.value_start as usize);
            c.time_start += 1;
            c.value_start += 1;
            s.timestamps[ti] = p.time;
            match k.field_type {
                FieldType::Float => s.floats[vi] = f64::from_bits(p.bits),
                FieldType::Integer => s.integers[vi] = p.bits as i64,
                FieldType::Unsigned => s.unsigneds[vi] = p.bits,
                FieldType::Boolean => s.booleans[vi] = p.bits != 0,
                FieldType::String => s.string_order[vi] = p.bits as u32,
            }
        }
        s.strings.clear();
        for &i in &s.string_order {
            s.strings
                .push(self.strings.get(i as usize).unwrap_or_default());
        }
    }

    /// Every key with its values, after [`ShardBatch::seal`]: (key, timestamps, values).
    pub(crate) fn records(&self) -> impl Iterator<Item = (&[u8], &[i64], ColumnRef<'_>)> + '_ {
        let s = &self.sealed;
        self.keys
            .iter()
            .zip(&s.runs)
            .filter(|(k, _)| k.count > 0)
            .map(move |(k, run)| {
                let n = k.count as usize;
                let times = run.time_start as usize..run.time_start as usize + n;
                let values = run.value_start as usize..run.value_start as usize + n;
                let column = match k.field_type {
                    FieldType::Float => ColumnRef::Float(&s.floats[values]),
                    FieldType::Integer => ColumnRef::Integer(&s.integers[values]),
                    FieldType::Unsigned => ColumnRef::Unsigned(&s.unsigneds[values]),
                    FieldType::Boolean => ColumnRef::Boolean(&s.booleans[values]),
                    FieldType::String => ColumnRef::String(s.strings.slice(values)),
                };
                (self.bytes(&k.key), &s.timestamps[times], column)
            })
    }

    /// The cache hash of every key [`ShardBatch::records`] yields, in the same order.
    pub(crate) fn record_hashes(&self) -> impl Iterator<Item = u64> + '_ {
        self.keys.iter().filter(|k| k.count > 0).map(|k| k.hash)
    }

    /// The cache handles of the keys of [`ShardBatch::records`], in the same order.
    pub(crate) fn record_handles(&self) -> impl Iterator<Item = tsmdb_cache::KeyHandle> + '_ {
        self.keys
            .iter()
            .filter(|k| k.count > 0)
            .map(|k| k.handle.get())
    }

    /// Keeps the handles the cache gave back for the keys of [`ShardBatch::records`].
    pub(crate) fn keep_handles(&self, handles: &[tsmdb_cache::KeyHandle]) {
        let keys = self.keys.iter().filter(|k| k.count > 0);
        for (k, &h) in keys.zip(handles) {
            k.handle.set(h);
        }
    }

    /// The series written in this round that were not inserted into the index in `epoch`:
    /// (series, unescaped measurement, unescaped tags).
    #[allow(clippy::type_complexity)]
    pub(crate) fn series_to_index(
        &self,
        epoch: u64,
    ) -> impl Iterator<Item = (u32, &[u8], Vec<(&[u8], &[u8])>)> + '_ {
        self.touched
            .iter()
            .filter(move |&&i| self.series[i as usize].indexed_in != epoch)
            .map(move |&i| {
                let s = &self.series[i as usize];
                let tags = self.tags[usize_range(&s.tags)]
                    .iter()
                    .map(|(k, v)| (self.bytes(k), self.bytes(v)))
                    .collect();
                (i, self.bytes(&s.measurement), tags)
            })
    }

    /// Records that `series` are in the index of epoch `epoch`.
    pub(crate) fn mark_indexed(&mut self, series: &[u32], epoch: u64) {
        for &i in series {
            if let Some(s) = self.series.get_mut(i as usize) {
                s.indexed_in = epoch;
            }
        }
    }

    /// Rough bytes the batch adds to a cache (InfluxDB's accounting).
    pub(crate) fn cache_bytes(&self) -> u64 {
        let values: u64 = self
            .keys
            .iter()
            .filter(|k| k.count > 0)
            .map(|k| {
                let key = u64::from(k.key.end - k.key.start);
                key + tsmdb_cache::value_size(k.field_type) * u64::from(k.count)
            })
            .sum();
        values + self.strings.total_bytes() as u64
    }
}

fn type_slot(t: FieldType) -> usize {
    match t {
        FieldType::Float => 0,
        FieldType::Integer => 1,
        FieldType::Unsigned => 2,
        FieldType::Boolean => 3,
        FieldType::String => 4,
    }
}

/// Above this many bytes of remembered keys, a batch forgets them all at its next reuse.
const REMEMBER_BYTES: usize = 64 << 20;
/// Above this many remembered shard parts, a batch forgets them all at its next reuse.
const REMEMBER_PARTS: usize = 16;

/// A batch split by shard.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// One part per shard range seen, remembered across reuses.
    parts: Vec<ShardBatch>,
    /// The parts written in this round, in first-written order.
    active: Vec<usize>,
    /// The schema generation the remembered keys were checked against.
    schema_generation: u64,
    pub summary: WriteSummary,
}

impl Batch {
    /// Empties the batch for reuse. What it remembers of series and keys stays unless the
    /// schema's generation is no longer `schema_generation` or the memory cap is reached.
    pub(crate) fn clear(&mut self, schema_generation: u64) {
        let remembered: usize = self.parts.iter().map(|p| p.remembered_bytes()).sum();
        if schema_generation != self.schema_generation
            || remembered > REMEMBER_BYTES
            || self.parts.len() > REMEMBER_PARTS
        {
            for p in &mut self.parts {
                p.clear();
            }
            self.parts.truncate(REMEMBER_PARTS);
            self.schema_generation = schema_generation;
        } else {
            for &i in &self.active {
                self.parts[i].next_round();
            }
        }
        self.active.clear();
        self.summary = WriteSummary::default();
    }

    /// The part for shard `range`, its index found or made.
    pub(crate) fn part_index(&mut self, range: ShardRange) -> usize {
        let i = match self.parts.iter().position(|p| p.range == Some(range)) {
            Some(i) => i,
            None => {
                let i = match self.parts.iter().position(|p| p.range.is_none()) {
                    Some(free) => free,
                    None => {
                        self.parts.push(ShardBatch::default());
                        self.parts.len() - 1
                    }
                };
                self.parts[i].clear();
                self.parts[i].range = Some(range);
                i
            }
        };
        if !self.active.contains(&i) {
            self.active.push(i);
        }
        i
    }

    pub(crate) fn part_mut(&mut self, i: usize) -> &mut ShardBatch {
        &mut self.parts[i]
    }

    pub(crate) fn part(&self, i: usize) -> &ShardBatch {
        &self.parts[i]
    }

    /// The parts written in this round, in shard time order.
    pub(crate) fn active_parts(&mut self) -> &[usize] {
        let parts = &self.parts;
        self.active.sort_by_key(|&i| parts[i].range);
        &self.active
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tsmdb_encoding::Column;

    fn float_values(b: &ShardBatch) -> Vec<(Vec<u8>, Vec<i64>, Column)> {
        b.records()
            .map(|(k, t, v)| {
                let mut c = Column::empty(v.field_type());
                match (&mut c, v) {
                    (Column::Float(c), ColumnRef::Float(v)) => c.extend_from_slice(v),
                    (Column::String(c), ColumnRef::String(v)) => v.iter().for_each(|s| c.push(s)),
                    (Column::Boolean(c), ColumnRef::Boolean(v)) => c.extend_from_slice(v),
                    _ => {}
                }
                (k.to_vec(), t.to_vec(), c)
            })
            .collect()
    }

    #[test]
    fn values_are_grouped_by_key_in_arrival_order() {
        let mut b = ShardBatch::default();
        let s = b.add_series(b"m,t=a", 7, b"m", [(&b"t"[..], &b"a"[..])].into_iter());
        assert_eq!(b.find_series(b"m,t=a", 7), Some(s));
        assert_eq!(b.find_series(b"m,t=b", 7), None);
        let x = b.add_key(s, b"x", FieldType::Float);
        let y = b.add_key(s, b"y", FieldType::String);
        assert_eq!(b.find_key(s, b"y", FieldType::String, 1), Some(y));
        assert_eq!(b.find_key(s, b"y", FieldType::String, 0), Some(y));
        assert_eq!(b.find_key(s, b"y", FieldType::Float, 1), None);
        assert_eq!(b.find_key(s, b"z", FieldType::Float, 5), None);
        b.push(x, 2, ValueRef::Float(1.5));
        b.push(y, 2, ValueRef::String(b"two"));
        b.push(x, 1, ValueRef::Float(-1.0));
        b.push(y, 1, ValueRef::String(b"one"));
        b.seal();
        let got = float_values(&b);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, b"m,t=a#!~#x");
        assert_eq!(got[0].1, [2, 1]);
        assert_eq!(got[0].2, Column::Float(vec![1.5, -1.0]));
        assert_eq!(got[1].0, b"m,t=a#!~#y");
        assert_eq!(got[1].1, [2, 1]);
        let strings: StringColumn = [&b"two"[..], b"one"].into_iter().collect();
        assert_eq!(got[1].2, Column::String(strings));
        // 2 keys of 10 bytes, 2 floats (16 each), 2 strings (8 each + 6 bytes).
        assert_eq!(b.cache_bytes(), 20 + 32 + 16 + 6);
    }

    #[test]
    fn interleaved_series_keep_their_own_keys() {
        let mut b = ShardBatch::default();
        let s1 = b.add_series(b"m,t=1", 1, b"m", std::iter::empty());
        let a1 = b.add_key(s1, b"a", FieldType::Boolean);
        let s2 = b.add_series(b"m,t=2", 1, b"m", std::iter::empty());
        let a2 = b.add_key(s2, b"a", FieldType::Boolean);
        let b1 = b.add_key(s1, b"b", FieldType::Boolean);
        // Slot a1 + 1 is s2's key, not s1's second key.
        assert_eq!(b.find_key(s1, b"b", FieldType::Boolean, 1), Some(b1));
        assert_eq!(b.find_key(s2, b"a", FieldType::Boolean, 0), Some(a2));
        assert_eq!(b.find_key(s1, b"a", FieldType::Boolean, 0), Some(a1));
        assert_eq!(b.find_series(b"m,t=2", 1), Some(s2));
        b.add_spelling(b"m,t\\=2", 9, s2);
        assert_eq!(b.find_series(b"m,t\\=2", 9), Some(s2));
        b.push(b1, 5, ValueRef::Boolean(true));
        b.seal();
        let got = float_values(&b);
        assert_eq!(got.len(), 1, "keys without values are left out");
        assert_eq!(got[0].2, Column::Boolean(vec![true]));
    }

    #[test]
    fn a_cleared_batch_is_empty_and_reusable() {
        let mut batch = Batch::default();
        let r = ShardRange { start: 0, end: 10 };
        let i = batch.part_index(r);
        let p = batch.part_mut(i);
        let s = p.add_series(b"m", 3, b"m", std::iter::empty());
        let k = p.add_key(s, b"f", FieldType::Integer);
        p.push(k, 1, ValueRef::Integer(4));
        p.touch(s);
        p.seal();
        assert_eq!(p.series_to_index(5).count(), 1);
        p.mark_indexed(&[s], 5);
        assert_eq!(p.series_to_index(5).count(), 0);
        assert_eq!(p.series_to_index(6).count(), 1);
        assert_eq!(batch.active_parts(), [i]);

        // Reused under the same schema: the series and key are remembered, the values are not.
        batch.clear(0);
        assert!(batch.active_parts().is_empty());
        let i = batch.part_index(r);
        let p = batch.part_mut(i);
        p.seal();
        assert!(p.records().next().is_none());
        assert_eq!(p.series_to_index(7).count(), 0, "not written in this round");
        assert_eq!(p.find_series(b"m", 3), Some(s));
        assert_eq!(p.find_key(s, b"f", FieldType::Integer, 0), Some(k));

        // A new schema generation forgets them.
        batch.clear(1);
        let i = batch.part_index(r);
        assert_eq!(batch.part(i).find_series(b"m", 3), None);
    }
}
