//! SELECT: plans the output columns, reads the series from the engine (only one end of each
//! series for `first()`/`last()` without windows; only the windows a `ORDER BY time DESC LIMIT`
//! can show), then works column by column: field conditions make a row mask per series,
//! aggregates run on whole columns, and result values are only built for output rows.

use std::collections::{BTreeMap, HashMap};

use tsmdb_encoding::FieldType;
use tsmdb_engine::{Aggregate, Edge, Engine, Expr, Select, Window};

use crate::ast::{FieldExpr, Fill, GroupTags, SelectStatement};
use crate::error::QueryError;
use crate::exec::{Split, compare, eval_row, leaf_names, lossy, split_condition};
use crate::partial::{covered, series_partials};
use crate::result::{Series, Value};
use crate::series::{MISSING, Rows, SeriesData, collect_series};
use crate::windows::{AggColumn, aggregate_group};

/// What one output column computes.
enum OutCol {
    Field(usize),
    Tag(Vec<u8>),
    Agg { field: usize, agg: Aggregate },
}

/// A group's tag values, by key.
type TagSet = Vec<(Vec<u8>, Vec<u8>)>;

pub(crate) fn select(
    engine: &Engine,
    db: &str,
    s: &SelectStatement,
    now: i64,
) -> Result<Vec<Series>, QueryError> {
    let m = s.from.as_bytes();
    let field_types: Vec<(Vec<u8>, FieldType)> = engine.field_keys(db, m)?;
    let tag_keys = engine.tag_keys(db, m)?;
    let is_field = |name: &str| field_types.iter().any(|(f, _)| f == name.as_bytes());
    let split = match &s.condition {
        Some(c) => split_condition(c, &is_field)?,
        None => Split {
            tags: Expr::all(),
            min: i64::MIN,
            max: i64::MAX,
            fields: Vec::new(),
            row_conds: Vec::new(),
        },
    };
    // Fields read: every field named in the select list or in a field condition.
    let mut fields: Vec<String> = Vec::new();
    let mut columns: Vec<(String, OutCol)> = Vec::new();
    // Whether each column's name was given with AS (aliases keep their name on a clash).
    let mut aliased: Vec<bool> = Vec::new();
    let field_index =
        |name: &str, fields: &mut Vec<String>| match fields.iter().position(|f| f == name) {
            Some(i) => i,
            None => {
                fields.push(name.to_string());
                fields.len() - 1
            }
        };
    let mut has_agg = false;
    let mut has_raw = false;
    for fe in &s.fields {
        match fe {
            FieldExpr::Wildcard => {
                has_raw = true;
                let mut all: Vec<(String, bool)> =
                    field_types.iter().map(|(f, _)| (lossy(f), true)).collect();
                let grouped = |k: &[u8]| match &s.group_by_tags {
                    GroupTags::All => true,
                    GroupTags::Keys(keys) => keys.iter().any(|g| g.as_bytes() == k),
                    GroupTags::None => false,
                };
                all.extend(
                    tag_keys
                        .iter()
                        .filter(|k| !grouped(k))
                        .map(|k| (lossy(k), false)),
                );
                all.sort();
                for (name, is_f) in all {
                    let col = if is_f {
                        OutCol::Field(field_index(&name, &mut fields))
                    } else {
                        OutCol::Tag(name.clone().into_bytes())
                    };
                    columns.push((name, col));
                    aliased.push(false);
                }
            }
            FieldExpr::Field { name, alias } => {
                has_raw = true;
                let col = if is_field(name) {
                    OutCol::Field(field_index(name, &mut fields))
                } else {
                    OutCol::Tag(name.clone().into_bytes())
                };
                columns.push((alias.clone().unwrap_or_else(|| name.clone()), col));
                aliased.push(alias.is_some());
            }
            FieldExpr::Call {
                func,
                field,
                arg,
                alias,
            } => {
                has_agg = true;
                let agg = parse_agg(func, *arg)?;
                let targets: Vec<String> = if field == "*" {
                    field_types.iter().map(|(f, _)| lossy(f)).collect()
                } else {
                    vec![field.clone()]
                };
                for t in targets {
                    let name = match (alias, field.as_str()) {
                        (Some(a), _) => a.clone(),
                        (None, "*") => format!("{func}_{t}"),
                        (None, _) => func.clone(),
                    };
                    columns.push((
                        name,
                        OutCol::Agg {
                            field: field_index(&t, &mut fields),
                            agg,
                        },
                    ));
                    aliased.push(alias.is_some());
                }
            }
        }
    }
    resolve_column_names(&mut columns, &aliased);
    if has_agg && has_raw {
        return Err(QueryError::msg(
            "mixing aggregate and non-aggregate queries is not supported",
        ));
    }
    if !has_agg && s.group_by_time.is_some() {
        return Err(QueryError::msg(
            "GROUP BY requires at least one aggregate function",
        ));
    }
    let filter_fields: Vec<usize> = split
        .fields
        .iter()
        .map(|(n, _, _)| field_index(n, &mut fields))
        .collect();
    for c in &split.row_conds {
        let mut names = Vec::new();
        leaf_names(c, &mut names);
        for n in names.into_iter().filter(|n| is_field(n)) {
            field_index(n, &mut fields);
        }
    }
    let mut max_time = split.max;
    if s.group_by_time.is_some() && max_time == i64::MAX {
        max_time = now;
    }
    let filtered = !split.fields.is_empty() || !split.row_conds.is_empty();
    let window = s
        .group_by_time
        .map(|(every, offset)| Window { every, offset });
    let agg_columns: Vec<AggColumn> = columns
        .iter()
        .filter_map(|(_, c)| match c {
            OutCol::Agg { field, agg } => {
                let ty = field_types
                    .iter()
                    .find(|(f, _)| f.as_slice() == fields[*field].as_bytes())
                    .map(|(_, t)| *t);
                Some(AggColumn::new(*field, *agg, ty))
            }
            _ => None,
        })
        .collect();
    if fields.is_empty() {
        // Only tags selected: no field, so no row (as before; InfluxDB refuses the statement).
        return Ok(Vec::new());
    }
    let request = Select {
        measurement: m.to_vec(),
        condition: split.tags.clone(),
        fields: fields.iter().map(|f| f.as_bytes().to_vec()).collect(),
        min_time: split.min,
        max_time,
    };
    let mut series = if let Some(edge) = edge_only(has_agg, filtered, window, &agg_columns) {
        // Every column is first() (or every one last()) over the whole range: one value per
        // series and field decides it.
        collect_series(engine.select_columns(db, &request, Some(edge))?)
    } else if let Some(from) = desc_limit_start(s, has_agg, filtered, window, split.min, max_time) {
        // Only the newest LIMIT + OFFSET windows can be shown: read those. Which series have
        // older values (they make groups, and an open range's first window, as from the whole
        // range; those windows are never shown) the TSM index mostly tells without decoding.
        let recent = engine.select_columns(
            db,
            &Select {
                min_time: from,
                ..request.clone()
            },
            None,
        )?;
        let older = engine.series_with_values(
            db,
            &Select {
                max_time: from - 1,
                ..request
            },
        )?;
        let mut series = collect_series(recent);
        add_older(&mut series, older, from - 1, fields.len());
        series
    } else if has_agg && !filtered {
        // Aggregates without field conditions: each series is reduced to per-window partials
        // on the reading thread, so its values never pile up with the others'.
        let reduce = reducible_fields(&agg_columns, fields.len());
        engine.map_series(db, &request, |read| {
            let Some(mut sd) = collect_series(vec![read]).pop() else {
                return empty_series(fields.len());
            };
            sd.extra_span = sd.time_span();
            sd.partials = (0..fields.len()).map(|_| None).collect();
            for (fi, &reduce) in reduce.iter().enumerate() {
                let Some(data) = sd.fields[fi].as_ref().filter(|_| reduce) else {
                    continue;
                };
                if let Some(p) = series_partials(data, window) {
                    sd.partials[fi] = Some(p);
                    sd.fields[fi] = None;
                }
            }
            sd
        })?
    } else {
        collect_series(engine.select_columns(db, &request, None)?)
    };

    // Field conditions: a row mask per series.
    let mut rows_of: Vec<Option<Rows>> = Vec::with_capacity(series.len());
    let mut kept: Vec<bool> = Vec::with_capacity(series.len());
    for sd in &mut series {
        if !filtered && has_agg {
            rows_of.push(None);
            kept.push(sd.time_span().is_some());
            continue;
        }
        let rows = sd.rows();
        let mask: Vec<bool> = (0..rows.times.len())
            .map(|r| {
                split
                    .fields
                    .iter()
                    .zip(&filter_fields)
                    .all(|((_, op, rhs), &fi)| {
                        rows.value(sd, fi, r).is_some_and(|v| compare(&v, *op, rhs))
                    })
                    && split.row_conds.iter().all(|c| {
                        eval_row(
                            c,
                            &|name| field_value(&fields, sd, &rows, name, r),
                            &sd.tags,
                        )
                    })
            })
            .collect();
        // A series whose every row a field condition removed is not in the result (InfluxDB
        // returns no group for it, and it must not count toward SLIMIT).
        kept.push(mask.iter().any(|&k| k));
        if has_agg {
            sd.retain_rows(&rows, &mask);
            rows_of.push(None);
        } else {
            let mut rows = rows;
            keep_rows(&mut rows, &mask);
            rows_of.push(Some(rows));
        }
    }

    // Groups by tag values, each a list of series in series key order.
    let group_keys: Option<Vec<Vec<u8>>> = match &s.group_by_tags {
        GroupTags::None => None,
        GroupTags::All => Some(tag_keys.clone()),
        GroupTags::Keys(keys) => {
            let mut k: Vec<Vec<u8>> = keys.iter().map(|k| k.as_bytes().to_vec()).collect();
            k.sort();
            k.dedup();
            Some(k)
        }
    };
    let mut groups: BTreeMap<TagSet, Vec<usize>> = BTreeMap::new();
    for (i, sd) in series.iter().enumerate() {
        if !kept[i] {
            continue;
        }
        let gkey: TagSet = match &group_keys {
            None => Vec::new(),
            Some(keys) => keys
                .iter()
                .map(|k| (k.clone(), sd.tag(k).unwrap_or_default().to_vec()))
                .collect(),
        };
        groups.entry(gkey).or_default().push(i);
    }

    let mut out = Vec::new();
    let soffset = s.soffset.unwrap_or(0);
    let mut chosen: Vec<(TagSet, Vec<usize>)> = groups
        .into_iter()
        .skip(soffset)
        .take(s.slimit.unwrap_or(usize::MAX))
        .collect();
    // InfluxDB emits the groups in reverse order too when the time order is descending.
    if s.descending {
        chosen.reverse();
    }
    for (gkey, members) in chosen {
        let values = if has_agg {
            let group: Vec<&SeriesData> = members.iter().map(|&i| &series[i]).collect();
            let mut values = aggregate_group(&group, &agg_columns, s, split.min, max_time)?;
            if s.descending {
                values.reverse();
            }
            values
                .into_iter()
                .skip(s.offset.unwrap_or(0))
                .take(s.limit.unwrap_or(usize::MAX))
                .collect()
        } else {
            raw_rows(&members, &series, &rows_of, &columns, s)
        };
        if values.is_empty() {
            continue;
        }
        let mut names = vec!["time".to_string()];
        names.extend(columns.iter().map(|(n, _)| n.clone()));
        out.push(Series {
            name: s.from.clone(),
            tags: gkey.iter().map(|(k, v)| (lossy(k), lossy(v))).collect(),
            columns: names,
            values,
        });
    }
    Ok(out)
}

