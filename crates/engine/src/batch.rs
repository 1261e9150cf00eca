//! A write batch being assembled: values grouped by shard and composite key, plus the points
//! that were refused and why.

use std::collections::HashMap;

use tsmdb_encoding::{Column, FieldType};

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

/// The values of one composite key in a batch.
#[derive(Debug)]
pub(crate) struct KeyValues {
    pub timestamps: Vec<i64>,
    pub values: Column,
}

/// One series first seen in this batch (for the index).
#[derive(Debug)]
pub(crate) struct NewSeries {
    pub measurement: Vec<u8>,
    pub tags: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Everything of a batch that goes to one shard.
#[derive(Debug, Default)]
pub(crate) struct ShardBatch {
    /// Composite key -> values, in first-seen order for determinism.
    pub keys: Vec<(Vec<u8>, KeyValues)>,
    key_slots: HashMap<Vec<u8>, usize>,
    /// Series key -> its parts, for every series the batch touches.
    pub series: HashMap<Vec<u8>, NewSeries>,
}

impl ShardBatch {
    pub(crate) fn values_for(&mut self, key: &[u8], t: FieldType) -> &mut KeyValues {
        let slot = match self.key_slots.get(key) {
            Some(&slot) => slot,
            None => {
                self.keys.push((
                    key.to_vec(),
                    KeyValues {
                        timestamps: Vec::new(),
                        values: Column::empty(t),
                    },
                ));
                self.key_slots.insert(key.to_vec(), self.keys.len() - 1);
                self.keys.len() - 1
            }
        };
        &mut self.keys[slot].1
    }

    /// Rough bytes the batch adds to a cache (InfluxDB's accounting).
    pub(crate) fn cache_bytes(&self) -> u64 {
        self.keys
            .iter()
            .map(|(k, v)| {
                let per_value = match &v.values {
                    Column::Float(_) | Column::Integer(_) | Column::Unsigned(_) => 16,
                    Column::Boolean(_) => 9,
                    Column::String(s) => 8 + s.total_bytes() as u64 / s.len().max(1) as u64,
                };
                k.len() as u64 + per_value * v.timestamps.len() as u64
            })
            .sum()
    }
}

/// A batch split by shard.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub shards: HashMap<ShardRange, ShardBatch>,
    pub summary: WriteSummary,
}
