//! Running statements against an [`Engine`].

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tsmdb_encoding::{Column, FieldType};
use tsmdb_engine::{AggValue, Aggregate, Engine, Expr, Select, SeriesValues, Window, aggregate};

use crate::ast::{CmpOp, Cond, FieldExpr, Fill, GroupTags, Operand, SelectStatement, Statement};
use crate::error::QueryError;
use crate::parser::parse_statements;
use crate::result::{Series, StatementResult, Value};

/// Parses and runs every statement of `text` against `database`. A failing statement reports
/// its error in its own result; the others still run (as InfluxDB does).
pub fn execute(
    engine: &Engine,
    database: &str,
    text: &str,
    now: i64,
) -> Result<Vec<StatementResult>, QueryError> {
    let statements = parse_statements(text, now)?;
    Ok(statements
        .iter()
        .enumerate()
        .map(|(i, s)| match run(engine, database, s, now) {
            Ok(series) => StatementResult {
                statement_id: i,
                series,
                error: None,
            },
            Err(e) => StatementResult {
                statement_id: i,
                series: Vec::new(),
                error: Some(e.to_string()),
            },
        })
        .collect())
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run(engine: &Engine, db: &str, s: &Statement, now: i64) -> Result<Vec<Series>, QueryError> {
    let one = |name: &str, columns: &[&str], values: Vec<Vec<Value>>| {
        vec![Series {
            name: name.to_string(),
            tags: Vec::new(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            values,
        }]
    };
    let measurements = |from: &Option<String>| -> Result<Vec<Vec<u8>>, QueryError> {
        Ok(match from {
            Some(m) => vec![m.as_bytes().to_vec()],
            None => engine.measurements(db)?,
        })
    };
    match s {
        Statement::Select(sel) => select(engine, db, sel, now),
        Statement::ShowDatabases => Ok(one(
            "databases",
            &["name"],
            engine
                .databases()
                .into_iter()
                .map(|d| vec![Value::String(d)])
                .collect(),
        )),
        Statement::ShowMeasurements => {
            let rows = engine
                .measurements(db)?
                .into_iter()
                .map(|m| vec![Value::String(lossy(&m))])
                .collect::<Vec<_>>();
            Ok(if rows.is_empty() {
                Vec::new()
            } else {
                one("measurements", &["name"], rows)
            })
        }
        Statement::ShowTagKeys { from } => {
            let mut out = Vec::new();
            for m in measurements(from)? {
                let keys = engine.tag_keys(db, &m)?;
                if !keys.is_empty() {
                    out.extend(one(
                        &lossy(&m),
                        &["tagKey"],
                        keys.into_iter()
                            .map(|k| vec![Value::String(lossy(&k))])
                            .collect(),
                    ));
                }
            }
            Ok(out)
        }
        Statement::ShowTagValues {
            from,
            keys,
            condition,
        } => {
            let mut out = Vec::new();
            let expr = match condition {
                Some(c) => Some(split_condition(c, &|_| false)?.tags),
                None => None,
            };
            for m in measurements(from)? {
                let mut rows = Vec::new();
                let mut sorted = keys.clone();
                sorted.sort();
                sorted.dedup();
                for k in &sorted {
                    let values = match &expr {
                        None => engine.tag_values(db, &m, k.as_bytes())?,
                        Some(e) => tag_values_where(engine, db, &m, k.as_bytes(), e)?,
                    };
                    for v in values {
                        rows.push(vec![Value::String(k.clone()), Value::String(lossy(&v))]);
                    }
                }
                if !rows.is_empty() {
                    out.extend(one(&lossy(&m), &["key", "value"], rows));
                }
            }
            Ok(out)
        }
        Statement::ShowFieldKeys { from } => {
            let mut out = Vec::new();
            for m in measurements(from)? {
                let rows: Vec<Vec<Value>> = engine
                    .field_keys(db, &m)?
                    .into_iter()
                    .map(|(f, t)| {
                        vec![
                            Value::String(lossy(&f)),
                            Value::String(t.name().to_string()),
                        ]
                    })
                    .collect();
                if !rows.is_empty() {
                    out.extend(one(&lossy(&m), &["fieldKey", "fieldType"], rows));
                }
            }
            Ok(out)
        }
        Statement::ShowSeries { from, condition } => {
            let expr = match condition {
                Some(c) => split_condition(c, &|_| false)?.tags,
                None => Expr::all(),
            };
            let mut rows = Vec::new();
            for m in measurements(from)? {
                for k in engine.series_keys(db, &m, &expr)? {
                    rows.push(vec![Value::String(lossy(&k))]);
                }
            }
            Ok(if rows.is_empty() {
                Vec::new()
            } else {
                one("", &["key"], rows)
            })
        }
        Statement::CreateDatabase(name) => {
            engine.create_database(name, None)?;
            Ok(Vec::new())
        }
        Statement::DropDatabase(name) => {
            engine.drop_database(name)?;
            Ok(Vec::new())
        }
        Statement::DropMeasurement(m) => {
            engine.drop_measurement(db, m.as_bytes())?;
            Ok(Vec::new())
        }
        Statement::DropSeries { from, condition } | Statement::Delete { from, condition } => {
            let is_delete = matches!(s, Statement::Delete { .. });
            for m in measurements(from)? {
                let fields = engine.field_keys(db, &m)?;
                let is_field = |name: &str| fields.iter().any(|(f, _)| f == name.as_bytes());
                let split = match condition {
                    Some(c) => split_condition(c, &is_field)?,
                    None => Split {
                        tags: Expr::all(),
                        min: i64::MIN,
                        max: i64::MAX,
                        fields: Vec::new(),
                        row_conds: Vec::new(),
                    },
                };
                if !split.fields.is_empty() || !split.row_conds.is_empty() {
                    return Err(QueryError::msg(
                        "fields not supported in WHERE clause during deletion",
                    ));
                }
                if !is_delete && (split.min != i64::MIN || split.max != i64::MAX) {
                    return Err(QueryError::msg(
                        "DROP SERIES doesn't support time in WHERE clause",
                    ));
                }
                // An empty time range (`time > 10 AND time < 5`) deletes nothing.
                if split.min <= split.max {
                    engine.delete(db, &m, &split.tags, split.min, split.max)?;
                }
            }
            Ok(Vec::new())
        }
        Statement::CreateRetentionPolicy {
            database, duration, ..
        } => {
            let retention = duration.map(|d| Duration::from_nanos(d as u64));
            engine.create_database(database, None)?;
            engine.set_retention(database, retention)?;
            Ok(Vec::new())
        }
    }
}

/// A `WHERE` clause taken apart: the tag condition for the index, the time range, and the
/// field comparisons that filter rows.
struct Split {
    tags: Expr,
    min: i64,
    max: i64,
    fields: Vec<(String, CmpOp, Operand)>,
    /// Conjuncts with an OR over at least one field comparison (tags may mix in): evaluated on
    /// each row, like InfluxDB does.
    row_conds: Vec<Cond>,
}

fn split_condition(c: &Cond, is_field: &dyn Fn(&str) -> bool) -> Result<Split, QueryError> {
    let mut split = Split {
        tags: Expr::all(),
        min: i64::MIN,
        max: i64::MAX,
        fields: Vec::new(),
        row_conds: Vec::new(),
    };
    let mut tag_parts = Vec::new();
    let mut conjuncts = Vec::new();
    flatten_and(c, &mut conjuncts);
    for part in conjuncts {
        match part {
            Cond::Cmp {
                name,
                op,
                value: Operand::Time(t),
                ..
            } if name.eq_ignore_ascii_case("time") => {
                let t = *t;
                match op {
                    CmpOp::Gt => split.min = split.min.max(t.saturating_add(1)),
                    CmpOp::Gte => split.min = split.min.max(t),
                    CmpOp::Lt => split.max = split.max.min(t.saturating_sub(1)),
                    CmpOp::Lte => split.max = split.max.min(t),
                    CmpOp::Eq => {
                        split.min = split.min.max(t);
                        split.max = split.max.min(t);
                    }
                    _ => {
                        return Err(QueryError::msg(format!(
                            "invalid time comparison operator: {op:?}"
                        )));
                    }
                }
            }
            Cond::Cmp {
                name, op, value, ..
            } if is_field(name) => split.fields.push((name.clone(), *op, value.clone())),
            other @ Cond::Or(..) if mentions_field(other, is_field) => {
                if mentions_time(other) {
                    return Err(QueryError::msg(
                        "time conditions must be joined to the rest with AND, not OR",
                    ));
                }
                split.row_conds.push(other.clone());
            }
            other => tag_parts.push(tag_expr(other, is_field)?),
        }
    }
    if !tag_parts.is_empty() {
        split.tags = if tag_parts.len() == 1 {
            tag_parts.remove(0)
        } else {
            Expr::And(tag_parts)
        };
    }
    Ok(split)
}

fn mentions_field(c: &Cond, is_field: &dyn Fn(&str) -> bool) -> bool {
    match c {
        Cond::And(a, b) | Cond::Or(a, b) => {
            mentions_field(a, is_field) || mentions_field(b, is_field)
        }
        Cond::Cmp { name, .. } => is_field(name),
    }
}

fn mentions_time(c: &Cond) -> bool {
    match c {
        Cond::And(a, b) | Cond::Or(a, b) => mentions_time(a) || mentions_time(b),
        Cond::Cmp { name, .. } => name.eq_ignore_ascii_case("time"),
    }
}

/// Evaluates a row condition: field names against the row's values (a missing value never
/// matches), other names against the series' tags (a missing tag is the empty string).
fn eval_row(
    c: &Cond,
    row: &[Option<Value>],
    fields: &[String],
    tags: &[(Vec<u8>, Vec<u8>)],
) -> bool {
    match c {
        Cond::And(a, b) => eval_row(a, row, fields, tags) && eval_row(b, row, fields, tags),
        Cond::Or(a, b) => eval_row(a, row, fields, tags) || eval_row(b, row, fields, tags),
        Cond::Cmp {
            name, op, value, ..
        } => match fields.iter().position(|f| f == name) {
            Some(i) => row
                .get(i)
                .and_then(Option::as_ref)
                .is_some_and(|v| compare(v, *op, value)),
            None => {
                let tag = tags
                    .iter()
                    .find(|(k, _)| k.as_slice() == name.as_bytes())
                    .map_or(String::new(), |(_, v)| lossy(v));
                compare(&Value::String(tag), *op, value)
            }
        },
    }
}

fn leaf_names<'a>(c: &'a Cond, out: &mut Vec<&'a str>) {
    match c {
        Cond::And(a, b) | Cond::Or(a, b) => {
            leaf_names(a, out);
            leaf_names(b, out);
        }
        Cond::Cmp { name, .. } => out.push(name),
    }
}

fn flatten_and<'a>(c: &'a Cond, out: &mut Vec<&'a Cond>) {
    match c {
        Cond::And(a, b) => {
            flatten_and(a, out);
            flatten_and(b, out);
        }
        other => out.push(other),
    }
}

