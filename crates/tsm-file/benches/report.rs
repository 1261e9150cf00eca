//! Figures for `cargo xtask bench` (see `xtask/src/bench.rs` for the ROW contract). Every figure
//! has a baseline measured in the same run. `TSMDB_BENCH_QUICK=1` shrinks the data sets.

#[path = "common.rs"]
mod common;

use std::hint::black_box;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use tsmdb_encoding::{Column, ColumnRef, FieldType, decode_block, encode_block};
use tsmdb_tsm_file::{TimeRange, TsmReader, TsmWriter, Values};

fn row(group: &str, figure: &str, value: f64, unit: &str, baseline: &str, baseline_value: f64) {
    println!("ROW\t{group}\t{figure}\t{value:.3}\t{unit}\t{baseline}\t{baseline_value:.3}");
}

/// Best of `runs` timings of `f`.
fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let quick = std::env::var("TSMDB_BENCH_QUICK").is_ok_and(|v| v == "1");
    let dir = tempfile::tempdir().expect("tempdir");
    let runs = if quick { 2 } else { 3 };

    // --- write throughput vs pure encoding of the same values
    let (keys, per_key) = if quick { (200, 5000) } else { (1000, 10_000) };
    let data: Vec<_> = (0..keys)
        .map(|k| common::series(per_key, k as u64 + 1))
        .collect();
    let mut n = 0;
    let mut file_bytes = 0u64;
    let write = best(runs, || {
        n += 1;
        let path = dir.path().join(format!("w{n}.tsm"));
        let mut w = TsmWriter::create(&path).expect("create");
        for (k, (t, v)) in data.iter().enumerate() {
            let _ = w
                .write_values(&common::key(k), t, ColumnRef::Float(v))
                .expect("write");
        }
        file_bytes = w.finish().expect("finish").size;
        std::fs::remove_file(path).expect("rm");
    });
    let mut buf = Vec::new();
    let encode = best(runs, || {
        for (t, v) in &data {
            for start in (0..t.len()).step_by(1000) {
                let end = (start + 1000).min(t.len());
                buf.clear();
                encode_block(&t[start..end], ColumnRef::Float(&v[start..end]), &mut buf)
                    .expect("encode");
            }
        }
    });
    let mb = file_bytes as f64 / 1e6;
    let values = (keys * per_key) as f64;
    row(
        "tsm-file",
        "write (floats, incl. fsync)",
        mb / write.as_secs_f64(),
        "MB/s",
        "encode only",
        mb / encode.as_secs_f64(),
    );
    row(
        "tsm-file",
        "write values/s",
        values / write.as_secs_f64() / 1e6,
        "Mvalues/s",
        "encode only",
        values / encode.as_secs_f64() / 1e6,
    );

    // --- full scan with CRC + decode vs pure decode of the same blocks from memory
    let path = common::write_values_file(dir.path(), "scan.tsm", keys, per_key);
    let reader = TsmReader::open(&path).expect("open");
    let blocks = common::all_blocks(&reader);
    let mut v = Values::new();
    let scan = best(runs, || {
        let mut total = 0;
        for k in reader.keys() {
            reader
                .read_values(k.key, TimeRange::ALL, &mut v)
                .expect("read");
            total += v.len();
        }
        total
    });
    let (mut t, mut col) = (Vec::new(), Column::empty(FieldType::Float));
    let decode = best(runs, || {
        let mut total = 0;
        for b in &blocks {
            decode_block(b, &mut t, &mut col).expect("decode");
            total += t.len();
        }
        total
    });
    row(
        "tsm-file",
        "full scan (CRC+decode+copy)",
        values / scan.as_secs_f64() / 1e6,
        "Mvalues/s",
        "decode from memory",
        values / decode.as_secs_f64() / 1e6,
    );

    // --- block fetch: mmap (what the reader does) vs pread into a reused buffer
    let entries: Vec<_> = reader.blocks().map(|(k, e)| (k.key.to_vec(), e)).collect();
    let bytes: f64 = entries.iter().map(|(_, e)| f64::from(e.size)).sum::<f64>() / 1e6;
    let mmap = best(runs + 2, || {
        for (k, e) in &entries {
            black_box(reader.block(k, e).expect("block"));
        }
    });
    let file = std::fs::File::open(&path).expect("open");
    let mut pbuf = Vec::new();
    let pread = best(runs + 2, || {
        for (_, e) in &entries {
            pbuf.resize(e.size as usize, 0);
            file.read_exact_at(&mut pbuf, e.offset).expect("pread");
            let stored = u32::from_be_bytes([pbuf[0], pbuf[1], pbuf[2], pbuf[3]]);
            assert_eq!(stored, crc32fast::hash(&pbuf[4..]));
        }
    });
    row(
        "tsm-file",
        "block fetch + CRC, mmap",
        bytes / mmap.as_secs_f64(),
        "MB/s",
        "pread",
        bytes / pread.as_secs_f64(),
    );
    drop(reader);

    // --- open time of a file with many keys, vs one pass over its index bytes
    let many = if quick { 100_000 } else { 1_000_000 };
    let big = common::write_raw_file(dir.path(), "keys.tsm", many, 16);
    let open = best(runs, || TsmReader::open(&big).expect("open").key_count());
    let r = TsmReader::open(&big).expect("open");
    let index = std::fs::read(&big).expect("read")[r.index_offset() as usize..].to_vec();
    let pass = best(runs, || crc32fast::hash(&index));
    row(
        "tsm-file",
        &format!("open, {}k keys", many / 1000),
        open.as_secs_f64() * 1e3,
        "ms",
        "CRC of the index bytes",
        pass.as_secs_f64() * 1e3,
    );

    // --- lookup latency of one key (p50, p99) vs binary search of the same keys in memory
    let probes: Vec<Vec<u8>> = (0..20_000)
        .map(|i| common::key((i * 7919) % many))
        .collect();
    let mut lat = Vec::with_capacity(probes.len());
    for p in &probes {
        let s = Instant::now();
        black_box(r.key(p).map(|k| k.len()));
        lat.push(s.elapsed().as_nanos() as f64);
    }
    let all_keys: Vec<Vec<u8>> = (0..many).map(common::key).collect();
    let mut base = Vec::with_capacity(probes.len());
    for p in &probes {
        let s = Instant::now();
        black_box(all_keys.binary_search(p).is_ok());
        base.push(s.elapsed().as_nanos() as f64);
    }
    let pct = |v: &mut Vec<f64>, q: f64| {
        v.sort_by(f64::total_cmp);
        v[((v.len() as f64 - 1.0) * q) as usize]
    };
    row(
        "tsm-file",
        "lookup p50",
        pct(&mut lat, 0.5),
        "ns",
        "Vec<Vec<u8>> binary search p50",
        pct(&mut base, 0.5),
    );
    row(
        "tsm-file",
        "lookup p99",
        pct(&mut lat, 0.99),
        "ns",
        "Vec<Vec<u8>> binary search p99",
        pct(&mut base, 0.99),
    );
    drop(r);
    drop(all_keys);
    std::fs::remove_file(&big).expect("rm");

    // --- open cost independent of data size: same key count, 16-byte vs 4 KiB blocks
    let k2 = if quick { 5_000 } else { 20_000 };
    let small = common::write_raw_file(dir.path(), "small-data.tsm", k2, 16);
    let large = common::write_raw_file(dir.path(), "large-data.tsm", k2, 4096);
    let size = |p: &std::path::Path| std::fs::metadata(p).expect("meta").len() as f64 / 1e6;
    let open_large = best(runs + 2, || {
        TsmReader::open(&large).expect("open").key_count()
    });
    let open_small = best(runs + 2, || {
        TsmReader::open(&small).expect("open").key_count()
    });
    row(
        "tsm-file",
        &format!("open, {}k keys, {:.0} MB file", k2 / 1000, size(&large)),
        open_large.as_secs_f64() * 1e3,
        "ms",
        &format!("same keys, {:.1} MB file", size(&small)),
        open_small.as_secs_f64() * 1e3,
    );
}