/// The value of the row-condition name `name` in row `r`: a field's value, `None` for a
/// missing value or a name that is not a queried field (a tag: the caller looks it up).
fn field_value(
    fields: &[String],
    sd: &SeriesData,
    rows: &Rows,
    name: &str,
    r: usize,
) -> Option<Option<Value>> {
    let fi = fields.iter().position(|f| f == name)?;
    Some(rows.value(sd, fi, r))
}

/// Drops the rows the mask removes.
fn keep_rows(rows: &mut Rows, mask: &[bool]) {
    if mask.iter().all(|&k| k) {
        return;
    }
    let mut i = 0;
    rows.times.retain(|_| {
        let k = mask.get(i).copied().unwrap_or(false);
        i += 1;
        k
    });
    for p in &mut rows.pos {
        let mut i = 0;
        p.retain(|_| {
            let k = mask.get(i).copied().unwrap_or(false);
            i += 1;
            k
        });
    }
}

/// The output rows of a raw selection for one group: the rows of its series by time (equal
/// times in series order), rows without any selected field left out, `ORDER BY`, `OFFSET` and
/// `LIMIT` applied before any value is built.
fn raw_rows(
    members: &[usize],
    series: &[SeriesData],
    rows_of: &[Option<Rows>],
    columns: &[(String, OutCol)],
    s: &SelectStatement,
) -> Vec<Vec<Value>> {
    let selected: Vec<usize> = columns
        .iter()
        .filter_map(|(_, c)| match c {
            OutCol::Field(i) => Some(*i),
            _ => None,
        })
        .collect();
    // (time, series, row)
    let mut order: Vec<(i64, usize, usize)> = Vec::new();
    for &si in members {
        let Some(Some(rows)) = rows_of.get(si) else {
            continue;
        };
        for (r, &t) in rows.times.iter().enumerate() {
            let shown = selected.iter().any(|&f| {
                rows.pos
                    .get(f)
                    .and_then(|p| p.get(r))
                    .is_some_and(|&p| p != MISSING)
            });
            if shown {
                order.push((t, si, r));
            }
        }
    }
    order.sort_unstable();
    if s.descending {
        order.reverse();
    }
    order
        .into_iter()
        .skip(s.offset.unwrap_or(0))
        .take(s.limit.unwrap_or(usize::MAX))
        .filter_map(|(t, si, r)| {
            let sd = series.get(si)?;
            let rows = rows_of.get(si)?.as_ref()?;
            let mut row = Vec::with_capacity(columns.len() + 1);
            row.push(Value::Time(t));
            for (_, c) in columns {
                row.push(match c {
                    OutCol::Field(i) => rows.value(sd, *i, r).unwrap_or(Value::Null),
                    OutCol::Tag(k) => sd.tag(k).map_or(Value::Null, |v| Value::String(lossy(v))),
                    OutCol::Agg { .. } => Value::Null,
                });
            }
            Some(row)
        })
        .collect()
}

