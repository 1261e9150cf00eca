//! Our side of every comparison: thin adapters from the suite's model to our crates' APIs.
//!
//! A kind whose crate has no usable API yet answers [`NotWired`], and the suite reports it as
//! "not yet wired" instead of pretending to have compared anything.

use std::path::Path;

use tsmdb_encoding::{Column, FieldType};

use crate::model::{Kind, ParseOutcome, ParsedField, ParsedPoint, Series, Value, WalEntry};

/// The crate behind a kind has no API the suite can call yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotWired(pub &'static str);

/// Which codec a section uses: timestamps or one of the value kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Codec {
    /// Timestamps (values are `Value::Integer`).
    Time,
    /// A value kind.
    Values(Kind),
}

impl Codec {
    /// The reference program's type name.
    pub fn wire_name(self) -> &'static str {
        match self {
            Codec::Time => "time",
            Codec::Values(k) => k.name(),
        }
    }

    /// The kind its values are carried as.
    pub fn value_kind(self) -> Kind {
        match self {
            Codec::Time => Kind::Integer,
            Codec::Values(k) => k,
        }
    }
}

/// Parses a batch with `tsmdb-lineproto` (unsigned enabled, as the reference is).
pub fn parse(data: &[u8], precision: &str, now: i64) -> Result<ParseOutcome, NotWired> {
    use tsmdb_lineproto::{FieldValue, ParseOptions, Precision, parse_batch};
    let precision: Precision = precision.parse().unwrap_or_default();
    let opts = ParseOptions {
        precision,
        default_time: now,
        ..ParseOptions::default()
    };
    let batch = parse_batch(data, &opts);
    let points = batch
        .points
        .iter()
        .map(|p| ParsedPoint {
            key: p.series_key.to_vec(),
            name: p.measurement().into_owned(),
            tags: p
                .tags
                .iter()
                .map(|t| (t.key().into_owned(), t.value().into_owned()))
                .collect(),
            fields: p
                .fields
                .iter()
                .map(|f| ParsedField {
                    key: f.key().into_owned(),
                    value: Ok(match f.value {
                        FieldValue::Float(v) => Value::Float(v.to_bits()),
                        FieldValue::Integer(v) => Value::Integer(v),
                        FieldValue::Unsigned(v) => Value::Unsigned(v),
                        FieldValue::Boolean(v) => Value::Boolean(v),
                        FieldValue::String(s) => Value::String(s.unescape().into_owned()),
                    }),
                })
                .collect(),
            time: p.time,
        })
        .collect();
    let error = (!batch.errors.is_empty()).then(|| {
        let mut joined = Vec::new();
        for (i, e) in batch.errors.iter().enumerate() {
            if i > 0 {
                joined.push(b'\n');
            }
            joined.extend(e.message_bytes());
        }
        joined
    });
    Ok(ParseOutcome { points, error })
}

fn field_type(kind: Kind) -> FieldType {
    match kind {
        Kind::Float => FieldType::Float,
        Kind::Integer => FieldType::Integer,
        Kind::Unsigned => FieldType::Unsigned,
        Kind::Boolean => FieldType::Boolean,
        Kind::String => FieldType::String,
    }
}

fn kind_of(t: FieldType) -> Kind {
    match t {
        FieldType::Float => Kind::Float,
        FieldType::Integer => Kind::Integer,
        FieldType::Unsigned => Kind::Unsigned,
        FieldType::Boolean => Kind::Boolean,
        FieldType::String => Kind::String,
    }
}

/// Values of one kind as a column; a value of another kind is an error.
fn column(kind: Kind, values: &[Value]) -> Result<Column, String> {
    let mut col = Column::empty(field_type(kind));
    for v in values {
        match (&mut col, v) {
            (Column::Float(c), Value::Float(b)) => c.push(f64::from_bits(*b)),
            (Column::Integer(c), Value::Integer(i)) => c.push(*i),
            (Column::Unsigned(c), Value::Unsigned(u)) => c.push(*u),
            (Column::Boolean(c), Value::Boolean(b)) => c.push(*b),
            (Column::String(c), Value::String(s)) => c.push(s),
            _ => return Err(format!("value {v:?} is not {}", kind.name())),
        }
    }
    Ok(col)
}

