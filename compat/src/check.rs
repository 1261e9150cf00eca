//! Runs one case on both sides and judges the answers.

use crate::case::{Case, Delete};
use crate::convert;
use crate::deliberate::{
    DEFERRED_CONVERSION, INFLUXDB_PANICS, KEY_SEPARATOR, STRICT_DECODE, STRICT_WAL,
};
use crate::model::{Kind, ParseOutcome, Series, Value, WalEntry, hex, show, unhex};
use crate::oracle::Oracle;
use crate::ours::{self, Codec, NotWired};
use crate::reference::{ReferenceError, Request, Response};

/// The judgement on one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Both sides agree.
    Same,
    /// They differ in a way the deliberate-differences list allows (its id).
    Deliberate(&'static str),
    /// They differ: a bug (what differs).
    Mismatch(String),
    /// Our crate has no API for this yet.
    NotWired(&'static str),
    /// A saved case needed a live InfluxDB answer that was not recorded.
    NeedsGo,
}

impl From<NotWired> for Verdict {
    fn from(n: NotWired) -> Verdict {
        Verdict::NotWired(n.0)
    }
}

/// Runs `case` on our crates and on `oracle` and compares.
pub fn check(case: &Case, oracle: &mut dyn Oracle) -> Result<Verdict, ReferenceError> {
    let result = match case {
        Case::Lineproto {
            lines,
            precision,
            now,
        } => lineproto(&lines.join(&b'\n'), precision, *now, oracle),
        Case::Section { codec, values } => section(*codec, values, oracle),
        Case::SectionDecode { codec, data } => section_decode(*codec, data, oracle),
        Case::Block {
            kind,
            times,
            values,
        } => block(*kind, times, values, oracle),
        Case::BlockDecode { data } => block_decode(data, oracle),
        Case::Tsm { series, deletes } => tsm(series, deletes, oracle),
        Case::Wal { entries } => wal(entries, oracle),
        Case::WalDamaged { data } => wal_damaged(data, oracle),
    };
    match result {
        Err(ReferenceError::NotRecorded) => Ok(Verdict::NeedsGo),
        other => other,
    }
}

macro_rules! wired {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(n) => return Ok(Verdict::from(n)),
        }
    };
}

fn failed(r: &Response) -> Option<String> {
    (!r.ok).then(|| r.err.clone())
}

fn lineproto(
    data: &[u8],
    precision: &str,
    now: i64,
    oracle: &mut dyn Oracle,
) -> Result<Verdict, ReferenceError> {
    let ours = wired!(ours::parse(data, precision, now));
    let r = oracle.call(&Request {
        op: "parse",
        data: hex(data),
        precision: precision.into(),
        now,
        ..Request::default()
    })?;
    if let Some(e) = failed(&r) {
        if e.starts_with("panic:") {
            return Ok(Verdict::Deliberate(INFLUXDB_PANICS));
        }
        return Err(ReferenceError::Protocol(e));
    }
    let theirs = convert::parse_outcome(&r)?;
    if ours == theirs {
        return Ok(Verdict::Same);
    }
    if key_separator_only(&ours, &theirs) {
        return Ok(Verdict::Deliberate(KEY_SEPARATOR));
    }
    if deferred_conversion_only(&ours, &theirs) {
        return Ok(Verdict::Deliberate(DEFERRED_CONVERSION));
    }
    Ok(Verdict::Mismatch(parse_difference(&ours, &theirs)))
}

/// True when the only points InfluxDB has and we lack carry a field InfluxDB could not convert,
/// and our error text contains each such conversion error.
fn deferred_conversion_only(ours: &ParseOutcome, theirs: &ParseOutcome) -> bool {
    let failing = |p: &&crate::model::ParsedPoint| p.fields.iter().any(|f| f.value.is_err());
    let kept: Vec<_> = theirs.points.iter().filter(|p| !failing(p)).collect();
    let our_error = ours
        .error
        .as_deref()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    let explained = theirs
        .points
        .iter()
        .filter(failing)
        .flat_map(|p| p.fields.iter().filter_map(|f| f.value.as_ref().err()))
        .all(|e| our_error.contains(e.as_str()));
    kept.len() < theirs.points.len() && kept.iter().copied().eq(ours.points.iter()) && explained
}

