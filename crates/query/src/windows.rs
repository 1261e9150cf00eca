//! Aggregates of one group: each aggregate column computed on its field's column (one series'
//! values as they are, several series merged by time), then laid out in `GROUP BY time` windows
//! with the statement's `fill`.

use tsmdb_encoding::FieldType;
use tsmdb_engine::{AggValue, Aggregate, Window, aggregate};

use crate::ast::{Fill, SelectStatement};
use crate::error::QueryError;
use crate::partial::{SeriesPartials, combine_partials};
use crate::result::Value;
use crate::series::{FieldData, SeriesData, merge_sources};

/// One aggregate column: which query field, which function, and the type of its results.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AggColumn {
    pub field: usize,
    pub agg: Aggregate,
    /// Type of the results (`None` when the field is unknown).
    pub result_type: Option<FieldType>,
}

impl AggColumn {
    /// InfluxDB's result type of `agg` over a field of type `field_type`.
    pub fn new(field: usize, agg: Aggregate, field_type: Option<FieldType>) -> AggColumn {
        let result_type = match agg {
            Aggregate::Count => Some(FieldType::Integer),
            Aggregate::Mean | Aggregate::Median | Aggregate::Stddev => Some(FieldType::Float),
            _ => field_type,
        };
        AggColumn {
            field,
            agg,
            result_type,
        }
    }
}

/// Output rows of one group (one per window, or one in all). `min` and `max` are the query's
/// time range (`i64::MIN` / `i64::MAX` when open).
pub(crate) fn aggregate_group(
    series: &[&SeriesData],
    columns: &[AggColumn],
    s: &SelectStatement,
    min: i64,
    max: i64,
) -> Result<Vec<Vec<Value>>, QueryError> {
    let window = s
        .group_by_time
        .map(|(every, offset)| Window { every, offset });
    let range_start = if min == i64::MIN { 0 } else { min };
    let single_selector = window.is_none() && columns.len() == 1 && columns[0].agg.is_selector();
    let mut selector_time = None;
    // The merged column of each field, built on first use (several aggregates may share one).
    let mut merged: Vec<Option<FieldData>> = Vec::new();
    let mut per_col: Vec<Vec<(i64, Value)>> = Vec::with_capacity(columns.len());
    for col in columns {
        let sources: Vec<&FieldData> = series
            .iter()
            .filter_map(|sd| sd.fields.get(col.field)?.as_ref())
            .collect();
        let parts: Vec<&SeriesPartials> = series
            .iter()
            .filter_map(|sd| sd.partials.get(col.field)?.as_ref())
            .collect();
        if !parts.is_empty() && !sources.is_empty() {
            return Err(QueryError::msg(
                "a field has values of two types in one group",
            ));
        }
        // Partials computed while reading; or, for several series, per-series partials
        // combined where the function allows; else the series merged into one column (once per
        // field).
        let partial = if !parts.is_empty() {
            Some(
                combine_partials(&parts, col.agg, window, range_start).ok_or_else(|| {
                    QueryError::msg("a field has values of two types in one group")
                })?,
            )
        } else if sources.len() > 1 {
            crate::partial::combine(&sources, col.agg, window, range_start)
        } else {
            None
        };
        let computed = match (partial, sources.as_slice()) {
            (Some(r), _) => r,
            (None, []) => Vec::new(),
            (None, [one]) => aggregate(&one.ts, &one.values, col.agg, window, range_start)?,
            (None, _) => {
                if merged.len() <= col.field {
                    merged.resize_with(col.field + 1, || None);
                }
                if merged[col.field].is_none() {
                    merged[col.field] = Some(merge_sources(&sources)?);
                }
                match &merged[col.field] {
                    Some(d) => aggregate(&d.ts, &d.values, col.agg, window, range_start)?,
                    None => Vec::new(),
                }
            }
        };
        let mut results = Vec::with_capacity(computed.len());
        for (t, v) in computed {
            if single_selector {
                selector_time = Some(t);
            }
            results.push((t, agg_value(v)));
        }
        per_col.push(results);
    }
    let mut out = Vec::new();
    let Some(w) = window else {
        if per_col.iter().all(Vec::is_empty) {
            return Ok(out);
        }
        let mut row = vec![Value::Time(selector_time.unwrap_or(range_start))];
        row.extend(
            per_col
                .iter_mut()
                .map(|r| r.pop().map_or(Value::Null, |(_, v)| v)),
        );
        out.push(row);
        return Ok(out);
    };
    let span = series
        .iter()
        .filter_map(|sd| sd.time_span())
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)));
    let first = if min == i64::MIN {
        span.map(|(lo, _)| w.start_of(lo))
    } else {
        Some(w.start_of(min))
    };
    let Some(mut t) = first else { return Ok(out) };
    let last = w.start_of(if max == i64::MAX {
        span.map_or(t, |(_, hi)| hi)
    } else {
        max
    });
    let buckets = (last.saturating_sub(t)) / w.every.max(1);
    // Rows this group can show in ascending order: OFFSET + LIMIT. With them, or with
    // fill(none) (which skips straight to windows holding results), the walk below is bounded
    // however many windows the range holds: an open range ends at now(), so `GROUP BY time(1m)
    // LIMIT 2` over old data has millions of windows, and InfluxDB answers it.
    let rows_needed = match (s.descending, s.limit) {
        (false, Some(limit)) => Some(limit.saturating_add(s.offset.unwrap_or(0))),
        _ => None,
    };
    if buckets > 1_000_000 && rows_needed.is_none() && s.fill != Fill::None {
        return Err(QueryError::msg(format!(
            "GROUP BY time would make {buckets} windows; narrow the time range"
        )));
    }
    let mut next = vec![0usize; per_col.len()];
    let mut previous: Vec<Option<Value>> = vec![None; per_col.len()];
    while t <= last {
        let mut row = Vec::with_capacity(per_col.len() + 1);
        row.push(Value::Time(t));
        let mut any = false;
        for (i, results) in per_col.iter().enumerate() {
            // Results come in window order; skip any before this window.
            while results.get(next[i]).is_some_and(|(rt, _)| *rt < t) {
                next[i] += 1;
            }
            let v = match results.get(next[i]) {
                Some((rt, v)) if *rt == t => {
                    next[i] += 1;
                    any = true;
                    previous[i] = Some(v.clone());
                    v.clone()
                }
                // `next[i]` is the first result after this window.
                _ => match &s.fill {
                    Fill::Null if columns[i].agg == Aggregate::Count => Value::Integer(0),
                    Fill::Null | Fill::None => Value::Null,
                    Fill::Previous => previous[i].clone().unwrap_or(Value::Null),
                    Fill::Value(_) | Fill::Integer(_) => fill_number(&s.fill, columns[i]),
                    Fill::Linear => linear(
                        next[i].checked_sub(1).and_then(|j| results.get(j)),
                        results.get(next[i]),
                        t,
                    ),
                },
            };
            row.push(v);
        }
        if any || s.fill != Fill::None {
            out.push(row);
        }
        if rows_needed.is_some_and(|n| out.len() >= n) {
            break;
        }
        t = match t.checked_add(w.every) {
            Some(n) => n,
            None => break,
        };
        if s.fill == Fill::None {
            // Windows without a result show nothing: go to the next one that has a result.
            let next_result = per_col
                .iter()
                .zip(&next)
                .filter_map(|(results, &i)| results.get(i).map(|(rt, _)| *rt))
                .min();
            match next_result {
                Some(rt) => t = t.max(rt),
                None => break,
            }
        }
    }
    Ok(out)
}

