//! The read path: series selected by the index, values merged from TSM files and caches across
//! shards.

use tsmdb_encoding::{Column, FieldType};
use tsmdb_index_grid::{Expr, SeriesId, SeriesKey};

use crate::engine::Engine;
use crate::error::Result;
use crate::merge::merge_into;
use crate::shard::Shard;
use std::sync::Arc;

/// What to read: the series of one measurement matching a tag condition, some fields, a time
/// range (both ends inclusive).
#[derive(Debug, Clone)]
pub struct Select {
    /// Measurement name (unescaped).
    pub measurement: Vec<u8>,
    /// Tag condition; [`Expr::all`] selects every series.
    pub condition: Expr,
    /// Field names; empty selects every field of the measurement.
    pub fields: Vec<Vec<u8>>,
    /// First nanosecond.
    pub min_time: i64,
    /// Last nanosecond.
    pub max_time: i64,
}

impl Select {
    /// Every series and field of `measurement`, all time.
    pub fn all(measurement: impl Into<Vec<u8>>) -> Select {
        Select {
            measurement: measurement.into(),
            condition: Expr::all(),
            fields: Vec::new(),
            min_time: i64::MIN,
            max_time: i64::MAX,
        }
    }

    /// Restricts the tag condition.
    pub fn condition(mut self, condition: Expr) -> Select {
        self.condition = condition;
        self
    }

    /// Restricts the fields.
    pub fn fields<I: IntoIterator<Item = F>, F: Into<Vec<u8>>>(mut self, fields: I) -> Select {
        self.fields = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Restricts the time range (inclusive).
    pub fn time_range(mut self, min: i64, max: i64) -> Select {
        self.min_time = min;
        self.max_time = max;
        self
    }
}

/// The values of one field of one series, sorted by time, one value per timestamp.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesValues {
    /// The canonical series key (escaped, tags sorted).
    pub series_key: Vec<u8>,
    /// Measurement (unescaped).
    pub measurement: Vec<u8>,
    /// Tags (unescaped, sorted by key).
    pub tags: Vec<(Vec<u8>, Vec<u8>)>,
    /// Field name.
    pub field: Vec<u8>,
    /// Timestamps, strictly increasing.
    pub timestamps: Vec<i64>,
    /// Values, one per timestamp.
    pub values: Column,
}

impl SeriesValues {
    /// The values' type.
    pub fn field_type(&self) -> FieldType {
        self.values.field_type()
    }
}

/// The canonical escaped series key of an index entry.
pub(crate) fn series_key_of(sk: &SeriesKey) -> Vec<u8> {
    let mut tags: Vec<(&[u8], &[u8])> = sk
        .tags
        .iter()
        .map(|(k, v)| (k.as_slice(), v.as_slice()))
        .collect();
    tsmdb_lineproto::series_key(&sk.measurement, &mut tags)
}

/// Which end of a time range [`Engine::select_edge`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// The earliest value.
    First,
    /// The latest value.
    Last,
}

/// How [`Engine::read_series`] reads each key.
#[derive(Clone, Copy)]
enum Mode {
    /// Every value in the range.
    All,
    /// One value at an end of the range.
    Edge(Edge),
}

/// One field's values in one series, sorted by time, one value per timestamp.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldColumn {
    /// Timestamps, strictly increasing.
    pub timestamps: Vec<i64>,
    /// Values, one per timestamp.
    pub values: Column,
}

/// The values of several fields of one series (see [`Engine::select_columns`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesColumns {
    /// The canonical series key (escaped, tags sorted).
    pub series_key: Vec<u8>,
    /// Measurement (unescaped).
    pub measurement: Vec<u8>,
    /// Tags (unescaped, sorted by key).
    pub tags: Vec<(Vec<u8>, Vec<u8>)>,
    /// One entry per field asked for, in the order asked; `None` where the series has no value
    /// of that field in the range.
    pub fields: Vec<Option<FieldColumn>>,
}

/// Below this many keys a read stays on the calling thread: handing work to other threads
/// costs more than reading a few blocks.
const PARALLEL_KEYS: usize = 64;

impl Engine {
    /// Reads the values of every matching series and field, ordered by series key then field.
    /// Series without values in the range are left out.
    pub fn select(&self, database: &str, select: &Select) -> Result<Vec<SeriesValues>> {
        let (fields, series) = self.read_series(database, select, Mode::All)?;
        Ok(one_per_field(&fields, series))
    }

