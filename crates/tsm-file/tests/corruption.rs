//! Damaged files: truncated anywhere, bytes flipped in blocks, index and footer. Every case is an
//! error or (for index bytes the format cannot check, such as key names) the same values; never a
//! panic, never different values.

mod common;

use std::path::Path;

use tsmdb_encoding::FieldType;
use tsmdb_tsm_file::{Error, ReadOptions, TimeRange, TsmReader, Values};

type Everything = Vec<(FieldType, Vec<i64>, Vec<common::DumpValue>)>;

/// Opens `path` and reads every value of every key.
fn read_everything(path: &Path) -> Result<(Vec<Vec<u8>>, Everything), Error> {
    read_all(&TsmReader::open(path)?)
}

/// Checks `bytes` in memory (no file system round trip per case).
fn read_bytes(name: &str, bytes: &[u8]) -> Result<(Vec<Vec<u8>>, Everything), Error> {
    let options = ReadOptions {
        apply_tombstones: false,
        ..Default::default()
    };
    read_all(&TsmReader::from_bytes(name, bytes.to_vec(), options)?)
}

fn read_all(reader: &TsmReader) -> Result<(Vec<Vec<u8>>, Everything), Error> {
    let mut keys = Vec::new();
    let mut out = Vec::new();
    let mut v = Values::new();
    for k in reader.keys() {
        reader.read_values(k.key, TimeRange::ALL, &mut v)?;
        keys.push(k.key.to_vec());
        out.push((
            k.field_type,
            v.timestamps.clone(),
            common::column_values(&v.values),
        ));
    }
    Ok((keys, out))
}

fn float_bits_eq(a: &Everything, b: &Everything) -> bool {
    // Debug formatting distinguishes -0 from 0 and prints every float exactly.
    format!("{a:?}") == format!("{b:?}")
}

#[test]
fn truncation_at_every_length_is_an_error_naming_the_file() {
    let original = std::fs::read(common::fixture("small.tsm")).unwrap();
    for len in 0..original.len() {
        let err = read_bytes("000000001-000000001.tsm", &original[..len])
            .expect_err("a truncated file must not open");
        let text = err.to_string();
        assert!(
            text.contains("000000001-000000001.tsm"),
            "len {len}: {text}"
        );
    }
}

#[test]
fn every_flipped_byte_is_caught_or_harmless() {
    let original = std::fs::read(common::fixture("small.tsm")).unwrap();
    let (_, want) = read_everything(&common::fixture("small.tsm")).unwrap();
    let reader = TsmReader::open(common::fixture("small.tsm")).unwrap();
    let index_offset = reader.index_offset() as usize;
    let (mut block_errors, mut index_errors, mut footer_errors) = (0, 0, 0);
    for pos in 0..original.len() {
        // A CRC-32 catches every burst of up to 32 bits, so one mask suffices in the blocks.
        let masks: &[u8] = if pos < index_offset {
            &[0xff]
        } else {
            &[0x01, 0x80, 0xff]
        };
        for &mask in masks {
            let mut bytes = original.clone();
            bytes[pos] ^= mask;
            match read_bytes("small.tsm", &bytes) {
                Err(_) if pos < index_offset => block_errors += 1,
                Err(_) if pos >= original.len() - 8 => footer_errors += 1,
                Err(_) => index_errors += 1,
                Ok((_, got)) => {
                    // Only a key name can change unnoticed (the format has no index checksum);
                    // the values must still be exactly the original ones.
                    assert!(
                        pos >= index_offset && float_bits_eq(&got, &want),
                        "flip {mask:#x} at {pos} gave different values silently"
                    );
                }
            }
        }
    }
    // Every byte of the block section is covered by a CRC (or is the header).
    assert_eq!(block_errors, index_offset);
    assert_eq!(footer_errors, 8 * 3);
    assert!(index_errors > 0);
}

#[test]
fn a_crc_mismatch_names_file_key_and_offset() {
    let original = std::fs::read(common::fixture("edge.tsm")).unwrap();
    let (_, rows) = common::parse_blocks("edge");
    let row = &rows[3];
    let mut bytes = original.clone();
    bytes[row.offset as usize + 10] ^= 0x40;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("000000007-000000001.tsm");
    std::fs::write(&path, &bytes).unwrap();
    let reader = TsmReader::open(&path).unwrap();
    let k = reader.key(&row.key).unwrap();
    let entry = k.iter().find(|e| e.offset == row.offset).unwrap();
    match reader.block(k.key, &entry).unwrap_err() {
        e @ Error::Checksum { offset, .. } => {
            assert_eq!(offset, row.offset);
            let text = e.to_string();
            assert!(text.contains("block checksum mismatch"), "{text}");
            assert!(text.contains("000000007-000000001.tsm"), "{text}");
            assert!(
                text.contains(&String::from_utf8_lossy(&row.key).to_string()),
                "{text}"
            );
        }
        other => panic!("expected a checksum error, got {other}"),
    }
    // with verification off the block bytes come back as stored
    let lax = TsmReader::open_with(
        &path,
        tsmdb_tsm_file::ReadOptions {
            verify_checksums: false,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(lax.block(k.key, &entry).is_ok());
}

#[test]
fn open_errors_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.tsm");
    let check = |bytes: &[u8], needle: &str| {
        std::fs::write(&path, bytes).unwrap();
        let text = TsmReader::open(&path).unwrap_err().to_string();
        assert!(
            text.contains(needle) && text.contains("x.tsm"),
            "{needle}: {text}"
        );
    };
    check(b"", "shorter than a header and footer");
    check(&[0u8; 20], "bad magic number");
    let mut v = vec![0x16, 0xd1, 0x16, 0xd1, 2];
    v.extend_from_slice(&[0; 16]);
    check(&v, "version 2");
    let mut v = vec![0x16, 0xd1, 0x16, 0xd1, 1];
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(&100u64.to_be_bytes());
    check(&v, "index offset 100");
    let missing = TsmReader::open(dir.path().join("nope.tsm"))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("nope.tsm"), "{missing}");
}
