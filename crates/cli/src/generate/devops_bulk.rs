//! `--preset devops` into the data directory by bulk load.
//!
//! The devops generator's only output is line protocol (byte-identical to TSBS), one row of
//! every host per epoch. Epochs are parsed back and gathered per (series, field) until a chunk
//! holds about [`CHUNK_VALUES`] values; the chunk is then handed to the bulk load in key order.
//! Memory stays bounded; each chunk after the first starts a new TSM file of the same load
//! (its keys start over), which compactions merge later.

use std::collections::HashMap;

use anyhow::bail;
use tsmdb_encoding::{Column, FieldType};
use tsmdb_engine::BulkLoad;
use tsmdb_lineproto::{FieldValue, ParseOptions, Parser, Precision};

/// Values gathered before a chunk is written (about 16 bytes each in memory).
pub const CHUNK_VALUES: u64 = 4_000_000;

/// The values of one (series, field) in a chunk.
struct KeyValues {
    series: Vec<u8>,
    field: Vec<u8>,
    timestamps: Vec<i64>,
    values: Column,
}

/// Values gathered per key from line protocol, written in key order.
pub struct Chunk {
    parser: Parser,
    /// Series key to its fields' indexes in `keys` (a row's fields come in the same order
    /// every time, so the field at position `i` is found at `i` first: one hash per row).
    slots: HashMap<Vec<u8>, Vec<usize>>,
    keys: Vec<KeyValues>,
    /// Values in the chunk.
    pub values: u64,
    /// Values of every chunk written so far.
    pub written: u64,
}

fn field_type(v: &FieldValue<'_>) -> FieldType {
    match v {
        FieldValue::Float(_) => FieldType::Float,
        FieldValue::Integer(_) => FieldType::Integer,
        FieldValue::Unsigned(_) => FieldType::Unsigned,
        FieldValue::Boolean(_) => FieldType::Boolean,
        FieldValue::String(_) => FieldType::String,
    }
}

/// Appends `v` to `column`; false when their types differ.
fn push(column: &mut Column, v: &FieldValue<'_>) -> bool {
    match (column, v) {
        (Column::Float(c), FieldValue::Float(x)) => c.push(*x),
        (Column::Integer(c), FieldValue::Integer(x)) => c.push(*x),
        (Column::Unsigned(c), FieldValue::Unsigned(x)) => c.push(*x),
        (Column::Boolean(c), FieldValue::Boolean(x)) => c.push(*x),
        (Column::String(c), FieldValue::String(s)) => c.push(&s.unescape()),
        _ => return false,
    }
    true
}

impl Chunk {
    /// An empty chunk.
    pub fn new() -> Chunk {
        Chunk {
            parser: Parser::new(ParseOptions {
                precision: Precision::Nanosecond,
                ..ParseOptions::default()
            }),
            slots: HashMap::new(),
            keys: Vec::new(),
            values: 0,
            written: 0,
        }
    }

    /// Adds every point of `lp`; a line that does not parse, or a field whose type changes, is
    /// an error (the generator never makes one).
    pub fn add_lp(&mut self, lp: &[u8]) -> anyhow::Result<()> {
        let mut failure = None;
        let (slots, keys, values) = (&mut self.slots, &mut self.keys, &mut self.values);
        self.parser.parse(lp, |r| {
            if failure.is_some() {
                return;
            }
            let p = match r {
                Ok(p) => p,
                Err(e) => {
                    failure = Some(format!("generated line does not parse: {e}"));
                    return;
                }
            };
            let series = p.series_key();
            let fields = match slots.get_mut(series) {
                Some(f) => f,
                None => slots.entry(series.to_vec()).or_default(),
            };
            for (i, f) in p.fields().enumerate() {
                let name = f.key();
                let known = fields
                    .get(i)
                    .into_iter()
                    .chain(fields.iter())
                    .copied()
                    .find(|&slot| keys.get(slot).is_some_and(|k| k.field == *name));
                let slot = match known {
                    Some(slot) => slot,
                    None => {
                        keys.push(KeyValues {
                            series: series.to_vec(),
                            field: name.into_owned(),
                            timestamps: Vec::new(),
                            values: Column::empty(field_type(&f.value)),
                        });
                        fields.push(keys.len() - 1);
                        keys.len() - 1
                    }
                };
                let Some(key) = keys.get_mut(slot) else {
                    continue;
                };
                if !push(&mut key.values, &f.value) {
                    failure = Some(format!(
                        "generated field {} changed type",
                        String::from_utf8_lossy(&key.field)
                    ));
                    return;
                }
                key.timestamps.push(p.time());
                *values += 1;
            }
        });
        match failure {
            Some(f) => bail!(f),
            None => Ok(()),
        }
    }

    /// Writes the chunk to `load` in key order and empties it.
    pub fn write_to(&mut self, load: &mut BulkLoad<'_>) -> anyhow::Result<()> {
        let mut keys = std::mem::take(&mut self.keys);
        self.slots.clear();
        keys.sort_unstable_by(|a, b| (&a.series, &a.field).cmp(&(&b.series, &b.field)));
        for k in &keys {
            load.write(&k.series, &k.field, &k.timestamps, k.values.as_ref())?;
        }
        self.written += self.values;
        self.values = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tsmdb_engine::{Engine, Options, Select};

    const EPOCHS: [&str; 3] = [
        "cpu,host=b,dc=x u=1i,s=0.5 10\ncpu,host=a,dc=x u=2i,s=1.5 10\n",
        "cpu,host=b,dc=x u=3i,s=2.5 20\ncpu,host=a,dc=x u=4i,s=3.5 20\n",
        "cpu,host=b,dc=x u=5i,s=4.5 30\ncpu,host=a,dc=x u=6i,s=5.5 30\n",
    ];

    /// Loads the epochs, writing a chunk after the epochs in `cut_after`; returns what a query
    /// reads and how many TSM files the load made.
    fn load(cut_after: &[usize]) -> (Vec<tsmdb_engine::SeriesValues>, u64) {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path(), Options::default().background(false)).unwrap();
        engine.create_database("db", None).unwrap();
        let mut bulk = engine.bulk_load("db").unwrap();
        let mut chunk = Chunk::new();
        for (i, epoch) in EPOCHS.iter().enumerate() {
            chunk.add_lp(epoch.as_bytes()).unwrap();
            if cut_after.contains(&i) {
                chunk.write_to(&mut bulk).unwrap();
            }
        }
        chunk.write_to(&mut bulk).unwrap();
        assert_eq!(chunk.written, 12);
        let summary = bulk.commit().unwrap();
        (
            engine.select("db", &Select::all("cpu")).unwrap(),
            summary.files,
        )
    }

    #[test]
    fn chunks_store_the_same_values_as_one_load() {
        let (whole, files) = load(&[]);
        assert_eq!(files, 1);
        assert_eq!(whole.len(), 4);
        assert_eq!(whole[0].timestamps, [10, 20, 30]);
        let (chunked, files) = load(&[0, 1]);
        assert_eq!(files, 3, "every chunk after the first starts a file");
        assert_eq!(chunked, whole);
    }

    #[test]
    fn a_field_that_changes_type_is_an_error() {
        let mut chunk = Chunk::new();
        chunk.add_lp(b"cpu,host=a u=1i 10\n").unwrap();
        let err = chunk.add_lp(b"cpu,host=a u=1.5 20\n").unwrap_err();
        assert!(err.to_string().contains("changed type"), "{err}");
        assert!(chunk.add_lp(b"cpu,host=a u=\n").is_err());
    }
}
