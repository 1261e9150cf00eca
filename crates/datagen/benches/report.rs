//! Figures for `cargo xtask bench` (ROW contract in `xtask/src/bench.rs`). Every figure has a
//! baseline measured in the same run: a plain fill of the same number of timestamps and values
//! into reused 1000-value buffers. `TSMDB_BENCH_QUICK=1` shrinks the data. The "open time"
//! group (issue #8, `open_time.rs`) times `Engine::open` beside influxd on the same files.

#[path = "common.rs"]
mod common;
#[path = "open_time.rs"]
mod open_time;

use std::convert::Infallible;
use std::hint::black_box;
use std::time::{Duration, Instant};

use tsmdb_datagen::devops::{DevopsConfig, DevopsGenerator};
use tsmdb_datagen::{Generator, LineProtocolWriter, Plan};
use tsmdb_encoding::encode_block;

fn row(figure: &str, value: f64, unit: &str, baseline: &str, baseline_value: f64) {
    println!("ROW\tdatagen\t{figure}\t{value:.0}\t{unit}\t{baseline}\t{baseline_value:.0}");
}

/// Best of `runs` timings of `f`.
fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn columns(plan: &Plan) -> u64 {
    Generator::new(plan)
        .for_each_block(|b| {
            black_box(b.values);
            black_box(b.timestamps);
            Ok::<(), Infallible>(())
        })
        .map_or(0, |t| t.values)
}

fn main() {
    let quick = std::env::var("TSMDB_BENCH_QUICK").is_ok_and(|v| v == "1");
    let points: u64 = if quick { 1000 } else { 10_000 };
    let runs = if quick { 2 } else { 3 };
    let values = 1000 * points;

    let mut ts = [0i64; 1000];
    let mut vals = [0f64; 1000];
    let fill = best(runs, || common::fill_baseline(values, &mut ts, &mut vals));
    let fill_rate = values as f64 / fill.as_secs_f64();
    let rate = |d: Duration| values as f64 / d.as_secs_f64();

    let cases = [
        ("columns: const float (simple)", common::simple(points)),
        (
            "columns: rand<float>",
            common::one_field(points, "{ type = \"rand<float>\", seed = 1 }"),
        ),
        (
            "columns: int array",
            common::one_field(points, "[1, 2, 3, 5, 8]"),
        ),
        (
            "columns: zipf<integer>",
            common::one_field(
                points,
                "{ type = \"zipf<integer>\", s = 1.5, v = 1, imax = 1000 }",
            ),
        ),
    ];
    for (name, plan) in &cases {
        let t = best(runs, || columns(plan));
        row(name, rate(t), "values/s", "fill ts+values", fill_rate);
    }

    let mut out = Vec::with_capacity(16 << 10);
    for (name, plan) in &cases {
        let t = best(runs, || {
            Generator::new(plan)
                .for_each_block(|b| {
                    out.clear();
                    encode_block(b.timestamps, b.values.as_ref(), &mut out)
                })
                .expect("encode")
        });
        let figure = name.replace("columns:", "columns + TSM blocks:");
        row(&figure, rate(t), "values/s", "fill ts+values", fill_rate);
    }

    let t = best(runs, || {
        let mut w = LineProtocolWriter::new(std::io::sink());
        Generator::new(&cases[0].1)
            .for_each_block(|b| w.write_block(b))
            .expect("sink");
        w.flush().expect("sink");
    });
    row(
        "line protocol: const float (simple)",
        rate(t),
        "values/s",
        "fill ts+values",
        fill_rate,
    );

    let scale = if quick { 100 } else { 1000 };
    let config = DevopsConfig {
        scale,
        seed: 123,
        end: DevopsConfig::default().start + if quick { 3_600 } else { 6 * 3_600 } * 1_000_000_000,
        ..DevopsConfig::default()
    };
    let rows = config.rows();
    let t = best(runs, || {
        DevopsGenerator::new(config.clone())
            .write_all(&mut std::io::sink(), |_| {})
            .expect("sink")
    });
    let devops_values = (rows * 10) as f64;
    let fill_devops = best(runs, || {
        common::fill_baseline(rows * 10, &mut ts, &mut vals)
    });
    row(
        "line protocol: TSBS devops cpu-only",
        devops_values / t.as_secs_f64(),
        "values/s",
        "fill ts+values",
        devops_values / fill_devops.as_secs_f64(),
    );

    // Issue #9: generated blocks into a data directory, bulk-loaded vs through the WAL.
    let plan = common::simple(if quick { 1000 } else { 5000 });
    let values = Generator::new(&plan)
        .for_each_block(|_| Ok::<(), Infallible>(()))
        .map_or(0, |t| t.values) as f64;
    let bulk = best(1, || open_time::bulk_load_plan(&plan));
    let via_wal = best(1, || open_time::write_plan_via_wal(&plan));
    row(
        "into a data directory: bulk load (simple)",
        values / bulk.as_secs_f64(),
        "values/s",
        "same via WAL + snapshot",
        values / via_wal.as_secs_f64(),
    );

    open_time::run(quick, |figure, value, unit, baseline, baseline_value| {
        let base = baseline_value.map_or("-".to_string(), |b| format!("{b:.3}"));
        let baseline = if baseline_value.is_some() {
            baseline
        } else {
            "-"
        };
        println!("ROW\topen time\t{figure}\t{value:.3}\t{unit}\t{baseline}\t{base}");
    });
}
