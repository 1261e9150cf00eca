//! The fair baseline (spec §7.3): an inverted index with roaring postings per (key, value),
//! the same fingerprint series map, a forward table for `tags_of`, the same `Expr` semantics.
//! Shared by the benchmarks and the differential tests.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use roaring::RoaringBitmap;
use tsmdb_index_grid::{Expr, Pred};

#[derive(Default, Clone, Copy)]
/// Hasher for keys that already are fingerprints.
pub struct FpHasher(u64);
impl Hasher for FpHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("u64 keys only")
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}
type FpMap<V> = HashMap<u64, V, BuildHasherDefault<FpHasher>>;

fn fp(b: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(b)
}

#[derive(Default)]
struct Key {
    name: Box<[u8]>,
    exists: RoaringBitmap,
    values: Vec<(Box<[u8]>, RoaringBitmap)>,
    index: FpMap<u32>,
    /// Values whose fingerprint collides with an earlier one's (rare).
    collisions: Vec<(u64, u32)>,
}

impl Key {
    fn find(&self, v: &[u8]) -> Option<u32> {
        let f = fp(v);
        self.index
            .get(&f)
            .copied()
            .filter(|&i| &*self.values[i as usize].0 == v)
            .or_else(|| {
                self.collisions
                    .iter()
                    .find(|&&(cf, i)| cf == f && &*self.values[i as usize].0 == v)
                    .map(|c| c.1)
            })
    }
}

#[derive(Default)]
struct Measurement {
    all: RoaringBitmap,
    keys: Vec<Key>,
    key_index: HashMap<Box<[u8]>, u32>,
    series: FpMap<u32>,
    /// Series whose fingerprint collides with another's (rare).
    collisions: Vec<(u64, u32)>,
}

/// Forward entry: measurement and (key id, value id) pairs.
type Forward = (Box<[u8]>, Box<[(u32, u32)]>);
/// (key id, value id) pairs of one series, being collected.
type Pairs = Vec<(u32, u32)>;
/// Measurement and owned tags.
type OwnedSeries = (Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>);

/// Inverted index with roaring postings.
#[derive(Default)]
pub struct Baseline {
    measurements: BTreeMap<Box<[u8]>, Measurement>,
    /// id - 1 -> (measurement, (key id, value id) pairs); `None` once deleted.
    forward: Vec<Option<Forward>>,
}

fn series_fp(tags: &[(&[u8], &[u8])]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for (k, v) in tags {
        h.update(&(k.len() as u32).to_le_bytes());
        h.update(k);
        h.update(&(v.len() as u32).to_le_bytes());
        h.update(v);
    }
    h.digest()
}

fn canonical<'a>(tags: &[(&'a [u8], &'a [u8])]) -> Vec<(&'a [u8], &'a [u8])> {
    let mut t: Vec<_> = tags.iter().copied().filter(|t| !t.1.is_empty()).collect();
    t.sort_unstable();
    t
}

impl Baseline {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    fn same(&self, m: &Measurement, id: u32, tags: &[(&[u8], &[u8])]) -> bool {
        match &self.forward[id as usize - 1] {
            Some((_, pairs)) => {
                pairs.len() == tags.len()
                    && pairs.iter().zip(tags).all(|(&(k, v), t)| {
                        let key = &m.keys[k as usize];
                        &*key.name == t.0 && &*key.values[v as usize].0 == t.1
                    })
            }
            None => false,
        }
    }

    /// Id of a live series.
    pub fn lookup(&self, name: &[u8], tags: &[(&[u8], &[u8])]) -> Option<u32> {
        let tags = canonical(tags);
        let m = self.measurements.get(name)?;
        let f = series_fp(&tags);
        m.series
            .get(&f)
            .copied()
            .filter(|&id| self.same(m, id, &tags))
            .or_else(|| {
                m.collisions
                    .iter()
                    .find(|&&(cf, id)| cf == f && self.same(m, id, &tags))
                    .map(|c| c.1)
            })
    }

