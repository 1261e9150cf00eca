//! The `index.grid` snapshot: header, checksummed sections, trailer (spec §5.10).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use parking_lot::RwLock;

use super::bytes::{Reader, corrupt, put_bitmap, put_bytes, put_uvarint};
use crate::error::{Error, Result};
use crate::grid::{Grid, NO_VALUE};
use crate::index::{Allocator, GridRange, Index, MeasurementCell};
use crate::measurement::{Located, Measurement, value_fps};
use crate::payload::Payload;
use crate::policy::{AdaptivePolicy, MultiplierPolicy, Policy};
use crate::posting::Posting;
use crate::tagset::fingerprint;

pub(crate) const MAGIC: &[u8; 8] = b"TSMDBGRD";
pub(crate) const END_MAGIC: &[u8; 8] = b"GRDEND01";
/// Version written. Version 2 dropped what version 1 stored redundantly (the postings of sparse
/// values and the next-row table: both follow from the payload and the live and dead sets,
/// and version 1 readers already rebuilt and compared them); version 3 adds shared sparse
/// segments (a kind byte per grid, absent keys in their payload). Versions 1 and 2 are still
/// read.
pub(crate) const VERSION: u16 = 3;
/// The first format: sparse postings and next-row table stored.
const V1: u16 = 1;
/// The format with shared sparse segments.
const V3: u16 = 3;
const HEADER: usize = 16;
const TRAILER: usize = 24;

const SEC_POLICY: u8 = 1;
const SEC_ALLOC: u8 = 2;
const SEC_MEASUREMENT: u8 = 3;
const SEC_GRID: u8 = 4;

/// Serialises the whole index. Takes read locks on every measurement in name order.
pub(crate) fn encode(index: &Index) -> Vec<u8> {
    encode_version(index, VERSION)
}

/// [`encode`] in format `version` (1 or 2).
fn encode_version(index: &Index, version: u16) -> Vec<u8> {
    let reg = index.registry.read();
    let guards: Vec<_> = reg.values().map(|c| c.m.read()).collect();
    let alloc = *index.alloc.lock();
    encode_parts_version(version, &index.policy, &alloc, guards.iter().map(|g| &**g))
}

pub(crate) fn encode_parts<'a>(
    policy: &Policy,
    alloc: &Allocator,
    measurements: impl Iterator<Item = &'a Measurement> + Clone,
) -> Vec<u8> {
    encode_parts_version(VERSION, policy, alloc, measurements)
}

fn encode_parts_version<'a>(
    version: u16,
    policy: &Policy,
    alloc: &Allocator,
    measurements: impl Iterator<Item = &'a Measurement> + Clone,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&u16::from(policy.is_compat()).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    let mut sections = 0u32;
    let mut body = Vec::new();
    encode_policy(&mut body, policy, version);
    section(&mut out, &mut sections, SEC_POLICY, &mut body);
    body.extend_from_slice(&alloc.next_id.to_le_bytes());
    body.extend_from_slice(&alloc.next_grid.to_le_bytes());
    body.extend_from_slice(&alloc.next_measurement.to_le_bytes());
    section(&mut out, &mut sections, SEC_ALLOC, &mut body);
    for m in measurements.clone() {
        body.extend_from_slice(&m.id.to_le_bytes());
        put_bytes(&mut body, &m.name);
        put_uvarint(&mut body, m.grids.len() as u64);
        for g in &m.grids {
            put_uvarint(&mut body, u64::from(g.id));
        }
        section(&mut out, &mut sections, SEC_MEASUREMENT, &mut body);
    }
    let mut grids: Vec<(&Measurement, &Grid)> = measurements
        .flat_map(|m| m.grids.iter().map(move |g| (m, g)))
        .collect();
    grids.sort_by_key(|(_, g)| g.id);
    for (m, g) in grids {
        encode_grid(&mut body, m, g, version);
        section(&mut out, &mut sections, SEC_GRID, &mut body);
    }
    let crc = crc32fast::hash(&out);
    let total = (out.len() + TRAILER) as u64;
    out.extend_from_slice(&sections.to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(END_MAGIC);
    out
}

fn section(out: &mut Vec<u8>, count: &mut u32, kind: u8, body: &mut Vec<u8>) {
    let start = out.len();
    out.push(kind);
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.append(body);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
    *count += 1;
}

