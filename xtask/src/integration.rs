//! `cargo xtask integration [--long]`: the whole `tsmdb` command end to end, in release mode.
//!
//! One devops data set is generated twice (as line protocol, and straight into a data directory)
//! and the line protocol is also ingested with `tsmdb write`. Counts per field and per host, and
//! max/mean of a field per host over hourly windows, are asked of both directories with
//! `tsmdb query --format json`; the answers must agree with a model computed here from the line
//! protocol text alone. Then both directories are compacted and asked again (same answers), and
//! `tsmdb verify` must find nothing wrong. Last, `tsmdb delete` removes one host's first hour from
//! both, and the answers must match the model without those rows (and `verify` still pass, now
//! with tombstones).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use anyhow::{Context, bail};

use crate::util::{run_command, workspace_root};

/// Arguments of `cargo xtask integration`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A bigger data set (more hosts, more days).
    #[arg(long)]
    long: bool,
}

const START: &str = "2016-01-01T00:00:00Z";
const START_NS: i64 = 1_451_606_400_000_000_000;
const HOUR: i64 = 3_600_000_000_000;
/// The field whose max and mean are compared per window.
const WINDOW_FIELD: &str = "usage_user";

/// Runs the integration suite.
pub fn run(args: Args) -> anyhow::Result<()> {
    let (scale, end) = if args.long {
        ("100", "2016-01-03T00:00:00Z")
    } else {
        ("20", "2016-01-02T00:00:00Z")
    };
    run_command("cargo", &["build", "--release", "-p", "tsmdb"])?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let bin = target.join("release").join("tsmdb");
    let work = std::env::temp_dir().join(format!("tsmdb-integration-{}", std::process::id()));
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("removing {}", work.display()))?;
    }
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let started = Instant::now();
    let result = suite(&bin, &work, scale, end);
    if result.is_ok() {
        // Kept on failure, for a look at what went wrong.
        let _ = std::fs::remove_dir_all(&work);
    } else {
        eprintln!("xtask: integration: files kept in {}", work.display());
    }
    result?;
    eprintln!(
        "xtask: integration passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn suite(bin: &Path, work: &Path, scale: &str, end: &str) -> anyhow::Result<()> {
    let lp = work.join("data.lp");
    let generated = work.join("generated");
    let written = work.join("written");
    let devops = [
        "generate",
        "--preset",
        "devops",
        "--scale",
        scale,
        "--seed",
        "42",
        "--start-time",
        START,
        "--end-time",
        end,
    ];
    let lp_str = lp.to_str().context("temp path is not UTF-8")?;
    tsmdb(
        bin,
        work,
        &[&devops[..], &["--lp", "--output", lp_str]].concat(),
    )?;
    tsmdb(bin, &generated, &devops)?;
    tsmdb(bin, &written, &["write", lp_str])?;

    let file = std::fs::File::open(&lp).with_context(|| format!("opening {}", lp.display()))?;
    let model = Model::from_lp(std::io::BufReader::new(file))
        .with_context(|| format!("reading {}", lp.display()))?;
    eprintln!(
        "xtask: model: {} hosts, {} fields, {} values",
        model.hosts().len(),
        model.fields().len(),
        model.counts.values().sum::<u64>()
    );
    let end_ns = START_NS + (model.last_time - START_NS) / HOUR * HOUR + HOUR;
    for dir in [&generated, &written] {
        check(bin, dir, &model, end_ns).with_context(|| format!("querying {}", dir.display()))?;
    }
    for dir in [&generated, &written] {
        tsmdb(bin, dir, &["compact", "--full"])?;
        check(bin, dir, &model, end_ns)
            .with_context(|| format!("querying {} after compaction", dir.display()))?;
        tsmdb(bin, dir, &["verify"])?;
    }
    // Delete the first hour of one host; the model loses exactly those rows.
    let mut model = model;
    let host = model.hosts()[0].to_string();
    let first_hour = model
        .windows
        .remove(&(host.clone(), START_NS))
        .context("the model has no first window")?
        .2;
    for ((h, _), count) in model.counts.iter_mut() {
        if *h == host {
            *count -= first_hour;
        }
    }
    let condition = format!("hostname = '{host}'");
    let hour_end = (START_NS + HOUR).to_string();
    for dir in [&generated, &written] {
        tsmdb(
            bin,
            dir,
            &[
                "delete",
                "--measurement",
                "cpu",
                "--where",
                &condition,
                "--start",
                START,
                "--end",
                &hour_end,
            ],
        )?;
        check(bin, dir, &model, end_ns)
            .with_context(|| format!("querying {} after a delete", dir.display()))?;
        tsmdb(bin, dir, &["verify"])?;
    }
    Ok(())
}

