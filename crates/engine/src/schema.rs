//! Field types per measurement of one database: the single source of truth for type checks.
//!
//! A batch's new fields are recorded here *before* the batch is logged, so two concurrent
//! batches can never give one field two types, and the cache (which checks types per key) can
//! no longer refuse a batch that passed here. The schema is rebuilt at open from the TSM files'
//! keys and the replayed caches; it needs no file of its own.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;
use tsmdb_encoding::FieldType;

/// Field name to type, for one measurement.
type FieldTypes = HashMap<Vec<u8>, FieldType>;

/// The field types of every measurement of a database.
#[derive(Debug, Default)]
pub(crate) struct Schema {
    fields: RwLock<HashMap<Vec<u8>, FieldTypes>>,
    /// Bumped whenever a recorded type is forgotten, so that writers remembering "this field
    /// was checked" (see `batch.rs`) check again.
    generation: AtomicU64,
}

/// Why a field's value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Conflict {
    pub field: Vec<u8>,
    pub new: FieldType,
    pub existing: FieldType,
}

impl Schema {
    /// Every field of `measurement` with its type, sorted by name.
    pub(crate) fn fields(&self, measurement: &[u8]) -> Vec<(Vec<u8>, FieldType)> {
        let map = self.fields.read();
        let mut out: Vec<_> = map
            .get(measurement)
            .map(|m| m.iter().map(|(k, t)| (k.clone(), *t)).collect())
            .unwrap_or_default();
        out.sort();
        out
    }

    /// Checks the fields of one point without recording anything: `Ok(true)` when every field
    /// is known with the point's type, `Ok(false)` when some field is new, `Err` on a conflict
    /// (with a recorded type, or the same field twice with two types in the point).
    pub(crate) fn check<'a>(
        &self,
        measurement: &[u8],
        fields: impl Iterator<Item = (&'a [u8], FieldType)> + Clone,
    ) -> Result<bool, Conflict> {
        // The same field twice in one point with two types (`m x=1i,x=2`) is a conflict too.
        let all: Vec<(&[u8], FieldType)> = fields.clone().collect();
        for (i, (field, t)) in all.iter().enumerate() {
            if let Some((_, earlier)) = all[..i].iter().find(|(f, e)| f == field && e != t) {
                return Err(Conflict {
                    field: field.to_vec(),
                    new: *t,
                    existing: *earlier,
                });
            }
        }
        let map = self.fields.read();
        let Some(known) = map.get(measurement) else {
            return Ok(false);
        };
        let mut all_known = true;
        for (field, t) in fields {
            match known.get(field) {
                Some(&existing) if existing != t => {
                    return Err(Conflict {
                        field: field.to_vec(),
                        new: t,
                        existing,
                    });
                }
                Some(_) => {}
                None => all_known = false,
            }
        }
        Ok(all_known)
    }

    /// Checks the fields of one point and records the new ones, all or nothing.
    pub(crate) fn check_and_record<'a>(
        &self,
        measurement: &[u8],
        fields: impl Iterator<Item = (&'a [u8], FieldType)> + Clone,
    ) -> Result<(), Conflict> {
        if self.check(measurement, fields.clone())? {
            return Ok(());
        }
        let mut map = self.fields.write();
        let known = map.entry(measurement.to_vec()).or_default();
        for (field, t) in fields.clone() {
            if let Some(&existing) = known.get(field)
                && existing != t
            {
                return Err(Conflict {
                    field: field.to_vec(),
                    new: t,
                    existing,
                });
            }
        }
        for (field, t) in fields {
            known.entry(field.to_vec()).or_insert(t);
        }
        Ok(())
    }

    /// Records a type seen on disk or in the WAL; the first type recorded wins.
    pub(crate) fn learn(
        &self,
        measurement: &[u8],
        field: &[u8],
        t: FieldType,
    ) -> Result<(), Conflict> {
        self.check_and_record(measurement, std::iter::once((field, t)))
    }

    /// Forgets a measurement (after it was dropped).
    pub(crate) fn forget_measurement(&self, measurement: &[u8]) {
        let mut fields = self.fields.write();
        fields.remove(measurement);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Changes whenever a recorded type is forgotten.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_with_a_conflicting_field_records_none_of_its_fields() {
        let s = Schema::default();
        s.check_and_record(b"cpu", [(&b"a"[..], FieldType::Float)].into_iter())
            .unwrap();
        let err = s
            .check_and_record(
                b"cpu",
                [
                    (&b"b"[..], FieldType::Integer),
                    (&b"a"[..], FieldType::Integer),
                ]
                .into_iter(),
            )
            .unwrap_err();
        assert_eq!(err.existing, FieldType::Float);
        assert!(s.fields(b"cpu").iter().all(|(f, _)| f != b"b"));
        s.check_and_record(b"cpu", [(&b"b"[..], FieldType::Boolean)].into_iter())
            .unwrap();
        assert_eq!(s.fields(b"cpu").len(), 2);
    }
}
