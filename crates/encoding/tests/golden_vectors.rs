//! Every codec vector InfluxDB 1.6.7 produced (tests/fixtures/influxdb-1.6.7/vectors), both
//! directions: our encoder writes the same bytes (snappy excepted: decode-equal), our decoder
//! reads back the same values, and inputs InfluxDB refuses are refused.

mod common;

use common::*;
use tsmdb_encoding::*;

struct Vector {
    kind: String,
    name: String,
    count: usize,
    result: String,
}

fn vectors() -> Vec<Vector> {
    let index = std::fs::read_to_string(fixtures().join("vectors/index.tsv")).unwrap();
    index
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Vector {
                kind: f[0].to_string(),
                name: f[1].to_string(),
                count: f[2].parse().unwrap(),
                result: f[4..].join("\t"),
            }
        })
        .collect()
}

fn inputs(v: &Vector) -> Vec<String> {
    let path = fixtures().join(format!("vectors/{}/{}.in", v.kind, v.name));
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().map(str::to_string).collect()
}

fn hex_file(v: &Vector) -> String {
    let path = fixtures().join(format!("vectors/{}/{}.hex", v.kind, v.name));
    std::fs::read_to_string(path).unwrap().trim().to_string()
}

#[test]
fn index_lists_all_91_vectors_and_hex_files_agree() {
    let all = vectors();
    assert_eq!(all.len(), 91);
    for v in &all {
        assert_eq!(hex_file(v), v.result, "{}/{}", v.kind, v.name);
        assert_eq!(inputs(v).len(), v.count, "{}/{}", v.kind, v.name);
    }
}

fn check_exact<T: PartialEq + std::fmt::Debug>(
    v: &Vector,
    values: &[T],
    encode: impl Fn(&[T], &mut Vec<u8>) -> Result<()>,
    decode: impl Fn(&[u8], &mut Vec<T>) -> Result<()>,
) {
    let mut enc = Vec::new();
    encode(values, &mut enc).unwrap_or_else(|e| panic!("{}/{}: {e}", v.kind, v.name));
    assert_eq!(to_hex(&enc), v.result, "{}/{} encode", v.kind, v.name);
    let mut dec = Vec::new();
    decode(&from_hex(&v.result), &mut dec).unwrap_or_else(|e| panic!("{}/{}: {e}", v.kind, v.name));
    assert_eq!(dec, values, "{}/{} decode", v.kind, v.name);
}

#[test]
fn every_vector_both_directions() {
    let mut checked = 0;
    for v in vectors() {
        let lines = inputs(&v);
        match v.kind.as_str() {
            "timestamp" => {
                let ts: Vec<i64> = lines.iter().map(|l| l.parse().unwrap()).collect();
                check_exact(&v, &ts, encode_timestamps, decode_timestamps);
                assert_eq!(
                    tsmdb_encoding::timestamp::count(&from_hex(&v.result)).unwrap(),
                    ts.len()
                );
            }
            "float" => {
                let fs: Vec<f64> = lines.iter().map(|l| parse_float(l)).collect();
                if let Some(msg) = v.result.strip_prefix("ERROR\t") {
                    let err = encode_floats(&fs, &mut Vec::new()).unwrap_err();
                    assert!(err.to_string().starts_with(msg), "{}: {err}", v.name);
                } else {
                    // Compare bits: -0.0 and 0.0 must stay distinct.
                    let bits: Vec<u64> = fs.iter().map(|f| f.to_bits()).collect();
                    check_exact(
                        &v,
                        &bits,
                        |b, out| {
                            let f: Vec<f64> = b.iter().map(|&x| f64::from_bits(x)).collect();
                            encode_floats(&f, out)
                        },
                        |s, out| {
                            let mut f = Vec::new();
                            decode_floats(s, &mut f)?;
                            out.extend(f.iter().map(|x| x.to_bits()));
                            Ok(())
                        },
                    );
                }
            }
            "integer" => {
                let is: Vec<i64> = lines.iter().map(|l| l.parse().unwrap()).collect();
                check_exact(&v, &is, encode_integers, decode_integers);
            }
            "unsigned" => {
                let us: Vec<u64> = lines.iter().map(|l| l.parse().unwrap()).collect();
                check_exact(&v, &us, encode_unsigned, decode_unsigned);
            }
            "boolean" => {
                let bs: Vec<bool> = lines.iter().map(|l| parse_bool(l)).collect();
                check_exact(&v, &bs, encode_booleans, decode_booleans);
            }
            "string" => {
                let ss: StringColumn = lines
                    .iter()
                    .map(|l| go_unquote(l))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(|s| s.as_slice())
                    .collect();
                // InfluxDB's bytes decode to the inputs...
                let mut dec = StringColumn::new();
                decode_strings(&from_hex(&v.result), &mut dec).unwrap();
                assert_eq!(dec, ss, "string/{} decode", v.name);
                // ...and ours decode to them too (snappy bytes may differ).
                let mut enc = Vec::new();
                encode_strings(ss.as_slice(), &mut enc).unwrap();
                let mut back = StringColumn::new();
                decode_strings(&enc, &mut back).unwrap();
                assert_eq!(back, ss, "string/{} round trip", v.name);
            }
            other => panic!("unknown kind {other}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 91);
}