fn tag_expr(c: &Cond, is_field: &dyn Fn(&str) -> bool) -> Result<Expr, QueryError> {
    match c {
        Cond::And(a, b) => Ok(Expr::And(vec![
            tag_expr(a, is_field)?,
            tag_expr(b, is_field)?,
        ])),
        Cond::Or(a, b) => Ok(Expr::Or(vec![
            tag_expr(a, is_field)?,
            tag_expr(b, is_field)?,
        ])),
        Cond::Cmp {
            name,
            op,
            value,
            pos,
        } => {
            if name.eq_ignore_ascii_case("time") || is_field(name) {
                return Err(QueryError::at(
                    *pos,
                    "time and field conditions must be joined to the rest with AND, not OR",
                ));
            }
            let text = |v: &Operand| match v {
                Operand::Str(s) => Ok(s.clone()),
                Operand::Int(i) => Ok(i.to_string()),
                Operand::Num(f) => Ok(f.to_string()),
                Operand::Bool(b) => Ok(b.to_string()),
                _ => Err(QueryError::at(
                    *pos,
                    format!("tag {name} compared with an unsupported value"),
                )),
            };
            let regex = |v: &Operand| match v {
                Operand::Regex(r) => Ok(r.clone()),
                _ => Err(QueryError::at(*pos, "=~ and !~ need a /regex/")),
            };
            let bad_regex = |e: tsmdb_index_grid::Error| QueryError::at(*pos, e.to_string());
            Ok(match op {
                CmpOp::Eq => Expr::eq(name.as_bytes(), text(value)?.into_bytes()),
                CmpOp::Neq => Expr::neq(name.as_bytes(), text(value)?.into_bytes()),
                CmpOp::Match => Expr::regex(name.as_bytes(), &regex(value)?).map_err(bad_regex)?,
                CmpOp::NotMatch => {
                    Expr::not_regex(name.as_bytes(), &regex(value)?).map_err(bad_regex)?
                }
                _ => {
                    return Err(QueryError::at(
                        *pos,
                        format!("operator {op:?} is not supported on tag {name}"),
                    ));
                }
            })
        }
    }
}

