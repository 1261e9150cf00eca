//! Aggregates over several series of one group without merging their columns: each series is
//! reduced per window on its own, then the partial results are combined. The results equal
//! those over the merged column (values sorted by time, equal times in series order), except for
//! the last bits of float sums and means, whose summation order differs.
//!
//! Covers `count`, `sum`, `mean`, `min`, `max`, `first`, `last` and `spread` on numeric fields;
//! the other functions need every value at once and take the merge.

use std::collections::BTreeMap;

use tsmdb_encoding::Column;
use tsmdb_engine::{AggValue, Aggregate, Window};

use crate::series::FieldData;

/// A numeric column type with Go's wrapping integer arithmetic.
pub(crate) trait Numeric: Copy + PartialOrd {
    fn wrap(self) -> AggValue;
    fn to_f64(self) -> f64;
    fn plus(self, o: Self) -> Self;
    fn minus(self, o: Self) -> Self;
}

impl Numeric for f64 {
    fn wrap(self) -> AggValue {
        AggValue::Float(self)
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn plus(self, o: f64) -> f64 {
        self + o
    }
    fn minus(self, o: f64) -> f64 {
        self - o
    }
}

impl Numeric for i64 {
    fn wrap(self) -> AggValue {
        AggValue::Integer(self)
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn plus(self, o: i64) -> i64 {
        self.wrapping_add(o)
    }
    fn minus(self, o: i64) -> i64 {
        self.wrapping_sub(o)
    }
}

impl Numeric for u64 {
    fn wrap(self) -> AggValue {
        AggValue::Unsigned(self)
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn plus(self, o: u64) -> u64 {
        self.wrapping_add(o)
    }
    fn minus(self, o: u64) -> u64 {
        self.wrapping_sub(o)
    }
}

/// One window's partial result: enough for every covered function.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Partial<T> {
    count: i64,
    sum: T,
    float_sum: f64,
    /// (value, time) of the smallest value, the earliest on ties.
    min: (T, i64),
    max: (T, i64),
    /// (time, value) of the earliest and the latest point.
    first: (i64, T),
    last: (i64, T),
}

impl<T: Numeric> Partial<T> {
    fn of(ts: &[i64], v: &[T]) -> Option<Partial<T>> {
        let (&t0, &v0) = (ts.first()?, v.first()?);
        let mut p = Partial {
            count: 1,
            sum: v0,
            float_sum: v0.to_f64(),
            min: (v0, t0),
            max: (v0, t0),
            first: (t0, v0),
            last: (t0, v0),
        };
        for (&t, &x) in ts.iter().zip(v).skip(1) {
            p.count += 1;
            p.sum = p.sum.plus(x);
            p.float_sum += x.to_f64();
            if x < p.min.0 {
                p.min = (x, t);
            }
            if x > p.max.0 {
                p.max = (x, t);
            }
            p.last = (t, x);
        }
        Some(p)
    }

    /// Folds in the partial of a later series: on equal values and times the held (earlier
    /// series') point stays, as in the merged column.
    fn absorb(&mut self, o: &Partial<T>) {
        self.count += o.count;
        self.sum = self.sum.plus(o.sum);
        self.float_sum += o.float_sum;
        if o.min.0 < self.min.0 || (o.min.0 == self.min.0 && o.min.1 < self.min.1) {
            self.min = o.min;
        }
        if o.max.0 > self.max.0 || (o.max.0 == self.max.0 && o.max.1 < self.max.1) {
            self.max = o.max;
        }
        if o.first.0 < self.first.0 {
            self.first = o.first;
        }
        // The merged column's last() keeps the first series among equal last times.
        if o.last.0 > self.last.0 {
            self.last = o.last;
        }
    }

