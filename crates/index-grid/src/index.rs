//! The index: measurements, the index-wide id allocator, and the locking around them (§5.9).
//!
//! Lock order: registry → one measurement → change log → allocator → grid table. Readers take
//! read locks only, so queries never block each other.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::ids::{Inserted, SeriesId, SeriesIdSet};
use crate::measurement::{Located, Measurement, value_fps};
use crate::persist::log::LogWriter;
use crate::policy::Policy;
use crate::query;
use crate::tagset::{canonical, sorted, validate};

/// A measurement behind its own lock.
#[derive(Debug)]
pub(crate) struct MeasurementCell {
    pub name: Box<[u8]>,
    pub m: RwLock<Measurement>,
}

/// The index-wide counters (spec §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Allocator {
    pub next_id: u64,
    pub next_grid: u32,
    pub next_measurement: u32,
}

impl Default for Allocator {
    fn default() -> Self {
        Allocator {
            next_id: 1,
            next_grid: 1,
            next_measurement: 1,
        }
    }
}

/// One reserved id range and the measurement owning it.
#[derive(Debug, Clone)]
pub(crate) struct GridRange {
    pub base: u64,
    pub end: u64,
    pub cell: Arc<MeasurementCell>,
}

/// Tags as owned `(key, value)` pairs sorted by key.
pub type OwnedTags = Vec<(Vec<u8>, Vec<u8>)>;

/// A series as stored: measurement name and tags sorted by key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesKey {
    /// Measurement name.
    pub measurement: Vec<u8>,
    /// Tags sorted by key, no empty values.
    pub tags: Vec<(Vec<u8>, Vec<u8>)>,
}

/// The grid index of one shard. Cheap to share: every method takes `&self`.
#[derive(Debug)]
pub struct Index {
    pub(crate) policy: Policy,
    pub(crate) registry: RwLock<BTreeMap<Box<[u8]>, Arc<MeasurementCell>>>,
    pub(crate) alloc: Mutex<Allocator>,
    pub(crate) ranges: RwLock<Vec<GridRange>>,
    /// The change log of a persistent index (`None` in memory).
    pub(crate) log: Option<Mutex<LogWriter>>,
    pub(crate) dir: Option<PathBuf>,
}

impl Default for Index {
    fn default() -> Self {
        Index::new(Policy::default())
    }
}

impl Index {
    /// An empty in-memory index.
    pub fn new(policy: Policy) -> Index {
        Index {
            policy,
            registry: RwLock::new(BTreeMap::new()),
            alloc: Mutex::new(Allocator::default()),
            ranges: RwLock::new(Vec::new()),
            log: None,
            dir: None,
        }
    }