fn encode_policy(out: &mut Vec<u8>, policy: &Policy, version: u16) {
    match policy {
        Policy::Multiplier(p) => {
            out.push(1);
            put_uvarint(out, u64::from(p.base));
            put_uvarint(out, u64::from(p.multiplier));
            put_uvarint(out, p.max_points);
        }
        Policy::Adaptive(p) => {
            out.push(2);
            put_uvarint(out, u64::from(p.probe_rows));
            put_uvarint(out, u64::from(p.multiplier));
            put_uvarint(out, p.max_points);
            put_uvarint(out, u64::from(p.max_dim_capacity));
            out.extend_from_slice(&p.min_density.to_bits().to_le_bytes());
            put_uvarint(out, u64::from(p.sparse_cardinality));
            put_uvarint(out, u64::from(p.plan_sample));
            if version >= V3 {
                put_uvarint(out, u64::from(p.shared_rows));
            }
        }
    }
}

fn encode_grid(out: &mut Vec<u8>, m: &Measurement, g: &Grid, version: u16) {
    out.extend_from_slice(&g.id.to_le_bytes());
    out.extend_from_slice(&m.id.to_le_bytes());
    out.extend_from_slice(&g.base.to_le_bytes());
    // older versions have no shared segments: only files without them are rewritten in those
    debug_assert!(version >= V3 || !g.shared);
    if version >= V3 {
        out.push(u8::from(g.shared));
    }
    let keys = &m.shapes[g.shape as usize].keys;
    put_uvarint(out, keys.len() as u64);
    for k in keys {
        put_bytes(out, k);
    }
    put_uvarint(out, g.dense.len() as u64);
    for d in &g.dense {
        put_uvarint(out, u64::from(d.key));
        out.extend_from_slice(&d.cap.to_le_bytes());
        put_uvarint(out, d.dict.len() as u64);
        for v in d.dict.iter() {
            put_bytes(out, v);
        }
    }
    out.extend_from_slice(&g.row_cap.to_le_bytes());
    put_uvarint(out, g.sparse.len() as u64);
    for s in &g.sparse {
        put_uvarint(out, u64::from(s.key));
    }
    for s in &g.sparse {
        put_uvarint(out, s.dict.len() as u64);
        for v in s.dict.iter() {
            put_bytes(out, v);
        }
        if version == V1 {
            for p in &s.postings {
                put_bitmap(out, &p.to_bitmap());
            }
        }
    }
    put_bitmap(out, &g.live);
    put_bitmap(out, &g.dead);
    let ns = g.sparse.len();
    if ns > 0 {
        for local in g.live.iter() {
            for j in 0..ns {
                let vi = g.payload.slot(local, ns, j);
                if g.shared {
                    // 0 = the series lacks the key, else value index + 1
                    put_uvarint(out, if vi == NO_VALUE { 0 } else { u64::from(vi) + 1 });
                } else {
                    put_uvarint(out, u64::from(vi));
                }
            }
        }
    }
    if version == V1 {
        let rows = g.next_rows();
        put_uvarint(out, rows.len() as u64);
        for (cell, row) in rows {
            out.extend_from_slice(&cell.to_le_bytes());
            out.extend_from_slice(&row.to_le_bytes());
        }
    }
}

