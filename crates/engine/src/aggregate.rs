//! Aggregates over one sorted column, optionally in time windows, with InfluxDB 1.x's result
//! types and timestamps:
//! * `count` is an integer; `mean`, `median` and `stddev` are floats; `sum`, `spread`, `min`,
//!   `max`, `first`, `last` and `percentile` keep the field's type.
//! * Without windows, a selector (`first`, `last`, `min`, `max`, `percentile`) carries the time of
//!   the point it selected, and any other aggregate the start of the query range.
//!   With windows, every result carries its window's start.
//! * Windows are `[start, start + every)` with `start = offset + k * every`, as
//!   `GROUP BY time(every, offset)`. Empty windows produce no result (filling is the query's job).

use tsmdb_encoding::Column;

use crate::error::{Error, Result};

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Aggregate {
    /// Number of values.
    Count,
    /// Sum (wrapping for integers, like Go).
    Sum,
    /// Arithmetic mean.
    Mean,
    /// Middle value (mean of the two middle values for an even count).
    Median,
    /// Smallest value (the earliest on ties).
    Min,
    /// Largest value (the earliest on ties).
    Max,
    /// Earliest value.
    First,
    /// Latest value.
    Last,
    /// Largest minus smallest.
    Spread,
    /// Sample standard deviation (n - 1); no result for fewer than two values.
    Stddev,
    /// The value at percentile N (0-100), InfluxDB's nearest-rank rule.
    Percentile(f64),
}

impl Aggregate {
    /// True for functions that select one point (and so keep its time without windows).
    pub fn is_selector(&self) -> bool {
        matches!(
            self,
            Aggregate::Min
                | Aggregate::Max
                | Aggregate::First
                | Aggregate::Last
                | Aggregate::Percentile(_)
        )
    }

    /// The function's InfluxQL name.
    pub fn name(&self) -> &'static str {
        match self {
            Aggregate::Count => "count",
            Aggregate::Sum => "sum",
            Aggregate::Mean => "mean",
            Aggregate::Median => "median",
            Aggregate::Min => "min",
            Aggregate::Max => "max",
            Aggregate::First => "first",
            Aggregate::Last => "last",
            Aggregate::Spread => "spread",
            Aggregate::Stddev => "stddev",
            Aggregate::Percentile(_) => "percentile",
        }
    }
}

/// One aggregate result value.
#[derive(Debug, Clone, PartialEq)]
pub enum AggValue {
    /// A float.
    Float(f64),
    /// A signed integer.
    Integer(i64),
    /// An unsigned integer.
    Unsigned(u64),
    /// A boolean.
    Boolean(bool),
    /// A string.
    String(Vec<u8>),
}

/// `GROUP BY time(every, offset)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Window length in nanoseconds (> 0).
    pub every: i64,
    /// Offset of the window grid in nanoseconds.
    pub offset: i64,
}

impl Window {
    /// Start of the window holding `t`.
    pub fn start_of(&self, t: i64) -> i64 {
        let every = self.every.max(1);
        let offset = self.offset.rem_euclid(every);
        t.saturating_sub(offset)
            .div_euclid(every)
            .saturating_mul(every)
            .saturating_add(offset)
    }
}

/// Computes `agg` over `values` (sorted by `timestamps`), per window or over everything.
/// `range_start` is the time given to whole-range non-selector results.
pub fn aggregate(
    timestamps: &[i64],
    values: &Column,
    agg: Aggregate,
    window: Option<Window>,
    range_start: i64,
) -> Result<Vec<(i64, AggValue)>> {
    if timestamps.len() != values.len() {
        return Err(Error::InvalidQuery(format!(
            "{} timestamps for {} values",
            timestamps.len(),
            values.len()
        )));
    }
    let mut out = Vec::new();
    let mut start = 0;
    while start < timestamps.len() {
        let (end, time) = match window {
            Some(w) => {
                let ws = w.start_of(timestamps[start]);
                let end = start + timestamps[start..].partition_point(|&t| w.start_of(t) == ws);
                (end, Some(ws))
            }
            None => (timestamps.len(), None),
        };
        let ts = &timestamps[start..end];
        if let Some((selected_time, v)) = reduce(ts, values, start..end, agg)? {
            let t = match time {
                Some(ws) => ws,
                None if agg.is_selector() => selected_time,
                None => range_start,
            };
            out.push((t, v));
        }
        start = end;
    }
    Ok(out)
}

