//! `append_write` + `wait_durable`: the split write used by pipelined writers.

use tsmdb_wal::{ColumnRef, EntryKind, Record, Wal, WalOptions};

fn record<'a>(key: &'a [u8], ts: &'a [i64], v: &'a [f64]) -> Record<'a> {
    Record {
        key,
        timestamps: ts,
        values: ColumnRef::Float(v),
    }
}

#[test]
fn entries_keep_their_queue_order_and_one_wait_covers_the_earlier_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), WalOptions::default(), |_, _| {}).unwrap();
    let mut tickets = Vec::new();
    for n in 0..5i64 {
        let t = [n];
        let v = [n as f64 * 1.5];
        tickets.push(wal.append_write(&[record(b"m#!~#f", &t, &v)]).unwrap());
    }
    assert!(tickets.windows(2).all(|w| w[0] < w[1]), "{tickets:?}");
    // Waiting for the last entry makes every earlier one durable too (one fsync round).
    wal.wait_durable(tickets[4]).unwrap();
    for &t in &tickets {
        wal.wait_durable(t).unwrap();
    }
    wal.close().unwrap();
    drop(wal);
    let mut seen = Vec::new();
    let (_, rec) = Wal::open(dir.path(), WalOptions::default(), |_, e| {
        assert_eq!(e.kind(), EntryKind::Write);
        let r = e.records().next().unwrap();
        let ColumnRef::Float(v) = r.values else {
            panic!("not floats")
        };
        seen.push((r.timestamps[0], v[0]));
    })
    .unwrap();
    assert_eq!(rec.entries, 5);
    let want: Vec<(i64, f64)> = (0..5).map(|n| (n, n as f64 * 1.5)).collect();
    assert_eq!(seen, want);
}