/// True when the only points InfluxDB has and we lack carry `#!~#` in their key, and our error
/// text names the separator.
fn key_separator_only(ours: &ParseOutcome, theirs: &ParseOutcome) -> bool {
    let sep = b"#!~#";
    let has_sep = |k: &[u8]| k.windows(4).any(|w| w == sep);
    let kept: Vec<_> = theirs.points.iter().filter(|p| !has_sep(&p.key)).collect();
    kept.len() < theirs.points.len()
        && kept.iter().copied().eq(ours.points.iter())
        && ours.error.as_deref().is_some_and(has_sep)
}

/// The distinct reasons in a joined parse error, cut to their fixed part (before any `:` and
/// without digits), for a mismatch's signature.
fn reasons(error: &Option<Vec<u8>>) -> String {
    let Some(e) = error else {
        return "accepted".into();
    };
    let text = String::from_utf8_lossy(e);
    let mut set: Vec<String> = text
        .split('\n')
        .filter_map(|piece| piece.rsplit_once("': ").map(|(_, r)| r))
        .map(|r| {
            // The fixed part: before any `:` or quoted input, without numbers.
            let end = r.find([':', '"', '\'']).unwrap_or(r.len());
            r[..end]
                .trim()
                .chars()
                .filter(|c| !c.is_ascii_digit())
                .collect()
        })
        .collect();
    set.sort();
    set.dedup();
    set.join(", ")
}

/// The first line is the mismatch's signature (used to save one case per distinct bug).
fn parse_difference(ours: &ParseOutcome, theirs: &ParseOutcome) -> String {
    let mut out = format!(
        "lineproto: ours [{}] vs influxdb [{}]{}\n",
        reasons(&ours.error),
        reasons(&theirs.error),
        if ours.points.len() == theirs.points.len() {
            ""
        } else {
            ", point counts differ"
        }
    );
    if ours.error != theirs.error {
        let e = |e: &Option<Vec<u8>>| e.as_deref().map(show).unwrap_or_else(|| "none".into());
        out.push_str(&format!(
            "errors differ:\n  ours:     {}\n  influxdb: {}\n",
            e(&ours.error),
            e(&theirs.error)
        ));
    }
    if ours.points != theirs.points {
        out.push_str(&format!(
            "points differ:\n  ours:     {:?}\n  influxdb: {:?}\n",
            ours.points, theirs.points
        ));
    }
    out
}

/// A mismatch's signature: its first line without numbers or anything after `{`, `[`, `(` or
/// ` as `, so one bug found many times is shrunk and saved once.
pub fn signature(text: &str) -> String {
    let first = text.lines().next().unwrap_or("");
    let cut = [" as ", "{", "[", "(", "Ok(", "Err("]
        .iter()
        .filter_map(|m| {
            if first.starts_with("lineproto:") {
                None
            } else {
                first.find(m)
            }
        })
        .min()
        .unwrap_or(first.len());
    first[..cut]
        .chars()
        .filter(|c| !c.is_ascii_digit())
        .collect()
}

fn encode_request(codec: Codec, values: &[Value]) -> Request {
    Request {
        op: "encode",
        kind: codec.wire_name().into(),
        values: convert::wire_values(values),
        ..Request::default()
    }
}

fn go_decode_section(
    codec: Codec,
    data: &[u8],
    oracle: &mut dyn Oracle,
) -> Result<Result<Vec<Value>, String>, ReferenceError> {
    let r = oracle.call(&Request {
        op: "decode",
        kind: codec.wire_name().into(),
        data: hex(data),
        ..Request::default()
    })?;
    Ok(match failed(&r) {
        Some(e) => Err(e),
        None => Ok(convert::values(codec.value_kind(), &r.values)?),
    })
}

fn section(
    codec: Codec,
    values: &[Value],
    oracle: &mut dyn Oracle,
) -> Result<Verdict, ReferenceError> {
    let ours = wired!(ours::encode_section(codec, values));
    let r = oracle.call(&encode_request(codec, values))?;
    let theirs = match failed(&r) {
        Some(e) => Err(e),
        None => Ok(unhex(&r.data).unwrap_or_default()),
    };
    let (ours, theirs) = match (ours, theirs) {
        (Ok(o), Ok(t)) => (o, t),
        (Err(_), Err(_)) => return Ok(Verdict::Same),
        (o, t) => {
            return Ok(Verdict::Mismatch(format!(
                "encode verdicts differ: ours {:?}, influxdb {:?}",
                o.map(|b| hex(&b)),
                t.map(|b| hex(&b))
            )));
        }
    };
    let byte_identical = codec != Codec::Values(Kind::String);
    if byte_identical && ours != theirs {
        return Ok(Verdict::Mismatch(format!(
            "encodings differ:\n  ours:     {}\n  influxdb: {}",
            hex(&ours),
            hex(&theirs)
        )));
    }
    let we_read_theirs = wired!(ours::decode_section(codec, &theirs));
    if we_read_theirs.as_deref() != Ok(values) {
        return Ok(Verdict::Mismatch(format!(
            "we decode InfluxDB's section {} as {we_read_theirs:?}",
            hex(&theirs)
        )));
    }
    if ours != theirs {
        let they_read_ours = go_decode_section(codec, &ours, oracle)?;
        if they_read_ours.as_deref() != Ok(values) {
            return Ok(Verdict::Mismatch(format!(
                "InfluxDB decodes our section {} as {they_read_ours:?}",
                hex(&ours)
            )));
        }
    }
    Ok(Verdict::Same)
}