    /// The capacity policy.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    fn cell(&self, measurement: &[u8]) -> Option<Arc<MeasurementCell>> {
        self.registry.read().get(measurement).cloned()
    }

    pub(crate) fn cell_or_create(&self, measurement: &[u8]) -> Result<Arc<MeasurementCell>> {
        if let Some(c) = self.cell(measurement) {
            return Ok(c);
        }
        let mut reg = self.registry.write();
        if let Some(c) = reg.get(measurement) {
            return Ok(c.clone());
        }
        let mut log = self.log.as_ref().map(|l| l.lock());
        let id = {
            let mut a = self.alloc.lock();
            let id = a.next_measurement;
            a.next_measurement = id
                .checked_add(1)
                .ok_or_else(|| Error::CapacityOverflow("measurement ids exhausted".into()))?;
            id
        };
        if let Some(log) = log.as_mut() {
            log.create_measurement(measurement)?;
        }
        let cell = Arc::new(MeasurementCell {
            name: measurement.into(),
            m: RwLock::new(Measurement::new(id, measurement)),
        });
        reg.insert(measurement.into(), cell.clone());
        Ok(cell)
    }

    /// Reserves `points` ids for a new grid of `cell`.
    fn reserve(&self, points: u64, cell: &Arc<MeasurementCell>) -> Result<(u64, u32)> {
        let mut a = self.alloc.lock();
        let base = a.next_id;
        let end = base.checked_add(points).ok_or(Error::IdSpaceExhausted)?;
        let id = a.next_grid;
        let next_grid = id
            .checked_add(1)
            .ok_or_else(|| Error::CapacityOverflow("grid ids exhausted".into()))?;
        a.next_id = end;
        a.next_grid = next_grid;
        self.ranges.write().push(GridRange {
            base,
            end,
            cell: cell.clone(),
        });
        Ok((base, id))
    }

    /// The id of a series, assigning one if it is new. Tag order is irrelevant; tags with empty
    /// values are dropped.
    pub fn insert(
        &self,
        measurement: &[u8],
        tags: &[(&[u8], &[u8])],
    ) -> Result<(SeriesId, Inserted)> {
        // Names and length are validated only for a series not found: a stored series passed
        // that check when it was created (most inserts are writes of existing series).
        let tags = sorted(tags)?;
        let fps = value_fps(&tags);
        let cell = match self.cell(measurement) {
            Some(cell) => cell,
            None => {
                validate(measurement, &tags)?;
                self.cell_or_create(measurement)?
            }
        };
        // An upgradable read excludes other writers but not queries; upgrading it needs no
        // re-check, so the grids are probed once per insert.
        let m = cell.m.upgradable_read();
        let first_fit = match m.locate(&tags, &fps) {
            Located::Found(gi, local) => {
                return Ok((
                    SeriesId(m.grids[gi].base + u64::from(local)),
                    Inserted::Existed,
                ));
            }
            Located::Absent(f) => f,
        };
        validate(measurement, &tags)?;
        let mut m = parking_lot::RwLockUpgradableReadGuard::upgrade(m);
        let log = self.log.as_ref().map(|l| l.lock());
        let (gi, local) = m.insert_absent(&tags, &fps, first_fit, &self.policy, &mut |points| {
            self.reserve(points, &cell)
        })?;
        let id = SeriesId(m.grids[gi].base + u64::from(local));
        if let Some(mut log) = log {
            log.insert(measurement, &tags, id)?;
            let check = log.records % 4096 == 0;
            drop(log);
            drop(m);
            if check {
                self.maybe_checkpoint()?;
            }
        }
        Ok((id, Inserted::Inserted))
    }

    /// The id of a live series, if any.
    pub fn lookup(&self, measurement: &[u8], tags: &[(&[u8], &[u8])]) -> Result<Option<SeriesId>> {
        let tags = canonical(measurement, tags)?;
        let Some(cell) = self.cell(measurement) else {
            return Ok(None);
        };
        let fps = value_fps(&tags);
        let m = cell.m.read();
        Ok(match m.locate(&tags, &fps) {
            Located::Found(gi, local) => Some(SeriesId(m.grids[gi].base + u64::from(local))),
            Located::Absent(_) => None,
        })
    }

    fn cell_of_id(&self, id: SeriesId) -> Option<Arc<MeasurementCell>> {
        let ranges = self.ranges.read();
        let i = ranges.partition_point(|r| r.base <= id.0).checked_sub(1)?;
        let r = &ranges[i];
        (id.0 < r.end).then(|| r.cell.clone())
    }

    /// Measurement and tags of a live series, by arithmetic on its id.
    pub fn tags_of(&self, id: SeriesId) -> Option<SeriesKey> {
        let cell = self.cell_of_id(id)?;
        let m = cell.m.read();
        let (gi, local) = m.grid_of(id.0)?;
        if !m.grids[gi].live.contains(local) {
            return None;
        }
        Some(SeriesKey {
            measurement: cell.name.to_vec(),
            tags: m.tags_of(gi, local),
        })
    }

    /// Ids of the live series of `measurement` satisfying `expr` (empty for an unknown
    /// measurement).
    pub fn query(&self, measurement: &[u8], expr: &Expr) -> SeriesIdSet {
        match self.cell(measurement) {
            Some(cell) => query::evaluate(&cell.m.read(), expr),
            None => SeriesIdSet::default(),
        }
    }

    /// Every live series of a measurement.
    pub fn series_ids(&self, measurement: &[u8]) -> SeriesIdSet {
        self.query(measurement, &Expr::all())
    }

    /// Series of a measurement having `key`.
    pub fn series_ids_for_key(&self, measurement: &[u8], key: &[u8]) -> SeriesIdSet {
        self.query(measurement, &Expr::exists(key))
    }

    /// Series of a measurement with `key = value`.
    pub fn series_ids_for_tag(&self, measurement: &[u8], key: &[u8], value: &[u8]) -> SeriesIdSet {
        self.query(measurement, &Expr::eq(key, value))
    }

    /// Deletes a series. False if it was not live. Its id is never handed out again.
    pub fn delete(&self, id: SeriesId) -> Result<bool> {
        let Some(cell) = self.cell_of_id(id) else {
            return Ok(false);
        };
        let mut m = cell.m.write();
        let Some((gi, local)) = m.grid_of(id.0) else {
            return Ok(false);
        };
        let mut log = self.log.as_ref().map(|l| l.lock());
        let done = m.delete(gi, local);
        if done && let Some(log) = log.as_mut() {
            log.delete(id)?;
        }
        Ok(done)
    }

    /// Deletes every live series of `measurement` satisfying `expr`; returns how many.
    pub fn delete_where(&self, measurement: &[u8], expr: &Expr) -> Result<u64> {
        let Some(cell) = self.cell(measurement) else {
            return Ok(0);
        };
        let mut m = cell.m.write();
        let ids = query::evaluate(&m, expr);
        let mut log = self.log.as_ref().map(|l| l.lock());
        let mut n = 0;
        for id in ids.iter() {
            if let Some((gi, local)) = m.grid_of(id.0)
                && m.delete(gi, local)
            {
                n += 1;
                if let Some(log) = log.as_mut() {
                    log.delete(id)?;
                }
            }
        }
        Ok(n)
    }

    /// Deletes every series of a measurement; it is no longer listed.
    pub fn drop_measurement(&self, measurement: &[u8]) -> Result<u64> {
        self.delete_where(measurement, &Expr::all())
    }

    /// Measurements with at least one live series, sorted by bytes.
    pub fn measurements(&self) -> Vec<Vec<u8>> {
        let reg = self.registry.read();
        reg.iter()
            .filter(|(_, c)| c.m.read().live > 0)
            .map(|(n, _)| n.to_vec())
            .collect()
    }

    /// Tag keys of a measurement with at least one live series, sorted.
    pub fn tag_keys(&self, measurement: &[u8]) -> Vec<Vec<u8>> {
        self.cell(measurement)
            .map(|c| c.m.read().tag_keys())
            .unwrap_or_default()
    }

    /// Values of a tag key with at least one live series, sorted.
    pub fn tag_values(&self, measurement: &[u8], key: &[u8]) -> Vec<Vec<u8>> {
        self.cell(measurement)
            .map(|c| c.m.read().tag_values(key))
            .unwrap_or_default()
    }

    /// Live series of a measurement with their ids, sorted by tag set.
    pub fn series(&self, measurement: &[u8]) -> Vec<(SeriesId, OwnedTags)> {
        let Some(cell) = self.cell(measurement) else {
            return Vec::new();
        };
        let m = cell.m.read();
        let mut out: Vec<_> = m
            .grids
            .iter()
            .enumerate()
            .flat_map(|(gi, g)| {
                let m = &m;
                g.live
                    .iter()
                    .map(move |l| (SeriesId(g.base + u64::from(l)), m.tags_of(gi, l)))
            })
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    /// Number of live series in the whole index.
    pub fn len(&self) -> u64 {
        self.registry.read().values().map(|c| c.m.read().live).sum()
    }

    /// True when no series is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Builds an index from series keys the deterministic way (spec §5.11): deduplicated, in
    /// ascending order of canonical series key.
    pub fn rebuild<'a, I>(policy: Policy, series: I) -> Result<Index>
    where
        I: IntoIterator<Item = (&'a [u8], Vec<(&'a [u8], &'a [u8])>)>,
    {
        // each series key is rendered once, then sorted (not rendered per comparison)
        let mut all = Vec::new();
        for (m, tags) in series {
            let tags = canonical(m, &tags)?;
            all.push((series_key_bytes(m, &tags), m, tags));
        }
        // ties (escaping is not injective for every byte string) break on the tags themselves,
        // so the order stays total and deterministic
        all.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.2.cmp(&b.2)));
        all.dedup_by(|a, b| a.1 == b.1 && a.2 == b.2);
        let index = Index::new(policy);
        for (_, m, tags) in &all {
            index.insert(m, tags)?;
        }
        Ok(index)
    }
}

