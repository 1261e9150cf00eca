//! The k-way merge (spec §8.5): keys in order across all inputs; for each key its blocks from
//! every input, copied as bytes when nothing overlaps them and they are full, otherwise decoded,
//! cleaned of tombstoned values, merged (on equal timestamps the newer input wins) and re-encoded
//! into full blocks.

use tsmdb_encoding::{Column, FieldType};
use tsmdb_tsm_file::{IndexEntry, KeyEntries, TimeRange, TsmReader};

use crate::columns::{any_overlap, drop_front, extend, gather2, remove_deleted};
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
    /// Input rank (age) of each pending value, to settle equal timestamps.
    pending_r: Vec<u32>,
    pending_v: Column,
    block_t: Vec<i64>,
    block_v: Column,
    cat_t: Vec<i64>,
    cat_r: Vec<u32>,
    cat_v: Column,
    order: Vec<u32>,
    encoded: Vec<u8>,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            pending_t: Vec::new(),
            pending_r: Vec::new(),
            pending_v: Column::empty(FieldType::Float),
            block_t: Vec::new(),
            block_v: Column::empty(FieldType::Float),
            cat_t: Vec::new(),
            cat_r: Vec::new(),
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
    s.pending_r.clear();
    s.pending_v.reset(field_type);
    let mut wrote_any = false;

    for (i, b) in blocks.iter().enumerate() {
        let m = members
            .get(b.member)
            .ok_or_else(|| Error::InvalidPlan("member".into()))?;
        // Values before this bound can no longer meet a value of a later block.
        let next_min = blocks.get(i + 1).map(|n| n.entry.min_time);
        let alone = next_min.is_none_or(|n| n > b.entry.max_time);
        let clean = !any_overlap(&m.deleted, b.entry.min_time, b.entry.max_time);
        if alone && clean && s.pending_t.is_empty() {
            // Nothing pending and nothing later overlaps: a full block is copied as it is.
            let bytes = m.reader.block(key, &b.entry)?;
            let count = tsmdb_encoding::block_count(bytes).map_err(encoding_error(key))?;
            if count >= block_size {
                out.write_block(key, field_type, b.entry.min_time, b.entry.max_time, bytes)?;
                stats.blocks_copied += 1;
                stats.blocks_out += 1;
                stats.values_out += count as u64;
                wrote_any = true;
                continue;
            }
        }
        m.reader
            .decode_block(&m.entries, &b.entry, &mut s.block_t, &mut s.block_v)?;
        stats.blocks_decoded += 1;
        remove_deleted(&mut s.block_t, &mut s.block_v, &m.deleted);
        merge_block(s, b.member as u32);
        let ready = match next_min {
            Some(n) => s.pending_t.partition_point(|&t| t < n),
            None => s.pending_t.len(),
        };
        wrote_any |= emit(
            key,
            field_type,
            out,
            block_size,
            ready,
            next_min.is_none(),
            s,
            stats,
        )?;
    }
    if wrote_any {
        stats.keys += 1;
    }
    Ok(())
}

/// Merges the decoded block (`block_t`, `block_v`, from the input of age `rank`) into the
/// pending values, which stay sorted with unique timestamps: on equal timestamps the value of
/// the newer input (higher rank) wins, the block's on a tie of ranks.
fn merge_block(s: &mut Scratch, rank: u32) {
    if s.block_t.is_empty() {
        return;
    }
    let after_pending = match (s.pending_t.last(), s.block_t.first()) {
        (Some(last), Some(first)) => first > last,
        _ => true,
    };
    if after_pending {
        // The common case: blocks of one key follow each other in time.
        s.pending_t.extend_from_slice(&s.block_t);
        s.pending_r
            .extend(std::iter::repeat_n(rank, s.block_t.len()));
        extend(&mut s.pending_v, &s.block_v);
        return;
    }
    // Picks: index into pending (< 2^31) or into the block (bit 31 set).
    const FROM_BLOCK: u32 = 1 << 31;
    s.order.clear();
    let (pt, bt, pr) = (&s.pending_t, &s.block_t, &s.pending_r);
    let (mut i, mut j) = (0usize, 0usize);
    while let (Some(&a), Some(&b)) = (pt.get(i), bt.get(j)) {
        if a < b {
            s.order.push(i as u32);
            i += 1;
        } else if b < a {
            s.order.push(j as u32 | FROM_BLOCK);
            j += 1;
        } else {
            let pending_rank = pr.get(i).copied().unwrap_or_default();
            s.order.push(if rank >= pending_rank {
                j as u32 | FROM_BLOCK
            } else {
                i as u32
            });
            i += 1;
            j += 1;
        }
    }
    s.order.extend((i..pt.len()).map(|k| k as u32));
    s.order.extend((j..bt.len()).map(|k| k as u32 | FROM_BLOCK));

    s.cat_t.clear();
    s.cat_r.clear();
    s.cat_v.reset(s.pending_v.field_type());
    for &o in &s.order {
        let k = (o & !FROM_BLOCK) as usize;
        if o & FROM_BLOCK != 0 {
            s.cat_t.extend(bt.get(k));
            s.cat_r.push(rank);
        } else {
            s.cat_t.extend(pt.get(k));
            s.cat_r.extend(pr.get(k));
        }
    }
    gather2(&mut s.cat_v, &s.pending_v, &s.block_v, &s.order, FROM_BLOCK);
    std::mem::swap(&mut s.pending_t, &mut s.cat_t);
    std::mem::swap(&mut s.pending_r, &mut s.cat_r);
    std::mem::swap(&mut s.pending_v, &mut s.cat_v);
}

/// Encodes the first `ready` pending values (whole blocks only, unless `all`), then drops them.
/// Returns true when something was written.
#[allow(clippy::too_many_arguments)]
fn emit(
    key: &[u8],
    field_type: FieldType,
    out: &mut Outputs<'_>,
    block_size: usize,
    ready: usize,
    all: bool,
    s: &mut Scratch,
    stats: &mut MergeStats,
) -> Result<bool> {
    let upto = if all {
        ready
    } else {
        ready - ready % block_size
    };
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
        s.pending_r.drain(..upto.min(s.pending_r.len()));
    }
    Ok(upto > 0)
}