/// Same verdict on damaged input; values, when both produce them, identical.
fn decode_verdict<T: PartialEq + std::fmt::Debug>(
    ours: Result<T, String>,
    theirs: Result<T, String>,
) -> Verdict {
    match (ours, theirs) {
        (Ok(o), Ok(t)) if o == t => Verdict::Same,
        (Err(_), Err(_)) => Verdict::Same,
        (Err(_), Ok(_)) => Verdict::Deliberate(STRICT_DECODE),
        (o, t) => Verdict::Mismatch(format!(
            "decodes differ:\n  ours:     {o:?}\n  influxdb: {t:?}"
        )),
    }
}

fn section_decode(
    codec: Codec,
    data: &[u8],
    oracle: &mut dyn Oracle,
) -> Result<Verdict, ReferenceError> {
    let ours = wired!(ours::decode_section(codec, data));
    let theirs = go_decode_section(codec, data, oracle)?;
    Ok(decode_verdict(ours, theirs))
}

fn go_decode_block(
    data: &[u8],
    oracle: &mut dyn Oracle,
) -> Result<Result<ours::DecodedBlock, String>, ReferenceError> {
    let r = oracle.call(&Request {
        op: "block_decode",
        data: hex(data),
        ..Request::default()
    })?;
    if let Some(e) = failed(&r) {
        return Ok(Err(e));
    }
    let kind = Kind::from_name(&r.kind).unwrap_or(Kind::Float);
    Ok(Ok((
        kind,
        r.times.clone(),
        convert::values(kind, &r.values)?,
    )))
}

fn block(
    kind: Kind,
    times: &[i64],
    values: &[Value],
    oracle: &mut dyn Oracle,
) -> Result<Verdict, ReferenceError> {
    let ours = wired!(ours::encode_block(kind, times, values));
    let r = oracle.call(&Request {
        op: "block_encode",
        kind: kind.name().into(),
        times: times.to_vec(),
        values: convert::wire_values(values),
        ..Request::default()
    })?;
    let theirs = match failed(&r) {
        Some(e) => Err(e),
        None => Ok(unhex(&r.data).unwrap_or_default()),
    };
    let (ours, theirs) = match (ours, theirs) {
        (Ok(o), Ok(t)) => (o, t),
        (Err(_), Err(_)) => return Ok(Verdict::Same),
        (o, t) => {
            return Ok(Verdict::Mismatch(format!(
                "block encode verdicts differ: ours {:?}, influxdb {:?}",
                o.map(|b| hex(&b)),
                t.map(|b| hex(&b))
            )));
        }
    };
    if kind != Kind::String && ours != theirs {
        return Ok(Verdict::Mismatch(format!(
            "blocks differ:\n  ours:     {}\n  influxdb: {}",
            hex(&ours),
            hex(&theirs)
        )));
    }
    let expected = Ok((kind, times.to_vec(), values.to_vec()));
    let we_read_theirs = wired!(ours::decode_block(&theirs));
    if we_read_theirs != expected {
        return Ok(Verdict::Mismatch(format!(
            "we decode InfluxDB's block {} as {we_read_theirs:?}",
            hex(&theirs)
        )));
    }
    if ours != theirs {
        let they_read_ours = go_decode_block(&ours, oracle)?;
        if they_read_ours != expected {
            return Ok(Verdict::Mismatch(format!(
                "InfluxDB decodes our block {} as {they_read_ours:?}",
                hex(&ours)
            )));
        }
    }
    Ok(Verdict::Same)
}

fn block_decode(data: &[u8], oracle: &mut dyn Oracle) -> Result<Verdict, ReferenceError> {
    let ours = wired!(ours::decode_block(data));
    let theirs = go_decode_block(data, oracle)?;
    Ok(decode_verdict(ours, theirs))
}