    /// Reads `select.fields` (every field of the measurement, sorted, when empty) of every
    /// matching series: one entry per series with a value in the range, ordered by series key,
    /// each field's values in the order asked. With `edge`, only the first or the last value of
    /// each field is read (at most one point each): only the TSM blocks that can hold it are
    /// decoded (the index's per-block min/max times rule out the others), so `last()` over a
    /// long history costs one block per key. Large reads run on several threads.
    pub fn select_columns(
        &self,
        database: &str,
        select: &Select,
        edge: Option<Edge>,
    ) -> Result<Vec<SeriesColumns>> {
        let mode = edge.map_or(Mode::All, Mode::Edge);
        Ok(self.read_series(database, select, mode)?.1)
    }

    /// Like [`Engine::select`], but only the first or the last value of each series and field
    /// in the range (see [`Engine::select_columns`]).
    pub fn select_edge(
        &self,
        database: &str,
        select: &Select,
        edge: Edge,
    ) -> Result<Vec<SeriesValues>> {
        let (fields, series) = self.read_series(database, select, Mode::Edge(edge))?;
        Ok(one_per_field(&fields, series))
    }

    /// Canonical keys (sorted) of the series matching `select` that have a value of one of
    /// its fields in its time range. Answered from the TSM index where it can be (a block
    /// starting or ending in the range proves a value), decoding only blocks that merely span
    /// the range or carry deletes.
    pub fn series_with_values(&self, database: &str, select: &Select) -> Result<Vec<Vec<u8>>> {
        let db = self.inner().database(database)?;
        let known = db.schema.fields(&select.measurement);
        let fields: Vec<&Vec<u8>> = if select.fields.is_empty() {
            known.iter().map(|(f, _)| f).collect()
        } else {
            select
                .fields
                .iter()
                .filter(|f| known.iter().any(|(k, _)| k == *f))
                .collect()
        };
        let mut out = Vec::new();
        let mut scratch = Scratch::default();
        for shard in db.shards_overlapping(select.min_time, select.max_time) {
            let range = tsmdb_tsm_file::TimeRange {
                min: select.min_time.max(shard.range.start),
                max: select.max_time.min(shard.range.end - 1),
            };
            for id in shard
                .index
                .query(&select.measurement, &select.condition)
                .iter()
            {
                let Some(sk) = shard.index.tags_of(id) else {
                    continue;
                };
                let series = series_key_of(&sk);
                for field in &fields {
                    scratch.key.clear();
                    tsmdb_lineproto::append_composite_key(&mut scratch.key, &series, field);
                    if shard.has_value(&scratch.key, range, &mut scratch.blocks)? {
                        out.push(series);
                        break;
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Reads like [`Engine::select_columns`] (without `edge`) and hands each series to `f` as
    /// soon as it is read, on several threads when the read is large; returns `f`'s results in
    /// series key order. A series' values are dropped when `f` returns, so memory holds the
    /// series being worked on and `f`'s results, not the whole read. (When the range spans
    /// several shards, each series is first joined across them.)
    pub fn map_series<T, F>(&self, database: &str, select: &Select, f: F) -> Result<Vec<T>>
    where
        T: Send,
        F: Fn(SeriesColumns) -> T + Sync,
    {
        let db = self.inner().database(database)?;
        let shards = db.shards_overlapping(select.min_time, select.max_time);
        if shards.len() > 1 {
            let (_, series) = self.read_series(database, select, Mode::All)?;
            return Ok(series.into_iter().map(f).collect());
        }
        let map = |s: SeriesColumns| (s.series_key.clone(), f(s));
        let mut keyed = self.read_mapped(database, select, &shards, Mode::All, &map)?;
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(keyed.into_iter().map(|(_, t)| t).collect())
    }

    /// The field names read and the series, as [`Engine::select_columns`] describes.
    fn read_series(
        &self,
        database: &str,
        select: &Select,
        mode: Mode,
    ) -> Result<(Vec<Vec<u8>>, Vec<SeriesColumns>)> {
        let fields = self.fields_of(database, select)?;
        let shards = self
            .inner()
            .database(database)?
            .shards_overlapping(select.min_time, select.max_time);
        let mut out = self.read_mapped(database, select, &shards, mode, &|s| s)?;
        if shards.len() > 1 {
            out = merge_shards(out, mode)?;
        } else {
            out.sort_by(|a, b| a.series_key.cmp(&b.series_key));
        }
        Ok((fields, out))
    }

    /// The fields a read returns, in order: `select.fields`, or every field of the measurement.
    fn fields_of(&self, database: &str, select: &Select) -> Result<Vec<Vec<u8>>> {
        let db = self.inner().database(database)?;
        Ok(if select.fields.is_empty() {
            db.schema
                .fields(&select.measurement)
                .into_iter()
                .map(|(f, _)| f)
                .collect()
        } else {
            select.fields.clone()
        })
    }

    /// Every series with values of `shards` (oldest shard first, then in index order), each
    /// passed through `map` on the reading thread.
    fn read_mapped<T: Send>(
        &self,
        database: &str,
        select: &Select,
        shards: &[Arc<Shard>],
        mode: Mode,
        map: &(dyn Fn(SeriesColumns) -> T + Sync),
    ) -> Result<Vec<T>> {
        let db = self.inner().database(database)?;
        let known = db.schema.fields(&select.measurement);
        let fields = self.fields_of(database, select)?;
        // Fields the schema does not know have no values anywhere.
        let readable: Vec<bool> = fields
            .iter()
            .map(|f| known.iter().any(|(k, _)| k == f))
            .collect();
        let mut out: Vec<T> = Vec::new();
        for shard in shards {
            let min = select.min_time.max(shard.range.start);
            let max = select.max_time.min(shard.range.end - 1);
            let ids: Vec<_> = shard
                .index
                .query(&select.measurement, &select.condition)
                .iter()
                .collect();
            let job = ShardRead {
                shard,
                fields: &fields,
                readable: &readable,
                min,
                max,
                mode,
            };
            let read = |id, scratch: &mut Scratch| -> Result<Option<T>> {
                Ok(job.series(id, scratch)?.map(map))
            };
            let found: Vec<Option<T>> = if ids.len() * fields.len().max(1) >= PARALLEL_KEYS {
                use rayon::prelude::*;
                ids.par_iter()
                    .map_init(Scratch::default, |scratch, &id| read(id, scratch))
                    .collect::<Result<_>>()?
            } else {
                let mut scratch = Scratch::default();
                ids.iter()
                    .map(|&id| read(id, &mut scratch))
                    .collect::<Result<_>>()?
            };
            out.extend(found.into_iter().flatten());
        }
        Ok(out)
    }

    /// Measurements of a database, sorted.
    pub fn measurements(&self, database: &str) -> Result<Vec<Vec<u8>>> {
        let db = self.inner().database(database)?;
        let mut all: Vec<Vec<u8>> = db
            .all_shards()
            .iter()
            .flat_map(|s| s.index.measurements())
            .collect();
        all.sort();
        all.dedup();
        Ok(all)
    }

    /// Tag keys of a measurement, sorted.
    pub fn tag_keys(&self, database: &str, measurement: &[u8]) -> Result<Vec<Vec<u8>>> {
        let db = self.inner().database(database)?;
        let mut all: Vec<Vec<u8>> = db
            .all_shards()
            .iter()
            .flat_map(|s| s.index.tag_keys(measurement))
            .collect();
        all.sort();
        all.dedup();
        Ok(all)
    }

    /// Values of one tag key of a measurement, sorted.
    pub fn tag_values(
        &self,
        database: &str,
        measurement: &[u8],
        key: &[u8],
    ) -> Result<Vec<Vec<u8>>> {
        let db = self.inner().database(database)?;
        let mut all: Vec<Vec<u8>> = db
            .all_shards()
            .iter()
            .flat_map(|s| s.index.tag_values(measurement, key))
            .collect();
        all.sort();
        all.dedup();
        Ok(all)
    }

    /// Fields of a measurement with their types, sorted by name.
    pub fn field_keys(
        &self,
        database: &str,
        measurement: &[u8],
    ) -> Result<Vec<(Vec<u8>, FieldType)>> {
        Ok(self.inner().database(database)?.schema.fields(measurement))
    }

    /// Canonical series keys of a measurement matching `condition`, sorted and deduplicated.
    pub fn series_keys(
        &self,
        database: &str,
        measurement: &[u8],
        condition: &Expr,
    ) -> Result<Vec<Vec<u8>>> {
        self.series_keys_between(database, measurement, condition, i64::MIN, i64::MAX)
    }

    /// Like [`Engine::series_keys`], but only the series of the shards whose time range
    /// overlaps `[min, max]`: InfluxDB 1.x answers `SHOW SERIES ... WHERE time ...` by shard
    /// too (its shard groups and ours have the same boundaries by default).
    pub fn series_keys_between(
        &self,
        database: &str,
        measurement: &[u8],
        condition: &Expr,
        min: i64,
        max: i64,
    ) -> Result<Vec<Vec<u8>>> {
        let db = self.inner().database(database)?;
        let mut all = Vec::new();
        for s in db.shards_overlapping(min, max) {
            for id in s.index.query(measurement, condition).iter() {
                if let Some(sk) = s.index.tags_of(id) {
                    all.push(series_key_of(&sk));
                }
            }
        }
        all.sort();
        all.dedup();
        Ok(all)
    }
}

/// Reusable buffers of one reading thread.
struct Scratch {
    blocks: tsmdb_tsm_file::Values,
    ts: Vec<i64>,
    values: Column,
    key: Vec<u8>,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            blocks: tsmdb_tsm_file::Values::new(),
            ts: Vec::new(),
            values: Column::empty(FieldType::Float),
            key: Vec::new(),
        }
    }
}

/// One shard's part of a read.
struct ShardRead<'a> {
    shard: &'a Shard,
    fields: &'a [Vec<u8>],
    readable: &'a [bool],
    min: i64,
    max: i64,
    mode: Mode,
}

impl ShardRead<'_> {
    /// The fields of series `id`, or `None` when it has no value in the range.
    fn series(&self, id: SeriesId, scratch: &mut Scratch) -> Result<Option<SeriesColumns>> {
        let Some(sk) = self.shard.index.tags_of(id) else {
            return Ok(None);
        };
        let series = series_key_of(&sk);
        let mut columns: Vec<Option<FieldColumn>> = vec![None; self.fields.len()];
        let mut any = false;
        let Scratch {
            blocks,
            ts,
            values,
            key,
        } = scratch;
        for ((field, slot), &readable) in self.fields.iter().zip(&mut columns).zip(self.readable) {
            if !readable {
                continue;
            }
            key.clear();
            tsmdb_lineproto::append_composite_key(key, &series, field);
            match self.mode {
                Mode::All => self
                    .shard
                    .read(key, self.min, self.max, blocks, ts, values)?,
                Mode::Edge(e) => {
                    let range = tsmdb_tsm_file::TimeRange {
                        min: self.min,
                        max: self.max,
                    };
                    self.shard.read_edge(key, range, e, blocks, ts, values)?
                }
            }
            if ts.is_empty() {
                continue;
            }
            any = true;
            *slot = Some(FieldColumn {
                timestamps: ts.clone(),
                values: values.clone(),
            });
        }
        Ok(any.then_some(SeriesColumns {
            series_key: series,
            measurement: sk.measurement,
            tags: sk.tags,
            fields: columns,
        }))
    }
}

/// Joins the entries of one series from several shards (given oldest shard first; shards do
/// not overlap in time), ordered by series key.
fn merge_shards(mut all: Vec<SeriesColumns>, mode: Mode) -> Result<Vec<SeriesColumns>> {
    // Stable: a series' entries stay oldest shard first.
    all.sort_by(|a, b| a.series_key.cmp(&b.series_key));
    let mut out: Vec<SeriesColumns> = Vec::with_capacity(all.len());
    for s in all {
        let same = out.last().is_some_and(|l| l.series_key == s.series_key);
        if !same {
            out.push(s);
            continue;
        }
        let Some(acc) = out.last_mut() else { continue };
        for (slot, col) in acc.fields.iter_mut().zip(s.fields) {
            let Some(col) = col else { continue };
            match (slot.as_mut(), mode) {
                (None, _) => *slot = Some(col),
                // The oldest shard's first value stays.
                (Some(_), Mode::Edge(Edge::First)) => {}
                // A later shard's last value replaces an earlier one.
                (Some(_), Mode::Edge(Edge::Last)) => *slot = Some(col),
                (Some(a), Mode::All) => merge_into(
                    &mut a.timestamps,
                    &mut a.values,
                    &col.timestamps,
                    &col.values,
                    &acc.series_key,
                )?,
            }
        }
    }
    Ok(out)
}

/// One [`SeriesValues`] per series and field with values, ordered by series key then field.
fn one_per_field(fields: &[Vec<u8>], series: Vec<SeriesColumns>) -> Vec<SeriesValues> {
    let mut out = Vec::new();
    for s in series {
        for (field, column) in fields.iter().zip(s.fields) {
            let Some(c) = column else { continue };
            out.push(SeriesValues {
                series_key: s.series_key.clone(),
                measurement: s.measurement.clone(),
                tags: s.tags.clone(),
                field: field.clone(),
                timestamps: c.timestamps,
                values: c.values,
            });
        }
    }
    // Fields come in the order asked; the contract is name order within a series.
    out.sort_by(|a, b| (&a.series_key, &a.field).cmp(&(&b.series_key, &b.field)));
    out
}