/// `fill(N)` in the column's result type, as InfluxDB casts the fill value to the iterator's
/// type: an integer column gets an integer (a decimal N truncated), a float column a float.
fn fill_number(fill: &Fill, col: AggColumn) -> Value {
    match (fill, col.result_type) {
        (Fill::Integer(i), Some(FieldType::Integer)) => Value::Integer(*i),
        (Fill::Integer(i), Some(FieldType::Unsigned)) => Value::Unsigned(*i as u64),
        (Fill::Integer(i), _) => Value::Float(*i as f64),
        (Fill::Value(f), Some(FieldType::Integer)) => Value::Integer(*f as i64),
        (Fill::Value(f), Some(FieldType::Unsigned)) => Value::Unsigned(*f as u64),
        (Fill::Value(f), _) => Value::Float(*f),
        _ => Value::Null,
    }
}

/// Linear interpolation at `t` between the results around it.
fn linear(before: Option<&(i64, Value)>, after: Option<&(i64, Value)>, t: i64) -> Value {
    let num = |v: &Value| match v {
        Value::Float(f) => Some(*f),
        Value::Integer(i) => Some(*i as f64),
        Value::Unsigned(u) => Some(*u as f64),
        _ => None,
    };
    match (before, after) {
        (Some((t0, v0)), Some((t1, v1))) => match (num(v0), num(v1)) {
            (Some(a), Some(b)) => {
                // In f64: the time differences of far-apart windows overflow i64.
                let y = a + (b - a) * ((t as f64 - *t0 as f64) / (*t1 as f64 - *t0 as f64));
                match v0 {
                    Value::Integer(_) => Value::Integer(y as i64),
                    _ => Value::Float(y),
                }
            }
            _ => Value::Null,
        },
        _ => Value::Null,
    }
}

fn agg_value(v: AggValue) -> Value {
    match v {
        AggValue::Float(f) => Value::Float(f),
        AggValue::Integer(i) => Value::Integer(i),
        AggValue::Unsigned(u) => Value::Unsigned(u),
        AggValue::Boolean(b) => Value::Boolean(b),
        AggValue::String(s) => Value::String(String::from_utf8_lossy(&s).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_number_follows_the_column_type() {
        let int = AggColumn::new(0, Aggregate::Max, Some(FieldType::Integer));
        let float = AggColumn::new(0, Aggregate::Max, Some(FieldType::Float));
        let count = AggColumn::new(0, Aggregate::Count, Some(FieldType::Float));
        let mean = AggColumn::new(0, Aggregate::Mean, Some(FieldType::Integer));
        assert_eq!(fill_number(&Fill::Integer(7), int), Value::Integer(7));
        assert_eq!(fill_number(&Fill::Value(7.9), int), Value::Integer(7));
        assert_eq!(fill_number(&Fill::Integer(7), float), Value::Float(7.0));
        assert_eq!(fill_number(&Fill::Integer(-1), count), Value::Integer(-1));
        assert_eq!(fill_number(&Fill::Integer(2), mean), Value::Float(2.0));
    }

    #[test]
    fn linear_interpolates_between_neighbours_only() {
        let a = (0, Value::Float(1.0));
        let b = (10, Value::Float(3.0));
        assert_eq!(linear(Some(&a), Some(&b), 5), Value::Float(2.0));
        assert_eq!(linear(None, Some(&b), 5), Value::Null);
        let ai = (0, Value::Integer(1));
        let bi = (10, Value::Integer(4));
        assert_eq!(linear(Some(&ai), Some(&bi), 5), Value::Integer(2));
    }
}