/// Parses and verifies a snapshot; `file` names it in errors.
pub(crate) fn decode(buf: &[u8], file: &Path) -> Result<Index> {
    let len = buf.len();
    if len < HEADER + TRAILER {
        return Err(corrupt(
            file,
            0,
            format!("file of {len} bytes is shorter than 40"),
        ));
    }
    let mut h = Reader::new(&buf[..HEADER], 0, file);
    if h.take(8, "magic")? != MAGIC {
        return Err(corrupt(file, 0, "bad magic (not an index.grid file)"));
    }
    let version = h.u16("version")?;
    if !(V1..=VERSION).contains(&version) {
        return Err(Error::UnsupportedVersion {
            file: file.to_path_buf(),
            version,
        });
    }
    let flags = h.u16("flags")?;
    if flags > 1 {
        return Err(corrupt(file, 10, format!("unknown flags {flags:#x}")));
    }
    if h.u32("reserved")? != 0 {
        return Err(corrupt(file, 12, "reserved field is not 0"));
    }
    let tpos = len - TRAILER;
    let mut t = Reader::new(&buf[tpos..], tpos as u64, file);
    let sections = t.u32("section count")?;
    let crc = t.u32("file crc")?;
    let total = t.u64("file length")?;
    if t.take(8, "end magic")? != END_MAGIC {
        return Err(corrupt(
            file,
            tpos as u64 + 16,
            "bad trailer magic (truncated file?)",
        ));
    }
    if total != len as u64 {
        return Err(corrupt(
            file,
            tpos as u64 + 8,
            format!("trailer says {total} bytes, file has {len}"),
        ));
    }
    if crc32fast::hash(&buf[..tpos]) != crc {
        return Err(corrupt(file, tpos as u64 + 4, "file checksum mismatch"));
    }
    let mut r = Reader::new(&buf[HEADER..tpos], HEADER as u64, file);
    let mut bodies = Vec::new();
    while r.remaining() > 0 {
        let start = r.offset();
        let kind = r.u8("section type")?;
        let blen = r.u64("section length")?;
        let blen = usize::try_from(blen)
            .ok()
            .filter(|&b| b.saturating_add(4) <= r.remaining())
            .ok_or_else(|| {
                corrupt(
                    file,
                    start + 1,
                    format!("section length {blen} exceeds the file"),
                )
            })?;
        let body_at = r.offset();
        let body = r.take(blen, "section body")?;
        let stored = r.u32("section crc")?;
        let s = (start - HEADER as u64) as usize;
        let e = s + 9 + blen;
        let whole = &buf[HEADER..tpos];
        if crc32fast::hash(&whole[s..e]) != stored {
            return Err(corrupt(file, start, "section checksum mismatch"));
        }
        bodies.push((kind, body_at, body));
    }
    if bodies.len() as u64 != u64::from(sections) {
        return Err(corrupt(
            file,
            tpos as u64,
            format!(
                "trailer counts {sections} sections, file has {}",
                bodies.len()
            ),
        ));
    }
    let index = Loader::new(file, flags, version).load(&bodies)?;
    // Every field has exactly one encoding (minimal varints, canonical bitmaps, fixed order):
    // anything accepted must rewrite byte for byte, or state would depend on how it was read.
    let again = encode_version(&index, version);
    if let Some(at) = again.iter().zip(buf).position(|(a, b)| a != b) {
        return Err(corrupt(file, at as u64, "non-canonical encoding"));
    }
    if again.len() != buf.len() {
        return Err(corrupt(
            file,
            again.len().min(buf.len()) as u64,
            "non-canonical encoding",
        ));
    }
    Ok(index)
}

/// A grid read from a file with its shape's keys.
type LoadedGrid = (Vec<Box<[u8]>>, Grid);

struct Loader<'a> {
    file: &'a Path,
    flags: u16,
    version: u16,
}

impl<'a> Loader<'a> {
    fn new(file: &'a Path, flags: u16, version: u16) -> Self {
        Loader {
            file,
            flags,
            version,
        }
    }

