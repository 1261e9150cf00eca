//! Series and values together: typed blocks of at most 1000 values, in merged order.

use tsmdb_encoding::{Column, FieldType};

use crate::plan::Plan;
use crate::series::SeriesWalker;
use crate::values::ValueStream;

/// Most values per block (one TSM block each).
pub const BLOCK_SIZE: usize = 1000;

/// One block of values of one (series key, field).
#[derive(Debug)]
pub struct Block<'a> {
    /// The series key (escaped measurement and tags).
    pub series_key: &'a [u8],
    /// The measurement (unescaped).
    pub measurement: &'a str,
    /// The field key (unescaped).
    pub field: &'a str,
    /// The values' type.
    pub field_type: FieldType,
    /// Timestamps in Unix ns, ascending.
    pub timestamps: &'a [i64],
    /// The values, as long as `timestamps`.
    pub values: &'a Column,
    /// True for the first block of a series key (the first block of its first field that has
    /// values in the range).
    pub new_series: bool,
    /// True for the first block of this (series key, field).
    pub first_of_pair: bool,
}

/// Totals of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Distinct series keys (counted where the key changes in the ordered output).
    pub series: u64,
    /// (series key, field) pairs, including those whose field has no values in the range.
    pub pairs: u64,
    /// Values.
    pub values: u64,
    /// Blocks.
    pub blocks: u64,
}

/// Produces a plan's values block by block, reusing its buffers.
pub struct Generator<'p> {
    plan: &'p Plan,
    walker: SeriesWalker<'p>,
    streams: Vec<ValueStream>,
    timestamps: Vec<i64>,
    columns: [Column; 5],
}

impl std::fmt::Debug for Generator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator").finish_non_exhaustive()
    }
}

fn column_slot(t: FieldType) -> usize {
    match t {
        FieldType::Float => 0,
        FieldType::Integer => 1,
        FieldType::Boolean => 2,
        FieldType::String => 3,
        FieldType::Unsigned => 4,
    }
}

impl<'p> Generator<'p> {
    /// A generator at the start of `plan`.
    pub fn new(plan: &'p Plan) -> Generator<'p> {
        Generator {
            plan,
            walker: SeriesWalker::new(plan),
            streams: plan
                .specs
                .iter()
                .map(|s| ValueStream::new(&s.source))
                .collect(),
            timestamps: Vec::with_capacity(BLOCK_SIZE),
            columns: [
                Column::Float(Vec::with_capacity(BLOCK_SIZE)),
                Column::Integer(Vec::with_capacity(BLOCK_SIZE)),
                Column::Boolean(Vec::with_capacity(BLOCK_SIZE)),
                Column::String(Default::default()),
                Column::Unsigned(Vec::new()),
            ],
        }
    }

    /// Calls `f` for every block in order; stops at the first error `f` returns.
    pub fn for_each_block<E>(
        &mut self,
        mut f: impl FnMut(&Block<'_>) -> Result<(), E>,
    ) -> Result<Totals, E> {
        let mut totals = Totals::default();
        let plan = self.plan;
        // Whether the current key has had a block yet: a key whose first fields have no values
        // in the range must still be flagged new on its first block.
        let mut key_announced = false;
        while let Some(pair) = self.walker.next_pair() {
            let spec = &plan.specs[pair.spec];
            totals.pairs += 1;
            totals.series += u64::from(pair.new_series);
            let stream = &mut self.streams[pair.spec];
            stream.start_series();
            let column = &mut self.columns[column_slot(spec.field_type)];
            let times = spec.times;
            let mut done = 0u64;
            if pair.new_series {
                key_announced = false;
            }
            while done < times.count {
                let n = (times.count - done).min(BLOCK_SIZE as u64) as usize;
                self.timestamps.clear();
                self.timestamps
                    .extend((0..n as u64).map(|i| times.at(done + i)));
                stream.fill(n, column);
                f(&Block {
                    series_key: pair.key,
                    measurement: &spec.measurement,
                    field: &spec.field,
                    field_type: spec.field_type,
                    timestamps: &self.timestamps,
                    values: column,
                    new_series: !key_announced,
                    first_of_pair: done == 0,
                })?;
                key_announced = true;
                done += n as u64;
                totals.values += n as u64;
                totals.blocks += 1;
            }
        }
        Ok(totals)
    }
}
