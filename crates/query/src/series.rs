//! One series' values as columns: each selected field's timestamps and typed values as the
//! engine returned them, and, when rows are needed (raw selections, field conditions), the row
//! timeline that joins the fields by time. Nothing here builds a value per row.

use tsmdb_encoding::Column;
use tsmdb_engine::SeriesColumns;

use crate::error::QueryError;
use crate::partial::SeriesPartials;
use crate::result::Value;

/// A field's values in one series, sorted by time, one per timestamp.
#[derive(Debug, Clone)]
pub(crate) struct FieldData {
    pub ts: Vec<i64>,
    pub values: Column,
}

/// Marks "this field has no value in this row" in [`Rows::pos`].
pub(crate) const MISSING: u32 = u32::MAX;

/// The rows of a series: the union of its fields' timestamps, and for each field the index of
/// its value in each row (or [`MISSING`]).
#[derive(Debug, Default)]
pub(crate) struct Rows {
    pub times: Vec<i64>,
    /// `pos[field][row]`.
    pub pos: Vec<Vec<u32>>,
}

impl Rows {
    /// The value of `field` in `row`, if it has one.
    pub fn value(&self, data: &SeriesData, field: usize, row: usize) -> Option<Value> {
        let i = *self.pos.get(field)?.get(row)?;
        if i == MISSING {
            return None;
        }
        let f = data.fields.get(field)?.as_ref()?;
        cell(&f.values, i as usize)
    }
}

/// One series of a query: its tags and, per queried field, its values.
#[derive(Debug)]
pub(crate) struct SeriesData {
    /// Canonical series key.
    pub key: Vec<u8>,
    pub tags: Vec<(Vec<u8>, Vec<u8>)>,
    /// Times of values the series is known to have but whose columns are not here (older than
    /// the windows a `DESC LIMIT` can show, or reduced to `partials`): they count for the
    /// series' time span only.
    pub extra_span: Option<(i64, i64)>,
    /// Per queried field, the per-window partial results computed while reading (its column
    /// in `fields` is then `None`); empty when none were computed.
    pub partials: Vec<Option<SeriesPartials>>,
    /// Indexed like the query's field list; `None` when the series has no value of the field.
    pub fields: Vec<Option<FieldData>>,
}

impl SeriesData {
    /// The value of tag `key`, if the series has it.
    pub fn tag(&self, key: &[u8]) -> Option<&[u8]> {
        self.tags
            .iter()
            .find(|(k, _)| k.as_slice() == key)
            .map(|(_, v)| v.as_slice())
    }

    /// Earliest and latest timestamp over every field, or `None` without values.
    pub fn time_span(&self) -> Option<(i64, i64)> {
        let mut span: Option<(i64, i64)> = self.extra_span;
        for f in self.fields.iter().flatten() {
            if let (Some(&a), Some(&b)) = (f.ts.first(), f.ts.last()) {
                span = Some(span.map_or((a, b), |(lo, hi)| (lo.min(a), hi.max(b))));
            }
        }
        span
    }

    /// Joins the fields by time into rows.
    pub fn rows(&self) -> Rows {
        let present: Vec<&FieldData> = self.fields.iter().flatten().collect();
        let Some(first) = present.first() else {
            return Rows {
                times: Vec::new(),
                pos: vec![Vec::new(); self.fields.len()],
            };
        };
        // Usual case: every field was written in the same points, so the rows are one field's
        // timestamps and every position is the row number.
        if present.iter().all(|f| f.ts == first.ts) {
            let n = first.ts.len();
            let identity: Vec<u32> = (0..n as u32).collect();
            let pos = self
                .fields
                .iter()
                .map(|f| match f {
                    Some(_) => identity.clone(),
                    None => vec![MISSING; n],
                })
                .collect();
            return Rows {
                times: first.ts.clone(),
                pos,
            };
        }
        let mut times: Vec<i64> = present.iter().flat_map(|f| f.ts.iter().copied()).collect();
        times.sort_unstable();
        times.dedup();
        let pos = self
            .fields
            .iter()
            .map(|f| {
                let mut p = vec![MISSING; times.len()];
                if let Some(f) = f {
                    let mut r = 0;
                    for (i, t) in f.ts.iter().enumerate() {
                        // Both sorted: advance to the row of `t` (it is there by construction).
                        while times.get(r).is_some_and(|rt| rt < t) {
                            r += 1;
                        }
                        if let Some(slot) = p.get_mut(r) {
                            *slot = i as u32;
                        }
                    }
                }
                p
            })
            .collect();
        Rows { times, pos }
    }