/// Runs `tsmdb --db DB ARGS`; fails unless it exits 0.
fn tsmdb(bin: &Path, db: &Path, args: &[&str]) -> anyhow::Result<Output> {
    eprintln!("xtask: $ tsmdb --db {} {}", db.display(), args.join(" "));
    let out = Command::new(bin)
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("TSMDB_DB")
        .output()
        .with_context(|| format!("starting {}", bin.display()))?;
    if !out.status.success() {
        bail!(
            "tsmdb {} exited with {}:\n{}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out)
}

/// What the data holds, computed from the line protocol text.
#[derive(Default)]
struct Model {
    /// Values per (host, field).
    counts: BTreeMap<(String, String), u64>,
    /// (max, sum, count) of WINDOW_FIELD per (host, window start).
    windows: BTreeMap<(String, i64), (f64, f64, u64)>,
    last_time: i64,
}

impl Model {
    /// Parses devops rows: `cpu,hostname=H,... f1=Ni,f2=Ni,... TIME` (no escapes in this data).
    fn from_lp(text: impl std::io::BufRead) -> anyhow::Result<Model> {
        let mut m = Model::default();
        for (n, line) in text.lines().enumerate() {
            let line = line?;
            let line = line.as_str();
            let bad = || format!("line {}: {line:?}", n + 1);
            let mut parts = line.split(' ');
            let (Some(key), Some(fields), Some(time), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                bail!("{}: expected `key fields time`", bad());
            };
            let host = key
                .split(',')
                .find_map(|t| t.strip_prefix("hostname="))
                .with_context(|| format!("{}: no hostname tag", bad()))?;
            let time: i64 = time.parse().with_context(bad)?;
            m.last_time = m.last_time.max(time);
            for field in fields.split(',') {
                let (name, value) = field.split_once('=').with_context(bad)?;
                let value: f64 = value
                    .trim_end_matches(['i', 'u'])
                    .parse()
                    .with_context(bad)?;
                *m.counts
                    .entry((host.to_string(), name.to_string()))
                    .or_default() += 1;
                if name == WINDOW_FIELD {
                    let window = START_NS + (time - START_NS).div_euclid(HOUR) * HOUR;
                    let w =
                        m.windows
                            .entry((host.to_string(), window))
                            .or_insert((f64::MIN, 0.0, 0));
                    w.0 = w.0.max(value);
                    w.1 += value;
                    w.2 += 1;
                }
            }
        }
        if m.counts.is_empty() {
            bail!("the generated line protocol is empty");
        }
        Ok(m)
    }

    fn hosts(&self) -> Vec<&str> {
        let mut h: Vec<&str> = self.counts.keys().map(|(h, _)| h.as_str()).collect();
        h.dedup();
        h
    }

    fn fields(&self) -> Vec<&str> {
        let mut f: Vec<&str> = self.counts.keys().map(|(_, f)| f.as_str()).collect();
        f.sort_unstable();
        f.dedup();
        f
    }
}

/// Asks the data directory and compares every answer with the model.
fn check(bin: &Path, db: &Path, model: &Model, end_ns: i64) -> anyhow::Result<()> {
    let fields = model.fields();
    let counts: Vec<String> = fields
        .iter()
        .map(|f| format!("SELECT count({f}) FROM cpu GROUP BY hostname"))
        .collect();
    let json = query(bin, db, &counts.join("; "))?;
    let mut got = BTreeMap::new();
    for (i, field) in fields.iter().enumerate() {
        for (host, values) in series_of(&json, i)? {
            let [_, count] = values.first().map(Vec::as_slice).unwrap_or_default() else {
                bail!("count({field}) for {host}: expected [time, count]");
            };
            got.insert((host, field.to_string()), *count as u64);
        }
    }
    if got != model.counts {
        bail!(
            "counts differ:\n  stored {got:?}\n  model  {:?}",
            model.counts
        );
    }

    let statement = format!(
        "SELECT max({WINDOW_FIELD}), mean({WINDOW_FIELD}) FROM cpu WHERE time >= {START_NS} AND time < {end_ns} GROUP BY time(1h), hostname"
    );
    let json = query(bin, db, &statement)?;
    let mut windows = 0;
    for (host, rows) in series_of(&json, 0)? {
        for row in rows {
            let [time, max, mean] = row.as_slice() else {
                bail!("{statement}: expected [time, max, mean] rows");
            };
            let time = *time as i64;
            let Some(&(m_max, m_sum, m_count)) = model.windows.get(&(host.clone(), time)) else {
                // An empty window reports nulls; the model has no entry for it.
                if max.is_nan() && mean.is_nan() {
                    continue;
                }
                bail!("{host} window {time}: stored max {max} mean {mean}, model has no values");
            };
            let m_mean = m_sum / m_count as f64;
            if *max != m_max || (mean - m_mean).abs() > 1e-9 * m_mean.abs().max(1.0) {
                bail!(
                    "{host} window {time}: stored max {max} mean {mean}, model max {m_max} mean {m_mean}"
                );
            }
            windows += 1;
        }
    }
    if windows != model.windows.len() {
        bail!(
            "{statement}: {windows} windows with values, the model has {}",
            model.windows.len()
        );
    }
    eprintln!(
        "xtask: {}: {} counts and {windows} windows agree with the model",
        db.display(),
        got.len()
    );
    Ok(())
}

fn query(bin: &Path, db: &Path, statements: &str) -> anyhow::Result<serde_json::Value> {
    let out = tsmdb(
        bin,
        db,
        &["query", "--format", "json", "--epoch-ns", statements],
    )?;
    serde_json::from_slice(&out.stdout).context("tsmdb query printed invalid JSON")
}

/// The series of result `i`: (hostname tag, rows as numbers; null becomes NaN).
fn series_of(json: &serde_json::Value, i: usize) -> anyhow::Result<Vec<(String, Vec<Vec<f64>>)>> {
    let result = &json["results"][i];
    if let Some(e) = result.get("error") {
        bail!("statement {i} failed: {e}");
    }
    let Some(series) = result["series"].as_array() else {
        bail!("statement {i}: no series in {result}");
    };
    let mut out = Vec::new();
    for s in series {
        let Some(host) = s["tags"]["hostname"].as_str() else {
            bail!("statement {i}: series without a hostname tag: {s}");
        };
        let Some(rows) = s["values"].as_array() else {
            bail!("statement {i}: series without values: {s}");
        };
        let rows = rows
            .iter()
            .map(|r| {
                r.as_array()
                    .map(|r| r.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect())
                    .unwrap_or_default()
            })
            .collect();
        out.push((host.to_string(), rows));
    }
    Ok(out)
}
