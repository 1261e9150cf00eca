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
///
/// Written straight into one buffer (no JSON tree per cell): the same text as
/// [`Value::to_json`] printed, since both format numbers and escape strings with serde_json.
pub fn to_json(results: &[StatementResult], epoch: Epoch) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"results\":[");
    for (i, r) in results.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"statement_id\":");
        out.extend_from_slice(r.statement_id.to_string().as_bytes());
        if let Some(e) = &r.error {
            out.extend_from_slice(b",\"error\":");
            json_str(&mut out, e);
        } else if !r.series.is_empty() {
            out.extend_from_slice(b",\"series\":[");
            for (j, s) in r.series.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                out.push(b'{');
                // InfluxDB omits an empty name (SHOW SERIES).
                if !s.name.is_empty() {
                    out.extend_from_slice(b"\"name\":");
                    json_str(&mut out, &s.name);
                    out.push(b',');
                }
                if !s.tags.is_empty() {
                    out.extend_from_slice(b"\"tags\":{");
                    for (n, (k, v)) in s.tags.iter().enumerate() {
                        if n > 0 {
                            out.push(b',');
                        }
                        json_str(&mut out, k);
                        out.push(b':');
                        json_str(&mut out, v);
                    }
                    out.extend_from_slice(b"},");
                }
                out.extend_from_slice(b"\"columns\":[");
                for (n, c) in s.columns.iter().enumerate() {
                    if n > 0 {
                        out.push(b',');
                    }
                    json_str(&mut out, c);
                }
                out.extend_from_slice(b"],\"values\":[");
                for (n, row) in s.values.iter().enumerate() {
                    if n > 0 {
                        out.push(b',');
                    }
                    out.push(b'[');
                    for (m, v) in row.iter().enumerate() {
                        if m > 0 {
                            out.push(b',');
                        }
                        json_value(&mut out, v, epoch);
                    }
                    out.push(b']');
                }
                out.extend_from_slice(b"]}");
            }
            out.push(b']');
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    // Only valid UTF-8 went in (str, ASCII and serde_json's output).
    String::from_utf8(out).unwrap_or_default()
}

/// Appends `v` as serde_json prints it (a float that is not finite is `null`, as
/// [`Value::to_json`] gives it).
fn json_value(out: &mut Vec<u8>, v: &Value, epoch: Epoch) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Time(t) => match epoch {
            Epoch::Rfc3339 => json_str(out, &format_rfc3339(*t)),
            Epoch::Nanoseconds => json_write(out, t),
        },
        Value::Float(f) if f.is_finite() => json_write(out, f),
        Value::Float(_) => out.extend_from_slice(b"null"),
        Value::Integer(i) => json_write(out, i),
        Value::Unsigned(u) => json_write(out, u),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::String(s) => json_str(out, s),
    }
}

fn json_str(out: &mut Vec<u8>, s: &str) {
    json_write(out, s);
}

fn json_write<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    // Writing into a Vec cannot fail, and these types always serialize.
    let _ = serde_json::to_writer(&mut *out, v);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The buffer writer prints exactly what a serde_json tree of the same values prints.
    #[test]
    fn direct_json_equals_the_serde_tree() {
        let values = vec![
            Value::Null,
            Value::Time(1_514_764_800_000_000_000),
            Value::Float(0.1),
            Value::Float(100.0),
            Value::Float(-1e300),
            Value::Float(f64::NAN),
            Value::Integer(i64::MIN),
            Value::Unsigned(u64::MAX),
            Value::Boolean(true),
            Value::String("quote \" back \\ nl \n \u{1} é".into()),
        ];
        let result = StatementResult {
            statement_id: 3,
            series: vec![Series {
                name: "m\"x".into(),
                tags: vec![("k".into(), "v\\".into())],
                columns: vec!["time".into(), "a".into()],
                values: vec![values.clone(), vec![Value::Null]],
            }],
            error: None,
        };
        let failed = StatementResult {
            statement_id: 4,
            series: Vec::new(),
            error: Some("bad \"x\"".into()),
        };
        for epoch in [Epoch::Rfc3339, Epoch::Nanoseconds] {
            let got = to_json(&[result.clone(), failed.clone()], epoch);
            let row = |r: &[Value]| {
                serde_json::Value::Array(r.iter().map(|v| v.to_json(epoch)).collect())
            };
            let want = format!(
                "{{\"results\":[{{\"statement_id\":3,\"series\":[{{\"name\":{},\"tags\":{{\"k\":{}}},\"columns\":[\"time\",\"a\"],\"values\":[{},{}]}}]}},{{\"statement_id\":4,\"error\":{}}}]}}",
                serde_json::Value::from("m\"x"),
                serde_json::Value::from("v\\"),
                row(&values),
                row(&[Value::Null]),
                serde_json::Value::from("bad \"x\""),
            );
            assert_eq!(got, want);
        }
    }
}