    /// Id of a series, assigned if new.
    pub fn insert(&mut self, name: &[u8], tags: &[(&[u8], &[u8])]) -> u32 {
        if let Some(id) = self.lookup(name, tags) {
            return id;
        }
        let tags = canonical(tags);
        let id = self.forward.len() as u32 + 1;
        if !self.measurements.contains_key(name) {
            self.measurements
                .insert(name.into(), Measurement::default());
        }
        let m = self.measurements.get_mut(name).expect("just inserted");
        let mut pairs = Vec::with_capacity(tags.len());
        for (k, v) in &tags {
            let ki = match m.key_index.get(*k) {
                Some(&i) => i,
                None => {
                    let i = m.keys.len() as u32;
                    m.keys.push(Key {
                        name: (*k).into(),
                        ..Default::default()
                    });
                    m.key_index.insert((*k).into(), i);
                    i
                }
            };
            let key = &mut m.keys[ki as usize];
            let vi = match key.find(v) {
                Some(i) => i,
                None => {
                    let i = key.values.len() as u32;
                    key.values.push(((*v).into(), RoaringBitmap::new()));
                    let f = fp(v);
                    if let std::collections::hash_map::Entry::Vacant(e) = key.index.entry(f) {
                        e.insert(i);
                    } else {
                        key.collisions.push((f, i));
                    }
                    i
                }
            };
            key.exists.insert(id);
            key.values[vi as usize].1.insert(id);
            pairs.push((ki, vi));
        }
        m.all.insert(id);
        let f = series_fp(&tags);
        if let std::collections::hash_map::Entry::Vacant(e) = m.series.entry(f) {
            e.insert(id);
        } else {
            m.collisions.push((f, id));
        }
        self.forward
            .push(Some((name.into(), pairs.into_boxed_slice())));
        id
    }

    /// Measurement and tags of a live id.
    pub fn tags_of(&self, id: u32) -> Option<OwnedSeries> {
        let (name, pairs) = self.forward.get((id as usize).checked_sub(1)?)?.as_ref()?;
        let m = &self.measurements[name];
        Some((
            name.to_vec(),
            pairs
                .iter()
                .map(|&(k, v)| {
                    let key = &m.keys[k as usize];
                    (key.name.to_vec(), key.values[v as usize].0.to_vec())
                })
                .collect(),
        ))
    }

    /// Deletes a series.
    pub fn delete(&mut self, id: u32) -> bool {
        let Some(Some((name, pairs))) = self.forward.get(id as usize - 1).cloned() else {
            return false;
        };
        let tags: Vec<(Vec<u8>, Vec<u8>)> = self.tags_of(id).map(|t| t.1).unwrap_or_default();
        let t: Vec<(&[u8], &[u8])> = tags.iter().map(|(k, v)| (&k[..], &v[..])).collect();
        let f = series_fp(&t);
        let m = self
            .measurements
            .get_mut(&name)
            .expect("forward names a measurement");
        m.all.remove(id);
        for &(k, v) in pairs.iter() {
            let key = &mut m.keys[k as usize];
            key.exists.remove(id);
            key.values[v as usize].1.remove(id);
        }
        if m.series.get(&f) == Some(&id) {
            m.series.remove(&f);
        } else {
            m.collisions.retain(|c| c.1 != id);
        }
        self.forward[id as usize - 1] = None;
        true
    }

    /// Ids matching an expression.
    pub fn query(&self, name: &[u8], e: &Expr) -> RoaringBitmap {
        match self.measurements.get(name) {
            Some(m) => eval(m, e),
            None => RoaringBitmap::new(),
        }
    }

    /// Measurements with live series.
    pub fn measurements(&self) -> Vec<Vec<u8>> {
        self.measurements
            .iter()
            .filter(|(_, m)| !m.all.is_empty())
            .map(|(n, _)| n.to_vec())
            .collect()
    }

