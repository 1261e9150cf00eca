//! Any statement text run on a small engine (three series, integer/float/string/boolean fields,
//! half in TSM files, half in the cache): no panic, and the JSON renders. Statements that would
//! change the data are skipped, so every run sees the same engine.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tsmdb_engine::{Engine, Options};
use tsmdb_lineproto::Precision;
use tsmdb_query::{Epoch, Statement, execute, parse_statements, to_json};

struct Fixture {
    _dir: tempfile::TempDir,
    engine: Engine,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let engine = Engine::open(dir.path(), Options::default().background(false)).expect("open");
        engine.create_database("db", None).expect("create");
        let mut lp = String::new();
        for i in 0..40i64 {
            for h in 0..3 {
                lp += &format!(
                    "m,host=h{h},dc=d{} f={}.5,i={}i,s=\"v{}\",b={} {}\n",
                    h % 2,
                    i * h,
                    i - h,
                    i % 3,
                    i % 2 == 0,
                    i * 7_000_000_000
                );
            }
            if i == 20 {
                engine
                    .write_lp("db", lp.as_bytes(), Precision::Nanosecond)
                    .expect("write");
                engine.snapshot_all().expect("snapshot");
                lp.clear();
            }
        }
        engine
            .write_lp("db", lp.as_bytes(), Precision::Nanosecond)
            .expect("write");
        Fixture { _dir: dir, engine }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(statements) = parse_statements(text, 300_000_000_000) else {
        return;
    };
    let read_only = statements.iter().all(|s| {
        matches!(
            s,
            Statement::Select(_)
                | Statement::ShowDatabases
                | Statement::ShowMeasurements { .. }
                | Statement::ShowTagKeys { .. }
                | Statement::ShowTagValues { .. }
                | Statement::ShowFieldKeys { .. }
                | Statement::ShowSeries { .. }
        )
    });
    if !read_only {
        return;
    }
    if let Ok(results) = execute(&fixture().engine, "db", text, 300_000_000_000) {
        let _ = to_json(&results, Epoch::Rfc3339);
    }
});
