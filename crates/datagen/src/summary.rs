//! The plan summary behind `--print` (spec §5.4): exact series and point counts from walking
//! keys only, plus size estimates.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use tsmdb_encoding::{Column, FieldType};

use crate::lp::push_i64;
use crate::plan::{FieldSpec, Plan};
use crate::schema::{FieldSource, Literals};
use crate::series::SeriesWalker;
use crate::values::ValueStream;

/// Totals of one measurement name (its blocks merged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeasurementSummary {
    /// Measurement name.
    pub name: String,
    /// Tag keys and how many distinct values each has (over all blocks of this name).
    pub tags: Vec<(String, usize)>,
    /// Σ over blocks of the product of their tags' value counts.
    pub tag_combos: u64,
    /// Distinct series keys emitted.
    pub series: u64,
    /// Distinct field names.
    pub fields: u64,
    /// Emitted (series key, field) pairs.
    pub field_series: u64,
    /// Values.
    pub points: u64,
    /// Estimated bytes of line protocol output.
    pub lp_bytes: u64,
    /// Estimated bytes of TSM files.
    pub tsm_bytes: u64,
}

/// The whole plan's summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanSummary {
    /// One row per measurement name, in key order.
    pub measurements: Vec<MeasurementSummary>,
}

impl PlanSummary {
    /// Walks `plan`'s keys (no values are generated) and totals them per measurement.
    pub fn new(plan: &Plan) -> PlanSummary {
        let widths: Vec<SpecSizes> = plan.specs.iter().map(SpecSizes::new).collect();
        let mut rows: Vec<MeasurementSummary> = Vec::new();
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        let mut fields: Vec<BTreeSet<&str>> = Vec::new();
        let mut tag_values: Vec<BTreeMap<&str, BTreeSet<&str>>> = Vec::new();
        let mut blocks_seen: Vec<BTreeSet<usize>> = Vec::new();
        for spec in &plan.specs {
            let i = *index.entry(&spec.measurement).or_insert_with(|| {
                rows.push(MeasurementSummary {
                    name: spec.measurement.clone(),
                    ..Default::default()
                });
                fields.push(BTreeSet::new());
                tag_values.push(BTreeMap::new());
                blocks_seen.push(BTreeSet::new());
                rows.len() - 1
            });
            if blocks_seen[i].insert(spec.block) {
                rows[i].tag_combos += spec.tags.combinations;
                for (key, values) in spec.tags.keys.iter().zip(&spec.tags.values) {
                    tag_values[i]
                        .entry(key)
                        .or_default()
                        .extend(values.iter().map(String::as_str));
                }
            }
        }
        let mut walker = SeriesWalker::new(plan);
        while let Some(pair) = walker.next_pair() {
            let spec = &plan.specs[pair.spec];
            let i = index[spec.measurement.as_str()];
            let row = &mut rows[i];
            row.series += u64::from(pair.new_series);
            row.field_series += 1;
            let points = spec.times.count;
            row.points = row.points.saturating_add(points);
            if points > 0 {
                fields[i].insert(&spec.field);
                let sizes = &widths[pair.spec];
                row.lp_bytes = row
                    .lp_bytes
                    .saturating_add(points.saturating_mul(pair.key.len() as u64 + sizes.line_tail));
                row.tsm_bytes = row
                    .tsm_bytes
                    .saturating_add(sizes.tsm_bytes(points, pair.key.len()));
            } else {
                fields[i].insert(&spec.field);
            }
        }
        for (i, row) in rows.iter_mut().enumerate() {
            row.fields = fields[i].len() as u64;
            row.tags = tag_values[i]
                .iter()
                .map(|(k, v)| (k.to_string(), v.len()))
                .collect();
        }
        PlanSummary { measurements: rows }
    }

    /// Sum of a column over all measurements.
    pub fn total(&self, column: impl Fn(&MeasurementSummary) -> u64) -> u64 {
        self.measurements
            .iter()
            .map(column)
            .fold(0, u64::saturating_add)
    }