/// A column back to values.
fn from_column(col: &Column) -> Vec<Value> {
    match col {
        Column::Float(c) => c.iter().map(|f| Value::Float(f.to_bits())).collect(),
        Column::Integer(c) => c.iter().map(|i| Value::Integer(*i)).collect(),
        Column::Unsigned(c) => c.iter().map(|u| Value::Unsigned(*u)).collect(),
        Column::Boolean(c) => c.iter().map(|b| Value::Boolean(*b)).collect(),
        Column::String(c) => c.iter().map(|s| Value::String(s.to_vec())).collect(),
    }
}

/// Encodes one section with `tsmdb-encoding`.
pub fn encode_section(codec: Codec, values: &[Value]) -> Result<Result<Vec<u8>, String>, NotWired> {
    let mut out = Vec::new();
    let col = match column(codec.value_kind(), values) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let result = match (codec, &col) {
        (Codec::Time, Column::Integer(t)) => tsmdb_encoding::encode_timestamps(t, &mut out),
        (_, Column::Float(v)) => tsmdb_encoding::encode_floats(v, &mut out),
        (_, Column::Integer(v)) => tsmdb_encoding::encode_integers(v, &mut out),
        (_, Column::Unsigned(v)) => tsmdb_encoding::encode_unsigned(v, &mut out),
        (_, Column::Boolean(v)) => tsmdb_encoding::encode_booleans(v, &mut out),
        (_, Column::String(v)) => tsmdb_encoding::encode_strings(v.as_slice(), &mut out),
    };
    Ok(result.map(|()| out).map_err(|e| e.to_string()))
}

/// Decodes one section with `tsmdb-encoding`.
pub fn decode_section(codec: Codec, data: &[u8]) -> Result<Result<Vec<Value>, String>, NotWired> {
    let kind = codec.value_kind();
    let mut col = Column::empty(field_type(kind));
    let result = match (codec, &mut col) {
        (Codec::Time, Column::Integer(t)) => tsmdb_encoding::decode_timestamps(data, t),
        (_, Column::Float(v)) => tsmdb_encoding::decode_floats(data, v),
        (_, Column::Integer(v)) => tsmdb_encoding::decode_integers(data, v),
        (_, Column::Unsigned(v)) => tsmdb_encoding::decode_unsigned(data, v),
        (_, Column::Boolean(v)) => tsmdb_encoding::decode_booleans(data, v),
        (_, Column::String(v)) => tsmdb_encoding::decode_strings(data, v),
    };
    Ok(result
        .map(|()| from_column(&col))
        .map_err(|e| e.to_string()))
}

/// Encodes a whole block (without CRC) with `tsmdb-encoding`.
pub fn encode_block(
    kind: Kind,
    times: &[i64],
    values: &[Value],
) -> Result<Result<Vec<u8>, String>, NotWired> {
    let col = match column(kind, values) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let mut out = Vec::new();
    Ok(tsmdb_encoding::encode_block(times, col.as_ref(), &mut out)
        .map(|()| out)
        .map_err(|e| e.to_string()))
}

/// A decoded block: its kind, timestamps and values.
pub type DecodedBlock = (Kind, Vec<i64>, Vec<Value>);

/// Decodes a whole block with `tsmdb-encoding`.
pub fn decode_block(data: &[u8]) -> Result<Result<DecodedBlock, String>, NotWired> {
    let mut times = Vec::new();
    let mut col = Column::empty(FieldType::Float);
    Ok(tsmdb_encoding::decode_block(data, &mut times, &mut col)
        .map(|t| (kind_of(t), times, from_column(&col)))
        .map_err(|e| e.to_string()))
}

/// The TSM file name both sides use.
const TSM_NAME: &str = "000000001-000000001.tsm";