/// `Some(edge)` when every output column is `first()` (or every one `last()`) over the whole
/// range, without field conditions: then one value per series and field decides each result.
fn edge_only(
    has_agg: bool,
    filtered: bool,
    window: Option<Window>,
    columns: &[AggColumn],
) -> Option<Edge> {
    if !has_agg || filtered || window.is_some() {
        return None;
    }
    let edge = |c: &AggColumn| match c.agg {
        Aggregate::First => Some(Edge::First),
        Aggregate::Last => Some(Edge::Last),
        _ => None,
    };
    let first = edge(columns.first()?)?;
    columns
        .iter()
        .all(|c| edge(c) == Some(first))
        .then_some(first)
}

/// For `GROUP BY time(..) ORDER BY time DESC LIMIT n [OFFSET m]` with `fill(null)` or `fill(N)`
/// and no field condition: the start of the oldest window that can be shown, when that is
/// later than the range's start. `fill(none)`, `previous` and `linear` need older windows.
fn desc_limit_start(
    s: &SelectStatement,
    has_agg: bool,
    filtered: bool,
    window: Option<Window>,
    min: i64,
    max: i64,
) -> Option<i64> {
    let w = window?;
    let limit = s.limit?;
    if !has_agg
        || filtered
        || !s.descending
        || !matches!(s.fill, Fill::Null | Fill::Value(_) | Fill::Integer(_))
        || max == i64::MAX
    {
        return None;
    }
    let shown = limit.checked_add(s.offset.unwrap_or(0))?;
    let back = i64::try_from(shown.checked_sub(1)?)
        .ok()?
        .checked_mul(w.every)?;
    let from = w.start_of(max).checked_sub(back)?;
    (from > min && from > i64::MIN).then_some(from)
}