    /// The function's result: (selected time, value); `None` for functions not covered.
    fn result(&self, agg: Aggregate) -> Option<(i64, AggValue)> {
        Some(match agg {
            Aggregate::Count => (self.first.0, AggValue::Integer(self.count)),
            Aggregate::Sum => (self.first.0, self.sum.wrap()),
            Aggregate::Mean => (
                self.first.0,
                AggValue::Float(self.float_sum / self.count as f64),
            ),
            Aggregate::Min => (self.min.1, self.min.0.wrap()),
            Aggregate::Max => (self.max.1, self.max.0.wrap()),
            Aggregate::First => (self.first.0, self.first.1.wrap()),
            Aggregate::Last => (self.last.0, self.last.1.wrap()),
            Aggregate::Spread => (self.first.0, self.max.0.minus(self.min.0).wrap()),
            _ => return None,
        })
    }
}

/// True for the functions partials cover.
pub(crate) fn covered(agg: Aggregate) -> bool {
    matches!(
        agg,
        Aggregate::Count
            | Aggregate::Sum
            | Aggregate::Mean
            | Aggregate::Min
            | Aggregate::Max
            | Aggregate::First
            | Aggregate::Last
            | Aggregate::Spread
    )
}

/// One series' partial results of one field, per window (key 0 without windows), in window
/// order.
#[derive(Debug)]
pub(crate) enum SeriesPartials {
    Float(Vec<(i64, Partial<f64>)>),
    Integer(Vec<(i64, Partial<i64>)>),
    Unsigned(Vec<(i64, Partial<u64>)>),
}

/// The partials of one series' field, or `None` for a type partials do not cover.
pub(crate) fn series_partials(data: &FieldData, window: Option<Window>) -> Option<SeriesPartials> {
    Some(match &data.values {
        Column::Float(v) => SeriesPartials::Float(partials_of(&data.ts, v, window)),
        Column::Integer(v) => SeriesPartials::Integer(partials_of(&data.ts, v, window)),
        Column::Unsigned(v) => SeriesPartials::Unsigned(partials_of(&data.ts, v, window)),
        Column::Boolean(_) | Column::String(_) => return None,
    })
}

fn partials_of<T: Numeric>(ts: &[i64], v: &[T], window: Option<Window>) -> Vec<(i64, Partial<T>)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < ts.len() {
        let (end, key) = match window {
            Some(w) => {
                let ws = w.start_of(ts[start]);
                (
                    start + ts[start..].partition_point(|&t| w.start_of(t) == ws),
                    ws,
                )
            }
            None => (ts.len(), 0),
        };
        if let Some(p) = v
            .get(start..end)
            .and_then(|vals| Partial::of(&ts[start..end], vals))
        {
            out.push((key, p));
        }
        start = end;
    }
    out
}

/// `agg` over the partials of a group's series (in series order), with `aggregate`'s result
/// times; `None` when the series hold different types (the caller reports it) or `agg` is not
/// covered.
pub(crate) fn combine_partials(
    parts: &[&SeriesPartials],
    agg: Aggregate,
    window: Option<Window>,
    range_start: i64,
) -> Option<Vec<(i64, AggValue)>> {
    if !covered(agg) {
        return None;
    }
    fn typed<'a, T: Numeric + 'a>(
        lists: impl Iterator<Item = Option<&'a [(i64, Partial<T>)]>>,
        agg: Aggregate,
        window: Option<Window>,
        range_start: i64,
    ) -> Option<Vec<(i64, AggValue)>> {
        let mut windows: BTreeMap<i64, Partial<T>> = BTreeMap::new();
        for list in lists {
            for (key, p) in list? {
                windows
                    .entry(*key)
                    .and_modify(|held| held.absorb(p))
                    .or_insert(*p);
            }
        }
        windows
            .into_iter()
            .map(|(key, p)| {
                let (selected, v) = p.result(agg)?;
                let t = match window {
                    Some(_) => key,
                    None if agg.is_selector() => selected,
                    None => range_start,
                };
                Some((t, v))
            })
            .collect()
    }
    match parts.first()? {
        SeriesPartials::Float(_) => typed(
            parts.iter().map(|p| match p {
                SeriesPartials::Float(l) => Some(l.as_slice()),
                _ => None,
            }),
            agg,
            window,
            range_start,
        ),
        SeriesPartials::Integer(_) => typed(
            parts.iter().map(|p| match p {
                SeriesPartials::Integer(l) => Some(l.as_slice()),
                _ => None,
            }),
            agg,
            window,
            range_start,
        ),
        SeriesPartials::Unsigned(_) => typed(
            parts.iter().map(|p| match p {
                SeriesPartials::Unsigned(l) => Some(l.as_slice()),
                _ => None,
            }),
            agg,
            window,
            range_start,
        ),
    }
}

/// `agg` over `sources` per window (or over everything), with `aggregate`'s result times, or
/// `None` when the function or the field type is not covered (the caller merges instead).
pub(crate) fn combine(
    sources: &[&FieldData],
    agg: Aggregate,
    window: Option<Window>,
    range_start: i64,
) -> Option<Vec<(i64, AggValue)>> {
    if !covered(agg) {
        return None;
    }
    let parts: Vec<SeriesPartials> = sources
        .iter()
        .map(|s| series_partials(s, window))
        .collect::<Option<_>>()?;
    let refs: Vec<&SeriesPartials> = parts.iter().collect();
    combine_partials(&refs, agg, window, range_start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::merge_sources;
    use proptest::prelude::*;
    use tsmdb_engine::aggregate;

    fn close(a: &AggValue, b: &AggValue) -> bool {
        match (a, b) {
            (AggValue::Float(x), AggValue::Float(y)) => {
                x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
            }
            _ => a == b,
        }
    }

    proptest! {
        /// Combining per-series partials gives what aggregating the merged column gives.
        #[test]
        fn combined_partials_equal_the_merged_aggregate(
            sources in proptest::collection::vec(
                proptest::collection::btree_map(-40i64..40, -5i64..5, 0..12), 1..5),
            windowed in any::<bool>(),
            every in 1i64..15,
        ) {
            let datas: Vec<FieldData> = sources
                .iter()
                .map(|m| FieldData {
                    ts: m.keys().copied().collect(),
                    values: Column::Integer(m.values().copied().collect()),
                })
                .collect();
            let refs: Vec<&FieldData> = datas.iter().collect();
            let merged = merge_sources(&refs).unwrap();
            let window = windowed.then_some(Window { every, offset: 3 });
            for agg in [
                Aggregate::Count, Aggregate::Sum, Aggregate::Mean, Aggregate::Min,
                Aggregate::Max, Aggregate::First, Aggregate::Last, Aggregate::Spread,
            ] {
                let want = aggregate(&merged.ts, &merged.values, agg, window, 7).unwrap();
                let got = combine(&refs, agg, window, 7).unwrap();
                prop_assert_eq!(got.len(), want.len(), "{:?}", agg);
                for (g, w) in got.iter().zip(&want) {
                    prop_assert!(g.0 == w.0 && close(&g.1, &w.1), "{:?}: {:?} vs {:?}", agg, g, w);
                }
            }
        }
    }

    #[test]
    fn uncovered_functions_and_types_are_left_to_the_merge() {
        let f = FieldData {
            ts: vec![1],
            values: Column::Float(vec![1.0]),
        };
        assert!(combine(&[&f], Aggregate::Median, None, 0).is_none());
        let b = FieldData {
            ts: vec![1],
            values: Column::Boolean(vec![true]),
        };
        assert!(combine(&[&b], Aggregate::Count, None, 0).is_none());
        assert!(combine(&[&f, &b], Aggregate::Count, None, 0).is_none());
    }
}
