//! Golden tests against InfluxDB 1.6.7's files: every fixture reads back as its `.tsm.blocks` says,
//! and a file rebuilt from those blocks with our writer is byte-identical to InfluxDB's.

mod common;

use common::{BlockRow, FIXTURES, parse_blocks};
use tsmdb_tsm_file::{BlockWrite, TsmReader, TsmWriter};

#[test]
fn every_fixture_reads_back_as_its_block_listing() {
    for name in FIXTURES {
        let (header, rows) = parse_blocks(name);
        let reader = TsmReader::open(common::fixture(&format!("{name}.tsm"))).unwrap();
        assert_eq!(reader.file_size(), header.file_size, "{name}");
        assert_eq!(reader.key_count() as u64, header.keys, "{name}");
        assert_eq!(reader.index_offset(), header.index_offset, "{name}");
        assert_eq!(reader.index_size(), header.index_size, "{name}");
        assert_eq!(reader.min_time(), header.min_time, "{name}");
        assert_eq!(reader.max_time(), header.max_time, "{name}");
        let blocks: Vec<_> = reader.blocks().collect();
        assert_eq!(blocks.len(), rows.len(), "{name}");
        for ((k, e), row) in blocks.iter().zip(&rows) {
            assert_eq!(k.key, row.key.as_slice(), "{name}");
            assert_eq!(k.field_type, row.field_type, "{name}");
            assert_eq!(
                (e.min_time, e.max_time, e.offset, e.size),
                (row.min_time, row.max_time, row.offset, row.size),
                "{name} {}",
                row.key.escape_ascii()
            );
            let data = reader.block(k.key, e).unwrap();
            assert_eq!(data, row.block.as_slice(), "{name}");
            assert_eq!(reader.stored_crc(e), Some(row.crc), "{name}");
        }
        // lookups find every key, and nothing else
        for row in &rows {
            let k = reader.key(&row.key).expect("key present");
            assert_eq!(k.key, row.key.as_slice());
            assert!(
                reader
                    .blocks_overlapping(&row.key, row.min_time, row.min_time)
                    .count()
                    >= 1
            );
        }
        assert!(reader.key(b"\xff\xff no such key").is_none());
        assert!(reader.key(b"").is_none());
    }
}

#[test]
fn rebuilding_each_fixture_from_its_blocks_is_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    for name in FIXTURES {
        let (_, rows) = parse_blocks(name);
        let path = dir.path().join(format!("{name}.tsm"));
        let mut w = TsmWriter::create(&path).unwrap();
        for BlockRow {
            key,
            field_type,
            min_time,
            max_time,
            block,
            ..
        } in &rows
        {
            let r = w
                .write_block(key, *field_type, *min_time, *max_time, block)
                .unwrap();
            assert_eq!(r, BlockWrite::Written);
        }
        let summary = w.finish().unwrap();
        let ours = std::fs::read(&path).unwrap();
        let theirs = std::fs::read(common::fixture(&format!("{name}.tsm"))).unwrap();
        assert_eq!(summary.size, theirs.len() as u64, "{name}");
        assert!(
            ours == theirs,
            "{name}: rebuilt file differs from InfluxDB's"
        );
    }
}
