//! Issue #8's open-time figure: how long `Engine::open` takes on a data directory holding about
//! 1 GB of TSM files and 100 MB of WAL (a tenth of that with `TSMDB_BENCH_QUICK=1`), with the
//! shard's index present and with it deleted (rebuilt from the TSM keys and the WAL), cold and
//! warm; beside `influxd` 1.6.7 starting on the same TSM and WAL files when it is installed.
//!
//! * The TSM files are made with the engine's bulk load from a datagen schema (10 float fields
//!   of `rand<float>`, which hardly compress, so the bytes are real); the WAL through the normal
//!   write path with snapshots disabled, so replay has all of it to read.
//! * "Cold" drops the page cache of every file of the directory first (`dd iflag=nocache
//!   count=0` per file: no root needed, other processes' caches untouched); "warm" opens again
//!   right after an open.
//! * influxd's figure is the time from starting the process until `/ping` answers (it opens
//!   its store, rebuilding its in-memory index from the TSM keys and replaying the WAL, before
//!   it starts the HTTP service), polled every 10 ms; it includes the process start.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tsmdb_datagen::gorand::GoRand;
use tsmdb_datagen::{Generator, Plan, TimeRange, parse_schema};
use tsmdb_engine::{Engine, FieldValue, Options, Point};

/// 2016-01-04T01:00:00Z: a Monday, so the data lies in one shard of ours (weeks from the Unix
/// epoch) and one of influxd's (weeks from Go's zero time, which start on Mondays).
const START: i64 = 1_451_869_200_000_000_000;
const DATABASE: &str = "db";

