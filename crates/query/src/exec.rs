//! Running statements against an [`Engine`].

use std::time::Duration;

use tsmdb_engine::{Engine, Expr};

use crate::ast::{CmpOp, Cond, KeySelector, Operand, Statement};
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

pub(crate) fn lossy(b: &[u8]) -> String {
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
        Statement::Select(sel) => crate::select::select(engine, db, sel, now),
        Statement::ShowDatabases => Ok(one(
            "databases",
            &["name"],
            engine
                .databases()
                .into_iter()
                .map(|d| vec![Value::String(d)])
                .collect(),
        )),
        Statement::ShowMeasurements { with, page } => {
            let mut names: Vec<String> =
                engine.measurements(db)?.iter().map(|m| lossy(m)).collect();
            if let Some(with) = with {
                names = with.select(names)?;
            }
            let rows = page.apply(names.into_iter().map(|m| vec![Value::String(m)]).collect());
            Ok(if rows.is_empty() {
                Vec::new()
            } else {
                one("measurements", &["name"], rows)
            })
        }
        Statement::ShowTagKeys { from, page } => {
            let mut out = Vec::new();
            for m in measurements(from)? {
                let keys = page.apply(engine.tag_keys(db, &m)?);
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
            page,
        } => {
            let mut out = Vec::new();
            // A time condition keeps the values of the shards it overlaps, as in InfluxDB.
            let expr = match condition {
                Some(c) => {
                    let split = split_condition(c, &|_| false)?;
                    Some((split.tags, split.min, split.max))
                }
                None => None,
            };
            for m in measurements(from)? {
                let mut rows = Vec::new();
                let mut sorted: Vec<String> = match keys {
                    // Listed keys are looked up as given (a key the measurement lacks has no
                    // values); the others choose among the measurement's keys.
                    KeySelector::In(keys) => keys.clone(),
                    other => {
                        other.select(engine.tag_keys(db, &m)?.iter().map(|k| lossy(k)).collect())?
                    }
                };
                sorted.sort();
                sorted.dedup();
                for k in &sorted {
                    let values = match &expr {
                        None => engine.tag_values(db, &m, k.as_bytes())?,
                        Some((e, min, max)) => {
                            tag_values_where(engine, db, &m, k.as_bytes(), e, *min, *max)?
                        }
                    };
                    for v in values {
                        rows.push(vec![Value::String(k.clone()), Value::String(lossy(&v))]);
                    }
                }
                let rows = page.apply(rows);
                if !rows.is_empty() {
                    out.extend(one(&lossy(&m), &["key", "value"], rows));
                }
            }
            Ok(out)
        }
        Statement::ShowFieldKeys { from, page } => {
            let mut out = Vec::new();
            for m in measurements(from)? {
                let rows: Vec<Vec<Value>> = page.apply(
                    engine
                        .field_keys(db, &m)?
                        .into_iter()
                        .map(|(f, t)| {
                            vec![
                                Value::String(lossy(&f)),
                                Value::String(t.name().to_string()),
                            ]
                        })
                        .collect(),
                );
                if !rows.is_empty() {
                    out.extend(one(&lossy(&m), &["fieldKey", "fieldType"], rows));
                }
            }
            Ok(out)
        }
        Statement::ShowSeries {
            from,
            condition,
            page,
        } => {
            // A time condition keeps the series of the shards it overlaps, as in InfluxDB.
            let (expr, min, max) = match condition {
                Some(c) => {
                    let split = split_condition(c, &|_| false)?;
                    (split.tags, split.min, split.max)
                }
                None => (Expr::all(), i64::MIN, i64::MAX),
            };
            let mut rows = Vec::new();
            for m in measurements(from)? {
                for k in engine.series_keys_between(db, &m, &expr, min, max)? {
                    rows.push(vec![Value::String(lossy(&k))]);
                }
            }
            let rows = page.apply(rows);
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
pub(crate) struct Split {
    pub tags: Expr,
    pub min: i64,
    pub max: i64,
    pub fields: Vec<(String, CmpOp, Operand)>,
    /// Conjuncts with an OR over at least one field comparison (tags may mix in): evaluated on
    /// each row, like InfluxDB does.
    pub row_conds: Vec<Cond>,
}

pub(crate) fn split_condition(
    c: &Cond,
    is_field: &dyn Fn(&str) -> bool,
) -> Result<Split, QueryError> {
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

/// Evaluates a row condition: `field(name)` gives a field's value in the row (`Some(None)` when
/// the row has none, which never matches; `None` when `name` is not a field), other names are
/// compared with the series' tags (a missing tag is the empty string).
pub(crate) fn eval_row(
    c: &Cond,
    field: &dyn Fn(&str) -> Option<Option<Value>>,
    tags: &[(Vec<u8>, Vec<u8>)],
) -> bool {
    match c {
        Cond::And(a, b) => eval_row(a, field, tags) && eval_row(b, field, tags),
        Cond::Or(a, b) => eval_row(a, field, tags) || eval_row(b, field, tags),
        Cond::Cmp {
            name, op, value, ..
        } => match field(name) {
            Some(v) => v.is_some_and(|v| compare(&v, *op, value)),
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

pub(crate) fn leaf_names<'a>(c: &'a Cond, out: &mut Vec<&'a str>) {
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

pub(crate) fn compare(v: &Value, op: CmpOp, rhs: &Operand) -> bool {
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

/// The sorted distinct values of tag `key` among the series of `m` that match `expr`, in the
/// shards overlapping `[min, max]`.
fn tag_values_where(
    engine: &Engine,
    db: &str,
    m: &[u8],
    key: &[u8],
    expr: &Expr,
    min: i64,
    max: i64,
) -> Result<Vec<Vec<u8>>, QueryError> {
    let mut values = std::collections::BTreeSet::new();
    for series in engine.series_keys_between(db, m, expr, min, max)? {
        let Some((_, tags)) = tsmdb_engine::parse_series_key(&series) else {
            continue;
        };
        if let Some((_, v)) = tags.into_iter().find(|(k, _)| k.as_ref() == key) {
            values.insert(v.into_owned());
        }
    }
    Ok(values.into_iter().collect())
}