    fn load(&self, bodies: &[(u8, u64, &[u8])]) -> Result<Index> {
        let file = self.file;
        let mut it = bodies.iter();
        let Some(&(SEC_POLICY, at, body)) = it.next() else {
            return Err(corrupt(file, 16, "first section is not the policy"));
        };
        let policy = self.policy(Reader::new(body, at, file))?;
        if policy.is_compat() != (self.flags & 1 == 1) {
            return Err(corrupt(file, 10, "flags disagree with the policy section"));
        }
        let Some(&(SEC_ALLOC, at, body)) = it.next() else {
            return Err(corrupt(file, 16, "second section is not the allocator"));
        };
        let mut r = Reader::new(body, at, file);
        let alloc = Allocator {
            next_id: r.u64("next_id")?,
            next_grid: r.u32("next_grid")?,
            next_measurement: r.u32("next_measurement")?,
        };
        r.finish("allocator")?;
        if alloc.next_id == 0 || alloc.next_grid == 0 || alloc.next_measurement == 0 {
            return Err(r.corrupt("allocator counters must start at 1"));
        }
        // measurements: name order, ids unique and allocated
        let mut ms: Vec<(Measurement, Vec<u32>)> = Vec::new();
        let mut grid_owner: HashMap<u32, usize> = HashMap::new();
        let mut mids = HashSet::new();
        let mut rest = it.as_slice();
        while let Some(&(SEC_MEASUREMENT, at, body)) = rest.first() {
            rest = &rest[1..];
            let mut r = Reader::new(body, at, file);
            let id = r.u32("measurement id")?;
            let name = r.bytes("measurement name")?;
            let n = r.count(1, "grid count")?;
            let mut gids = Vec::with_capacity(n);
            for _ in 0..n {
                let gid = r.uvarint("grid id")?;
                let gid = u32::try_from(gid)
                    .ok()
                    .filter(|&g| g != 0 && g < alloc.next_grid)
                    .ok_or_else(|| r.corrupt(format!("grid id {gid} was never allocated")))?;
                if grid_owner.insert(gid, ms.len()).is_some() {
                    return Err(r.corrupt(format!("grid {gid} listed twice")));
                }
                gids.push(gid);
            }
            r.finish("measurement")?;
            if id == 0 || id >= alloc.next_measurement || !mids.insert(id) {
                return Err(corrupt(
                    file,
                    at,
                    format!("bad or duplicate measurement id {id}"),
                ));
            }
            if ms.last().is_some_and(|(m, _)| *m.name >= *name) {
                return Err(corrupt(
                    file,
                    at,
                    "measurements not in ascending name order",
                ));
            }
            ms.push((Measurement::new(id, name), gids));
        }
        let mut prev_end = 1u64;
        let mut prev_gid = 0u32;
        let mut loaded: Vec<Vec<LoadedGrid>> = ms.iter().map(|_| Vec::new()).collect();
        for &(kind, at, body) in rest {
            if kind != SEC_GRID {
                return Err(corrupt(
                    file,
                    at - 9,
                    format!("unexpected section type {kind}"),
                ));
            }
            let (mid, (keys, g)) = self.grid(Reader::new(body, at, file), &policy)?;
            if g.id <= prev_gid {
                return Err(corrupt(file, at, "grid ids not ascending"));
            }
            if g.base < prev_end {
                return Err(corrupt(file, at, "grid id ranges overlap or do not ascend"));
            }
            let end = g.base.checked_add(g.points).filter(|&e| e <= alloc.next_id);
            let Some(end) = end else {
                return Err(corrupt(file, at, "grid range beyond next_id"));
            };
            prev_end = end;
            prev_gid = g.id;
            let Some(&owner) = grid_owner.get(&g.id) else {
                return Err(corrupt(
                    file,
                    at,
                    format!("grid {} belongs to no measurement", g.id),
                ));
            };
            if ms[owner].0.id != mid {
                return Err(corrupt(
                    file,
                    at,
                    "grid's measurement id disagrees with its measurement",
                ));
            }
            loaded[owner].push((keys, g));
        }
        let index = Index::new(policy);
        *index.alloc.lock() = alloc;
        let mut registry = BTreeMap::new();
        let mut ranges = Vec::new();
        for ((mut m, gids), grids) in ms.into_iter().zip(loaded) {
            if grids.iter().map(|(_, g)| g.id).ne(gids.iter().copied()) {
                return Err(corrupt(
                    file,
                    16,
                    format!("grid list of measurement {} does not match its grids", m.id),
                ));
            }
            for (keys, g) in grids {
                m.attach_grid(&keys, g);
            }
            check_unique(&m, file)?;
            let name = m.name.clone();
            let cell = Arc::new(MeasurementCell {
                name: name.clone(),
                m: RwLock::new(m),
            });
            {
                let m = cell.m.read();
                for g in &m.grids {
                    ranges.push(GridRange {
                        base: g.base,
                        end: g.base + g.points,
                        cell: cell.clone(),
                    });
                }
            }
            registry.insert(name, cell);
        }
        ranges.sort_by_key(|r| r.base);
        *index.registry.write() = registry;
        *index.ranges.write() = ranges;
        Ok(index)
    }