/// The canonical series key `m,k1=v1,k2=v2` (escaped as in a TSM key): its byte order is the
/// rebuild order.
fn series_key_bytes(m: &[u8], t: &[(&[u8], &[u8])]) -> Vec<u8> {
    fn esc(out: &mut Vec<u8>, s: &[u8], special: &[u8]) {
        for &c in s {
            if special.contains(&c) {
                out.push(b'\\');
            }
            out.push(c);
        }
    }
    let mut out =
        Vec::with_capacity(m.len() + t.iter().map(|(k, v)| k.len() + v.len() + 2).sum::<usize>());
    esc(&mut out, m, b", ");
    for (k, v) in t {
        out.push(b',');
        esc(&mut out, k, b", =");
        out.push(b'=');
        esc(&mut out, v, b", =");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_validate_names_of_new_series_and_dropped_keys() {
        let ix = Index::default();
        let (id, _) = ix.insert(b"m", &[(b"a", b"1")]).unwrap();
        // found: the stored series was validated when it was created
        assert_eq!(
            ix.insert(b"m", &[(b"a", b"1")]).unwrap(),
            (id, Inserted::Existed)
        );
        // a new series with a bad name is refused, whether its measurement exists or not
        for (m, t) in [
            (&b"m"[..], (&b"a"[..], &b"1#!~#"[..])),
            (b"m", (b"a#!~#", b"1")),
            (b"n#!~#", (b"a", b"1")),
        ] {
            assert!(matches!(ix.insert(m, &[t]), Err(Error::InvalidKey(_))));
        }
        // the key of a dropped (empty-valued) tag is still checked
        assert!(matches!(
            ix.insert(b"m", &[(b"a", b"1"), (b"b#!~#", b"")]),
            Err(Error::InvalidKey(_))
        ));
        // a too-long key is refused before anything is created
        let long = vec![b'v'; 70_000];
        assert!(matches!(
            ix.insert(b"m", &[(b"a", &long)]),
            Err(Error::InvalidKey(_))
        ));
        assert!(ix.measurements() == vec![b"m".to_vec()] && ix.len() == 1);
    }
}