/// One window's result: the selected point's time and the value.
fn reduce(
    ts: &[i64],
    values: &Column,
    range: std::ops::Range<usize>,
    agg: Aggregate,
) -> Result<Option<(i64, AggValue)>> {
    if ts.is_empty() {
        return Ok(None);
    }
    let first_time = ts[0];
    let unsupported = || {
        Error::InvalidQuery(format!(
            "{}() is not supported on {} fields",
            agg.name(),
            values.field_type()
        ))
    };
    match agg {
        Aggregate::Count => return Ok(Some((first_time, AggValue::Integer(ts.len() as i64)))),
        Aggregate::First => return Ok(Some((ts[0], value_at(values, range.start)))),
        Aggregate::Last => {
            // Equal times come from different series of one group (in series key order); as in
            // InfluxDB, only a later time replaces the held point, so the first of them wins.
            let end = ts[ts.len() - 1];
            let run = ts.len() - ts.partition_point(|&t| t < end);
            return Ok(Some((end, value_at(values, range.end - run))));
        }
        _ => {}
    }
    Ok(match values {
        Column::Float(v) => numeric(ts, &v[range], agg, AggValue::Float, |x| x),
        Column::Integer(v) => numeric(ts, &v[range], agg, AggValue::Integer, |x| x as f64),
        Column::Unsigned(v) => numeric(ts, &v[range], agg, AggValue::Unsigned, |x| x as f64),
        Column::Boolean(_) | Column::String(_) => return Err(unsupported()),
    })
}

fn value_at(values: &Column, i: usize) -> AggValue {
    match values {
        Column::Float(v) => AggValue::Float(v[i]),
        Column::Integer(v) => AggValue::Integer(v[i]),
        Column::Unsigned(v) => AggValue::Unsigned(v[i]),
        Column::Boolean(v) => AggValue::Boolean(v[i]),
        Column::String(v) => AggValue::String(v.get(i).unwrap_or_default().to_vec()),
    }
}

/// Arithmetic a numeric type needs for `sum` and `spread`, with Go's wrapping semantics.
trait Num: Copy + PartialOrd {
    /// A total order (floats by `total_cmp`, so a sort never sees an inconsistent order).
    fn total_order(&self, other: &Self) -> std::cmp::Ordering;
    fn add(self, other: Self) -> Self;
    fn sub(self, other: Self) -> Self;
    fn zero() -> Self;
}

impl Num for f64 {
    fn total_order(&self, o: &f64) -> std::cmp::Ordering {
        self.total_cmp(o)
    }
    fn add(self, o: f64) -> f64 {
        self + o
    }
    fn sub(self, o: f64) -> f64 {
        self - o
    }
    fn zero() -> f64 {
        0.0
    }
}

impl Num for i64 {
    fn total_order(&self, o: &i64) -> std::cmp::Ordering {
        self.cmp(o)
    }
    fn add(self, o: i64) -> i64 {
        self.wrapping_add(o)
    }
    fn sub(self, o: i64) -> i64 {
        self.wrapping_sub(o)
    }
    fn zero() -> i64 {
        0
    }
}

impl Num for u64 {
    fn total_order(&self, o: &u64) -> std::cmp::Ordering {
        self.cmp(o)
    }
    fn add(self, o: u64) -> u64 {
        self.wrapping_add(o)
    }
    fn sub(self, o: u64) -> u64 {
        self.wrapping_sub(o)
    }
    fn zero() -> u64 {
        0
    }
}

