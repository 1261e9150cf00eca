//! `cargo xtask bench index`: the grid index against the roaring-postings baseline (spec §7)
//! on dense, diagonal, random partial, UUID-like and TSBS-devops workloads. Memory is measured
//! with a counting global allocator (live bytes after the build minus before), not estimated.

#[path = "support/baseline.rs"]
mod baseline;
#[path = "support/workloads.rs"]
mod workloads;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use tsmdb_index_grid::{Expr, Index, Policy};
use workloads::{
    Rng, Series, TagRefs, diagonal, full_perm, queries, random_partial, refs, tsbs, uuid_like,
};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        // SAFETY: `p` was allocated by `System` with `l`.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn row(group: &str, figure: &str, value: f64, unit: &str, base: f64) {
    println!("ROW\t{group}\t{figure}\t{value}\t{unit}\troaring-inverted\t{base}");
}

fn bench(name: &str, data: Vec<Series>, reps: usize) {
    let n = data.len();
    let group = format!("index {name}");
    // grid
    let before = live();
    let t = Instant::now();
    let grid = Index::new(Policy::default());
    for s in &data {
        grid.insert(b"m", &refs(s)).expect("insert");
    }
    let grid_ns = t.elapsed().as_nanos() as f64 / n as f64;
    let grid_heap = (live() - before) as f64;
    // baseline
    let before = live();
    let t = Instant::now();
    let mut base = baseline::Baseline::new();
    for s in &data {
        base.insert(b"m", &refs(s));
    }
    let base_ns = t.elapsed().as_nanos() as f64 / n as f64;
    let base_heap = (live() - before) as f64;
    let live_series = grid.len();
    let st = grid.stats();
    eprintln!(
        "{name}: {live_series} series, {} grids, ids allocated {} (density {:.3})",
        st.grids.len(),
        st.next_id - 1,
        live_series as f64 / (st.next_id - 1).max(1) as f64
    );
    row(&group, "retained heap", grid_heap, "bytes", base_heap);
    row(
        &group,
        "serialized",
        grid.to_bytes().len() as f64,
        "bytes",
        base.to_bytes().len() as f64,
    );
    row(&group, "insert", grid_ns, "ns/series", base_ns);
    let mut rng = Rng(0x5eed ^ n as u64);
    for class in ["one-tag", "two-tag", "regex"] {
        let qs = queries(&data, class, reps, &mut rng);
        // both indexes must agree before anything is timed
        for q in qs.iter().take(50) {
            let g = grid.query(b"m", q);
            let b = base.query(b"m", q);
            assert_eq!(g.len(), b.len(), "{name} {class} {q:?}");
            for id in g.iter().take(3) {
                let tags = grid.tags_of(id).expect("live").tags;
                assert!(
                    base.lookup(b"m", &refs(&tags))
                        .is_some_and(|bid| b.contains(bid))
                );
            }
        }
        let mut gt = Vec::with_capacity(reps);
        let mut bt = Vec::with_capacity(reps);
        // Each query is timed on both indexes back to back, and the one timed first
        // alternates: the first of the pair runs slower (on random partial two-tag at 10^5
        // series the index measured first was 1.45x the other, whichever it was), which had
        // charged that cost to the grid index on every query.
        let time_grid = |q: &Expr| {
            let t = Instant::now();
            std::hint::black_box(grid.query(b"m", q).len());
            t.elapsed().as_nanos() as f64
        };
        let time_base = |q: &Expr| {
            let t = Instant::now();
            std::hint::black_box(base.query(b"m", q).len());
            t.elapsed().as_nanos() as f64
        };
        for (i, q) in qs.iter().enumerate() {
            if i % 2 == 0 {
                gt.push(time_grid(q));
                bt.push(time_base(q));
            } else {
                bt.push(time_base(q));
                gt.push(time_grid(q));
            }
        }
        row(
            &group,
            &format!("{class} query p50"),
            percentile(&mut gt, 0.5),
            "ns",
            percentile(&mut bt, 0.5),
        );
        row(
            &group,
            &format!("{class} query p99"),
            percentile(&mut gt, 0.99),
            "ns",
            percentile(&mut bt, 0.99),
        );
    }
}