    /// Keeps only the values of rows where `keep` is true.
    pub fn retain_rows(&mut self, rows: &Rows, keep: &[bool]) {
        for (f, pos) in self.fields.iter_mut().zip(&rows.pos) {
            let Some(data) = f.as_mut() else { continue };
            let picks: Vec<usize> = pos
                .iter()
                .zip(keep)
                .filter(|&(&p, &k)| k && p != MISSING)
                .map(|(&p, _)| p as usize)
                .collect();
            if picks.len() == data.ts.len() {
                continue;
            }
            let ts = picks.iter().map(|&i| data.ts[i]).collect();
            let values = take(&data.values, &picks);
            *f = (!picks.is_empty()).then_some(FieldData { ts, values });
        }
    }
}

/// The engine's series (fields in the query's field order) as the executor's.
pub(crate) fn collect_series(data: Vec<SeriesColumns>) -> Vec<SeriesData> {
    data.into_iter()
        .map(|s| SeriesData {
            key: s.series_key,
            tags: s.tags,
            extra_span: None,
            partials: Vec::new(),
            fields: s
                .fields
                .into_iter()
                .map(|f| {
                    f.map(|c| FieldData {
                        ts: c.timestamps,
                        values: c.values,
                    })
                })
                .collect(),
        })
        .collect()
}

/// The value at `i` as a result cell.
pub(crate) fn cell(c: &Column, i: usize) -> Option<Value> {
    Some(match c {
        Column::Float(v) => Value::Float(*v.get(i)?),
        Column::Integer(v) => Value::Integer(*v.get(i)?),
        Column::Unsigned(v) => Value::Unsigned(*v.get(i)?),
        Column::Boolean(v) => Value::Boolean(*v.get(i)?),
        Column::String(v) => Value::String(String::from_utf8_lossy(v.get(i)?).into_owned()),
    })
}

/// The values at `picks`, in that order.
pub(crate) fn take(c: &Column, picks: &[usize]) -> Column {
    fn pick<T: Copy>(v: &[T], picks: &[usize]) -> Vec<T> {
        picks.iter().filter_map(|&i| v.get(i).copied()).collect()
    }
    match c {
        Column::Float(v) => Column::Float(pick(v, picks)),
        Column::Integer(v) => Column::Integer(pick(v, picks)),
        Column::Unsigned(v) => Column::Unsigned(pick(v, picks)),
        Column::Boolean(v) => Column::Boolean(pick(v, picks)),
        Column::String(v) => Column::String(picks.iter().filter_map(|&i| v.get(i)).collect()),
    }
}

