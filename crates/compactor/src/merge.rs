//! The k-way merge (spec §8.5): keys in order across all inputs; for each key its blocks from
//! every input, copied as bytes when nothing overlaps them and they are full, otherwise decoded,
//! cleaned of tombstoned values, merged (on equal timestamps the newer input wins) and re-encoded
//! into full blocks.

use tsmdb_encoding::{Column, FieldType};
use tsmdb_tsm_file::{IndexEntry, KeyEntries, TimeRange, TsmReader};

use crate::columns::{any_overlap, drop_front, extend, gather, remove_deleted};
use crate::error::{Error, Result, show_key};
use crate::output::Outputs;

/// What a merge did, for reports and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeStats {
    /// Keys written.
    pub keys: u64,
    /// Blocks read from the inputs.
    pub blocks_in: u64,
    /// Input blocks copied as bytes, without decoding.
    pub blocks_copied: u64,
    /// Input blocks decoded.
    pub blocks_decoded: u64,
    /// Blocks written (copied and encoded).
    pub blocks_out: u64,
    /// Values written.
    pub values_out: u64,
}

/// Reusable buffers of the merge (one set per compaction, no allocation per key after warm-up).
struct Scratch {
    pending_t: Vec<i64>,
    pending_v: Column,
    block_t: Vec<i64>,
    block_v: Column,
    cat_t: Vec<i64>,
    cat_v: Column,
    order: Vec<u32>,
    encoded: Vec<u8>,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            pending_t: Vec::new(),
            pending_v: Column::empty(FieldType::Float),
            block_t: Vec::new(),
            block_v: Column::empty(FieldType::Float),
            cat_t: Vec::new(),
            cat_v: Column::empty(FieldType::Float),
            order: Vec::new(),
            encoded: Vec::new(),
        }
    }
}

/// One block of the key being merged.
#[derive(Debug, Clone, Copy)]
struct KeyBlock {
    /// Index into the key's members (which are in input order: oldest first).
    member: usize,
    entry: IndexEntry,
}

/// The key's presence in one input.
struct Member<'a> {
    reader: &'a TsmReader,
    entries: KeyEntries<'a>,
    deleted: Vec<TimeRange>,
}

/// Merges `inputs` (oldest first) into `out`, blocks of at most `block_size` values.
pub(crate) fn merge(
    inputs: &[&TsmReader],
    out: &mut Outputs<'_>,
    block_size: usize,
    stats: &mut MergeStats,
) -> Result<()> {
    let block_size = block_size.max(1);
    let mut cursors: Vec<_> = inputs.iter().map(|r| r.keys()).collect();
    let mut heads: Vec<Option<KeyEntries<'_>>> = cursors.iter_mut().map(Iterator::next).collect();
    let mut scratch = Scratch::default();
    let mut members: Vec<Member<'_>> = Vec::with_capacity(inputs.len());
    let mut blocks: Vec<KeyBlock> = Vec::new();
    while let Some(key) = heads.iter().flatten().map(|k| k.key).min() {
        members.clear();
        for ((head, cursor), reader) in heads.iter_mut().zip(cursors.iter_mut()).zip(inputs) {
            if let Some(entries) = head.filter(|h| h.key == key) {
                let deleted = reader.with_deleted_ranges(entries.position, <[TimeRange]>::to_vec);
                members.push(Member {
                    reader,
                    entries,
                    deleted,
                });
                *head = cursor.next();
            }
        }
        merge_key(
            key,
            &members,
            &mut blocks,
            out,
            block_size,
            &mut scratch,
            stats,
        )?;
    }
    Ok(())
}

fn encoding_error(key: &[u8]) -> impl FnOnce(tsmdb_encoding::Error) -> Error + '_ {
    move |source| Error::Encoding {
        key: show_key(key),
        source,
    }
}