fn options() -> Options {
    // No snapshot may turn the WAL into TSM files, before or after an open.
    Options::default()
        .background(false)
        .cache_snapshot_size(u64::MAX)
        .cache_max_size(0)
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn bytes_with_extension(dir: &Path, ext: &str) -> u64 {
    files(dir)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .filter_map(|p| p.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// Drops the page cache of every file under `dir` (the files are clean: fsynced when written).
fn drop_page_cache(dir: &Path) {
    for f in files(dir) {
        let ok = Command::new("dd")
            .arg(format!("if={}", f.display()))
            .args(["iflag=nocache", "count=0", "status=none"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "dd iflag=nocache failed on {}", f.display());
    }
}

/// The schema of the TSM part: 1000 hosts x 10 cpus, 10 float fields, `points` each.
fn plan(points: u64) -> Plan {
    let fields: Vec<String> = (0..10)
        .map(|i| {
            format!(
                "{{ name = \"f{i}\", count = {points}, time-interval = \"10s\", source = {{ type = \"rand<float>\", seed = {i} }} }}"
            )
        })
        .collect();
    let text = format!(
        "[[measurements]]\nname = \"cpu\"\nsample = 1.0\n\
         tags = [{{ name = \"host\", source = {{ type = \"sequence\", format = \"host_%s\", count = 1000 }} }}, \
         {{ name = \"cpu\", source = {{ type = \"sequence\", format = \"cpu%s\", count = 10 }} }}]\n\
         fields = [{}]\n",
        fields.join(", ")
    );
    let range = TimeRange {
        start: START,
        end: START + points as i64 * 10_000_000_000,
    };
    Plan::new(
        &parse_schema(&text, "open-time", None).expect("schema"),
        range,
    )
    .expect("plan")
}

/// Builds the data directory: bulk-loaded TSM, then WAL through the write path up to
/// `wal_bytes`.
fn build(dir: &Path, points: u64, wal_bytes: u64) {
    let engine = Engine::open(dir, options()).expect("open");
    engine.create_database(DATABASE, None).expect("create");
    let plan = plan(points);
    let mut load = engine.bulk_load(DATABASE).expect("bulk load");
    Generator::new(&plan)
        .for_each_block(|b| {
            load.write(
                b.series_key,
                b.field.as_bytes(),
                b.timestamps,
                b.values.as_ref(),
            )
        })
        .expect("generate");
    load.commit().expect("commit");

    // 1000 series of another measurement, 10 fields, later times of the same shard.
    let mut rng = GoRand::new(7);
    let mut lp = String::new();
    let mut time = START + points as i64 * 10_000_000_000;
    while engine.stats().wal_bytes < wal_bytes {
        lp.clear();
        for host in 0..1000 {
            lp.push_str(&format!("wal,host=h{host} "));
            for f in 0..10 {
                let sep = if f == 0 { "" } else { "," };
                lp.push_str(&format!("{sep}f{f}={}", rng.float64()));
            }
            lp.push_str(&format!(" {time}\n"));
        }
        time += 10_000_000_000;
        let s = engine
            .write_lp(
                DATABASE,
                lp.as_bytes(),
                tsmdb_lineproto::Precision::Nanosecond,
            )
            .expect("write");
        assert!(s.is_complete());
    }
    engine.close().expect("close");
}

/// Opens the directory and returns the time it took (the engine is closed afterwards).
fn time_open(dir: &Path) -> f64 {
    let started = Instant::now();
    let engine = Engine::open(dir, options()).expect("open");
    let secs = started.elapsed().as_secs_f64();
    let stats = engine.stats();
    assert!(
        stats.series > 10_000 && stats.cache_bytes > 0,
        "the open found {} series and {} cache bytes",
        stats.series,
        stats.cache_bytes
    );
    drop(engine);
    secs
}

fn remove_indexes(dir: &Path) {
    for f in files(dir) {
        let name = f.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with("index.grid") {
            std::fs::remove_file(&f).expect("remove index");
        }
    }
}

/// A minimal influxd runner with a data directory that outlives the process.
struct Influx {
    binary: PathBuf,
    root: PathBuf,
    addr: SocketAddr,
    config: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// One HTTP/1.0 request; the status code.
fn http(addr: SocketAddr, method: &str, target: &str, body: &str) -> std::io::Result<u16> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    write!(
        s,
        "{method} {target} HTTP/1.0\r\nContent-Length: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n\r\n{body}",
        body.len()
    )?;
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line)?;
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))
}

impl Influx {
    fn new(binary: PathBuf, root: &Path) -> Influx {
        let http_port = free_port();
        let rpc_port = free_port();
        let config = root.join("influxdb.conf");
        let text = format!(
            "reporting-disabled = true\nbind-address = \"127.0.0.1:{rpc_port}\"\n\
             [meta]\n  dir = \"{r}/meta\"\n\
             [data]\n  dir = \"{r}/data\"\n  wal-dir = \"{r}/wal\"\n  query-log-enabled = false\n\
             [retention]\n  enabled = false\n[monitor]\n  store-enabled = false\n\
             [http]\n  bind-address = \"127.0.0.1:{http_port}\"\n  log-enabled = false\n\
             [continuous_queries]\n  enabled = false\n[subscriber]\n  enabled = false\n",
            r = root.display()
        );
        std::fs::write(&config, text).expect("config");
        Influx {
            binary,
            root: root.to_path_buf(),
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, http_port)),
            config,
        }
    }

    /// Starts influxd and returns it with the seconds until `/ping` answered.
    fn start(&self) -> (Child, f64) {
        let log = std::fs::File::create(self.root.join("influxd.log")).expect("log");
        let started = Instant::now();
        let mut child = Command::new(&self.binary)
            .arg("-config")
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start influxd");
        loop {
            if let Ok(204) = http(self.addr, "GET", "/ping", "") {
                return (child, started.elapsed().as_secs_f64());
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "influxd exited with {status}: {}",
                    std::fs::read_to_string(self.root.join("influxd.log")).unwrap_or_default()
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(600),
                "influxd did not answer"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// influxd's start time on our TSM and WAL files, cold then warm. `None` without influxd.
fn influxd_start(ours: &Path, scratch: &Path) -> Option<(f64, f64)> {
    let binary = tsmdb_tests::influxd::find_influxd()?;
    let influx = Influx::new(binary, scratch);
    // Create the database and its shard with one point, then put our files in the shard.
    let (mut child, _) = influx.start();
    let q = |q: &str| http(influx.addr, "POST", "/query", &format!("q={q}"));
    assert_eq!(q("CREATE%20DATABASE%20db").ok(), Some(200));
    let point = format!("cpu,host=host_0,cpu=cpu0 f0=0.5 {START}\n");
    assert_eq!(
        http(influx.addr, "POST", "/write?db=db", &point).ok(),
        Some(204)
    );
    let _ = child.kill();
    let _ = child.wait();
    let shard = std::fs::read_dir(scratch.join("data/db/autogen"))
        .ok()?
        .flatten()
        .next()?
        .file_name();
    let data = scratch.join("data/db/autogen").join(&shard);
    let wal = scratch.join("wal/db/autogen").join(&shard);
    for f in files(&wal) {
        std::fs::remove_file(f).expect("remove influxd's own WAL");
    }
    for f in files(ours) {
        let name = f.file_name().unwrap_or_default().to_owned();
        let to = match f.extension().and_then(|e| e.to_str()) {
            Some("tsm") => data.join(name),
            Some("wal") => wal.join(name),
            _ => continue,
        };
        if std::fs::hard_link(&f, &to).is_err() {
            std::fs::copy(&f, &to).expect("copy into influxd's shard");
        }
    }
    drop_page_cache(scratch);
    let (mut child, cold) = influx.start();
    let _ = child.kill();
    let _ = child.wait();
    let (mut child, warm) = influx.start();
    let _ = child.kill();
    let _ = child.wait();
    Some((cold, warm))
}

/// Prints the open-time rows.
pub fn run(quick: bool, row: impl Fn(&str, f64, &str, &str, Option<f64>)) {
    let (points, wal_bytes) = if quick {
        (135, 10 << 20)
    } else {
        (1350, 100 << 20)
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("tsmdb");
    let built = Instant::now();
    build(&data, points, wal_bytes);
    eprintln!(
        "open time: built {} MB of TSM and {} MB of WAL in {:.1} s",
        bytes_with_extension(&data, "tsm") >> 20,
        bytes_with_extension(&data, "wal") >> 20,
        built.elapsed().as_secs_f64()
    );
    let tsm = bytes_with_extension(&data, "tsm") as f64 / 1e6;
    let wal = bytes_with_extension(&data, "wal") as f64 / 1e6;
    row("open-time data: TSM", tsm, "MB", "-", None);
    row("open-time data: WAL", wal, "MB", "-", None);

    let scratch = dir.path().join("influxd");
    std::fs::create_dir_all(&scratch).expect("scratch");
    let influx = influxd_start(&data, &scratch);
    if influx.is_none() {
        eprintln!("open time: influxd not installed, no baseline");
    }
    let base = |cold: bool| influx.map(|(c, w)| if cold { c } else { w });
    let name = "influxd 1.6.7 start";

    drop_page_cache(&data);
    let cold = time_open(&data);
    let warm = time_open(&data);
    remove_indexes(&data);
    drop_page_cache(&data);
    let rebuilt = time_open(&data);
    row("open: index kept, cold", cold, "s", name, base(true));
    row("open: index kept, warm", warm, "s", name, base(false));
    row(
        "open: index deleted (rebuilt), cold",
        rebuilt,
        "s",
        name,
        base(true),
    );
}

/// Bulk-loads `plan` into a fresh data directory (commit and close included).
pub fn bulk_load_plan(plan: &Plan) {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(dir.path(), Options::default()).expect("open");
    engine.create_database(DATABASE, None).expect("create");
    let mut load = engine.bulk_load(DATABASE).expect("bulk load");
    Generator::new(plan)
        .for_each_block(|b| {
            load.write(
                b.series_key,
                b.field.as_bytes(),
                b.timestamps,
                b.values.as_ref(),
            )
        })
        .expect("generate");
    load.commit().expect("commit");
    engine.close().expect("close");
}

/// Writes `plan` (float fields) into a fresh data directory as typed points through the WAL,
/// 5000 per write, then snapshots to TSM files: what `tsmdb generate --via-wal` does.
pub fn write_plan_via_wal(plan: &Plan) {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(dir.path(), Options::default()).expect("open");
    engine.create_database(DATABASE, None).expect("create");
    let mut batch = Vec::with_capacity(5000);
    Generator::new(plan)
        .for_each_block(|b| {
            let (m, tags) = tsmdb_engine::parse_series_key(b.series_key).expect("key");
            let tags: Vec<(Vec<u8>, Vec<u8>)> =
                tags.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
            let tsmdb_encoding::Column::Float(values) = b.values else {
                panic!("the plan has float fields only");
            };
            for (&time, &v) in b.timestamps.iter().zip(values) {
                batch.push(Point {
                    measurement: m.to_vec(),
                    tags: tags.clone(),
                    fields: vec![(b.field.as_bytes().to_vec(), FieldValue::Float(v))],
                    time,
                });
                if batch.len() == 5000 {
                    engine.write_points(DATABASE, &batch)?;
                    batch.clear();
                }
            }
            Ok::<(), tsmdb_engine::Error>(())
        })
        .expect("write");
    engine.write_points(DATABASE, &batch).expect("write");
    engine.snapshot_all().expect("snapshot");
    engine.close().expect("close");
}
