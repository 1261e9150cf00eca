//! The read path: series selected by the index, values merged from TSM files and caches across
//! shards.

use std::collections::BTreeMap;

use tsmdb_encoding::{Column, FieldType};
use tsmdb_index_grid::{Expr, SeriesKey};

use crate::engine::Engine;
use crate::error::Result;
use crate::merge::merge_into;

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

/// How [`Engine::read_keys`] reads each key.
#[derive(Clone, Copy)]
enum Mode {
    /// Every value in the range.
    All,
    /// One value at an end of the range.
    Edge(Edge),
}

impl Engine {
    /// Reads the values of every matching series and field, ordered by series key then field.
    /// Series without values in the range are left out.
    pub fn select(&self, database: &str, select: &Select) -> Result<Vec<SeriesValues>> {
        self.read_keys(database, select, Mode::All)
    }

    /// Like [`Engine::select`], but reads only the first or the last value of each series and
    /// field in the range (at most one point each). Only the TSM blocks that can hold it are
    /// decoded (the index's per-block min/max times rule out the others), so `last()` over a
    /// long history costs one block per key.
    pub fn select_edge(
        &self,
        database: &str,
        select: &Select,
        edge: Edge,
    ) -> Result<Vec<SeriesValues>> {
        self.read_keys(database, select, Mode::Edge(edge))
    }

    fn read_keys(&self, database: &str, select: &Select, mode: Mode) -> Result<Vec<SeriesValues>> {
        let db = self.inner().database(database)?;
        let known = db.schema.fields(&select.measurement);
        let fields: Vec<Vec<u8>> = if select.fields.is_empty() {
            known.into_iter().map(|(f, _)| f).collect()
        } else {
            select
                .fields
                .iter()
                .filter(|f| known.iter().any(|(k, _)| k == *f))
                .cloned()
                .collect()
        };
        let mut out: BTreeMap<(Vec<u8>, Vec<u8>), SeriesValues> = BTreeMap::new();
        let mut ts = Vec::new();
        let mut col = Column::Float(Vec::new());
        let mut key = Vec::new();
        for shard in db.shards_overlapping(select.min_time, select.max_time) {
            let min = select.min_time.max(shard.range.start);
            let max = select.max_time.min(shard.range.end - 1);
            let ids = shard.index.query(&select.measurement, &select.condition);
            for id in ids.iter() {
                let Some(sk) = shard.index.tags_of(id) else {
                    continue;
                };
                let series = series_key_of(&sk);
                for field in &fields {
                    key.clear();
                    tsmdb_lineproto::append_composite_key(&mut key, &series, field);
                    match mode {
                        Mode::All => shard.read(&key, min, max, &mut ts, &mut col)?,
                        Mode::Edge(e) => shard.read_edge(&key, min, max, e, &mut ts, &mut col)?,
                    }
                    if ts.is_empty() {
                        continue;
                    }
                    let entry = out
                        .entry((series.clone(), field.clone()))
                        .or_insert_with(|| SeriesValues {
                            series_key: series.clone(),
                            measurement: sk.measurement.clone(),
                            tags: sk.tags.clone(),
                            field: field.clone(),
                            timestamps: Vec::new(),
                            values: Column::empty(col.field_type()),
                        });
                    match mode {
                        // Shards are visited oldest first and do not overlap, so this appends.
                        Mode::All => {
                            merge_into(&mut entry.timestamps, &mut entry.values, &ts, &col, &key)?
                        }
                        // The oldest shard's first value stays.
                        Mode::Edge(Edge::First) if !entry.timestamps.is_empty() => {}
                        // A later shard's value replaces an earlier one.
                        Mode::Edge(_) => {
                            entry.timestamps.clear();
                            entry.values.clear();
                            merge_into(&mut entry.timestamps, &mut entry.values, &ts, &col, &key)?
                        }
                    }
                }
            }
        }
        Ok(out.into_values().collect())
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
        let db = self.inner().database(database)?;
        let mut all = Vec::new();
        for s in db.all_shards() {
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
