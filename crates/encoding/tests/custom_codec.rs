//! The worked example of docs/codecs.md: a new integer codec in its own module, registered
//! under a free header nibble, used for encoding, and found again by the decoder.

mod varint_codec {
    //! A toy integer codec: header `0x30`, then each delta zigzag-encoded as a uvarint.

    use tsmdb_encoding::varint::{get_uvarint, put_uvarint};
    use tsmdb_encoding::{Codec, Error, FieldType, Integers, Problem, Result, Section};

    /// Zigzag-varint deltas: compact for small steps, never needs a second pass.
    pub struct VarintIntegers;

    /// The header nibble we claim (InfluxDB uses 0, 1 and 2 for integers).
    pub const ID: u8 = 3;

    impl Codec<Integers> for VarintIntegers {
        fn id(&self) -> u8 {
            ID
        }

        fn name(&self) -> &'static str {
            "zigzag-varint"
        }

        fn encode(&self, values: &[i64], out: &mut Vec<u8>) -> Result<()> {
            out.push(ID << 4);
            let mut prev = 0i64;
            for &v in values {
                let d = v.wrapping_sub(prev);
                put_uvarint(out, ((d << 1) ^ (d >> 63)) as u64);
                prev = v;
            }
            Ok(())
        }

        fn decode(&self, section: &[u8], out: &mut Vec<i64>) -> Result<()> {
            let mut at = 1;
            let mut prev = 0i64;
            while at < section.len() {
                let (z, used) = get_uvarint(&section[at..]).ok_or(Error::Corrupt {
                    section: Section::Values(FieldType::Integer),
                    offset: at,
                    problem: Problem::BadVarint,
                })?;
                prev = prev.wrapping_add(((z >> 1) as i64) ^ -((z & 1) as i64));
                out.push(prev);
                at += used;
            }
            Ok(())
        }
    }
}

use std::sync::Arc;

use tsmdb_encoding::*;
use varint_codec::{ID, VarintIntegers};

#[test]
fn a_registered_codec_encodes_and_decodes_blocks() {
    let mut registry = Registry::default();
    assert!(
        registry
            .integers
            .register(Arc::new(VarintIntegers))
            .is_none()
    );
    registry.integers.encode_with(Some(ID)).unwrap();

    let ts = [10, 20, 35];
    let values = [5i64, -3, 1_000_000];
    let mut block = Vec::new();
    registry
        .encode_block(&ts, ColumnRef::Integer(&values), &mut block)
        .unwrap();
    let parts = split_block(&block).unwrap();
    assert_eq!(parts.values[0], 0x30);
    assert_eq!(
        registry.value_codec_name(FieldType::Integer, parts.values),
        Some("zigzag-varint")
    );

    let (mut t, mut v) = (Vec::new(), Vec::new());
    registry
        .decode_integer_block(&block, &mut t, &mut v)
        .unwrap();
    assert_eq!((t.as_slice(), v.as_slice()), (&ts[..], &values[..]));

    // The built-in registry does not know nibble 3 and says so, with the offset.
    let err = decode_integer_block(&block, &mut t, &mut v).unwrap_err();
    assert_eq!(err.offset(), Some(parts.values_offset));
    assert!(err.to_string().contains("unknown encoding 3"), "{err}");

    // Other types and InfluxDB's own integer encodings are untouched.
    registry.integers.encode_with(None).unwrap();
    let mut influx = Vec::new();
    registry
        .encode_block(&ts, ColumnRef::Integer(&values), &mut influx)
        .unwrap();
    let mut expected = Vec::new();
    encode_block(&ts, ColumnRef::Integer(&values), &mut expected).unwrap();
    assert_eq!(influx, expected);
}

#[test]
fn encoding_with_an_unregistered_id_is_refused() {
    let mut registry = Registry::default();
    assert_eq!(
        registry.floats.encode_with(Some(9)),
        Err(Error::Unregistered {
            section: Section::Values(FieldType::Float),
            id: 9
        })
    );
}

#[test]
fn built_in_codecs_can_be_forced() {
    let mut registry = Registry::default();
    registry.integers.encode_with(Some(integer::RAW)).unwrap();
    let mut out = Vec::new();
    registry.integers.encode(&[1, 2, 3], &mut out).unwrap();
    assert_eq!(out[0], 0x00);
    assert_eq!(out.len(), 1 + 3 * 8);
    let mut back = Vec::new();
    registry.integers.decode(&out, &mut back).unwrap();
    assert_eq!(back, [1, 2, 3]);

    registry
        .timestamps
        .encode_with(Some(timestamp::RLE))
        .unwrap();
    assert!(matches!(
        registry.timestamps.encode(&[1, 2, 4], &mut Vec::new()),
        Err(Error::Unencodable { .. })
    ));
}