/// Merges several sorted sources of one field into one column sorted by time; equal times keep
/// the sources' order (the group's series order). Every source must hold the same type.
pub(crate) fn merge_sources(sources: &[&FieldData]) -> Result<FieldData, QueryError> {
    let Some(first) = sources.first() else {
        return Ok(FieldData {
            ts: Vec::new(),
            values: Column::Float(Vec::new()),
        });
    };
    let field_type = first.values.field_type();
    if sources.iter().any(|s| s.values.field_type() != field_type) {
        return Err(QueryError::msg(
            "a field has values of two types in one group",
        ));
    }
    let total: usize = sources.iter().map(|s| s.ts.len()).sum();
    let mut order: Vec<(i64, u32, u32)> = Vec::with_capacity(total);
    for (si, s) in sources.iter().enumerate() {
        order.extend(
            s.ts.iter()
                .enumerate()
                .map(|(i, &t)| (t, si as u32, i as u32)),
        );
    }
    order.sort_unstable();
    let ts = order.iter().map(|o| o.0).collect();
    fn gather<T: Copy>(
        order: &[(i64, u32, u32)],
        sources: &[&FieldData],
        get: impl Fn(&Column) -> Option<&[T]>,
    ) -> Vec<T> {
        order
            .iter()
            .filter_map(|&(_, s, i)| {
                let src = sources.get(s as usize)?;
                get(&src.values)?.get(i as usize).copied()
            })
            .collect()
    }
    let values = match first.values {
        Column::Float(_) => Column::Float(gather(&order, sources, |c| match c {
            Column::Float(v) => Some(v),
            _ => None,
        })),
        Column::Integer(_) => Column::Integer(gather(&order, sources, |c| match c {
            Column::Integer(v) => Some(v),
            _ => None,
        })),
        Column::Unsigned(_) => Column::Unsigned(gather(&order, sources, |c| match c {
            Column::Unsigned(v) => Some(v),
            _ => None,
        })),
        Column::Boolean(_) => Column::Boolean(gather(&order, sources, |c| match c {
            Column::Boolean(v) => Some(v),
            _ => None,
        })),
        Column::String(_) => Column::String(
            order
                .iter()
                .filter_map(|&(_, s, i)| match &sources.get(s as usize)?.values {
                    Column::String(v) => v.get(i as usize),
                    _ => None,
                })
                .collect(),
        ),
    };
    Ok(FieldData { ts, values })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn field(ts: &[i64]) -> FieldData {
        FieldData {
            ts: ts.to_vec(),
            values: Column::Integer(ts.iter().map(|t| t * 10).collect()),
        }
    }

    proptest! {
        /// Rows are the union of the fields' times, and each position points at the value of
        /// that time.
        #[test]
        fn rows_join_fields_by_time(
            a in proptest::collection::btree_set(-20i64..20, 0..10),
            b in proptest::collection::btree_set(-20i64..20, 0..10),
            b_present in any::<bool>(),
        ) {
            let a: Vec<i64> = a.into_iter().collect();
            let b: Vec<i64> = b.into_iter().collect();
            let s = SeriesData {
                key: Vec::new(),
                tags: Vec::new(),
                extra_span: None,
            partials: Vec::new(),
                fields: vec![
                    (!a.is_empty()).then(|| field(&a)),
                    (b_present && !b.is_empty()).then(|| field(&b)),
                ],
            };
            let rows = s.rows();
            let mut want: Vec<i64> = a.clone();
            if b_present {
                want.extend(&b);
            }
            want.sort_unstable();
            want.dedup();
            prop_assert_eq!(&rows.times, &want);
            for (r, t) in rows.times.iter().enumerate() {
                for f in 0..2 {
                    let got = rows.value(&s, f, r);
                    let has = s.fields[f].as_ref().is_some_and(|d| d.ts.contains(t));
                    prop_assert_eq!(got, has.then_some(Value::Integer(t * 10)));
                }
            }
        }

        /// A merge is the stable sort of the concatenation by time.
        #[test]
        fn merge_is_a_stable_sort_by_time(
            sources in proptest::collection::vec(
                proptest::collection::btree_set(-20i64..20, 0..8), 1..5)
        ) {
            let datas: Vec<FieldData> = sources
                .iter()
                .enumerate()
                .map(|(si, set)| FieldData {
                    ts: set.iter().copied().collect(),
                    values: Column::Integer(set.iter().map(|t| t * 100 + si as i64).collect()),
                })
                .collect();
            let refs: Vec<&FieldData> = datas.iter().collect();
            let merged = merge_sources(&refs).unwrap();
            let mut want: Vec<(i64, i64)> = datas
                .iter()
                .flat_map(|d| {
                    let Column::Integer(v) = &d.values else { unreachable!() };
                    d.ts.iter().copied().zip(v.iter().copied()).collect::<Vec<_>>()
                })
                .collect();
            want.sort_by_key(|p| p.0);
            let Column::Integer(v) = merged.values else { panic!("type changed") };
            let got: Vec<(i64, i64)> = merged.ts.into_iter().zip(v).collect();
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn retain_rows_keeps_each_fields_values_of_kept_rows() {
        let mut s = SeriesData {
            key: Vec::new(),
            tags: Vec::new(),
            extra_span: None,
            partials: Vec::new(),
            fields: vec![Some(field(&[1, 2, 3])), Some(field(&[2, 4]))],
        };
        let rows = s.rows();
        assert_eq!(rows.times, [1, 2, 3, 4]);
        s.retain_rows(&rows, &[false, true, true, false]);
        assert_eq!(s.fields[0].as_ref().unwrap().ts, [2, 3]);
        assert_eq!(s.fields[1].as_ref().unwrap().ts, [2]);
        let rows = s.rows();
        s.retain_rows(&rows, &[false, false]);
        assert!(s.fields.iter().all(Option::is_none));
    }

    #[test]
    fn two_types_in_one_group_is_an_error() {
        let a = field(&[1]);
        let b = FieldData {
            ts: vec![2],
            values: Column::Float(vec![1.0]),
        };
        assert!(merge_sources(&[&a, &b]).is_err());
    }
}