    /// The table of spec §5.4 (columns separated by two spaces, a TOTAL row last).
    pub fn table(&self) -> String {
        let header = [
            "Measurement",
            "Tag combos",
            "Series",
            "Fields",
            "Field series",
            "Points",
        ];
        let mut rows: Vec<[String; 6]> = self
            .measurements
            .iter()
            .map(|m| {
                [
                    m.name.clone(),
                    m.tag_combos.to_string(),
                    m.series.to_string(),
                    m.fields.to_string(),
                    m.field_series.to_string(),
                    m.points.to_string(),
                ]
            })
            .collect();
        rows.push([
            "TOTAL".into(),
            String::new(),
            self.total(|m| m.series).to_string(),
            String::new(),
            self.total(|m| m.field_series).to_string(),
            self.total(|m| m.points).to_string(),
        ]);
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: &[&str]| {
            let mut text = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    text.push_str(cell);
                } else {
                    let _ = write!(text, "{cell:<w$}  ", w = widths[i]);
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(&header);
        for row in &rows {
            line(&row.each_ref().map(String::as_str));
        }
        out
    }
}

/// Per-spec size figures measured on a sample of its real values.
struct SpecSizes {
    /// Bytes of a line after the series key: ` field=value timestamp\n`.
    line_tail: u64,
    /// Estimated encoded bits per value.
    value_bits: f64,
}

impl SpecSizes {
    fn new(spec: &FieldSpec) -> SpecSizes {
        const SAMPLE: usize = 256;
        let mut stream = ValueStream::new(&spec.source);
        let mut column = Column::empty(spec.field_type);
        stream.fill(SAMPLE, &mut column);
        let mut text = Vec::new();
        let value_bytes = match &column {
            Column::Float(v) => v
                .iter()
                .map(|x| crate::lp::format_float(*x).len())
                .sum::<usize>(),
            Column::Integer(v) => v
                .iter()
                .map(|x| {
                    text.clear();
                    push_i64(&mut text, *x);
                    text.len() + 1
                })
                .sum(),
            Column::Boolean(v) => v.iter().map(|b| if *b { 4 } else { 5 }).sum(),
            Column::String(v) => v.iter().map(|s| s.len() + 2).sum(),
            Column::Unsigned(v) => v.iter().map(|x| x.to_string().len() + 1).sum(),
        } as f64
            / column.len().max(1) as f64;
        text.clear();
        push_i64(&mut text, spec.times.start);
        let ts_width = text.len() as f64;
        let field_width = spec.field.len() as f64;
        let line_tail =
            (1.0 + field_width + 1.0 + value_bytes + 1.0 + ts_width + 1.0).round() as u64;
        SpecSizes {
            line_tail,
            value_bits: estimated_bits(spec.field_type, &spec.source),
        }
    }

    /// Rough TSM size of one (key, field) with `points` values: encoded blocks (timestamps are
    /// evenly spaced, so they run-length encode to a few bytes), block headers and index entries.
    fn tsm_bytes(&self, points: u64, key_len: usize) -> u64 {
        let blocks = points.div_ceil(1000);
        let block_overhead = 5 + 12 + 2; // CRC + type, RLE timestamps, lengths
        let index = (key_len as u64 + 5).saturating_add(blocks.saturating_mul(28));
        ((points as f64 * self.value_bits / 8.0) as u64)
            .saturating_add(blocks.saturating_mul(block_overhead))
            .saturating_add(index)
    }
}

/// Bits per value the TSM codecs typically need for a source.
fn estimated_bits(t: FieldType, source: &FieldSource) -> f64 {
    match (t, source) {
        (FieldType::Float, FieldSource::Cycle(Literals::Float(v))) if v.len() == 1 => 1.0,
        (FieldType::Float, FieldSource::Cycle(_)) => 24.0,
        (FieldType::Float, _) => 62.0,
        (FieldType::Integer, FieldSource::Cycle(Literals::Integer(v))) if v.len() == 1 => 0.1,
        (FieldType::Integer, FieldSource::Zipf { imax, .. }) => {
            (64 - imax.leading_zeros()).clamp(1, 60) as f64 + 1.0
        }
        (FieldType::Integer, _) => 8.0,
        (FieldType::Boolean, _) => 1.0,
        (FieldType::String, _) => 4.0,
        (FieldType::Unsigned, _) => 8.0,
    }
}
