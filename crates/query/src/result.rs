//! Query results, shaped like InfluxDB's `/query` response.

use crate::timefmt::format_rfc3339;

/// One cell of a result row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value (a filled window, a missing field).
    Null,
    /// A time in nanoseconds.
    Time(i64),
    /// A float.
    Float(f64),
    /// A signed integer.
    Integer(i64),
    /// An unsigned integer.
    Unsigned(u64),
    /// A boolean.
    Boolean(bool),
    /// A string.
    String(String),
}

/// One result series: a name, its group's tags, columns and rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// Measurement (or `databases`, `measurements`, ... for SHOW).
    pub name: String,
    /// Tags of the group (empty without GROUP BY).
    pub tags: Vec<(String, String)>,
    /// Column names; the first is `time` for SELECT.
    pub columns: Vec<String>,
    /// Rows.
    pub values: Vec<Vec<Value>>,
}

/// The result of one statement.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatementResult {
    /// 0-based index of the statement.
    pub statement_id: usize,
    /// Result series.
    pub series: Vec<Series>,
    /// The error, when the statement failed.
    pub error: Option<String>,
}

/// How times are printed in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Epoch {
    /// RFC 3339 strings (InfluxDB's default).
    #[default]
    Rfc3339,
    /// Integer nanoseconds (`epoch=ns`).
    Nanoseconds,
}

impl Value {
    /// The value as JSON.
    pub fn to_json(&self, epoch: Epoch) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Time(t) => match epoch {
                Epoch::Rfc3339 => J::String(format_rfc3339(*t)),
                Epoch::Nanoseconds => J::from(*t),
            },
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Integer(i) => J::from(*i),
            Value::Unsigned(u) => J::from(*u),
            Value::Boolean(b) => J::Bool(*b),
            Value::String(s) => J::String(s.clone()),
        }
    }

    /// The value as text (tables and CSV): times in RFC 3339, floats in shortest round-trip form.
    pub fn to_text(&self, epoch: Epoch) -> String {
        match self {
            Value::Null => String::new(),
            Value::Time(t) => match epoch {
                Epoch::Rfc3339 => format_rfc3339(*t),
                Epoch::Nanoseconds => t.to_string(),
            },
            Value::Float(f) => f.to_string(),
            Value::Integer(i) => i.to_string(),
            Value::Unsigned(u) => u.to_string(),
            Value::Boolean(b) => b.to_string(),
            Value::String(s) => s.clone(),
        }
    }
}

/// The whole response as InfluxDB's JSON, keys in InfluxDB's order:
/// `{"results":[{"statement_id":0,"series":[{"name":..,"tags":{..},"columns":[..],"values":[[..]]}]}]}`.
pub fn to_json(results: &[StatementResult], epoch: Epoch) -> String {
    let quote = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    let mut out = String::from("{\"results\":[");
    for (i, r) in results.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("{{\"statement_id\":{}", r.statement_id));
        if let Some(e) = &r.error {
            out.push_str(&format!(",\"error\":{}", quote(e)));
        } else if !r.series.is_empty() {
            out.push_str(",\"series\":[");
            for (j, s) in r.series.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                // InfluxDB omits an empty name (SHOW SERIES).
                out.push('{');
                if !s.name.is_empty() {
                    out.push_str(&format!("\"name\":{},", quote(&s.name)));
                }
                if !s.tags.is_empty() {
                    let tags: Vec<String> = s
                        .tags
                        .iter()
                        .map(|(k, v)| format!("{}:{}", quote(k), quote(v)))
                        .collect();
                    out.push_str(&format!("\"tags\":{{{}}},", tags.join(",")));
                }
                let cols: Vec<String> = s.columns.iter().map(|c| quote(c)).collect();
                out.push_str(&format!("\"columns\":[{}]", cols.join(",")));
                let rows: Vec<String> = s
                    .values
                    .iter()
                    .map(|row| {
                        format!(
                            "[{}]",
                            row.iter()
                                .map(|v| v.to_json(epoch).to_string())
                                .collect::<Vec<_>>()
                                .join(",")
                        )
                    })
                    .collect();
                out.push_str(&format!(",\"values\":[{}]}}", rows.join(",")));
            }
            out.push(']');
        }
        out.push('}');
    }
    out.push_str("]}");
    out
}