    fn policy(&self, mut r: Reader<'_>) -> Result<Policy> {
        let kind = r.u8("policy kind")?;
        let u32v = |r: &mut Reader<'_>, what: &str| -> Result<u32> {
            let v = r.uvarint(what)?;
            u32::try_from(v).map_err(|_| r.corrupt(format!("{what} {v} over u32")))
        };
        let p = match kind {
            1 => Policy::Multiplier(MultiplierPolicy {
                base: u32v(&mut r, "base")?,
                multiplier: u32v(&mut r, "multiplier")?,
                max_points: r.uvarint("max_points")?,
            }),
            2 => Policy::Adaptive(AdaptivePolicy {
                probe_rows: u32v(&mut r, "probe_rows")?,
                multiplier: u32v(&mut r, "multiplier")?,
                max_points: r.uvarint("max_points")?,
                max_dim_capacity: u32v(&mut r, "max_dim_capacity")?,
                min_density: f64::from_bits(r.u64("min_density")?),
                sparse_cardinality: u32v(&mut r, "sparse_cardinality")?,
                plan_sample: u32v(&mut r, "plan_sample")?,
                // older files keep the layout they were written with (no shared segments): the
                // change log beside them replays their inserts, which must get the same ids
                shared_rows: if self.version >= V3 {
                    u32v(&mut r, "shared_rows")?
                } else {
                    0
                },
            }),
            k => return Err(r.corrupt(format!("unknown policy kind {k}"))),
        };
        r.finish("policy")?;
        if p.max_points() > 1 << 32 || p.max_points() == 0 {
            return Err(r.corrupt("max_points must be in 1..=2^32"));
        }
        Ok(p)
    }

    fn grid(&self, mut r: Reader<'_>, policy: &Policy) -> Result<(u32, LoadedGrid)> {
        let id = r.u32("grid id")?;
        let mid = r.u32("measurement id")?;
        let base = r.u64("base")?;
        if base == 0 {
            return Err(r.corrupt("grid base 0 (id 0 is never assigned)"));
        }
        let shared = if self.version >= V3 {
            match r.u8("grid kind")? {
                0 => false,
                1 => true,
                k => return Err(r.corrupt(format!("unknown grid kind {k}"))),
            }
        } else {
            false
        };
        let nk = r.count(1, "shape key count")?;
        let mut keys: Vec<Box<[u8]>> = Vec::with_capacity(nk);
        for _ in 0..nk {
            let k = r.bytes("shape key")?;
            if k.is_empty() || keys.last().is_some_and(|p| **p >= *k) {
                return Err(r.corrupt("shape keys empty, unsorted or duplicated"));
            }
            keys.push(k.into());
        }
        let key_index = |r: &mut Reader<'_>, seen: &mut [bool]| -> Result<u32> {
            let k = r.uvarint("key index")?;
            match usize::try_from(k)
                .ok()
                .filter(|&k| k < seen.len() && !seen[k])
            {
                Some(k) => {
                    seen[k] = true;
                    Ok(k as u32)
                }
                None => Err(r.corrupt(format!("bad or repeated key index {k}"))),
            }
        };
        let mut seen = vec![false; nk];
        let nd = r.count(2, "dense count")?;
        let mut dense = Vec::with_capacity(nd);
        let mut dense_values: Vec<Vec<&[u8]>> = Vec::with_capacity(nd);
        for _ in 0..nd {
            let k = key_index(&mut r, &mut seen)?;
            let cap = r.u32("capacity")?;
            let nv = r.count(1, "value count")?;
            if nv as u64 > u64::from(cap) {
                return Err(r.corrupt(format!("{nv} values exceed capacity {cap}")));
            }
            let vals = (0..nv)
                .map(|_| r.bytes("dense value"))
                .collect::<Result<Vec<_>>>()?;
            dense.push((k, cap));
            dense_values.push(vals);
        }
        let row_cap = r.u32("row capacity")?;
        let ns = r.count(1, "sparse key count")?;
        let mut sparse = Vec::with_capacity(ns);
        for _ in 0..ns {
            sparse.push(key_index(&mut r, &mut seen)?);
        }
        if seen.iter().any(|s| !s) {
            return Err(r.corrupt("a shape key is neither dense nor sparse"));
        }
        if !sparse.windows(2).all(|w| w[0] < w[1]) {
            return Err(r.corrupt("sparse keys not ascending"));
        }
        if (row_cap == 0) != sparse.is_empty() {
            return Err(r.corrupt("row dimension present iff sparse keys exist"));
        }
        if shared && (!dense.is_empty() || sparse.is_empty()) {
            return Err(r.corrupt("a shared segment has sparse keys only"));
        }
        let mut g = Grid::new(id, base, 0, &dense, row_cap, &sparse, policy.max_points())
            .map_err(|e| r.corrupt(format!("grid layout: {e}")))?;
        g.shared = shared;
        if shared {
            g.key_live = vec![0; ns];
        }
        for (d, vals) in g.dense.iter_mut().zip(dense_values) {
            for v in vals {
                push_unique(&mut r, &mut d.dict, v)?;
                d.live.push(0);
                d.postings.push(Posting::Empty);
            }
        }
        let mut stored_postings = Vec::with_capacity(ns);
        for j in 0..ns {
            let nv = r.count(2, "sparse value count")?;
            for _ in 0..nv {
                let v = r.bytes("sparse value")?;
                push_unique(&mut r, &mut g.sparse[j].dict, v)?;
            }
            let mut ps = Vec::new();
            if self.version == V1 {
                ps.reserve(nv);
                for _ in 0..nv {
                    ps.push(r.bitmap("postings")?);
                }
            }
            g.sparse[j].postings = vec![Posting::Empty; nv];
            stored_postings.push(ps);
        }
        let at = r.offset();
        g.live = r.bitmap("live")?;
        g.dead = r.bitmap("dead")?;
        if !g.live.is_disjoint(&g.dead) {
            return Err(crate::persist::bytes::corrupt(
                self.file,
                at,
                "live and dead overlap",
            ));
        }
        let top = g.live.max().max(g.dead.max());
        if top.is_some_and(|t| u64::from(t) >= g.points) {
            return Err(crate::persist::bytes::corrupt(
                self.file,
                at,
                "local id beyond the grid's points",
            ));
        }
        // every live series of a grid with sparse keys has a payload row of at least one byte a
        // key: a live set (a few bytes of run containers can claim 2^32 series) that the rest of
        // the file cannot hold is refused before anything is sized from it
        if ns > 0 && !payload_fits(g.live.len(), ns, r.remaining()) {
            return Err(crate::persist::bytes::corrupt(
                self.file,
                at,
                format!(
                    "{} live series with {ns} sparse keys need more payload than the {} bytes left",
                    g.live.len(),
                    r.remaining()
                ),
            ));
        }
        // dense coordinates of live series must name existing values
        let mut coords = Vec::new();
        for local in g.live.iter() {
            g.coords(local, &mut coords);
            for (d, &c) in g.dense.iter_mut().zip(&coords) {
                match d.live.get_mut(c as usize) {
                    Some(n) => *n += 1,
                    None => {
                        return Err(crate::persist::bytes::corrupt(
                            self.file,
                            at,
                            format!("live local {local} has coordinate {c} beyond the dictionary"),
                        ));
                    }
                }
            }
        }
        if ns > 0 {
            // rows by local only if the file's series use a fair share of them: a crafted
            // live set of one local near 2^32 must not allocate gigabytes (issue 6)
            g.payload = Payload::for_load(g.live.max(), g.live.len(), ns);
            for local in g.live.clone().iter() {
                let mut present = 0;
                for j in 0..ns {
                    let mut v = r.uvarint("payload")?;
                    if shared {
                        if v == 0 {
                            continue; // absent: the slot stays NO_VALUE
                        }
                        v -= 1;
                    }
                    let s = &mut g.sparse[j];
                    let vi = usize::try_from(v)
                        .ok()
                        .filter(|&v| v < s.dict.len())
                        .ok_or_else(|| {
                            r.corrupt(format!("payload value index {v} out of range"))
                        })?;
                    s.postings[vi].insert(local);
                    g.payload.row_mut(local, ns)[j] = vi as u32;
                    if let Some(n) = g.key_live.get_mut(j) {
                        *n += 1;
                    }
                    present += 1;
                }
                if shared && present == 0 {
                    return Err(r.corrupt(format!(
                        "series at local {local} of a shared segment has no tag"
                    )));
                }
            }
            for (j, ps) in stored_postings.iter().enumerate() {
                for (vi, p) in ps.iter().enumerate() {
                    if g.sparse[j].postings[vi].to_bitmap() != *p {
                        return Err(r.corrupt("postings disagree with the payload"));
                    }
                }
            }
        }
        if self.version == V1 {
            let nr = r.count(12, "next_row count")?;
            let mut rows = Vec::with_capacity(nr);
            for _ in 0..nr {
                rows.push((r.u64("cell")?, r.u32("row")?));
            }
            if rows != g.next_rows() {
                return Err(r.corrupt("next_row table disagrees with the used rows"));
            }
        }
        g.rebuild_rows_used();
        if !g.dense.is_empty() {
            for local in g.live.clone().iter() {
                g.index_dense(local);
            }
        }
        r.finish("grid")?;
        Ok((mid, (keys, g)))
    }
}