/// Runs `f` in a fresh temporary directory.
fn in_temp_dir<T>(f: impl FnOnce(&Path) -> Result<T, String>) -> Result<T, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    f(dir.path())
}

/// Puts a TSM file and its tombstone file (if any) into `dir`; returns the TSM path.
fn put_tsm(dir: &Path, file: &[u8], tombstone: &[u8]) -> Result<std::path::PathBuf, String> {
    let path = dir.join(TSM_NAME);
    std::fs::write(&path, file).map_err(|e| e.to_string())?;
    if !tombstone.is_empty() {
        std::fs::write(tsmdb_tsm_file::tombstone_path(&path), tombstone)
            .map_err(|e| e.to_string())?;
    }
    Ok(path)
}

/// Writes a TSM file (1000 values per block) with `tsmdb-tsm-file` and returns its bytes.
pub fn tsm_write(series: &[Series]) -> Result<Result<Vec<u8>, String>, NotWired> {
    use tsmdb_tsm_file::{TsmWriter, ValuesWrite};
    Ok(in_temp_dir(|dir| {
        let path = dir.join(TSM_NAME);
        let mut w = TsmWriter::create(&path).map_err(|e| e.to_string())?;
        for s in series {
            let col = column(s.kind, &s.values)?;
            match w
                .write_values(&s.key, &s.times, col.as_ref())
                .map_err(|e| e.to_string())?
            {
                ValuesWrite::All => {}
                partial => return Err(format!("writer stopped early: {partial:?}")),
            }
        }
        w.finish().map_err(|e| e.to_string())?;
        std::fs::read(&path).map_err(|e| e.to_string())
    }))
}

/// Reads every key of a TSM file (with its tombstone file, if any) with `tsmdb-tsm-file`.
pub fn tsm_read(file: &[u8], tombstone: &[u8]) -> Result<Result<Vec<Series>, String>, NotWired> {
    use tsmdb_tsm_file::{TimeRange, TsmReader, Values};
    Ok(in_temp_dir(|dir| {
        let path = put_tsm(dir, file, tombstone)?;
        let r = TsmReader::open(&path).map_err(|e| e.to_string())?;
        let keys: Vec<(Vec<u8>, FieldType)> =
            r.keys().map(|k| (k.key.to_vec(), k.field_type)).collect();
        let mut out = Vec::with_capacity(keys.len());
        let mut vals = Values::new();
        for (key, t) in keys {
            if !r
                .read_values(&key, TimeRange::ALL, &mut vals)
                .map_err(|e| e.to_string())?
            {
                continue;
            }
            out.push(Series {
                key,
                kind: kind_of(t),
                times: vals.timestamps.clone(),
                values: from_column(&vals.values),
                tombstones: Vec::new(),
            });
        }
        Ok(out)
    }))
}

/// Records a delete of `keys` over `[min, max]` in the tombstone file of a TSM file with
/// `tsmdb-tsm-file`; returns the new tombstone file.
pub fn tsm_delete(
    file: &[u8],
    tombstone: &[u8],
    keys: &[Vec<u8>],
    min: i64,
    max: i64,
) -> Result<Result<Vec<u8>, String>, NotWired> {
    use tsmdb_tsm_file::{TimeRange, TsmReader};
    Ok(in_temp_dir(|dir| {
        let path = put_tsm(dir, file, tombstone)?;
        let r = TsmReader::open(&path).map_err(|e| e.to_string())?;
        let keys: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        r.delete_range(&keys, TimeRange { min, max })
            .map_err(|e| e.to_string())?;
        match std::fs::read(tsmdb_tsm_file::tombstone_path(&path)) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e.to_string()),
        }
    }))
}