/// One series' rows: time → one value per selected field.
struct Rows {
    tags: Vec<(Vec<u8>, Vec<u8>)>,
    rows: BTreeMap<i64, Vec<Option<Value>>>,
}

fn column_value(c: &Column, i: usize) -> Value {
    match c {
        Column::Float(v) => Value::Float(v[i]),
        Column::Integer(v) => Value::Integer(v[i]),
        Column::Unsigned(v) => Value::Unsigned(v[i]),
        Column::Boolean(v) => Value::Boolean(v[i]),
        Column::String(v) => Value::String(lossy(v.get(i).unwrap_or_default())),
    }
}

fn agg_value(v: AggValue) -> Value {
    match v {
        AggValue::Float(f) => Value::Float(f),
        AggValue::Integer(i) => Value::Integer(i),
        AggValue::Unsigned(u) => Value::Unsigned(u),
        AggValue::Boolean(b) => Value::Boolean(b),
        AggValue::String(s) => Value::String(lossy(&s)),
    }
}

fn compare(v: &Value, op: CmpOp, rhs: &Operand) -> bool {
    use std::cmp::Ordering;
    let ord = match (v, rhs) {
        (Value::Float(a), Operand::Num(b)) => a.partial_cmp(b),
        (Value::Float(a), Operand::Int(b)) => a.partial_cmp(&(*b as f64)),
        (Value::Integer(a), Operand::Int(b)) => Some(a.cmp(b)),
        (Value::Integer(a), Operand::Num(b)) => (*a as f64).partial_cmp(b),
        (Value::Unsigned(a), Operand::Int(b)) => Some(if *b < 0 {
            Ordering::Greater
        } else {
            a.cmp(&(*b as u64))
        }),
        (Value::Unsigned(a), Operand::Num(b)) => (*a as f64).partial_cmp(b),
        (Value::Boolean(a), Operand::Bool(b)) => Some(a.cmp(b)),
        (Value::String(a), Operand::Str(b)) => Some(a.as_str().cmp(b.as_str())),
        (Value::String(a), Operand::Regex(r)) => {
            let m = regex_match(r, a);
            return match op {
                CmpOp::Match => m,
                CmpOp::NotMatch => !m,
                _ => false,
            };
        }
        _ => None,
    };
    let Some(ord) = ord else { return false };
    match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Neq => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Lte => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Gte => ord != Ordering::Less,
        CmpOp::Match | CmpOp::NotMatch => false,
    }
}

