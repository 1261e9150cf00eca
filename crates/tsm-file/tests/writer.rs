//! Writer rules: sorted keys, increasing times, the 65,535-block and file-size limits (clean files
//! and a roll, never a lost value), atomic commit, bounded index memory.

use tsmdb_encoding::{ColumnRef, FieldType};
use tsmdb_tsm_file::{
    BlockWrite, Error, FullReason, MAX_INDEX_ENTRIES, TimeRange, TsmReader, TsmWriter, Values,
    ValuesWrite, WriterOptions, tmp_path,
};

fn floats(n: usize) -> (Vec<i64>, Vec<f64>) {
    (
        (0..n as i64).map(|i| i * 10).collect(),
        (0..n).map(|i| i as f64 * 0.5).collect(),
    )
}

#[test]
fn refuses_unsorted_keys_and_out_of_order_times() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = TsmWriter::create(dir.path().join("a.tsm")).unwrap();
    let (t, v) = floats(3);
    assert_eq!(
        w.write_values(b"b", &t, ColumnRef::Float(&v)).unwrap(),
        ValuesWrite::All
    );
    let e = w.write_values(b"a", &t, ColumnRef::Float(&v)).unwrap_err();
    assert!(matches!(e, Error::UnsortedKey { .. }), "{e}");
    assert!(e.to_string().contains("sorted order"), "{e}");
    // same key again must continue after its last time
    let e = w.write_values(b"b", &t, ColumnRef::Float(&v)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::OutOfOrder {
                time: 0,
                previous: 20,
                ..
            }
        ),
        "{e}"
    );
    let e = w
        .write_values(b"c", &[5, 5], ColumnRef::Float(&[1.0, 2.0]))
        .unwrap_err();
    assert!(matches!(e, Error::OutOfOrder { .. }), "{e}");
    let e = w
        .write_values(b"c", &[5, 4], ColumnRef::Float(&[1.0, 2.0]))
        .unwrap_err();
    assert!(matches!(e, Error::OutOfOrder { .. }), "{e}");
    let e = w
        .write_values(b"c", &[1], ColumnRef::Float(&[f64::NAN]))
        .unwrap_err();
    assert!(e.to_string().contains("NaN"), "{e}");
    let e = w
        .write_values(b"b", &[100], ColumnRef::Integer(&[1]))
        .unwrap_err();
    assert!(matches!(e, Error::TypeMismatch { .. }), "{e}");
    let e = w
        .write_values(b"c", &[1, 2], ColumnRef::Float(&[1.0]))
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
    let long = vec![b'k'; 65536];
    let e = w
        .write_values(&long, &[1], ColumnRef::Float(&[1.0]))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("max key length exceeded: 65536 > 65535"),
        "{e}"
    );
    // the failed calls wrote nothing: the file holds exactly key b
    let summary = w.finish().unwrap();
    assert_eq!((summary.key_count, summary.block_count), (1, 1));
    let r = TsmReader::open(&summary.path).unwrap();
    let mut vals = Values::new();
    assert!(r.read_values(b"b", TimeRange::ALL, &mut vals).unwrap());
    assert_eq!(vals.timestamps, t);
}

#[test]
fn commits_atomically_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("000000001-000000001.tsm");
    // nothing written: no file at all
    let w = TsmWriter::create(&path).unwrap();
    assert!(tmp_path(&path).exists() && !path.exists());
    assert!(matches!(w.finish(), Err(Error::NoValues)));
    assert!(!tmp_path(&path).exists() && !path.exists());
    // dropped before finish: no file at all
    let mut w = TsmWriter::create(&path).unwrap();
    let (t, v) = floats(10);
    let _ = w.write_values(b"k", &t, ColumnRef::Float(&v)).unwrap();
    drop(w);
    assert!(!tmp_path(&path).exists() && !path.exists());
    // a temp file in the way means another writer: refuse
    std::fs::write(tmp_path(&path), b"").unwrap();
    assert!(TsmWriter::create(&path).is_err());
    std::fs::remove_file(tmp_path(&path)).unwrap();
    // finished: only the final file
    let mut w = TsmWriter::create(&path).unwrap();
    let _ = w.write_values(b"k", &t, ColumnRef::Float(&v)).unwrap();
    let s = w.finish().unwrap();
    assert_eq!(s.size, std::fs::metadata(&path).unwrap().len());
    assert!(!tmp_path(&path).exists());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn blocks_hold_at_most_the_configured_number_of_values() {
    let dir = tempfile::tempdir().unwrap();
    for (per_block, n) in [(1000, 2500), (7, 50), (1, 3)] {
        let path = dir.path().join(format!("{per_block}.tsm"));
        let options = WriterOptions {
            max_values_per_block: per_block,
            ..Default::default()
        };
        let mut w = TsmWriter::with_options(&path, options).unwrap();
        let (t, v) = floats(n);
        let _ = w.write_values(b"k", &t, ColumnRef::Float(&v)).unwrap();
        w.finish().unwrap();
        let r = TsmReader::open(&path).unwrap();
        let k = r.key(b"k").unwrap();
        assert_eq!(k.len(), n.div_ceil(per_block));
        let mut times = Vec::new();
        let mut col = tsmdb_encoding::Column::empty(FieldType::Float);
        for e in k.iter() {
            r.decode_block(&k, &e, &mut times, &mut col).unwrap();
            assert!(times.len() <= per_block);
        }
    }
}