/// Per queried field: true when every aggregate of it can run on partials.
fn reducible_fields(columns: &[AggColumn], fields: usize) -> Vec<bool> {
    (0..fields)
        .map(|fi| {
            let mut on_field = columns.iter().filter(|c| c.field == fi).peekable();
            on_field.peek().is_some() && on_field.all(|c| covered(c.agg))
        })
        .collect()
}

/// A series without values (never produced by a read; keeps the closure total).
fn empty_series(fields: usize) -> SeriesData {
    SeriesData {
        key: Vec::new(),
        tags: Vec::new(),
        extra_span: None,
        partials: Vec::new(),
        fields: (0..fields).map(|_| None).collect(),
    }
}

/// Marks the series of `older` (sorted keys) as having a value at `at` that was not read,
/// adding the ones `series` (sorted by key) lacks.
fn add_older(series: &mut Vec<SeriesData>, older: Vec<Vec<u8>>, at: i64, fields: usize) {
    let mut added = false;
    for key in older {
        match series.binary_search_by(|s| s.key.cmp(&key)) {
            Ok(i) => {
                let s = &mut series[i];
                s.extra_span = Some(s.time_span().map_or((at, at), |(_, hi)| (at, hi)));
            }
            Err(_) => {
                let Some((_, tags)) = tsmdb_engine::parse_series_key(&key) else {
                    continue;
                };
                let tags = tags
                    .into_iter()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                series.push(SeriesData {
                    key,
                    tags,
                    extra_span: Some((at, at)),
                    partials: Vec::new(),
                    fields: (0..fields).map(|_| None).collect(),
                });
                added = true;
            }
        }
    }
    if added {
        series.sort_by(|a, b| a.key.cmp(&b.key));
    }
}