/// What a reader must return: the written values minus deleted ranges; keys left empty dropped.
fn expected_after(series: &[Series], deletes: &[Delete]) -> Vec<Series> {
    series
        .iter()
        .map(|s| {
            let gone = |t: i64| {
                deletes
                    .iter()
                    .any(|d| d.keys.contains(&s.key) && d.min <= t && t <= d.max)
            };
            let (times, values) = s
                .times
                .iter()
                .zip(&s.values)
                .filter(|(t, _)| !gone(**t))
                .map(|(t, v)| (*t, v.clone()))
                .unzip();
            Series {
                times,
                values,
                tombstones: Vec::new(),
                ..s.clone()
            }
        })
        .filter(|s| !s.times.is_empty())
        .collect()
}

/// Reader output normalised for comparison: tombstone lists dropped, empty keys dropped.
fn normalise(mut read: Vec<Series>) -> Vec<Series> {
    read.retain(|s| !s.times.is_empty());
    for s in &mut read {
        s.tombstones.clear();
    }
    read
}

fn go_tsm_read(
    file: &[u8],
    tomb: &[u8],
    oracle: &mut dyn Oracle,
) -> Result<Result<Vec<Series>, String>, ReferenceError> {
    let r = oracle.call(&Request {
        op: "tsm_read",
        data: hex(file),
        tombstone: hex(tomb),
        ..Request::default()
    })?;
    if let Some(e) = failed(&r) {
        return Ok(Err(e));
    }
    Ok(Ok(r
        .series
        .iter()
        .map(|s| convert::series(s, Kind::Float))
        .collect::<Result<_, _>>()?))
}

fn tsm(
    series: &[Series],
    deletes: &[Delete],
    oracle: &mut dyn Oracle,
) -> Result<Verdict, ReferenceError> {
    let ours = wired!(ours::tsm_write(series));
    let r = oracle.call(&Request {
        op: "tsm_write",
        series: series.iter().map(convert::wire_series).collect(),
        ..Request::default()
    })?;
    if let Some(e) = failed(&r) {
        return Ok(Verdict::Mismatch(format!(
            "InfluxDB could not write the file: {e}"
        )));
    }
    let theirs = unhex(&r.data).unwrap_or_default();
    let ours = match ours {
        Ok(o) => o,
        Err(e) => {
            return Ok(Verdict::Mismatch(format!(
                "we could not write the file: {e}"
            )));
        }
    };
    let has_strings = series.iter().any(|s| s.kind == Kind::String);
    if !has_strings && ours != theirs {
        return Ok(Verdict::Mismatch(format!(
            "TSM files differ ({} bytes ours, {} bytes InfluxDB's); first difference at byte {}",
            ours.len(),
            theirs.len(),
            ours.iter()
                .zip(&theirs)
                .position(|(a, b)| a != b)
                .unwrap_or(ours.len().min(theirs.len()))
        )));
    }
    let written = expected_after(series, &[]);
    let we_read = wired!(ours::tsm_read(&theirs, &[])).map(normalise);
    if we_read.as_ref() != Ok(&written) {
        return Ok(Verdict::Mismatch(format!(
            "we read InfluxDB's file as {we_read:?}"
        )));
    }
    if ours != theirs {
        let they_read = go_tsm_read(&ours, &[], oracle)?.map(normalise);
        if they_read.as_ref() != Ok(&written) {
            return Ok(Verdict::Mismatch(format!(
                "InfluxDB reads our file as {they_read:?}"
            )));
        }
    }
    if deletes.is_empty() {
        return Ok(Verdict::Same);
    }
    // Tombstones: each side records the deletes on InfluxDB's file; the other reads them.
    let (mut our_tomb, mut their_tomb) = (Vec::new(), Vec::new());
    for d in deletes {
        our_tomb = match wired!(ours::tsm_delete(&theirs, &our_tomb, &d.keys, d.min, d.max)) {
            Ok(t) => t,
            Err(e) => return Ok(Verdict::Mismatch(format!("we could not record {d:?}: {e}"))),
        };
        let r = oracle.call(&Request {
            op: "tsm_delete",
            data: hex(&theirs),
            tombstone: hex(&their_tomb),
            keys: d.keys.iter().map(|k| hex(k)).collect(),
            min: d.min,
            max: d.max,
            ..Request::default()
        })?;
        if let Some(e) = failed(&r) {
            return Ok(Verdict::Mismatch(format!(
                "InfluxDB could not record {d:?}: {e}"
            )));
        }
        their_tomb = unhex(&r.tombstone).unwrap_or_default();
    }
    let after = expected_after(series, deletes);
    let we_read = wired!(ours::tsm_read(&theirs, &their_tomb)).map(normalise);
    if we_read.as_ref() != Ok(&after) {
        return Ok(Verdict::Mismatch(format!(
            "with InfluxDB's tombstone file {} we read {we_read:?}",
            hex(&their_tomb)
        )));
    }
    let they_read = go_tsm_read(&theirs, &our_tomb, oracle)?.map(normalise);
    if they_read.as_ref() != Ok(&after) {
        return Ok(Verdict::Mismatch(format!(
            "with our tombstone file {} InfluxDB reads {they_read:?}",
            hex(&our_tomb)
        )));
    }
    Ok(Verdict::Same)
}

