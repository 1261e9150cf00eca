//! A delete whose tombstone cannot be written for one TSM file: the WAL already holds the delete,
//! so the cache and every other file must take it at once (a restart would show the same), the
//! caller gets the error, and a retry finishes the job.

use std::path::{Path, PathBuf};

use tsmdb_engine::{Engine, Expr, Options, Select};
use tsmdb_lineproto::Precision;
use tsmdb_tsm_file::{TSM_EXT, tmp_path, tombstone_path};

fn manual() -> Options {
    Options::default().background(false)
}

fn times(engine: &Engine) -> Vec<i64> {
    let mut t: Vec<i64> = engine
        .select("db", &Select::all("m"))
        .unwrap()
        .into_iter()
        .flat_map(|s| s.timestamps)
        .collect();
    t.sort_unstable();
    t
}

fn tsm_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == TSM_EXT) {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

fn write(engine: &Engine, lines: &str) {
    let s = engine
        .write_lp("db", lines.as_bytes(), Precision::Nanosecond)
        .unwrap();
    assert!(s.is_complete(), "{s:?}");
}

#[test]
fn a_failed_tombstone_leaves_the_cache_and_the_other_files_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(dir.path(), manual()).unwrap();
    e.create_database("db", None).unwrap();
    write(&e, "m,h=a v=1 10\nm,h=a v=2 20\n");
    assert_eq!(e.snapshot_all().unwrap(), 1);
    write(&e, "m,h=a v=3 30\n");
    assert_eq!(e.snapshot_all().unwrap(), 1);
    write(&e, "m,h=a v=4 40\n");
    assert_eq!(times(&e), [10, 20, 30, 40]);

    let files = tsm_files(dir.path());
    assert_eq!(files.len(), 2, "{files:?}");
    // A stray temporary file makes the first file's tombstone write fail (it is created with
    // `create_new`), the way a full disk or a permission error would.
    let blocker = tmp_path(&tombstone_path(&files[0]));
    std::fs::write(&blocker, b"in the way").unwrap();

    let err = e
        .delete("db", b"m", &Expr::all(), 0, 100)
        .expect_err("the first file's tombstone cannot be written");
    assert!(
        err.to_string().contains(&blocker.display().to_string()),
        "the error names the file that failed: {err}"
    );
    // The cache's value and the second file's are gone; only the file that failed keeps its own.
    assert_eq!(times(&e), [10, 20]);

    std::fs::remove_file(&blocker).unwrap();
    e.delete("db", b"m", &Expr::all(), 0, 100).unwrap();
    assert_eq!(times(&e), Vec::<i64>::new());
    e.close().unwrap();
    drop(e);

    let e = Engine::open(dir.path(), manual()).unwrap();
    assert_eq!(times(&e), Vec::<i64>::new());
}