/// Every live series must be stored once: the first grid (and row) where a lookup finds it must
/// be where it is. Costs one lookup per series, still far less than replaying inserts.
fn check_unique(m: &Measurement, file: &Path) -> Result<()> {
    for (gi, g) in m.grids.iter().enumerate() {
        let keys = &m.shapes[g.shape as usize].keys;
        for local in g.live.iter() {
            // (an empty value: a key this series of a shared segment lacks)
            let tags: Vec<(&[u8], &[u8])> = keys
                .iter()
                .zip(g.values_of(local, keys.len()))
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (&**k, v))
                .collect();
            let fps = value_fps(&tags);
            match m.locate(&tags, &fps) {
                Located::Found(a, b) if a == gi && b == local => {}
                _ => {
                    return Err(corrupt(
                        file,
                        HEADER as u64,
                        format!("series at local {local} of grid {} is stored twice", g.id),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn push_unique(r: &mut Reader<'_>, dict: &mut crate::dict::Dict, v: &[u8]) -> Result<()> {
    let fp = fingerprint(v);
    if v.is_empty() || dict.find(fp, v).is_some() {
        return Err(r.corrupt("dictionary value empty or repeated"));
    }
    dict.push(fp, v)
        .map(|_| ())
        .ok_or_else(|| r.corrupt("dictionary over 4 GiB"))
}

/// Whether `remaining` bytes can hold the payload of `live` series with `keys` sparse keys (at
/// least one uvarint byte per key per series).
fn payload_fits(live: u64, keys: usize, remaining: usize) -> bool {
    live.checked_mul(keys as u64)
        .is_some_and(|need| need <= remaining as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Expr;

    /// Version 1 images (which stored sparse postings and the next-row table) are still read,
    /// checked as strictly as before (they must re-encode to the same version-1 bytes), and
    /// rewritten as version 2 with the same content.
    #[test]
    fn version_1_images_still_load() {
        // the layout of those versions: a probe segment per shape, no shared segment
        let ix = Index::new(Policy::Adaptive(AdaptivePolicy {
            shared_rows: 0,
            ..AdaptivePolicy::default()
        }));
        for i in 0..300u32 {
            let h = format!("h{i}");
            let z = format!("z{}", i % 3);
            let r = format!("r{}", i % 7);
            ix.insert(
                b"m",
                &[
                    (b"host", h.as_bytes()),
                    (b"rack", r.as_bytes()),
                    (b"zone", z.as_bytes()),
                ],
            )
            .unwrap();
        }
        ix.delete(crate::ids::SeriesId(5)).unwrap();
        let v1 = encode_version(&ix, V1);
        let v2 = encode_version(&ix, 2);
        let v3 = encode(&ix);
        assert_eq!(u16::from_le_bytes([v1[8], v1[9]]), 1);
        assert_eq!(u16::from_le_bytes([v2[8], v2[9]]), 2);
        assert_eq!(u16::from_le_bytes([v3[8], v3[9]]), 3);
        assert!(v2.len() < v1.len(), "{} !< {}", v2.len(), v1.len());
        let from_v1 = decode(&v1, Path::new("v1")).unwrap();
        let from_v2 = decode(&v2, Path::new("v2")).unwrap();
        assert_eq!(encode_version(&from_v1, 2), v2);
        // an older file keeps its layout: no shared segments (its change log must replay to the
        // same ids), which the version-3 image then records: the same image as the index's own
        assert_eq!(encode(&from_v1), encode(&from_v2));
        assert_eq!(encode(&from_v2), v3);
        assert_eq!(
            from_v2.policy(),
            Policy::Adaptive(AdaptivePolicy {
                shared_rows: 0,
                ..AdaptivePolicy::default()
            })
        );
        assert_eq!(encode_version(&from_v2, V1), v1);
        for e in [
            Expr::eq("zone", "z1"),
            Expr::regex("host", "^h1").unwrap(),
            Expr::all(),
        ] {
            assert_eq!(from_v1.query(b"m", &e), ix.query(b"m", &e));
            assert_eq!(from_v2.query(b"m", &e), ix.query(b"m", &e));
        }
        // a version-1 image whose postings disagree with its payload is still refused: flip a
        // byte inside the grid sections and fix every checksum, so only content checks remain
        let mut damaged = 0;
        for pos in (40..v1.len() - 24).step_by(7) {
            let mut bad = v1.clone();
            bad[pos] ^= 0x10;
            if decode(&fix_checksums(&bad), Path::new("v1")).is_err() {
                damaged += 1;
            }
        }
        assert!(damaged > 0);
    }

    /// A crafted image of a few hundred bytes naming a live series at local 2^31 - 1 of a
    /// shared segment of 2^31 rows. Sized by that local, the payload was 2^31 rows × 2 keys ×
    /// 4 bytes (16 GiB: the process aborted); it now loads mapped, in a few kilobytes, and
    /// answers as the image says.
    #[test]
    fn a_high_local_loads_in_little_memory() {
        let ix = Index::new(Policy::Adaptive(AdaptivePolicy {
            shared_rows: 1 << 31,
            ..AdaptivePolicy::default()
        }));
        ix.insert(b"m", &[(b"a", b"1"), (b"b", b"2")]).unwrap();
        ix.insert(b"m", &[(b"a", b"3")]).unwrap();
        let high = (1u32 << 31) - 1;
        let base = {
            let cell = ix.cell_or_create(b"m").unwrap();
            let mut m = cell.m.write();
            let g = &mut m.grids[0];
            assert!(g.shared);
            let ns = g.sparse.len();
            let row = g.payload.get(1, ns).unwrap().to_vec();
            g.live.remove(1);
            g.live.insert(high);
            g.payload.row_mut(high, ns).copy_from_slice(&row);
            g.base
        };
        let image = encode(&ix);
        assert!(image.len() < 1024, "{} bytes", image.len());
        let loaded = decode(&image, Path::new("crafted")).unwrap();
        let st = loaded.stats();
        assert!(st.heap_bytes < 1 << 16, "{} heap bytes", st.heap_bytes);
        let id = crate::ids::SeriesId(base + u64::from(high));
        let hits: Vec<_> = loaded.query(b"m", &Expr::eq("a", "3")).iter().collect();
        assert_eq!(hits, vec![id]);
        let tags = loaded.tags_of(id).unwrap().tags;
        assert_eq!(tags, vec![(b"a".to_vec(), b"3".to_vec())]);
        // and it writes back the same image
        assert_eq!(encode(&loaded), image);
    }

    /// The payload claim check: a live set needs one byte per sparse key per series left in the
    /// file (a run of 2^26 series with 64 keys in a 14 KB image asked for 16 GiB before).
    #[test]
    fn a_live_set_larger_than_its_payload_is_refused() {
        assert!(payload_fits(0, 64, 0));
        assert!(payload_fits(10, 2, 20));
        assert!(!payload_fits(10, 2, 19));
        assert!(!payload_fits(1 << 26, 64, 14_000));
        assert!(!payload_fits(u64::MAX, 2, usize::MAX));
    }

    /// Recomputes section CRCs, trailer and file CRC of a framed image.
    fn fix_checksums(data: &[u8]) -> Vec<u8> {
        let mut out = data[..data.len() - TRAILER].to_vec();
        let mut pos = HEADER;
        let mut sections = 0u32;
        while pos + 9 <= out.len() {
            let len = u64::from_le_bytes(out[pos + 1..pos + 9].try_into().unwrap()) as usize;
            let end = (pos + 9 + len).min(out.len().saturating_sub(4));
            let crc = crc32fast::hash(&out[pos..end]);
            out[end..end + 4].copy_from_slice(&crc.to_le_bytes());
            pos = end + 4;
            sections += 1;
        }
        let crc = crc32fast::hash(&out);
        let total = (out.len() + TRAILER) as u64;
        out.extend_from_slice(&sections.to_le_bytes());
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&total.to_le_bytes());
        out.extend_from_slice(END_MAGIC);
        out
    }
}