#[test]
fn a_key_past_65535_blocks_continues_in_the_next_file() {
    let dir = tempfile::tempdir().unwrap();
    let options = WriterOptions {
        max_values_per_block: 1,
        ..Default::default()
    };
    let n = MAX_INDEX_ENTRIES + 10;
    let (t, v) = floats(n);
    let first = dir.path().join("000000001-000000001.tsm");
    let mut w = TsmWriter::with_options(&first, options.clone()).unwrap();
    let _ = w
        .write_values(b"a", &[-1], ColumnRef::Float(&[9.0]))
        .unwrap();
    let written = match w.write_values(b"k", &t, ColumnRef::Float(&v)).unwrap() {
        ValuesWrite::Partial {
            written,
            reason: FullReason::MaxBlocksPerKey,
        } => written,
        other => panic!("{other:?}"),
    };
    assert_eq!(written, MAX_INDEX_ENTRIES);
    // the raw layer says the same, without writing
    let block = [0u8, 1, 2];
    assert_eq!(
        w.write_block(b"k", FieldType::Float, i64::MAX - 1, i64::MAX - 1, &block)
            .unwrap(),
        BlockWrite::Full(FullReason::MaxBlocksPerKey)
    );
    w.finish().unwrap();
    let second = dir.path().join("000000001-000000002.tsm");
    let mut w = TsmWriter::with_options(&second, options).unwrap();
    let rest = w
        .write_values(b"k", &t[written..], ColumnRef::Float(&v[written..]))
        .unwrap();
    assert_eq!(rest, ValuesWrite::All);
    w.finish().unwrap();

    let mut all = Vec::new();
    let mut vals = Values::new();
    for p in [&first, &second] {
        let r = TsmReader::open(p).unwrap();
        assert!(r.key(b"k").unwrap().len() <= MAX_INDEX_ENTRIES);
        r.read_values(b"k", TimeRange::ALL, &mut vals).unwrap();
        all.extend_from_slice(&vals.timestamps);
    }
    assert_eq!(all, t, "every value is in exactly one file");
}

#[test]
fn the_size_limit_ends_files_cleanly_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let limit = 3000u64;
    let options = WriterOptions {
        max_file_size: limit,
        max_values_per_block: 50,
        ..Default::default()
    };
    let keys: Vec<Vec<u8>> = (0..40)
        .map(|i| format!("cpu,host=h{i:03}#!~#v").into_bytes())
        .collect();
    let (t, _) = floats(120);
    let values: Vec<i64> = (0..120).map(|i| i * i * 7919 % 1_000_003).collect();
    let mut seq = 1;
    let mut files = Vec::new();
    let mut w =
        TsmWriter::with_options(dir.path().join("000000001-000000001.tsm"), options.clone())
            .unwrap();
    for key in &keys {
        let mut start = 0;
        loop {
            match w
                .write_values(key, &t[start..], ColumnRef::Integer(&values[start..]))
                .unwrap()
            {
                ValuesWrite::All => break,
                ValuesWrite::Partial { written, reason } => {
                    assert_eq!(reason, FullReason::MaxFileSize);
                    start += written;
                    files.push(w.finish().unwrap());
                    seq += 1;
                    let path = dir.path().join(format!("000000001-{seq:09}.tsm"));
                    w = TsmWriter::with_options(path, options.clone()).unwrap();
                }
            }
        }
    }
    files.push(w.finish().unwrap());
    assert!(files.len() > 3, "the limit should have cut several files");
    let mut vals = Values::new();
    let mut per_key: Vec<Vec<i64>> = vec![Vec::new(); keys.len()];
    for f in &files {
        let size = std::fs::metadata(&f.path).unwrap().len();
        assert!(size <= limit, "{} is {size} bytes", f.path.display());
        assert_eq!(size, f.size);
        let r = TsmReader::open(&f.path).unwrap();
        for (i, key) in keys.iter().enumerate() {
            if r.read_values(key, TimeRange::ALL, &mut vals).unwrap() {
                let tsmdb_encoding::Column::Integer(v) = &vals.values else {
                    panic!()
                };
                for (tt, vv) in vals.timestamps.iter().zip(v) {
                    assert_eq!(values[(*tt / 10) as usize], *vv);
                }
                per_key[i].extend_from_slice(&vals.timestamps);
            }
        }
    }
    for got in per_key {
        assert_eq!(got, t);
    }
}

#[test]
fn a_block_larger_than_the_limit_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let options = WriterOptions {
        max_file_size: 64,
        ..Default::default()
    };
    let mut w = TsmWriter::with_options(dir.path().join("x.tsm"), options).unwrap();
    let (t, v) = floats(100);
    let e = w.write_values(b"k", &t, ColumnRef::Float(&v)).unwrap_err();
    assert!(matches!(e, Error::BlockTooLarge { .. }), "{e}");
    // the limit cannot be raised past what InfluxDB can read
    let options = WriterOptions {
        max_file_size: 10 << 30,
        ..Default::default()
    };
    let w = TsmWriter::with_options(dir.path().join("y.tsm"), options).unwrap();
    assert_eq!(
        w.options().max_file_size,
        tsmdb_tsm_file::DEFAULT_MAX_FILE_SIZE
    );
}

#[test]
fn a_spilled_index_gives_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    for threshold in [usize::MAX, 64] {
        let path = dir.path().join(format!("{threshold}.tsm"));
        let options = WriterOptions {
            index_spill_threshold: threshold,
            ..Default::default()
        };
        let mut w = TsmWriter::with_options(&path, options).unwrap();
        for i in 0..500 {
            let key = format!("m,k={i:05}#!~#f");
            let _ = w
                .write_values(key.as_bytes(), &[i, i + 1], ColumnRef::Unsigned(&[1, 2]))
                .unwrap();
        }
        w.finish().unwrap();
        bytes.push(std::fs::read(&path).unwrap());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
    assert!(bytes[0] == bytes[1]);
    assert_eq!(
        TsmReader::from_bytes("x", bytes.remove(0), Default::default())
            .unwrap()
            .key_count(),
        500
    );
}