/// Gives clashing column names InfluxDB's suffixes: aliases keep their names, then each generated
/// name that is already taken becomes `name_N`, N counting up from the times it was seen
/// (`max, max` -> `max, max_1`).
fn resolve_column_names(columns: &mut [(String, OutCol)], aliased: &[bool]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for ((name, _), _) in columns.iter().zip(aliased).filter(|(_, a)| **a) {
        seen.insert(name.clone(), 1);
    }
    for ((name, _), _) in columns.iter_mut().zip(aliased).filter(|(_, a)| !**a) {
        if let Some(&count) = seen.get(name.as_str()) {
            let mut n = count;
            let resolved = loop {
                let candidate = format!("{name}_{n}");
                if !seen.contains_key(&candidate) {
                    break candidate;
                }
                n += 1;
            };
            seen.insert(name.clone(), n + 1);
            *name = resolved;
        }
        *seen.entry(name.clone()).or_insert(0) += 1;
    }
}

fn parse_agg(func: &str, arg: Option<f64>) -> Result<Aggregate, QueryError> {
    Ok(match func {
        "count" => Aggregate::Count,
        "sum" => Aggregate::Sum,
        "mean" => Aggregate::Mean,
        "median" => Aggregate::Median,
        "min" => Aggregate::Min,
        "max" => Aggregate::Max,
        "first" => Aggregate::First,
        "last" => Aggregate::Last,
        "spread" => Aggregate::Spread,
        "stddev" => Aggregate::Stddev,
        "percentile" => Aggregate::Percentile(arg.ok_or_else(|| {
            QueryError::msg("percentile() needs a percentile, e.g. percentile(x, 95)")
        })?),
        other => return Err(QueryError::msg(format!("unsupported function: {other}()"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(input: &[(&str, bool)]) -> Vec<String> {
        let mut cols: Vec<(String, OutCol)> = input
            .iter()
            .map(|(n, _)| (n.to_string(), OutCol::Tag(Vec::new())))
            .collect();
        let aliased: Vec<bool> = input.iter().map(|(_, a)| *a).collect();
        resolve_column_names(&mut cols, &aliased);
        cols.into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn clashing_column_names_get_influxdb_suffixes() {
        assert_eq!(
            names(&[("max", false), ("max", false), ("max", false)]),
            ["max", "max_1", "max_2"]
        );
        // an alias keeps its name; generated names step around taken ones
        assert_eq!(
            names(&[("max", false), ("max_1", true), ("max", false)]),
            ["max", "max_1", "max_2"]
        );
        assert_eq!(names(&[("a", false), ("b", false)]), ["a", "b"]);
    }
}
