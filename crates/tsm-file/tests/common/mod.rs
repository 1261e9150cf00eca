//! Shared helpers of the integration tests: fixture paths and the `.tsm.blocks` / `.tsm.dump`
//! parsers.
#![allow(dead_code)]

use std::path::PathBuf;

use tsmdb_encoding::FieldType;

/// The InfluxDB fixture files with a TSM file.
pub const FIXTURES: [&str; 4] = ["small", "small.uint", "edge", "medium"];

/// Path of a fixture file.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/influxdb-1.6.7/"
    ))
    .join(name)
}

/// The header line of a `.tsm.blocks` file.
#[derive(Debug, Default)]
pub struct BlocksHeader {
    pub file_size: u64,
    pub keys: u64,
    pub index_offset: u64,
    pub index_size: u64,
    pub min_time: i64,
    pub max_time: i64,
}

/// One block row of a `.tsm.blocks` file.
#[derive(Debug)]
pub struct BlockRow {
    pub key: Vec<u8>,
    pub field_type: FieldType,
    pub min_time: i64,
    pub max_time: i64,
    pub offset: u64,
    pub size: u32,
    pub crc: u32,
    pub count: usize,
    pub block: Vec<u8>,
}

pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Parses `NAME.tsm.blocks`.
pub fn parse_blocks(name: &str) -> (BlocksHeader, Vec<BlockRow>) {
    let text = std::fs::read(fixture(&format!("{name}.tsm.blocks"))).unwrap();
    let mut header = BlocksHeader::default();
    let mut rows = Vec::new();
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        if let Some(h) = line.strip_prefix(b"# file_size=") {
            let h = String::from_utf8(h.to_vec()).unwrap();
            let mut fields = h.split(' ');
            header.file_size = fields.next().unwrap().parse().unwrap();
            for f in fields {
                let (k, v) = f.split_once('=').unwrap();
                match k {
                    "keys" => header.keys = v.parse().unwrap(),
                    "index_offset" => header.index_offset = v.parse().unwrap(),
                    "index_size" => header.index_size = v.parse().unwrap(),
                    "min_time" => header.min_time = v.parse().unwrap(),
                    "max_time" => header.max_time = v.parse().unwrap(),
                    _ => {}
                }
            }
            continue;
        }
        if line.starts_with(b"#") {
            continue;
        }
        let cols: Vec<&[u8]> = line.split(|&b| b == b'\t').collect();
        assert_eq!(cols.len(), 13, "{}", line.escape_ascii());
        let s = |i: usize| std::str::from_utf8(cols[i]).unwrap();
        rows.push(BlockRow {
            key: cols[0].to_vec(),
            field_type: FieldType::from_name(s(1)).unwrap(),
            min_time: s(2).parse().unwrap(),
            max_time: s(3).parse().unwrap(),
            offset: s(4).parse().unwrap(),
            size: s(5).parse().unwrap(),
            crc: u32::from_str_radix(s(6), 16).unwrap(),
            count: s(7).parse().unwrap(),
            block: hex(s(12)),
        });
    }
    (header, rows)
}
