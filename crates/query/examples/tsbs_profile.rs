//! Runs one TSBS query shape many times over `medium.lp` (snapshotted and fully compacted), for
//! profiling: `valgrind --tool=callgrind --toggle-collect='*tsmdb_query*execute*' \
//! target/release/examples/tsbs_profile lastpoint 20`.
//!
//! Shapes: single-groupby, cpu-max-all, double-groupby, high-cpu-all, lastpoint,
//! groupby-orderby-limit. Prints the result of the last run's size, so the work is not optimised
//! away.

use tsmdb_engine::{Engine, Options};
use tsmdb_lineproto::Precision;
use tsmdb_query::{Epoch, execute, to_json};

fn query(shape: &str) -> Option<&'static str> {
    Some(match shape {
        "single-groupby" => {
            "SELECT max(usage_user) FROM cpu WHERE hostname = 'host_1' AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:12:00Z' GROUP BY time(1m)"
        }
        "cpu-max-all" => {
            "SELECT max(usage_user),max(usage_system),max(usage_idle),max(usage_nice),max(usage_iowait),max(usage_irq),max(usage_softirq),max(usage_steal),max(usage_guest),max(usage_guest_nice) FROM cpu WHERE hostname = 'host_3' AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T08:00:00Z' GROUP BY time(1h)"
        }
        "double-groupby" => {
            "SELECT mean(usage_user) FROM cpu WHERE time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T02:00:00Z' GROUP BY time(1h),hostname"
        }
        "high-cpu-all" => {
            "SELECT * FROM cpu WHERE usage_user > 90.0 AND time >= '2018-01-01T00:00:00Z' AND time < '2018-01-01T00:10:00Z'"
        }
        "lastpoint" => "SELECT last(*) FROM cpu GROUP BY *",
        "groupby-orderby-limit" => {
            "SELECT max(usage_user) FROM cpu WHERE time < '2018-01-01T00:10:00Z' GROUP BY time(1m) ORDER BY time DESC LIMIT 5"
        }
        _ => return None,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let shape = args.next().unwrap_or_else(|| "lastpoint".into());
    let runs: usize = args.next().map_or(Ok(20), |n| n.parse())?;
    let Some(q) = query(&shape) else {
        return Err(format!("unknown shape {shape}").into());
    };
    let lp = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/influxdb-1.6.7/medium.lp"
    ))?;
    let dir = tempfile::tempdir()?;
    let options = Options {
        background: false,
        ..Options::default()
    };
    let engine = Engine::open(dir.path(), options)?;
    engine.create_database("db", None)?;
    engine.write_lp("db", &lp, Precision::Nanosecond)?;
    engine.snapshot_all()?;
    engine.compact_all(true)?;
    let mut bytes = 0;
    let start = std::time::Instant::now();
    for _ in 0..runs {
        let r = execute(&engine, "db", q, 0)?;
        bytes = to_json(&r, Epoch::Nanoseconds).len();
    }
    let per = start.elapsed().as_secs_f64() * 1e3 / runs.max(1) as f64;
    println!("{shape}: {runs} runs, {per:.3} ms each, {bytes} bytes of JSON");
    Ok(())
}
