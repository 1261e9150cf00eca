//! TSBS-shaped write batches shared by the benchmarks: one line = 10 float fields of one series;
//! a batch = `lines` consecutive series at one timestamp.

#![allow(dead_code)]

use tsmdb_cache::{ColumnRef, Record};

/// Keys of every series and field, plus one value per key and round.
pub struct Workload {
    /// Composite keys: 10 per series.
    pub keys: Vec<Vec<u8>>,
    /// One value per key (the same every round).
    pub values: Vec<f64>,
    /// Timestamps written per key.
    pub rounds: usize,
    /// Lines (series) per write batch.
    pub lines_per_batch: usize,
}

impl Workload {
    /// `series` series of 10 fields each.
    pub fn new(series: usize, rounds: usize, lines_per_batch: usize) -> Self {
        let keys = (0..series)
            .flat_map(|h| {
                (0..10).map(move |f| {
                    format!(
                        "cpu,arch=x64,datacenter=eu-west-1a,hostname=host_{h},os=Ubuntu16.10,\
                         rack=42,region=eu-west-1,service=18,team=SF#!~#usage_{f}"
                    )
                    .into_bytes()
                })
            })
            .collect::<Vec<_>>();
        let values = (0..keys.len()).map(|i| i as f64 * 0.5).collect();
        Workload {
            keys,
            values,
            rounds,
            lines_per_batch,
        }
    }

    /// Values written over all rounds.
    pub fn total_values(&self) -> u64 {
        (self.keys.len() * self.rounds) as u64
    }

    /// Batches (of records borrowing `times`) for the series `part` of `parts`.
    pub fn batches<'a>(
        &'a self,
        times: &'a [i64],
        part: usize,
        parts: usize,
    ) -> Vec<Vec<Record<'a>>> {
        let series = self.keys.len() / 10;
        let range = series * part / parts..series * (part + 1) / parts;
        let mut out = Vec::new();
        for t in times.iter().take(self.rounds) {
            let lines: Vec<usize> = range.clone().collect();
            for chunk in lines.chunks(self.lines_per_batch) {
                let mut batch = Vec::with_capacity(chunk.len() * 10);
                for &h in chunk {
                    for f in 0..10 {
                        let k = h * 10 + f;
                        batch.push(Record {
                            key: &self.keys[k],
                            timestamps: std::slice::from_ref(t),
                            values: ColumnRef::Float(std::slice::from_ref(&self.values[k])),
                        });
                    }
                }
                out.push(batch);
            }
        }
        out
    }
}
