//! A small driver for profiling (callgrind, perf) the grid index against the benches' baseline
//! on one workload of the report: builds it, then runs one query class.
//!
//! ```text
//! cargo run --release -p tsmdb-index-grid --example profile -- uuid 200000 insert grid
//! valgrind --tool=callgrind --toggle-collect='*Index::insert*' \
//!     target/release/examples/profile uuid 200000 insert grid
//! ```
//!
//! Arguments: workload (`uuid`, `tsbs`, `perm`, `diagonal`, `partial`), series count, what to time
//! (`insert`, `one-tag`, `two-tag`, `regex`), index (`grid` or `baseline`).

#[path = "../benches/support/baseline.rs"]
mod baseline;
#[path = "../benches/support/workloads.rs"]
mod workloads;

use std::time::Instant;

use tsmdb_index_grid::{Expr, Index, Policy};
use workloads::{Rng, diagonal, full_perm, queries, random_partial, refs, tsbs, uuid_like};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let (workload, what, which) = (arg(0, "uuid"), arg(2, "insert"), arg(3, "grid"));
    let n: usize = arg(1, "200000").parse().expect("series count");
    let mut rng = Rng(42 + n as u64);
    let data = match workload.as_str() {
        "uuid" => uuid_like(n, &mut rng),
        "tsbs" => tsbs(n, &mut rng),
        "perm" => full_perm(4, 10),
        "diagonal" => diagonal(3, n),
        "partial" => random_partial(n, 6, 10, &mut rng),
        other => panic!("unknown workload {other}"),
    };
    let grid = Index::new(Policy::default());
    let mut base = baseline::Baseline::new();
    let t = Instant::now();
    for s in &data {
        if which == "grid" {
            grid.insert(b"m", &refs(s)).expect("insert");
        } else {
            base.insert(b"m", &refs(s));
        }
    }
    let built = t.elapsed();
    eprintln!(
        "{workload} {n} {which}: insert {:.0} ns/series",
        built.as_nanos() as f64 / data.len() as f64
    );
    if std::env::var_os("PROFILE_STATS").is_some() {
        for g in grid.stats().grids {
            let dims: Vec<String> = g
                .dims
                .iter()
                .map(|d| {
                    let k = String::from_utf8_lossy(&d.key);
                    if d.dense {
                        format!("{k}:{}/{}", d.values, d.capacity)
                    } else {
                        format!("[{k}:{}]", d.values)
                    }
                })
                .collect();
            eprintln!(
                "grid {} {}: {} live of {}, rows {}, {}",
                g.grid,
                g.kind.name(),
                g.live,
                g.allocated,
                g.row_capacity,
                dims.join(" ")
            );
        }
    }
    if what == "insert" {
        return;
    }
    let qs = queries(&data, &what, 2000, &mut rng);
    let t = Instant::now();
    let hits = if which == "grid" {
        query_grid(&grid, &qs)
    } else {
        query_baseline(&base, &qs)
    };
    eprintln!(
        "{what}: {:.0} ns/query, {hits} hits",
        t.elapsed().as_nanos() as f64 / qs.len() as f64
    );
    if std::env::var_os("PROFILE_PERCENTILES").is_some() {
        // one query at a time, as the report times them
        let mut ns: Vec<u128> = qs
            .iter()
            .map(|q| {
                let t = Instant::now();
                if which == "grid" {
                    std::hint::black_box(grid.query(b"m", q).len());
                } else {
                    std::hint::black_box(base.query(b"m", q).len());
                }
                t.elapsed().as_nanos()
            })
            .collect();
        ns.sort_unstable();
        let at = |p: f64| ns[((ns.len() - 1) as f64 * p).round() as usize];
        eprintln!("{what}: p50 {} ns, p99 {} ns", at(0.5), at(0.99));
    }
}

/// The timed loop of the grid index (a function of its own for `--toggle-collect`).
#[inline(never)]
fn query_grid(grid: &Index, qs: &[Expr]) -> u64 {
    qs.iter().map(|q| grid.query(b"m", q).len()).sum()
}

/// The timed loop of the baseline.
#[inline(never)]
fn query_baseline(base: &baseline::Baseline, qs: &[Expr]) -> u64 {
    qs.iter().map(|q| base.query(b"m", q).len()).sum()
}
