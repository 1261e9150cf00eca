//! `tsmdb inspect index`: build an index directory with the library, read it with the binary.

use std::process::Command;

use tsmdb_index_grid::{Index, Policy};

fn build(dir: &std::path::Path) -> Vec<u64> {
    let (ix, _) = Index::open(dir, Policy::default()).unwrap();
    let mut ids = Vec::new();
    for i in 0..100 {
        let host = format!("h{i}");
        let zone = format!("z{}", i % 4);
        ids.push(
            ix.insert(
                b"cpu",
                &[(b"host", host.as_bytes()), (b"zone", zone.as_bytes())],
            )
            .unwrap()
            .0
            .0,
        );
    }
    ix.checkpoint().unwrap();
    ids.push(ix.insert(b"mem", &[(b"host", b"h0")]).unwrap().0.0);
    ix.delete(tsmdb_index_grid::SeriesId(ids[0])).unwrap();
    ix.sync().unwrap();
    ids
}

fn tsmdb(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tsmdb"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn text_and_jsonl_summaries_and_series() {
    let dir = tempfile::tempdir().unwrap();
    let ids = build(dir.path());
    let d = dir.path().to_str().unwrap();
    let (ok, text, err) = tsmdb(&["inspect", "index", d]);
    assert!(ok, "{err}");
    assert!(text.contains("2 measurements, 100 live series"), "{text}");
    assert!(text.contains("grid 1 cpu shared"), "{text}");

    let (ok, jsonl, err) = tsmdb(&["inspect", "index", "--series", "--format", "jsonl", d]);
    assert!(ok, "{err}");
    let objs: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let series: Vec<&serde_json::Value> = objs.iter().filter(|o| o["type"] == "series").collect();
    assert_eq!(series.len(), 100);
    let listed: Vec<u64> = series.iter().map(|o| o["id"].as_u64().unwrap()).collect();
    assert!(!listed.contains(&ids[0]), "deleted series listed");
    assert!(listed.contains(&ids[100]));
    let h5 = series.iter().find(|o| o["tags"]["host"] == "h5").unwrap();
    assert_eq!(h5["id"].as_u64().unwrap(), ids[5]);
    assert_eq!(h5["tags"]["zone"], "z1");
    let grids: Vec<_> = objs.iter().filter(|o| o["type"] == "grid").collect();
    let live: u64 = grids.iter().map(|g| g["live"].as_u64().unwrap()).sum();
    assert_eq!(live, 100);
    let summary = objs.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(
        summary["log_records"].as_u64().unwrap(),
        3,
        "mem created + insert + delete"
    );
}

#[test]
fn damaged_index_is_reported_with_offset() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let path = dir.path().join(tsmdb_index_grid::INDEX_FILE);
    let mut b = std::fs::read(&path).unwrap();
    b[20] ^= 0xff;
    std::fs::write(&path, b).unwrap();
    let (ok, _, err) = tsmdb(&["inspect", "index", dir.path().to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("index.grid") && err.contains("offset"),
        "{err}"
    );
    let (ok, _, err) = tsmdb(&["inspect", "index", "/nonexistent/dir"]);
    assert!(!ok && err.contains("no index.grid"), "{err}");
}