fn regex_match(pattern: &str, s: &str) -> bool {
    // Field regexes are rare; the tag path uses the index's compiled regexes.
    match tsmdb_index_grid::Expr::regex("x", pattern) {
        Ok(expr) => expr.matches(&[(b"x", s.as_bytes())]),
        Err(_) => false,
    }
}

/// What one output column computes.
enum OutCol {
    Field(usize),
    Tag(Vec<u8>),
    Agg { field: usize, agg: Aggregate },
}

/// The sorted distinct values of tag `key` among the series of `m` that match `expr`.
fn tag_values_where(
    engine: &Engine,
    db: &str,
    m: &[u8],
    key: &[u8],
    expr: &Expr,
) -> Result<Vec<Vec<u8>>, QueryError> {
    let mut values = std::collections::BTreeSet::new();
    for series in engine.series_keys(db, m, expr)? {
        let Some((_, tags)) = tsmdb_engine::parse_series_key(&series) else {
            continue;
        };
        if let Some((_, v)) = tags.into_iter().find(|(k, _)| k.as_ref() == key) {
            values.insert(v.into_owned());
        }
    }
    Ok(values.into_iter().collect())
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

fn select(
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
    let data = engine.select(
        db,
        &Select {
            measurement: m.to_vec(),
            condition: split.tags.clone(),
            fields: fields.iter().map(|f| f.as_bytes().to_vec()).collect(),
            min_time: split.min,
            max_time,
        },
    )?;
    // Rows per series.
    let mut per_series: BTreeMap<Vec<u8>, Rows> = BTreeMap::new();
    for sv in data {
        let SeriesValues {
            series_key,
            tags,
            field,
            timestamps,
            values,
            ..
        } = sv;
        let Some(fi) = fields.iter().position(|f| f.as_bytes() == field.as_slice()) else {
            continue;
        };
        let entry = per_series.entry(series_key).or_insert_with(|| Rows {
            tags,
            rows: BTreeMap::new(),
        });
        for (i, t) in timestamps.iter().enumerate() {
            let row = entry
                .rows
                .entry(*t)
                .or_insert_with(|| vec![None; fields.len()]);
            row[fi] = Some(column_value(&values, i));
        }
    }
    // Field conditions filter rows.
    for rows in per_series.values_mut() {
        rows.rows.retain(|_, row| {
            split
                .fields
                .iter()
                .zip(&filter_fields)
                .all(|((_, op, rhs), &fi)| row[fi].as_ref().is_some_and(|v| compare(v, *op, rhs)))
                && split
                    .row_conds
                    .iter()
                    .all(|c| eval_row(c, row, &fields, &rows.tags))
        });
    }
    // Groups by tag values.
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
    let mut groups: BTreeMap<TagSet, Vec<GroupRow>> = BTreeMap::new();
    for (key, rows) in per_series {
        // A series whose every row a field condition removed is not in the result (InfluxDB
        // returns no group for it, and it must not count toward SLIMIT).
        if rows.rows.is_empty() {
            continue;
        }
        let gkey: Vec<(Vec<u8>, Vec<u8>)> = match &group_keys {
            None => Vec::new(),
            Some(keys) => keys
                .iter()
                .map(|k| {
                    (
                        k.clone(),
                        rows.tags
                            .iter()
                            .find(|(tk, _)| tk == k)
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default(),
                    )
                })
                .collect(),
        };
        let tags = rows.tags;
        let g = groups.entry(gkey).or_default();
        for (t, row) in rows.rows {
            let _ = &key;
            g.push((t, tag_blob(&tags), row));
        }
    }
    let mut out = Vec::new();
    let soffset = s.soffset.unwrap_or(0);
    for (gkey, mut rows) in groups
        .into_iter()
        .skip(soffset)
        .take(s.slimit.unwrap_or(usize::MAX))
    {
        rows.sort_by_key(|r| r.0);
        let mut values: Vec<Vec<Value>> = if has_agg {
            aggregate_rows(&rows, &columns, s, split.min, max_time)?
        } else {
            rows.iter()
                .filter(|(_, _, row)| {
                    columns
                        .iter()
                        .any(|(_, c)| matches!(c, OutCol::Field(i) if row[*i].is_some()))
                })
                .map(|(t, tags, row)| {
                    let mut r = vec![Value::Time(*t)];
                    for (_, c) in &columns {
                        r.push(match c {
                            OutCol::Field(i) => row[*i].clone().unwrap_or(Value::Null),
                            OutCol::Tag(k) => tag_from_blob(tags, k)
                                .map_or(Value::Null, |v| Value::String(lossy(&v))),
                            OutCol::Agg { .. } => Value::Null,
                        });
                    }
                    r
                })
                .collect()
        };
        if s.descending {
            values.reverse();
        }
        let values: Vec<Vec<Value>> = values
            .into_iter()
            .skip(s.offset.unwrap_or(0))
            .take(s.limit.unwrap_or(usize::MAX))
            .collect();
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

/// A series' tags packed for the row list (only read back for `SELECT *` tag columns).
fn tag_blob(tags: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in tags {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(k);
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        out.extend_from_slice(v);
    }
    out
}

fn tag_from_blob(mut blob: &[u8], key: &[u8]) -> Option<Vec<u8>> {
    let take = |b: &mut &[u8]| -> Option<Vec<u8>> {
        let len = u32::from_le_bytes(b.get(..4)?.try_into().ok()?) as usize;
        let v = b.get(4..4 + len)?.to_vec();
        *b = &b[4 + len..];
        Some(v)
    };
    while !blob.is_empty() {
        let k = take(&mut blob)?;
        let v = take(&mut blob)?;
        if k == key {
            return Some(v);
        }
    }
    None
}

type GroupRow = (i64, Vec<u8>, Vec<Option<Value>>);
/// A group's tag values, by key.
type TagSet = Vec<(Vec<u8>, Vec<u8>)>;

/// Aggregates a group's rows into output rows (one per window, or one in all).
fn aggregate_rows(
    rows: &[GroupRow],
    columns: &[(String, OutCol)],
    s: &SelectStatement,
    min: i64,
    max: i64,
) -> Result<Vec<Vec<Value>>, QueryError> {
    let window = s
        .group_by_time
        .map(|(every, offset)| Window { every, offset });
    let range_start = if min == i64::MIN { 0 } else { min };
    // Per column: window start (or selected time) -> value.
    let mut per_col: Vec<BTreeMap<i64, Value>> = Vec::new();
    let single_selector = window.is_none()
        && columns.len() == 1
        && matches!(&columns[0].1, OutCol::Agg { agg, .. } if agg.is_selector());
    let mut selector_time = None;
    // InfluxDB fills empty windows of count() with 0 rather than null.
    let mut is_count: Vec<bool> = Vec::new();
    for (_, col) in columns {
        let OutCol::Agg { field, agg } = col else {
            continue;
        };
        is_count.push(*agg == Aggregate::Count);
        let (ts, column) = gather(rows, *field)?;
        let results = aggregate(&ts, &column, *agg, window, range_start)?;
        let mut map = BTreeMap::new();
        for (t, v) in results {
            if single_selector {
                selector_time = Some(t);
            }
            let key = if window.is_some() { t } else { 0 };
            map.insert(key, agg_value(v));
        }
        per_col.push(map);
    }
    let mut out = Vec::new();
    match window {
        None => {
            if per_col.iter().all(BTreeMap::is_empty) {
                return Ok(out);
            }
            let t = selector_time.unwrap_or(range_start);
            let mut row = vec![Value::Time(t)];
            row.extend(
                per_col
                    .iter()
                    .map(|m| m.get(&0).cloned().unwrap_or(Value::Null)),
            );
            out.push(row);
        }
        Some(w) => {
            let first = if min == i64::MIN {
                rows.first().map(|r| w.start_of(r.0))
            } else {
                Some(w.start_of(min))
            };
            let Some(mut t) = first else { return Ok(out) };
            let last = w.start_of(if max == i64::MAX {
                rows.last().map_or(t, |r| r.0)
            } else {
                max
            });
            let buckets = (last.saturating_sub(t)) / w.every.max(1);
            if buckets > 1_000_000 {
                return Err(QueryError::msg(format!(
                    "GROUP BY time would make {buckets} windows; narrow the time range"
                )));
            }
            let mut previous: Vec<Option<Value>> = vec![None; per_col.len()];
            while t <= last {
                let mut row = vec![Value::Time(t)];
                let mut any = false;
                for (i, m) in per_col.iter().enumerate() {
                    let v = match m.get(&t) {
                        Some(v) => {
                            any = true;
                            previous[i] = Some(v.clone());
                            v.clone()
                        }
                        None => match &s.fill {
                            Fill::Null if is_count[i] => Value::Integer(0),
                            Fill::Null | Fill::None => Value::Null,
                            Fill::Previous => previous[i].clone().unwrap_or(Value::Null),
                            Fill::Value(x) => Value::Float(*x),
                            Fill::Linear => linear(m, t),
                        },
                    };
                    row.push(v);
                }
                if any || s.fill != Fill::None {
                    out.push(row);
                }
                t = match t.checked_add(w.every) {
                    Some(n) => n,
                    None => break,
                };
            }
        }
    }
    Ok(out)
}

fn linear(m: &BTreeMap<i64, Value>, t: i64) -> Value {
    let before = m.range(..t).next_back();
    let after = m
        .range((std::ops::Bound::Excluded(t), std::ops::Bound::Unbounded))
        .next();
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

/// One field's values across a group's rows, as a typed column (rows are sorted by time; equal
/// times from different series stay, in series order).
fn gather(rows: &[GroupRow], field: usize) -> Result<(Vec<i64>, Column), QueryError> {
    let mut ts = Vec::new();
    let mut col: Option<Column> = None;
    for (t, _, row) in rows {
        let Some(v) = &row[field] else { continue };
        let c = col.get_or_insert_with(|| match v {
            Value::Float(_) => Column::Float(Vec::new()),
            Value::Integer(_) => Column::Integer(Vec::new()),
            Value::Unsigned(_) => Column::Unsigned(Vec::new()),
            Value::Boolean(_) => Column::Boolean(Vec::new()),
            _ => Column::String(Default::default()),
        });
        match (v, c) {
            (Value::Float(x), Column::Float(c)) => c.push(*x),
            (Value::Integer(x), Column::Integer(c)) => c.push(*x),
            (Value::Unsigned(x), Column::Unsigned(c)) => c.push(*x),
            (Value::Boolean(x), Column::Boolean(c)) => c.push(*x),
            (Value::String(x), Column::String(c)) => c.push(x.as_bytes()),
            _ => {
                return Err(QueryError::msg(
                    "a field has values of two types in one group",
                ));
            }
        }
        ts.push(*t);
    }
    Ok((ts, col.unwrap_or(Column::Float(Vec::new()))))
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