    /// Live values of a key, sorted.
    pub fn tag_values(&self, name: &[u8], key: &[u8]) -> Vec<Vec<u8>> {
        let Some(m) = self.measurements.get(name) else {
            return Vec::new();
        };
        let Some(&k) = m.key_index.get(key) else {
            return Vec::new();
        };
        let mut out: Vec<Vec<u8>> = m.keys[k as usize]
            .values
            .iter()
            .filter(|v| !v.1.is_empty())
            .map(|v| v.0.to_vec())
            .collect();
        out.sort_unstable();
        out
    }

    /// Dictionaries plus portable roaring bitmaps, one CRC-framed section per measurement.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = b"BASELINE".to_vec();
        for (name, m) in &self.measurements {
            let mut body = Vec::new();
            put(&mut body, name);
            let _ = m.all.serialize_into(&mut body);
            body.extend_from_slice(&(m.keys.len() as u32).to_le_bytes());
            for k in &m.keys {
                put(&mut body, &k.name);
                body.extend_from_slice(&(k.values.len() as u32).to_le_bytes());
                for (v, b) in &k.values {
                    put(&mut body, v);
                    let _ = b.serialize_into(&mut body);
                }
            }
            out.push(1);
            out.extend_from_slice(&(body.len() as u64).to_le_bytes());
            out.extend_from_slice(&body);
            let crc = crc32fast::hash(&body);
            out.extend_from_slice(&crc.to_le_bytes());
        }
        out
    }
}

impl Baseline {
    /// Parses [`Baseline::to_bytes`] and rebuilds what the file does not hold (the forward
    /// table and the series map), so the result answers everything the original did. `None` on
    /// a malformed image. (The image does not keep the id counter: ids above the highest live
    /// one could be handed out again — irrelevant to the benchmarks, which only read.)
    pub fn from_bytes(buf: &[u8]) -> Option<Baseline> {
        let mut r = buf.strip_prefix(b"BASELINE")?;
        let mut out = Baseline::new();
        let mut forward: Vec<Option<(Box<[u8]>, Pairs)>> = Vec::new();
        while !r.is_empty() {
            let (&kind, rest) = r.split_first()?;
            let len = usize::try_from(u64::from_le_bytes(rest.get(..8)?.try_into().ok()?)).ok()?;
            let body = rest.get(8..8 + len)?;
            let crc = rest.get(8 + len..12 + len)?;
            if kind != 1 || crc32fast::hash(body).to_le_bytes() != crc {
                return None;
            }
            r = &rest[12 + len..];
            let mut b = body;
            let name: Box<[u8]> = take(&mut b)?.into();
            let mut m = Measurement {
                all: RoaringBitmap::deserialize_from(&mut b).ok()?,
                ..Default::default()
            };
            let nkeys = u32::from_le_bytes(b.get(..4)?.try_into().ok()?);
            b = &b[4..];
            for ki in 0..nkeys {
                let mut key = Key {
                    name: take(&mut b)?.into(),
                    ..Default::default()
                };
                let nvals = u32::from_le_bytes(b.get(..4)?.try_into().ok()?);
                b = &b[4..];
                for vi in 0..nvals {
                    let v: Box<[u8]> = take(&mut b)?.into();
                    let bm = RoaringBitmap::deserialize_from(&mut b).ok()?;
                    let f = fp(&v);
                    if let std::collections::hash_map::Entry::Vacant(e) = key.index.entry(f) {
                        e.insert(vi);
                    } else {
                        key.collisions.push((f, vi));
                    }
                    key.exists |= &bm;
                    key.values.push((v, bm));
                }
                m.key_index.insert(key.name.clone(), ki);
                m.keys.push(key);
            }
            // forward pairs in tag order (keys sorted by name), as `insert` makes them
            let mut by_name: Vec<u32> = (0..m.keys.len() as u32).collect();
            by_name.sort_by(|&a, &b| m.keys[a as usize].name.cmp(&m.keys[b as usize].name));
            if let Some(max) = m.all.max()
                && forward.len() < max as usize
            {
                forward.resize(max as usize, None);
            }
            for id in m.all.iter() {
                forward[id as usize - 1] = Some((name.clone(), Vec::new()));
            }
            for &ki in &by_name {
                for (vi, (_, bm)) in m.keys[ki as usize].values.iter().enumerate() {
                    for id in bm.iter() {
                        forward[id as usize - 1].as_mut()?.1.push((ki, vi as u32));
                    }
                }
            }
            for id in m.all.iter() {
                let pairs = &forward[id as usize - 1].as_ref()?.1;
                let tags: Vec<(&[u8], &[u8])> = pairs
                    .iter()
                    .map(|&(k, v)| {
                        let key = &m.keys[k as usize];
                        (&*key.name, &*key.values[v as usize].0)
                    })
                    .collect();
                let f = series_fp(&tags);
                if let std::collections::hash_map::Entry::Vacant(e) = m.series.entry(f) {
                    e.insert(id);
                } else {
                    m.collisions.push((f, id));
                }
            }
            out.measurements.insert(name, m);
        }
        out.forward = forward
            .into_iter()
            .map(|f| f.map(|(n, p)| (n, p.into_boxed_slice())))
            .collect();
        Some(out)
    }
}

