//! Small operations on typed columns that the merge needs (appending, filtering, gathering,
//! dropping a prefix), written once per type so the merge itself stays type-agnostic.

use tsmdb_encoding::{Column, StringColumn};
use tsmdb_tsm_file::TimeRange;

/// Appends `src[..]` to `dst`; `dst` must be of the same type (the merge checks key types first).
pub(crate) fn extend(dst: &mut Column, src: &Column) {
    match (dst, src) {
        (Column::Float(d), Column::Float(s)) => d.extend_from_slice(s),
        (Column::Integer(d), Column::Integer(s)) => d.extend_from_slice(s),
        (Column::Boolean(d), Column::Boolean(s)) => d.extend_from_slice(s),
        (Column::Unsigned(d), Column::Unsigned(s)) => d.extend_from_slice(s),
        (Column::String(d), Column::String(s)) => {
            for v in s.iter() {
                d.push(v);
            }
        }
        _ => debug_assert!(false, "column types differ"),
    }
}

/// Appends `src[i]` for every `i` in `indexes` to `dst` (same type).
pub(crate) fn gather(dst: &mut Column, src: &Column, indexes: &[u32]) {
    fn pick<T: Copy>(d: &mut Vec<T>, s: &[T], idx: &[u32]) {
        d.extend(idx.iter().filter_map(|&i| s.get(i as usize).copied()));
    }
    match (dst, src) {
        (Column::Float(d), Column::Float(s)) => pick(d, s, indexes),
        (Column::Integer(d), Column::Integer(s)) => pick(d, s, indexes),
        (Column::Boolean(d), Column::Boolean(s)) => pick(d, s, indexes),
        (Column::Unsigned(d), Column::Unsigned(s)) => pick(d, s, indexes),
        (Column::String(d), Column::String(s)) => {
            for &i in indexes {
                if let Some(v) = s.get(i as usize) {
                    d.push(v);
                }
            }
        }
        _ => debug_assert!(false, "column types differ"),
    }
}

/// Appends, for each pick in `picks`, `a[pick]` or (when `pick & from_b`) `b[pick & !from_b]`
/// to `dst` (all of one type).
pub(crate) fn gather2(dst: &mut Column, a: &Column, b: &Column, picks: &[u32], from_b: u32) {
    fn pick<T: Copy>(d: &mut Vec<T>, a: &[T], b: &[T], picks: &[u32], from_b: u32) {
        d.extend(picks.iter().filter_map(|&p| {
            let k = (p & !from_b) as usize;
            if p & from_b != 0 { b.get(k) } else { a.get(k) }.copied()
        }));
    }
    match (dst, a, b) {
        (Column::Float(d), Column::Float(x), Column::Float(y)) => pick(d, x, y, picks, from_b),
        (Column::Integer(d), Column::Integer(x), Column::Integer(y)) => {
            pick(d, x, y, picks, from_b)
        }
        (Column::Boolean(d), Column::Boolean(x), Column::Boolean(y)) => {
            pick(d, x, y, picks, from_b)
        }
        (Column::Unsigned(d), Column::Unsigned(x), Column::Unsigned(y)) => {
            pick(d, x, y, picks, from_b)
        }
        (Column::String(d), Column::String(x), Column::String(y)) => {
            for &p in picks {
                let k = (p & !from_b) as usize;
                if let Some(v) = if p & from_b != 0 { y.get(k) } else { x.get(k) } {
                    d.push(v);
                }
            }
        }
        _ => debug_assert!(false, "column types differ"),
    }
}

/// Removes the first `n` values.
pub(crate) fn drop_front(times: &mut Vec<i64>, values: &mut Column, n: usize) {
    let n = n.min(times.len());
    times.drain(..n);
    match values {
        Column::Float(v) => drop_vec(v, n),
        Column::Integer(v) => drop_vec(v, n),
        Column::Boolean(v) => drop_vec(v, n),
        Column::Unsigned(v) => drop_vec(v, n),
        Column::String(v) => {
            let rest: StringColumn = v.iter().skip(n).collect();
            *v = rest;
        }
    }
}

fn drop_vec<T>(v: &mut Vec<T>, n: usize) {
    v.drain(..n.min(v.len()));
}

/// True when `t` lies in one of `ranges` (sorted by `min`, non-overlapping).
pub(crate) fn is_deleted(ranges: &[TimeRange], t: i64) -> bool {
    let i = ranges.partition_point(|r| r.max < t);
    ranges.get(i).is_some_and(|r| r.min <= t)
}

/// True when any of `ranges` intersects `[min, max]`.
pub(crate) fn any_overlap(ranges: &[TimeRange], min: i64, max: i64) -> bool {
    ranges.iter().any(|r| r.min <= max && r.max >= min)
}

/// Drops the values whose timestamp is deleted by `ranges`, in place.
pub(crate) fn remove_deleted(times: &mut Vec<i64>, values: &mut Column, ranges: &[TimeRange]) {
    if ranges.is_empty() {
        return;
    }
    let keep: Vec<u32> = times
        .iter()
        .enumerate()
        .filter(|&(_, &t)| !is_deleted(ranges, t))
        .map(|(i, _)| i as u32)
        .collect();
    if keep.len() == times.len() {
        return;
    }
    let old_values = std::mem::replace(values, Column::empty(values.field_type()));
    gather(values, &old_values, &keep);
    let old_times = std::mem::take(times);
    times.extend(keep.iter().filter_map(|&i| old_times.get(i as usize)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deleted_ranges_are_inclusive() {
        let r = [TimeRange::new(2, 3), TimeRange::new(7, 7)];
        let hits: Vec<i64> = (0..10).filter(|&t| is_deleted(&r, t)).collect();
        assert_eq!(hits, [2, 3, 7]);
        assert!(any_overlap(&r, 3, 5));
        assert!(!any_overlap(&r, 4, 6));
    }

    #[test]
    fn remove_and_drop_front_keep_pairs_together() {
        let mut t = vec![1, 2, 3, 4, 5];
        let mut v = Column::String(
            ["a", "b", "c", "d", "e"]
                .iter()
                .map(|s| s.as_bytes())
                .collect(),
        );
        remove_deleted(
            &mut t,
            &mut v,
            &[TimeRange::new(2, 2), TimeRange::new(4, 4)],
        );
        assert_eq!(t, [1, 3, 5]);
        drop_front(&mut t, &mut v, 1);
        assert_eq!(t, [3, 5]);
        let Column::String(s) = &v else {
            panic!("type kept")
        };
        assert_eq!(s.iter().collect::<Vec<_>>(), [b"c".as_slice(), b"e"]);
        let mut f = Column::Float(vec![]);
        gather(&mut f, &Column::Float(vec![1.0, 2.0, 3.0]), &[2, 0]);
        assert_eq!(f, Column::Float(vec![3.0, 1.0]));
        extend(&mut f, &Column::Float(vec![9.0]));
        assert_eq!(f, Column::Float(vec![3.0, 1.0, 9.0]));
    }
}
