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

/// One value of a `.tsm.dump` file.
#[derive(Debug, Clone, PartialEq)]
pub enum DumpValue {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    Boolean(bool),
    String(Vec<u8>),
}

/// One line of a `.tsm.dump` file.
#[derive(Debug, Clone, PartialEq)]
pub struct DumpRow {
    pub key: Vec<u8>,
    pub field_type: FieldType,
    pub time: i64,
    pub value: DumpValue,
}

/// Parses a Go-quoted string (`"..."` with `\"`, `\\`, `\n`, `\t`, `\xNN`, `\uNNNN`, ...).
pub fn go_unquote(s: &[u8]) -> Vec<u8> {
    assert!(
        s.len() >= 2 && s[0] == b'"' && s[s.len() - 1] == b'"',
        "{}",
        s.escape_ascii()
    );
    let s = &s[1..s.len() - 1];
    let mut out = Vec::new();
    let mut i = 0;
    let hexnum = |b: &[u8]| u32::from_str_radix(std::str::from_utf8(b).unwrap(), 16).unwrap();
    while i < s.len() {
        if s[i] != b'\\' {
            out.push(s[i]);
            i += 1;
            continue;
        }
        let c = s[i + 1];
        i += 2;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'\\' => out.push(b'\\'),
            b'"' => out.push(b'"'),
            b'x' => {
                out.push(hexnum(&s[i..i + 2]) as u8);
                i += 2;
            }
            b'u' | b'U' => {
                let n = if c == b'u' { 4 } else { 8 };
                let ch = char::from_u32(hexnum(&s[i..i + n])).unwrap();
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                i += n;
            }
            other => panic!("unknown escape \\{}", other as char),
        }
    }
    out
}

/// Parses `NAME.tsm.dump`.
pub fn parse_dump(name: &str) -> Vec<DumpRow> {
    let text = std::fs::read(fixture(&format!("{name}.tsm.dump"))).unwrap();
    let mut rows = Vec::new();
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let mut cols = line.splitn(4, |&b| b == b'\t');
        let key = cols.next().unwrap().to_vec();
        let ty = FieldType::from_name(std::str::from_utf8(cols.next().unwrap()).unwrap()).unwrap();
        let time = std::str::from_utf8(cols.next().unwrap())
            .unwrap()
            .parse()
            .unwrap();
        let raw = cols.next().unwrap();
        let text = std::str::from_utf8(raw).unwrap_or("");
        let value = match ty {
            FieldType::Float => DumpValue::Float(match text {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                t => t.parse().unwrap(),
            }),
            FieldType::Integer => DumpValue::Integer(text.parse().unwrap()),
            FieldType::Unsigned => DumpValue::Unsigned(text.parse().unwrap()),
            FieldType::Boolean => DumpValue::Boolean(text.parse().unwrap()),
            FieldType::String => DumpValue::String(go_unquote(raw)),
        };
        rows.push(DumpRow {
            key,
            field_type: ty,
            time,
            value,
        });
    }
    rows
}

/// The values of one column as dump values.
pub fn column_values(c: &tsmdb_encoding::Column) -> Vec<DumpValue> {
    use tsmdb_encoding::Column;
    match c {
        Column::Float(v) => v.iter().map(|&x| DumpValue::Float(x)).collect(),
        Column::Integer(v) => v.iter().map(|&x| DumpValue::Integer(x)).collect(),
        Column::Unsigned(v) => v.iter().map(|&x| DumpValue::Unsigned(x)).collect(),
        Column::Boolean(v) => v.iter().map(|&x| DumpValue::Boolean(x)).collect(),
        Column::String(v) => v.iter().map(|x| DumpValue::String(x.to_vec())).collect(),
    }
}

/// Groups dump rows by key (they are in index order): (key, type, times, column).
pub fn dump_by_key(
    rows: &[DumpRow],
) -> Vec<(Vec<u8>, FieldType, Vec<i64>, tsmdb_encoding::Column)> {
    use tsmdb_encoding::Column;
    let mut out: Vec<(Vec<u8>, FieldType, Vec<i64>, Column)> = Vec::new();
    for r in rows {
        if out.last().is_none_or(|l| l.0 != r.key) {
            out.push((
                r.key.clone(),
                r.field_type,
                Vec::new(),
                Column::empty(r.field_type),
            ));
        }
        let last = out.last_mut().unwrap();
        last.2.push(r.time);
        match (&mut last.3, &r.value) {
            (Column::Float(c), DumpValue::Float(v)) => c.push(*v),
            (Column::Integer(c), DumpValue::Integer(v)) => c.push(*v),
            (Column::Unsigned(c), DumpValue::Unsigned(v)) => c.push(*v),
            (Column::Boolean(c), DumpValue::Boolean(v)) => c.push(*v),
            (Column::String(c), DumpValue::String(v)) => c.push(v),
            _ => panic!("type mismatch in dump"),
        }
    }
    out
}