/// Reads a uvarint-length-prefixed byte string.
fn take<'a>(b: &mut &'a [u8]) -> Option<&'a [u8]> {
    let mut n = 0u64;
    let mut shift = 0;
    loop {
        let (&c, rest) = b.split_first()?;
        *b = rest;
        n |= u64::from(c & 0x7f) << shift;
        if c < 0x80 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
    let n = usize::try_from(n).ok()?;
    let s = b.get(..n)?;
    *b = &b[n..];
    Some(s)
}

fn put(out: &mut Vec<u8>, b: &[u8]) {
    let mut n = b.len() as u64;
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out.extend_from_slice(b);
}

fn eval(m: &Measurement, e: &Expr) -> RoaringBitmap {
    match e {
        Expr::Pred(p) => eval_pred(m, p),
        Expr::And(c) => {
            let mut it = c.iter();
            let Some(first) = it.next() else {
                return m.all.clone();
            };
            let mut acc = eval(m, first);
            for x in it {
                if acc.is_empty() {
                    break;
                }
                acc &= eval(m, x);
            }
            acc
        }
        Expr::Or(c) => {
            let mut acc = RoaringBitmap::new();
            for x in c {
                acc |= eval(m, x);
            }
            acc
        }
    }
}

fn eval_pred(m: &Measurement, p: &Pred) -> RoaringBitmap {
    let Some(&ki) = m.key_index.get(p.key()) else {
        return if p.on_missing() {
            m.all.clone()
        } else {
            RoaringBitmap::new()
        };
    };
    let key = &m.keys[ki as usize];
    let postings = |v: &[u8]| {
        key.find(v)
            .map(|i| key.values[i as usize].1.clone())
            .unwrap_or_default()
    };
    let union_where = |f: &dyn Fn(&[u8]) -> bool| {
        let mut acc = RoaringBitmap::new();
        for (v, b) in &key.values {
            if f(v) {
                acc |= b;
            }
        }
        acc
    };
    let present = match p {
        Pred::Eq(_, v) => postings(v),
        Pred::Neq(_, v) => &key.exists - postings(v),
        Pred::Regex(_, re) => union_where(&|v| re.is_match(v)),
        Pred::NotRegex(_, re) => &key.exists - union_where(&|v| re.is_match(v)),
        Pred::Exists(_) => key.exists.clone(),
        Pred::NotExists(_) => RoaringBitmap::new(),
    };
    if p.on_missing() {
        present | (&m.all - &key.exists)
    } else {
        present
    }
}