fn merge_key(
    key: &[u8],
    members: &[Member<'_>],
    blocks: &mut Vec<KeyBlock>,
    out: &mut Outputs<'_>,
    block_size: usize,
    s: &mut Scratch,
    stats: &mut MergeStats,
) -> Result<()> {
    let Some(first) = members.first() else {
        return Ok(());
    };
    let field_type = first.entries.field_type;
    if let Some(other) = members.iter().find(|m| m.entries.field_type != field_type) {
        return Err(Error::TypeConflict {
            key: show_key(key),
            older: first.reader.path().to_path_buf(),
            older_type: field_type,
            newer: other.reader.path().to_path_buf(),
            newer_type: other.entries.field_type,
        });
    }
    blocks.clear();
    for (member, m) in members.iter().enumerate() {
        blocks.extend(m.entries.iter().map(|entry| KeyBlock { member, entry }));
    }
    // Stable: blocks starting together stay in input order (older first).
    blocks.sort_by_key(|b| b.entry.min_time);
    stats.blocks_in += blocks.len() as u64;
    s.pending_t.clear();
    s.pending_v.reset(field_type);
    let mut wrote_any = false;

    let mut i = 0;
    while i < blocks.len() {
        // The group: this block and every later block overlapping the group's time span.
        let mut group_max = blocks.get(i).map_or(i64::MIN, |b| b.entry.max_time);
        let mut j = i + 1;
        while let Some(b) = blocks.get(j).filter(|b| b.entry.min_time <= group_max) {
            group_max = group_max.max(b.entry.max_time);
            j += 1;
        }
        let group = blocks.get(i..j).unwrap_or_default();
        if let [single] = group {
            let m = members
                .get(single.member)
                .ok_or_else(|| Error::InvalidPlan("member".into()))?;
            let clean = !any_overlap(&m.deleted, single.entry.min_time, single.entry.max_time);
            if clean && s.pending_t.is_empty() {
                let bytes = m.reader.block(key, &single.entry)?;
                let count = tsmdb_encoding::block_count(bytes).map_err(encoding_error(key))?;
                if count >= block_size {
                    out.write_block(
                        key,
                        field_type,
                        single.entry.min_time,
                        single.entry.max_time,
                        bytes,
                    )?;
                    stats.blocks_copied += 1;
                    stats.blocks_out += 1;
                    stats.values_out += count as u64;
                    wrote_any = true;
                    i = j;
                    continue;
                }
            }
            m.reader
                .decode_block(&m.entries, &single.entry, &mut s.block_t, &mut s.block_v)?;
            stats.blocks_decoded += 1;
            remove_deleted(&mut s.block_t, &mut s.block_v, &m.deleted);
            s.pending_t.extend_from_slice(&s.block_t);
            extend(&mut s.pending_v, &s.block_v);
        } else {
            merge_group(members, group, s, stats)?;
        }
        wrote_any |= emit(key, field_type, out, block_size, false, s, stats)?;
        i = j;
    }
    wrote_any |= emit(key, field_type, out, block_size, true, s, stats)?;
    if wrote_any {
        stats.keys += 1;
    }
    Ok(())
}

/// Decodes overlapping blocks and appends their merge to the pending values: values are
/// concatenated oldest input first, then stably sorted by time, and of equal timestamps the last
/// (newest) is kept.
fn merge_group(
    members: &[Member<'_>],
    group: &[KeyBlock],
    s: &mut Scratch,
    stats: &mut MergeStats,
) -> Result<()> {
    let mut by_age: Vec<KeyBlock> = group.to_vec();
    by_age.sort_by_key(|b| (b.member, b.entry.min_time));
    s.cat_t.clear();
    s.cat_v.reset(s.pending_v.field_type());
    for b in &by_age {
        let m = members
            .get(b.member)
            .ok_or_else(|| Error::InvalidPlan("member".into()))?;
        m.reader
            .decode_block(&m.entries, &b.entry, &mut s.block_t, &mut s.block_v)?;
        stats.blocks_decoded += 1;
        remove_deleted(&mut s.block_t, &mut s.block_v, &m.deleted);
        s.cat_t.extend_from_slice(&s.block_t);
        extend(&mut s.cat_v, &s.block_v);
    }
    s.order.clear();
    s.order.extend(0..s.cat_t.len() as u32);
    let times = &s.cat_t;
    s.order
        .sort_by_key(|&i| times.get(i as usize).copied().unwrap_or_default());
    // Keep the last of each run of equal timestamps.
    let time_at =
        |order: &[u32], k: usize| order.get(k).and_then(|&i| times.get(i as usize)).copied();
    let mut w = 0;
    for r in 0..s.order.len() {
        let next = time_at(&s.order, r + 1);
        if next.is_some() && next == time_at(&s.order, r) {
            continue;
        }
        s.order.swap(w, r);
        w += 1;
    }
    s.order.truncate(w);
    s.pending_t
        .extend(s.order.iter().filter_map(|&i| times.get(i as usize)));
    gather(&mut s.pending_v, &s.cat_v, &s.order);
    Ok(())
}

/// Encodes full blocks from the pending values (all of them when `all`), then drops them.
/// Returns true when something was written.
fn emit(
    key: &[u8],
    field_type: FieldType,
    out: &mut Outputs<'_>,
    block_size: usize,
    all: bool,
    s: &mut Scratch,
    stats: &mut MergeStats,
) -> Result<bool> {
    let n = s.pending_t.len();
    let upto = if all { n } else { n - n % block_size };
    let mut start = 0;
    while start < upto {
        let end = (start + block_size).min(upto);
        let times = s.pending_t.get(start..end).unwrap_or_default();
        let (Some(&min), Some(&max)) = (times.first(), times.last()) else {
            break;
        };
        s.encoded.clear();
        tsmdb_encoding::encode_block(
            times,
            s.pending_v.as_ref().slice(start..end),
            &mut s.encoded,
        )
        .map_err(encoding_error(key))?;
        out.write_block(key, field_type, min, max, &s.encoded)?;
        stats.blocks_out += 1;
        stats.values_out += (end - start) as u64;
        start = end;
    }
    if upto > 0 {
        drop_front(&mut s.pending_t, &mut s.pending_v, upto);
    }
    Ok(upto > 0)
}
