//! Property tests: every codec round-trips adversarial shapes exactly, and no decoder panics or
//! misbehaves on arbitrary or damaged bytes.

use proptest::collection::vec;
use proptest::prelude::*;
use tsmdb_encoding::*;

/// Sizes that matter: empty, one, two (RLE boundary), small, and a full 1000-value block.
fn len() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0usize),
        Just(1),
        Just(2),
        Just(3),
        0usize..300,
        Just(1000),
        Just(241)
    ]
}

fn timestamps() -> impl Strategy<Value = Vec<i64>> {
    prop_oneof![
        // regular with a shared power-of-ten step, from any start
        (any::<i64>(), 0u32..13, 1i64..100, len()).prop_map(|(start, k, step, n)| {
            let step = step.saturating_mul(10i64.pow(k));
            (0..n as i64)
                .map(|i| start.wrapping_add(i.wrapping_mul(step)))
                .collect()
        }),
        // 10 s with up to 1 ms of nanosecond jitter
        (any::<u32>(), len(), vec(0i64..1_000_000, 1000)).prop_map(|(s, n, jitter)| {
            (0..n)
                .map(|i| i64::from(s) + i as i64 * 10_000_000_000 + jitter[i])
                .collect()
        }),
        // sorted random, multiples of 10^k (divisor shared) or not
        (vec(any::<i64>(), 0..300), 0u32..4).prop_map(|(mut v, k)| {
            let m = 10i64.pow(k * 3);
            for x in &mut v {
                *x = (*x / m).wrapping_mul(m);
            }
            v.sort_unstable();
            v
        }),
        // unsorted, extremes, huge deltas
        vec(
            prop_oneof![
                any::<i64>(),
                Just(i64::MIN),
                Just(i64::MAX),
                Just(0),
                Just(-1)
            ],
            0..50
        ),
        // one delta then a gap
        (1i64..1 << 40, len(), any::<i64>()).prop_map(|(step, n, gap)| {
            let mut v: Vec<i64> = (0..n as i64).map(|i| i * step).collect();
            if let Some(last) = v.last_mut() {
                *last = last.wrapping_add(gap);
            }
            v
        }),
    ]
}

fn floats() -> impl Strategy<Value = Vec<f64>> {
    let special = prop_oneof![
        Just(0.0),
        Just(-0.0),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
        Just(-5e-324),
        Just(f64::MAX),
        Just(f64::MIN),
        Just(1.0),
    ];
    let any_not_nan = any::<u64>()
        .prop_map(f64::from_bits)
        .prop_filter("NaN", |f| !f.is_nan());
    prop_oneof![
        vec(prop_oneof![special, any_not_nan.clone()], 0..300),
        vec(any_not_nan, 1000),
        // 2-decimal random walk
        (vec(-100i64..100, 0..1000), -1e6f64..1e6).prop_map(|(steps, start)| {
            let mut v = (start * 100.0).round();
            steps
                .iter()
                .map(|s| {
                    v += *s as f64;
                    v / 100.0
                })
                .collect()
        }),
        (any::<f64>().prop_filter("NaN", |f| !f.is_nan()), len()).prop_map(|(f, n)| vec![f; n]),
    ]
}

fn integers() -> impl Strategy<Value = Vec<i64>> {
    prop_oneof![
        vec(
            prop_oneof![
                any::<i64>(),
                Just(i64::MIN),
                Just(i64::MAX),
                Just(0),
                -3i64..3
            ],
            0..300
        ),
        (any::<i64>(), -5i64..5, len()).prop_map(|(s, d, n)| {
            (0..n as i64)
                .map(|i| s.wrapping_add(i.wrapping_mul(d)))
                .collect()
        }),
        (any::<i64>(), vec(-1i64..=1, 1000)).prop_map(|(s, steps)| {
            let mut v = s;
            steps
                .iter()
                .map(|d| {
                    v = v.wrapping_add(*d);
                    v
                })
                .collect()
        }),
        vec(-(1i64 << 59)..(1i64 << 59), 0..100),
    ]
}

fn unsigned() -> impl Strategy<Value = Vec<u64>> {
    prop_oneof![
        vec(
            prop_oneof![any::<u64>(), Just(u64::MAX), Just(0), 0u64..10],
            0..300
        ),
        (any::<u64>(), len()).prop_map(|(v, n)| vec![v; n]),
        (0u64..1000, len()).prop_map(|(s, n)| (0..n as u64).map(|i| s + i).collect()),
    ]
}