/// Write entries compare with their series in key order (InfluxDB keeps them in a map).
fn sorted(entries: &[WalEntry]) -> Vec<WalEntry> {
    entries
        .iter()
        .map(|e| match e {
            WalEntry::Write(s) => {
                let mut s = s.clone();
                s.sort_by(|a, b| a.key.cmp(&b.key));
                WalEntry::Write(s)
            }
            other => other.clone(),
        })
        .collect()
}

fn wal(entries: &[WalEntry], oracle: &mut dyn Oracle) -> Result<Verdict, ReferenceError> {
    let ours = wired!(ours::wal_write(entries));
    let r = oracle.call(&Request {
        op: "wal_write",
        entries: entries.iter().map(convert::wire_entry).collect(),
        ..Request::default()
    })?;
    if let Some(e) = failed(&r) {
        return Ok(Verdict::Mismatch(format!(
            "InfluxDB could not write the segment: {e}"
        )));
    }
    let theirs = unhex(&r.data).unwrap_or_default();
    let ours = match ours {
        Ok(o) => o,
        Err(e) => {
            return Ok(Verdict::Mismatch(format!(
                "we could not write the segment: {e}"
            )));
        }
    };
    let expected = sorted(entries);
    let (we_read, our_err) = wired!(ours::wal_read(&theirs));
    if our_err.is_some() || sorted(&we_read) != expected {
        return Ok(Verdict::Mismatch(format!(
            "we replay InfluxDB's segment {} as {we_read:?} (error {our_err:?})",
            hex(&theirs)
        )));
    }
    let r = oracle.call(&Request {
        op: "wal_read",
        data: hex(&ours),
        ..Request::default()
    })?;
    let they_read = r
        .entries
        .iter()
        .map(convert::entry)
        .collect::<Result<Vec<_>, _>>()?;
    if !r.ok || !r.err.is_empty() || sorted(&they_read) != expected {
        return Ok(Verdict::Mismatch(format!(
            "InfluxDB replays our segment {} as {they_read:?} (error {:?})",
            hex(&ours),
            r.err
        )));
    }
    Ok(Verdict::Same)
}

/// A damaged segment: both replay the same entries up to the damage. We may stop earlier than
/// InfluxDB (strict validation, spec §12.2) but never replay an entry it would not, or a
/// different one.
fn wal_damaged(data: &[u8], oracle: &mut dyn Oracle) -> Result<Verdict, ReferenceError> {
    let (ours, our_damage) = wired!(ours::wal_read(data));
    let r = oracle.call(&Request {
        op: "wal_read",
        data: hex(data),
        ..Request::default()
    })?;
    if !r.ok {
        return Ok(Verdict::Mismatch(format!(
            "wal-damaged: InfluxDB could not replay the segment: {}",
            r.err
        )));
    }
    let theirs = r
        .entries
        .iter()
        .map(convert::entry)
        .collect::<Result<Vec<_>, _>>()?;
    let (ours, theirs) = (sorted(&ours), sorted(&theirs));
    if ours == theirs {
        return Ok(Verdict::Same);
    }
    if ours.len() < theirs.len() && theirs.starts_with(&ours) && our_damage.is_some() {
        return Ok(Verdict::Deliberate(STRICT_WAL));
    }
    Ok(Verdict::Mismatch(format!(
        "wal-damaged: replays differ\n  ours ({} entries, damage {our_damage:?}): {ours:?}\n  influxdb ({} entries, error {:?}): {theirs:?}",
        ours.len(),
        theirs.len(),
        r.err
    )))
}
