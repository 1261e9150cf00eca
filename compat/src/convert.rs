//! Conversions between the reference program's wire forms and the suite's model.

use crate::model::{
    Kind, ParseOutcome, ParsedField, ParsedPoint, Series, Value, WalEntry, hex, unhex,
};
use crate::reference::{ReferenceError, Response, WireEntry, WirePoint, WireSeries};

fn bad(what: &str) -> ReferenceError {
    ReferenceError::Protocol(format!("malformed {what} in a response"))
}

fn bytes(s: &str) -> Result<Vec<u8>, ReferenceError> {
    unhex(s).ok_or_else(|| bad("hex"))
}

fn kind(name: &str) -> Result<Kind, ReferenceError> {
    Kind::from_name(name).ok_or_else(|| bad("type name"))
}

/// Wire values of one kind to values.
pub fn values(kind: Kind, wire: &[String]) -> Result<Vec<Value>, ReferenceError> {
    wire.iter()
        .map(|s| Value::from_wire(kind, s).ok_or_else(|| bad("value")))
        .collect()
}

/// Values to wire strings.
pub fn wire_values(values: &[Value]) -> Vec<String> {
    values.iter().map(Value::to_wire).collect()
}

/// A series to the wire.
pub fn wire_series(s: &Series) -> WireSeries {
    WireSeries {
        key: hex(&s.key),
        kind: s.kind.name().to_string(),
        times: s.times.clone(),
        values: wire_values(&s.values),
        tombstones: Vec::new(),
    }
}

/// A series from the wire (an empty series read from a file may have no type).
pub fn series(w: &WireSeries, default: Kind) -> Result<Series, ReferenceError> {
    let k = if w.kind.is_empty() {
        default
    } else {
        kind(&w.kind)?
    };
    Ok(Series {
        key: bytes(&w.key)?,
        kind: k,
        times: w.times.clone(),
        values: values(k, &w.values)?,
        tombstones: w.tombstones.clone(),
    })
}

/// A WAL entry to the wire.
pub fn wire_entry(e: &WalEntry) -> WireEntry {
    match e {
        WalEntry::Write(series) => WireEntry {
            kind: "write".into(),
            series: series.iter().map(wire_series).collect(),
            ..WireEntry::default()
        },
        WalEntry::Delete(keys) => WireEntry {
            kind: "delete".into(),
            keys: keys.iter().map(|k| hex(k)).collect(),
            ..WireEntry::default()
        },
        WalEntry::DeleteRange { keys, min, max } => WireEntry {
            kind: "delete_range".into(),
            keys: keys.iter().map(|k| hex(k)).collect(),
            min: *min,
            max: *max,
            ..WireEntry::default()
        },
    }
}

/// A WAL entry from the wire.
pub fn entry(w: &WireEntry) -> Result<WalEntry, ReferenceError> {
    let keys = || {
        w.keys
            .iter()
            .map(|k| bytes(k))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(match w.kind.as_str() {
        "write" => WalEntry::Write(
            w.series
                .iter()
                .map(|s| series(s, Kind::Float))
                .collect::<Result<_, _>>()?,
        ),
        "delete" => WalEntry::Delete(keys()?),
        "delete_range" => WalEntry::DeleteRange {
            keys: keys()?,
            min: w.min,
            max: w.max,
        },
        _ => return Err(bad("entry kind")),
    })
}

fn point(w: &WirePoint) -> Result<ParsedPoint, ReferenceError> {
    let mut fields = Vec::with_capacity(w.fields.len());
    for f in &w.fields {
        let value = if !f.err.is_empty() {
            Err(f.err.clone())
        } else if f.kind == "empty" {
            Err("empty field value".to_string())
        } else {
            let k = kind(&f.kind)?;
            Ok(Value::from_wire(k, &f.value).ok_or_else(|| bad("field value"))?)
        };
        fields.push(ParsedField {
            key: bytes(&f.key)?,
            value,
        });
    }
    Ok(ParsedPoint {
        key: bytes(&w.key)?,
        name: bytes(&w.name)?,
        tags: w
            .tags
            .iter()
            .map(|(k, v)| Ok((bytes(k)?, bytes(v)?)))
            .collect::<Result<_, ReferenceError>>()?,
        fields,
        time: w.time,
    })
}

/// A `parse` response.
pub fn parse_outcome(r: &Response) -> Result<ParseOutcome, ReferenceError> {
    Ok(ParseOutcome {
        points: r.points.iter().map(point).collect::<Result<_, _>>()?,
        error: if r.err.is_empty() {
            None
        } else {
            Some(bytes(&r.err)?)
        },
    })
}
