//! Merging the values of one key from several sources (TSM files, the cache): every source is
//! sorted with unique timestamps; on equal timestamps the later source wins (newer file beats
//! older, cache beats files: tsm-format.md §9.2).

use tsmdb_encoding::Column;

use crate::error::{Error, Result};

/// Appends `src` (sorted, unique) over `acc` (sorted, unique): the result is sorted and unique,
/// and `src` wins on equal timestamps. `scratch` buffers are reused between calls.
pub(crate) fn merge_into(
    acc_ts: &mut Vec<i64>,
    acc: &mut Column,
    src_ts: &[i64],
    src: &Column,
    key: &[u8],
) -> Result<()> {
    if src_ts.is_empty() {
        return Ok(());
    }
    if acc_ts.is_empty() {
        acc_ts.extend_from_slice(src_ts);
        // Reuses `acc`'s allocation when it already holds this type.
        acc.reset(src.field_type());
        append(acc, src, 0..src_ts.len());
        return Ok(());
    }
    if acc.field_type() != src.field_type() {
        return Err(Error::InvalidQuery(format!(
            "key {} holds {} values in one file and {} in another",
            String::from_utf8_lossy(key),
            acc.field_type(),
            src.field_type()
        )));
    }
    // Fast path: everything in src is newer than everything in acc (the usual case: files hold
    // older data than the cache).
    if acc_ts.last() < src_ts.first() {
        acc_ts.extend_from_slice(src_ts);
        append(acc, src, 0..src_ts.len());
        return Ok(());
    }
    // picks[i] = (from_src, index)
    let mut picks: Vec<(bool, usize)> = Vec::with_capacity(acc_ts.len() + src_ts.len());
    let mut ts = Vec::with_capacity(acc_ts.len() + src_ts.len());
    let (mut i, mut j) = (0, 0);
    while i < acc_ts.len() || j < src_ts.len() {
        let a = acc_ts.get(i).copied();
        let b = src_ts.get(j).copied();
        match (a, b) {
            (Some(x), Some(y)) if x < y => {
                picks.push((false, i));
                ts.push(x);
                i += 1;
            }
            (Some(x), Some(y)) if x == y => {
                picks.push((true, j));
                ts.push(y);
                i += 1;
                j += 1;
            }
            (_, Some(y)) => {
                picks.push((true, j));
                ts.push(y);
                j += 1;
            }
            (Some(x), None) => {
                picks.push((false, i));
                ts.push(x);
                i += 1;
            }
            (None, None) => break,
        }
    }
    let merged = gather(acc, src, &picks);
    *acc_ts = ts;
    *acc = merged;
    Ok(())
}

fn append(dst: &mut Column, src: &Column, range: std::ops::Range<usize>) {
    match (dst, src) {
        (Column::Float(d), Column::Float(s)) => d.extend_from_slice(&s[range]),
        (Column::Integer(d), Column::Integer(s)) => d.extend_from_slice(&s[range]),
        (Column::Unsigned(d), Column::Unsigned(s)) => d.extend_from_slice(&s[range]),
        (Column::Boolean(d), Column::Boolean(s)) => d.extend_from_slice(&s[range]),
        (Column::String(d), Column::String(s)) => {
            for i in range {
                d.push(s.get(i).unwrap_or_default());
            }
        }
        _ => {}
    }
}

fn gather(a: &Column, b: &Column, picks: &[(bool, usize)]) -> Column {
    fn pick<T: Copy>(a: &[T], b: &[T], picks: &[(bool, usize)]) -> Vec<T> {
        picks
            .iter()
            .map(|&(from_b, i)| if from_b { b[i] } else { a[i] })
            .collect()
    }
    match (a, b) {
        (Column::Float(x), Column::Float(y)) => Column::Float(pick(x, y, picks)),
        (Column::Integer(x), Column::Integer(y)) => Column::Integer(pick(x, y, picks)),
        (Column::Unsigned(x), Column::Unsigned(y)) => Column::Unsigned(pick(x, y, picks)),
        (Column::Boolean(x), Column::Boolean(y)) => Column::Boolean(pick(x, y, picks)),
        (Column::String(x), Column::String(y)) => Column::String(
            picks
                .iter()
                .map(|&(from_b, i)| if from_b { y.get(i) } else { x.get(i) }.unwrap_or_default())
                .collect(),
        ),
        // Types were checked by the caller.
        _ => Column::empty(a.field_type()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        #[test]
        fn later_sources_win_and_output_is_sorted_unique(
            sources in proptest::collection::vec(
                proptest::collection::btree_map(-50i64..50, any::<i64>(), 0..20), 1..5)
        ) {
            let mut model = BTreeMap::new();
            let mut ts = Vec::new();
            let mut col = Column::Integer(Vec::new());
            for s in &sources {
                let t: Vec<i64> = s.keys().copied().collect();
                let v = Column::Integer(s.values().copied().collect());
                merge_into(&mut ts, &mut col, &t, &v, b"k").unwrap();
                model.extend(s.iter().map(|(k, v)| (*k, *v)));
            }
            let Column::Integer(vals) = col else { panic!("type changed") };
            let got: Vec<(i64, i64)> = ts.into_iter().zip(vals).collect();
            let want: Vec<(i64, i64)> = model.into_iter().collect();
            prop_assert_eq!(got, want);
        }
    }
}
