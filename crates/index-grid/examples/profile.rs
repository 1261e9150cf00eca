//! A small driver for profiling (callgrind, perf) the grid index against the benches' baseline
//! on one workload of the report: builds it, then runs one query class.
//!
//! ```text
//! cargo run --release -p tsmdb-index-grid --example profile -- uuid 200000 insert grid
//! valgrind --tool=callgrind --toggle-collect='*Index::insert*' \
//!     target/release/examples/profile uuid 200000 insert grid
//! ```
//!
//! Arguments: workload (`uuid`, `tsbs`, `perm`, `diagonal`), series count, what to time
//! (`insert`, `one-tag`, `two-tag`, `regex`), index (`grid` or `baseline`).

#[path = "../benches/support/baseline.rs"]
mod baseline;

use std::time::Instant;

use tsmdb_index_grid::{Expr, Index, Policy};

type Series = Vec<(Vec<u8>, Vec<u8>)>;

/// xorshift64*, the report's fixed-seed generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn uuid_like(count: usize, rng: &mut Rng) -> Vec<Series> {
    (0..count)
        .map(|i| {
            let u = format!("{:016x}-{:016x}", rng.next(), rng.next());
            vec![
                (b"dc".to_vec(), format!("dc{}", i % 3).into_bytes()),
                (b"region".to_vec(), format!("region{}", i % 10).into_bytes()),
                (b"uuid".to_vec(), u.into_bytes()),
            ]
        })
        .collect()
}

fn tsbs(hosts: usize, rng: &mut Rng) -> Vec<Series> {
    const REGIONS: [(&str, &str); 9] = [
        ("us-east-1", "abce"),
        ("us-west-1", "ab"),
        ("us-west-2", "abc"),
        ("eu-west-1", "abc"),
        ("eu-central-1", "ab"),
        ("ap-southeast-1", "ab"),
        ("ap-southeast-2", "ab"),
        ("ap-northeast-1", "ac"),
        ("sa-east-1", "abc"),
    ];
    const OS: [&str; 3] = ["Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"];
    const ARCH: [&str; 2] = ["x64", "x86"];
    const TEAM: [&str; 4] = ["SF", "NYC", "LON", "CHI"];
    const ENV: [&str; 3] = ["production", "staging", "test"];
    (0..hosts)
        .map(|i| {
            let (region, letters) = REGIONS[rng.below(9) as usize];
            let dc = letters.as_bytes()[rng.below(letters.len() as u64) as usize] as char;
            let t = |k: &str, v: String| (k.as_bytes().to_vec(), v.into_bytes());
            let mut s = vec![
                t("hostname", format!("host_{i}")),
                t("region", region.into()),
                t("datacenter", format!("{region}{dc}")),
                t("rack", rng.below(100).to_string()),
                t("arch", ARCH[rng.below(2) as usize].into()),
                t("os", OS[rng.below(3) as usize].into()),
                t("service", rng.below(20).to_string()),
                t("service_version", rng.below(2).to_string()),
                t("service_environment", ENV[rng.below(3) as usize].into()),
                t("team", TEAM[rng.below(4) as usize].into()),
            ];
            s.sort();
            s
        })
        .collect()
}

fn full_perm(n: usize, m: usize) -> Vec<Series> {
    (0..m.pow(n as u32))
        .map(|mut i| {
            let mut d = vec![0; n];
            for x in d.iter_mut().rev() {
                *x = i % m;
                i /= m;
            }
            d.iter()
                .enumerate()
                .map(|(k, v)| (vec![b'a' + k as u8], v.to_string().into_bytes()))
                .collect()
        })
        .collect()
}

fn diagonal(n: usize, m: usize) -> Vec<Series> {
    (0..m)
        .map(|i| {
            (0..n)
                .map(|k| (vec![b'a' + k as u8], i.to_string().into_bytes()))
                .collect()
        })
        .collect()
}

fn refs(s: &Series) -> Vec<(&[u8], &[u8])> {
    s.iter().map(|(k, v)| (&k[..], &v[..])).collect()
}

fn queries(data: &[Series], class: &str, n: usize, rng: &mut Rng) -> Vec<Expr> {
    (0..n)
        .map(|_| {
            let s = &data[rng.below(data.len() as u64) as usize];
            let a = &s[rng.below(s.len() as u64) as usize];
            match class {
                "one-tag" => Expr::eq(a.0.clone(), a.1.clone()),
                "two-tag" => {
                    let b = &s[rng.below(s.len() as u64) as usize];
                    Expr::And(vec![
                        Expr::eq(a.0.clone(), a.1.clone()),
                        Expr::eq(b.0.clone(), b.1.clone()),
                    ])
                }
                _ => {
                    let first = char::from(a.1[0]);
                    let pattern = if first.is_ascii_alphanumeric() {
                        format!("^{first}")
                    } else {
                        format!("^\\{first}")
                    };
                    Expr::regex(a.0.clone(), &pattern).expect("valid")
                }
            }
        })
        .collect()
}

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