fn strings() -> impl Strategy<Value = StringColumn> {
    let one = prop_oneof![
        Just(Vec::new()),
        "[a-z]{0,8}".prop_map(String::into_bytes),
        "\\PC{0,20}".prop_map(String::into_bytes),
        vec(any::<u8>(), 0..40),
        vec(any::<u8>(), 0..3000),
    ];
    prop_oneof![
        vec(one, 0..100),
        (vec(any::<u8>(), 0..10), len()).prop_map(|(s, n)| vec![s; n]),
    ]
    .prop_map(|v| v.iter().map(Vec::as_slice).collect())
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|f| f.to_bits()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn timestamps_round_trip(ts in timestamps()) {
        let mut enc = Vec::new();
        encode_timestamps(&ts, &mut enc).unwrap();
        let mut dec = vec![7];
        decode_timestamps(&enc, &mut dec).unwrap();
        prop_assert_eq!(&dec[1..], &ts[..]);
        prop_assert_eq!(timestamp::count(&enc).unwrap(), ts.len());
    }

    #[test]
    fn floats_round_trip(fs in floats()) {
        let mut enc = Vec::new();
        encode_floats(&fs, &mut enc).unwrap();
        let mut dec = Vec::new();
        decode_floats(&enc, &mut dec).unwrap();
        prop_assert_eq!(bits(&dec), bits(&fs));
    }

    #[test]
    fn nan_anywhere_is_refused(mut fs in floats(), at in any::<prop::sample::Index>()) {
        fs.push(1.0);
        let i = at.index(fs.len());
        fs[i] = f64::NAN;
        let mut out = Vec::new();
        prop_assert_eq!(encode_floats(&fs, &mut out), Err(Error::NaN { index: i }));
        prop_assert!(out.is_empty());
    }

    #[test]
    fn integers_round_trip(v in integers()) {
        let mut enc = Vec::new();
        encode_integers(&v, &mut enc).unwrap();
        let mut dec = Vec::new();
        decode_integers(&enc, &mut dec).unwrap();
        prop_assert_eq!(dec, v);
    }

    #[test]
    fn unsigned_round_trip(v in unsigned()) {
        let mut enc = Vec::new();
        encode_unsigned(&v, &mut enc).unwrap();
        let mut dec = Vec::new();
        decode_unsigned(&enc, &mut dec).unwrap();
        prop_assert_eq!(dec, v);
    }

    #[test]
    fn booleans_round_trip(v in vec(any::<bool>(), 0..1100)) {
        let mut enc = Vec::new();
        encode_booleans(&v, &mut enc).unwrap();
        let mut dec = Vec::new();
        decode_booleans(&enc, &mut dec).unwrap();
        prop_assert_eq!(dec, v);
    }

    #[test]
    fn strings_round_trip(v in strings()) {
        let mut enc = Vec::new();
        encode_strings(v.as_slice(), &mut enc).unwrap();
        let mut dec = StringColumn::new();
        decode_strings(&enc, &mut dec).unwrap();
        prop_assert_eq!(dec, v);
    }

    #[test]
    fn blocks_round_trip_every_type(
        ts in timestamps(),
        fs in floats(), is in integers(), us in unsigned(), ss in strings(),
        bs in vec(any::<bool>(), 1000),
    ) {
        let n = ts.len();
        let columns = [
            Column::Float(fs.iter().copied().cycle().take(if fs.is_empty() { 0 } else { n }).collect()),
            Column::Integer(is.iter().copied().cycle().take(if is.is_empty() { 0 } else { n }).collect()),
            Column::Unsigned(us.iter().copied().cycle().take(if us.is_empty() { 0 } else { n }).collect()),
            Column::Boolean(bs.iter().copied().cycle().take(n).collect()),
            Column::String(ss.iter().cycle().take(if ss.is_empty() { 0 } else { n }).collect()),
        ];
        for column in columns {
            let mut block = Vec::new();
            let result = encode_block(&ts, column.as_ref(), &mut block);
            if column.len() != n {
                prop_assert_eq!(result, Err(Error::LengthMismatch { timestamps: n, values: column.len() }));
                prop_assert!(block.is_empty());
                continue;
            }
            result.unwrap();
            let (mut t, mut v) = (Vec::new(), Column::empty(FieldType::String));
            let ft = decode_block(&block, &mut t, &mut v).unwrap();
            prop_assert_eq!(ft, column.field_type());
            prop_assert_eq!(&t, &ts);
            match (&v, &column) {
                (Column::Float(a), Column::Float(b)) => prop_assert_eq!(bits(a), bits(b)),
                _ => prop_assert_eq!(&v, &column),
            }
            prop_assert_eq!(block_count(&block).unwrap(), n);
        }
    }
}