fn numeric<T: Num>(
    ts: &[i64],
    v: &[T],
    agg: Aggregate,
    wrap: impl Fn(T) -> AggValue,
    float: impl Fn(T) -> f64,
) -> Option<(i64, AggValue)> {
    let n = v.len();
    match agg {
        Aggregate::Sum => Some((ts[0], wrap(v.iter().fold(T::zero(), |a, &x| a.add(x))))),
        Aggregate::Mean => Some((
            ts[0],
            AggValue::Float(v.iter().map(|&x| float(x)).sum::<f64>() / n as f64),
        )),
        Aggregate::Min => {
            let i = (0..n).fold(0, |best, i| if v[i] < v[best] { i } else { best });
            Some((ts[i], wrap(v[i])))
        }
        Aggregate::Max => {
            let i = (0..n).fold(0, |best, i| if v[i] > v[best] { i } else { best });
            Some((ts[i], wrap(v[i])))
        }
        Aggregate::Spread => {
            let (mut lo, mut hi) = (v[0], v[0]);
            for &x in v {
                if x < lo {
                    lo = x;
                }
                if x > hi {
                    hi = x;
                }
            }
            Some((ts[0], wrap(hi.sub(lo))))
        }
        Aggregate::Median => {
            let mut sorted: Vec<f64> = v.iter().map(|&x| float(x)).collect();
            sorted.sort_by(f64::total_cmp);
            let mid = n / 2;
            let m = if n % 2 == 1 {
                sorted[mid]
            } else {
                (sorted[mid - 1] + sorted[mid]) / 2.0
            };
            Some((ts[0], AggValue::Float(m)))
        }
        Aggregate::Stddev => {
            if n < 2 {
                return None;
            }
            let mean = v.iter().map(|&x| float(x)).sum::<f64>() / n as f64;
            let var = v.iter().map(|&x| (float(x) - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            Some((ts[0], AggValue::Float(var.sqrt())))
        }
        Aggregate::Percentile(p) => {
            let rank = (n as f64 * p / 100.0 + 0.5).floor() as i64 - 1;
            if rank < 0 || rank >= n as i64 {
                return None;
            }
            // Sort positions by value, ties by time, as InfluxDB sorts points.
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| v[a].total_order(&v[b]).then(ts[a].cmp(&ts[b])));
            let i = order[rank as usize];
            Some((ts[i], wrap(v[i])))
        }
        Aggregate::Count | Aggregate::First | Aggregate::Last => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(v: &[f64]) -> Column {
        Column::Float(v.to_vec())
    }

    #[test]
    fn whole_range_results_follow_influxdb_time_rules() {
        let ts = [10, 20, 30, 40];
        let col = floats(&[3.0, 1.0, 4.0, 1.5]);
        let one = |agg| aggregate(&ts, &col, agg, None, 5).unwrap().remove(0);
        assert_eq!(one(Aggregate::Count), (5, AggValue::Integer(4)));
        assert_eq!(one(Aggregate::Sum), (5, AggValue::Float(9.5)));
        assert_eq!(one(Aggregate::Mean), (5, AggValue::Float(9.5 / 4.0)));
        assert_eq!(one(Aggregate::Median), (5, AggValue::Float(2.25)));
        assert_eq!(one(Aggregate::Min), (20, AggValue::Float(1.0)));
        assert_eq!(one(Aggregate::Max), (30, AggValue::Float(4.0)));
        assert_eq!(one(Aggregate::First), (10, AggValue::Float(3.0)));
        assert_eq!(one(Aggregate::Last), (40, AggValue::Float(1.5)));
        assert_eq!(one(Aggregate::Spread), (5, AggValue::Float(3.0)));
        // nearest rank: floor(4 * 0.5 + 0.5) - 1 = 1 -> second smallest (1.5 at t=40)
        assert_eq!(one(Aggregate::Percentile(50.0)), (40, AggValue::Float(1.5)));
        let AggValue::Float(sd) = one(Aggregate::Stddev).1 else {
            panic!()
        };
        let mean = 9.5 / 4.0;
        let want = ([3.0f64, 1.0, 4.0, 1.5]
            .iter()
            .map(|x| (x - mean).powi(2))
            .sum::<f64>()
            / 3.0)
            .sqrt();
        assert!((sd - want).abs() < 1e-12);
    }

    #[test]
    fn windows_start_at_offset_multiples_and_skip_empty_ones() {
        let ts = [0, 5, 9, 10, 31, 35];
        let col = Column::Integer(vec![1, 2, 3, 4, 5, 6]);
        let w = Window {
            every: 10,
            offset: 0,
        };
        let got = aggregate(&ts, &col, Aggregate::Sum, Some(w), 0).unwrap();
        assert_eq!(
            got,
            vec![
                (0, AggValue::Integer(6)),
                (10, AggValue::Integer(4)),
                (30, AggValue::Integer(11))
            ]
        );
        let shifted = Window {
            every: 10,
            offset: 5,
        };
        let got = aggregate(&ts, &col, Aggregate::Count, Some(shifted), 0).unwrap();
        assert_eq!(
            got,
            vec![
                (-5, AggValue::Integer(1)),
                (5, AggValue::Integer(3)),
                (25, AggValue::Integer(1)),
                (35, AggValue::Integer(1))
            ]
        );
        assert_eq!(
            Window {
                every: 10,
                offset: 0
            }
            .start_of(-1),
            -10
        );
    }

    #[test]
    fn first_and_last_keep_the_first_of_equal_times() {
        let ts = [1, 1, 1, 5, 5];
        let col = floats(&[2.0, 7.0, 3.0, 4.0, 9.0]);
        let one = |agg| aggregate(&ts, &col, agg, None, 0).unwrap().remove(0);
        assert_eq!(one(Aggregate::First), (1, AggValue::Float(2.0)));
        assert_eq!(one(Aggregate::Last), (5, AggValue::Float(4.0)));
    }

    #[test]
    fn type_rules_and_unsupported_types() {
        let ts = [1, 2];
        let ints = Column::Integer(vec![i64::MAX, 1]);
        assert_eq!(
            aggregate(&ts, &ints, Aggregate::Sum, None, 0).unwrap()[0].1,
            AggValue::Integer(i64::MIN)
        );
        assert_eq!(
            aggregate(&ts, &ints, Aggregate::Median, None, 0).unwrap()[0].1,
            AggValue::Float((i64::MAX as f64 + 1.0) / 2.0)
        );
        let bools = Column::Boolean(vec![true, false]);
        assert!(aggregate(&ts, &bools, Aggregate::Mean, None, 0).is_err());
        assert_eq!(
            aggregate(&ts, &bools, Aggregate::Last, None, 0).unwrap()[0],
            (2, AggValue::Boolean(false))
        );
        assert!(
            aggregate(&[1], &Column::Float(vec![1.0]), Aggregate::Stddev, None, 0)
                .unwrap()
                .is_empty()
        );
        assert!(aggregate(&[1], &Column::Float(vec![]), Aggregate::Count, None, 0).is_err());
    }
}