/// Writes a WAL segment with `tsmdb-wal` and returns its bytes.
pub fn wal_write(entries: &[WalEntry]) -> Result<Result<Vec<u8>, String>, NotWired> {
    use tsmdb_wal::{
        EntryKind, Record, encode_delete_payload, encode_delete_range_payload, encode_frame,
        encode_write_payload,
    };
    let mut out = Vec::new();
    let mut encoder = snap::raw::Encoder::new();
    for e in entries {
        let mut payload = Vec::new();
        let (kind, result) = match e {
            WalEntry::Write(series) => {
                let cols = match series
                    .iter()
                    .map(|s| column(s.kind, &s.values))
                    .collect::<Result<Vec<_>, _>>()
                {
                    Ok(c) => c,
                    Err(e) => return Ok(Err(e)),
                };
                let records: Vec<Record<'_>> = series
                    .iter()
                    .zip(&cols)
                    .map(|(s, c)| Record {
                        key: &s.key,
                        timestamps: &s.times,
                        values: c.as_ref(),
                    })
                    .collect();
                (
                    EntryKind::Write,
                    encode_write_payload(&records, &mut payload),
                )
            }
            WalEntry::Delete(keys) => {
                let keys: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
                (
                    EntryKind::Delete,
                    encode_delete_payload(&keys, &mut payload),
                )
            }
            WalEntry::DeleteRange { keys, min, max } => {
                let keys: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
                (
                    EntryKind::DeleteRange,
                    encode_delete_range_payload(&keys, *min, *max, &mut payload),
                )
            }
        };
        if let Err(e) = result.and_then(|()| encode_frame(kind, &payload, &mut encoder, &mut out)) {
            return Ok(Err(e.to_string()));
        }
    }
    Ok(Ok(out))
}

/// Replays a WAL segment with `tsmdb-wal`: the entries read and the damage that stopped it.
pub fn wal_read(segment: &[u8]) -> Result<(Vec<WalEntry>, Option<String>), NotWired> {
    use tsmdb_wal::{ColumnRef, EntryKind, RecoveryPolicy, read_segment};
    let result = in_temp_dir(|dir| {
        let path = dir.join("_00001.wal");
        std::fs::write(&path, segment).map_err(|e| e.to_string())?;
        let mut entries = Vec::new();
        let scan = read_segment(&path, true, RecoveryPolicy::Strict, |_, e| {
            entries.push(match e.kind() {
                EntryKind::Write => WalEntry::Write(
                    e.records()
                        .map(|r| {
                            let (kind, values) = match r.values {
                                ColumnRef::Float(v) => (
                                    Kind::Float,
                                    v.iter().map(|f| Value::Float(f.to_bits())).collect(),
                                ),
                                ColumnRef::Integer(v) => (
                                    Kind::Integer,
                                    v.iter().map(|i| Value::Integer(*i)).collect(),
                                ),
                                ColumnRef::Unsigned(v) => (
                                    Kind::Unsigned,
                                    v.iter().map(|u| Value::Unsigned(*u)).collect(),
                                ),
                                ColumnRef::Boolean(v) => (
                                    Kind::Boolean,
                                    v.iter().map(|b| Value::Boolean(*b)).collect(),
                                ),
                                ColumnRef::String(v) => (
                                    Kind::String,
                                    v.iter().map(|s| Value::String(s.to_vec())).collect(),
                                ),
                            };
                            Series {
                                key: r.key.to_vec(),
                                kind,
                                times: r.timestamps.to_vec(),
                                values,
                                tombstones: Vec::new(),
                            }
                        })
                        .collect(),
                ),
                EntryKind::Delete => WalEntry::Delete(e.keys().map(<[u8]>::to_vec).collect()),
                EntryKind::DeleteRange => {
                    let (min, max) = e.time_range().unwrap_or((0, 0));
                    WalEntry::DeleteRange {
                        keys: e.keys().map(<[u8]>::to_vec).collect(),
                        min,
                        max,
                    }
                }
            });
        })
        .map_err(|e| e.to_string())?;
        let damage = scan.damage.first().map(|d| d.to_string());
        Ok((entries, damage))
    });
    Ok(result.unwrap_or_else(|e| (Vec::new(), Some(e))))
}