/// Decodes `bytes` with every decoder; each must return, never panic. Where a whole block
/// decodes, it must re-encode and decode to the same values.
fn decode_everything(bytes: &[u8]) {
    // A failed section decode appends nothing.
    let mut ts = Vec::new();
    assert!(decode_timestamps(bytes, &mut ts).is_ok() || ts.is_empty());
    let _ = timestamp::count(bytes);
    let mut fs = Vec::new();
    assert!(decode_floats(bytes, &mut fs).is_ok() || fs.is_empty());
    let mut is = Vec::new();
    assert!(decode_integers(bytes, &mut is).is_ok() || is.is_empty());
    let mut us = Vec::new();
    assert!(decode_unsigned(bytes, &mut us).is_ok() || us.is_empty());
    let mut bs = Vec::new();
    assert!(decode_booleans(bytes, &mut bs).is_ok() || bs.is_empty());
    let mut ss = StringColumn::new();
    assert!(decode_strings(bytes, &mut ss).is_ok() || ss.is_empty());
    let _ = block_count(bytes);
    let (mut t, mut v) = (Vec::new(), Column::empty(FieldType::Float));
    if decode_block(bytes, &mut t, &mut v).is_ok() {
        assert_eq!(t.len(), v.len(), "decoded counts differ");
        let mut again = Vec::new();
        encode_block(&t, v.as_ref(), &mut again).expect("decoded values re-encode");
        let (mut t2, mut v2) = (Vec::new(), Column::empty(FieldType::Float));
        decode_block(&again, &mut t2, &mut v2).expect("re-encoded block decodes");
        assert_eq!(t2, t);
        match (&v, &v2) {
            (Column::Float(a), Column::Float(b)) => assert_eq!(bits(a), bits(b)),
            _ => assert_eq!(v2, v),
        }
    } else {
        assert!(
            t.is_empty() && v.is_empty(),
            "failed decode left values behind"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn decoders_never_panic_on_random_bytes(bytes in vec(any::<u8>(), 0..200)) {
        decode_everything(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_damaged_blocks(
        ts in timestamps(), is in integers(),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        kind in 0usize..5,
    ) {
        let n = ts.len().min(is.len());
        let ts = &ts[..n];
        let column = match kind {
            0 => Column::Integer(is[..n].to_vec()),
            1 => Column::Float(is[..n].iter().map(|&i| i as f64 / 7.0).collect()),
            2 => Column::Boolean(is[..n].iter().map(|&i| i & 1 == 1).collect()),
            3 => Column::String(is[..n].iter().map(|i| i.to_string().into_bytes()).collect::<Vec<_>>().iter().map(Vec::as_slice).collect()),
            _ => Column::Unsigned(is[..n].iter().map(|&i| i as u64).collect()),
        };
        let mut block = Vec::new();
        encode_block(ts, column.as_ref(), &mut block).unwrap();
        for (at, byte) in &flips {
            let i = at.index(block.len());
            block[i] ^= byte | 1;
        }
        decode_everything(&block);
        decode_everything(&block[..cut.index(block.len() + 1)]);
    }
}

#[test]
fn count_mismatch_is_an_error_not_a_truncation() {
    // 2 timestamps (RLE) with 3 integer values (RLE).
    let mut block = vec![1u8];
    let mut ts = Vec::new();
    encode_timestamps(&[1, 2], &mut ts).unwrap();
    block.push(ts.len() as u8);
    block.extend_from_slice(&ts);
    encode_integers(&[5, 5, 5], &mut block).unwrap();
    let (mut t, mut v) = (Vec::new(), Column::empty(FieldType::Integer));
    let err = decode_block(&block, &mut t, &mut v).unwrap_err();
    assert!(
        err.to_string()
            .contains("block corrupt: 2 timestamps, 3 values"),
        "{err}"
    );
    assert_eq!(err.offset(), Some(1 + 1 + ts.len()));
    assert!(t.is_empty() && v.is_empty());
}

#[test]
fn a_huge_rle_timestamp_claim_is_refused_by_count() {
    // RLE timestamps claiming 1,000,000 values next to one float.
    let mut ts = vec![0x20, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    tsmdb_encoding::varint::put_uvarint(&mut ts, 1_000_000);
    let mut block = vec![0u8, ts.len() as u8];
    block.extend_from_slice(&ts);
    encode_floats(&[1.5], &mut block).unwrap();
    let (mut t, mut v) = (Vec::new(), Vec::new());
    let err = decode_float_block(&block, &mut t, &mut v).unwrap_err();
    assert!(
        err.to_string().contains("1000000 timestamps, 1 values"),
        "{err}"
    );
    assert!(
        t.capacity() < 1000,
        "timestamps were allocated before the counts were compared"
    );
}

#[test]
fn short_and_unknown_blocks_are_errors() {
    let (mut t, mut v) = (Vec::new(), Column::empty(FieldType::Integer));
    for bad in [&[][..], &[1], &[9, 0, 0], &[1, 50, 0x10]] {
        assert!(decode_block(bad, &mut t, &mut v).is_err(), "{bad:?}");
    }
    let e = decode_block(&[7, 1, 0x10], &mut t, &mut v).unwrap_err();
    assert_eq!(e.to_string(), "block, byte 0: unknown block type: 7");
}