fn main() {
    let quick = std::env::var("TSMDB_BENCH_QUICK").is_ok_and(|v| v == "1");
    let sizes: &[usize] = if quick {
        &[10_000]
    } else {
        &[10_000, 100_000, 1_000_000]
    };
    eprintln!(
        "index-grid report: sizes {sizes:?} (release build; figures beside a baseline measured in the same run)"
    );
    for &n in sizes {
        let reps = if n >= 1_000_000 { 300 } else { 1000 };
        let mut rng = Rng(42 + n as u64);
        let (keys, vals) = match n {
            10_000 => (4, 10),
            100_000 => (5, 10),
            _ => (6, 10),
        };
        bench(
            &format!("full-perm {keys}x{vals}"),
            full_perm(keys, vals),
            reps,
        );
        bench(&format!("diagonal 3x{n}"), diagonal(3, n), reps);
        let partial = random_partial(n, 6, 10, &mut rng);
        bench(&format!("random-partial 6x10 n={n}"), partial, reps);
        bench(&format!("uuid n={n}"), uuid_like(n, &mut rng), reps);
        let hosts = tsbs(n, &mut rng);
        if Some(&n) == sizes.last() {
            bench_open(&format!("tsbs-devops hosts={n}"), &hosts);
        }
        bench(&format!("tsbs-devops hosts={n}"), hosts, reps);
    }
}

/// Open and rebuild (spec §7.4): the grid index opened from a snapshot plus a change log of 1 %
/// more series, answering one query, against the baseline read from its file and deserialised
/// (dictionaries, bitmaps, forward table and series map rebuilt), answering the same query; and
/// a full deterministic rebuild from the list of series keys against building the baseline
/// from the same list.
fn bench_open(name: &str, data: &[Series]) {
    let group = format!("index open {name}");
    let dir = tempfile::tempdir().expect("temp dir");
    let n = data.len();
    let tail = n / 100;
    let keys: Vec<(&[u8], TagRefs<'_>)> = data[..n - tail]
        .iter()
        .map(|s| (&b"m"[..], refs(s)))
        .collect();
    // rebuild from series keys
    let t = Instant::now();
    let grid = Index::rebuild(Policy::default(), keys).expect("rebuild");
    let grid_rebuild = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let mut base = baseline::Baseline::new();
    for s in &data[..n - tail] {
        base.insert(b"m", &refs(s));
    }
    let base_build = t.elapsed().as_secs_f64() * 1e3;
    row(&group, "rebuild", grid_rebuild, "ms", base_build);
    // snapshot, then 1 % more series through the change log
    grid.save_to(dir.path()).expect("save");
    drop(grid);
    {
        let (ix, _) = Index::open(dir.path(), Policy::default()).expect("open");
        for s in &data[n - tail..] {
            ix.insert(b"m", &refs(s)).expect("insert");
            base.insert(b"m", &refs(s));
        }
        ix.sync().expect("sync");
    }
    let base_path = dir.path().join("baseline.bin");
    std::fs::write(&base_path, base.to_bytes()).expect("write baseline");
    drop(base);
    let q = Expr::eq(data[0][0].0.clone(), data[0][0].1.clone());
    let t = Instant::now();
    let (ix, report) = Index::open(dir.path(), Policy::default()).expect("open");
    let hits = std::hint::black_box(ix.query(b"m", &q).len());
    let grid_open = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(ix.len(), n as u64);
    assert_eq!(report.log_records as usize, tail);
    let t = Instant::now();
    let buf = std::fs::read(&base_path).expect("read baseline");
    let base = baseline::Baseline::from_bytes(&buf).expect("baseline image");
    let base_hits = std::hint::black_box(base.query(b"m", &q).len());
    let base_open = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(hits, base_hits);
    eprintln!("{name}: opened {n} series ({tail} from the log)");
    row(&group, "open + 1 query", grid_open, "ms", base_open);
}
