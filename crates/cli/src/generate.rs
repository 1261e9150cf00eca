//! `tsmdb generate`: synthetic data from an `influxd generate` schema, the `simple` shortcut, or
//! the TSBS devops preset, as line protocol or as a printed plan.
//!
//! The default output writes schema data straight into TSM files of the data directory's shards
//! with the engine's bulk load (`Engine::bulk_load`), bypassing the WAL as `influxd generate`
//! does. `--via-wal` sends typed points through the normal write path instead (WAL, cache, then
//! a snapshot). The devops preset is bulk-loaded too, from its line protocol parsed back in
//! chunks (`generate/devops_bulk.rs`).

mod devops_bulk;

use crate::output::human_bytes;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args as ClapArgs, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use tsmdb_datagen::devops::{DevopsConfig, DevopsGenerator};
use tsmdb_datagen::duration::{format_go_duration, parse_go_duration};
use tsmdb_datagen::schema::Schema;
use tsmdb_datagen::simple::{DEFAULT_POINTS, HELP_SCHEMA, parse_cardinalities, simple_schema};
use tsmdb_datagen::time::{format_rfc3339, parse_rfc3339};
use tsmdb_datagen::{
    Block, Generator, LineProtocolWriter, Plan, PlanSummary, TimeRange, read_schema_file,
};
use tsmdb_encoding::Column;
use tsmdb_engine::{Engine, FieldValue, Options, Point, parse_series_key};
use tsmdb_lineproto::Precision;

/// Arguments of `tsmdb generate`.
#[derive(Debug, ClapArgs)]
#[command(args_conflicts_with_subcommands = true)]
#[command(after_help = "Examples:\n  \
    tsmdb generate examples/schemas/documented.toml --print\n  \
    tsmdb generate schema.toml --lp --start-time 2020-01-01T00:00:00Z --end-time 2020-01-02T00:00:00Z > data.lp\n  \
    tsmdb generate simple --t 10,10,10 --p 100 --lp --output data.lp\n  \
    tsmdb generate --preset devops --scale 100 --seed 123 --lp > cpu.lp\n  \
    tsmdb generate help-schema")]
pub struct Args {
    /// Schema TOML file (`tsmdb generate help-schema` prints a documented example).
    pub schema: Option<PathBuf>,
    /// A built-in data set instead of a schema.
    #[arg(long, value_enum, conflicts_with = "schema")]
    pub preset: Option<Preset>,
    #[command(flatten)]
    pub devops: DevopsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(subcommand)]
    pub command: Option<GenerateCommand>,
}

/// Built-in data sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// TSBS devops `cpu-only`: measurement cpu, 10 tags, 10 fields, one row per host every 10 s;
    /// byte-identical to `tsbs_generate_data --use-case=cpu-only --format=influx`.
    Devops,
}

/// `generate` subcommands.
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// One measurement `m0` with tags tag0… of the given cardinalities and one float field v0.
    Simple(Box<SimpleArgs>),
    /// Print a documented example schema.
    HelpSchema,
}

/// Arguments of `tsmdb generate simple`.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Examples:\n  \
    tsmdb generate simple                      # 1,000 series (tags 10x10x10), 100 points each\n  \
    tsmdb generate simple --t 100,5 --p 1000   # 500 series, 1,000 points each\n  \
    tsmdb generate simple --print              # the plan only: series, values, bytes\n  \
    tsmdb generate simple --lp --output m0.lp  # line protocol instead of TSM files")]
pub struct SimpleArgs {
    /// Tag cardinalities, comma-separated: entry j creates tag `tag<j>` with that many values.
    #[arg(long = "t", default_value = "10,10,10", value_name = "N,N,…")]
    pub tags: String,
    /// Points per series (values of field v0).
    #[arg(long = "p", default_value_t = DEFAULT_POINTS, value_name = "N")]
    pub points: u64,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Flags of `--preset devops` (TSBS `tsbs_generate_data` flags).
#[derive(Debug, ClapArgs)]
pub struct DevopsArgs {
    /// Number of hosts (`--preset devops`).
    #[arg(long, default_value_t = 1, value_name = "HOSTS")]
    pub scale: u64,
    /// Hosts active at the start, ramping up to --scale (0 = all; `--preset devops`).
    #[arg(long, default_value_t = 0, value_name = "HOSTS")]
    pub initial_scale: u64,
    /// Seed of the random source (0 = from the clock, as TSBS; `--preset devops`).
    #[arg(long, default_value_t = 0)]
    pub seed: i64,
    /// Interval between rows of a host (`--preset devops`).
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub log_interval: String,
    /// Most rows to write (0 = unlimited; `--preset devops`).
    #[arg(long, default_value_t = 0, value_name = "ROWS")]
    pub max_data_points: u64,
}

/// What to write where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Into the data directory through the storage engine (ends in TSM files).
    Tsm,
    /// Line protocol.
    Lp,
}

/// What `--clean` removes before writing TSM files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Clean {
    /// Nothing.
    None,
    /// The database's data (the engine cannot drop TSM files alone, so this is the same as
    /// `all`).
    Tsm,
    /// The whole database.
    All,
}

/// Output flags shared by every form of `generate`.
#[derive(Debug, ClapArgs)]
pub struct OutputArgs {
    /// Validate and print the plan (series, fields, points, sizes), then exit without writing.
    #[arg(long)]
    pub print: bool,
    /// Start of the time range, RFC 3339 (default: midnight UTC 7 days ago; devops: 2016-01-01).
    #[arg(long, value_name = "TIME", alias = "timestamp-start")]
    pub start_time: Option<String>,
    /// End of the time range, exclusive (default: start + 7 days; devops: start + 1 day).
    #[arg(long, value_name = "TIME", alias = "timestamp-end")]
    pub end_time: Option<String>,
    /// Write line protocol (same as --format lp).
    #[arg(long)]
    pub lp: bool,
    /// Write TSM files into the data directory, or line protocol.
    #[arg(long, value_enum, default_value = "tsm")]
    pub format: OutputFormat,
    /// Where line protocol goes (`-` = standard output).
    #[arg(long, short, default_value = "-", value_name = "FILE|-")]
    pub output: PathBuf,
    /// What to delete from the data directory before writing TSM files.
    #[arg(long, value_enum, default_value = "none")]
    pub clean: Clean,
    /// Write through the WAL and cache (then snapshot) instead of bulk-loading TSM files.
    #[arg(long)]
    pub via_wal: bool,
    /// Database to write into (created if needed; default output only).
    #[arg(long, default_value = "db")]
    pub database: String,
    /// Accepted and ignored (InfluxDB 2.0-beta command lines).
    #[arg(long, hide = true)]
    pub org: Option<String>,
    /// Accepted and ignored (InfluxDB 2.0-beta command lines).
    #[arg(long, hide = true)]
    pub bucket: Option<String>,
    /// Accepted and ignored (upstream profiling flags).
    #[arg(long, hide = true, value_name = "FILE")]
    pub cpuprofile: Option<PathBuf>,
    /// Accepted and ignored (upstream profiling flags).
    #[arg(long, hide = true, value_name = "FILE")]
    pub memprofile: Option<PathBuf>,
}

impl OutputArgs {
    fn format(&self) -> OutputFormat {
        if self.lp {
            OutputFormat::Lp
        } else {
            self.format
        }
    }

    /// The range from the flags, or the schema default (spec §4.7).
    fn range(
        &self,
        default: impl Fn() -> TimeRange,
        default_span: i64,
    ) -> anyhow::Result<TimeRange> {
        let parse = |flag: &str, v: &Option<String>| -> anyhow::Result<Option<i64>> {
            v.as_deref()
                .map(|t| parse_rfc3339(t).map_err(|e| anyhow::anyhow!("--{flag}: {e}")))
                .transpose()
        };
        let start = parse("start-time", &self.start_time)?;
        let end = parse("end-time", &self.end_time)?;
        let range = match (start, end) {
            (Some(start), Some(end)) => TimeRange { start, end },
            (Some(start), None) => TimeRange {
                start,
                end: start.saturating_add(default_span),
            },
            (None, Some(end)) => TimeRange {
                start: end.saturating_sub(default_span),
                end,
            },
            (None, None) => default(),
        };
        if range.end <= range.start {
            bail!(
                "--end-time ({}) must be after --start-time ({})",
                format_rfc3339(range.end),
                format_rfc3339(range.start)
            );
        }
        Ok(range)
    }
}

const DAY: i64 = 86_400_000_000_000;

/// Most `--scale` hosts (each costs a few hundred bytes of memory).
const MAX_HOSTS: u64 = 10_000_000;

/// Runs `tsmdb generate`.
pub fn run(args: Args, db: &Path) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(GenerateCommand::HelpSchema) => {
            print!("{HELP_SCHEMA}");
            return Ok(ExitCode::SUCCESS);
        }
        Some(GenerateCommand::Simple(simple)) => {
            let cardinalities = parse_cardinalities(&simple.tags).map_err(anyhow::Error::msg)?;
            let schema = simple_schema(&cardinalities, simple.points)?;
            let header = vec![
                (
                    "Tag cardinalities",
                    format!("[{}]", simple.tags.replace(' ', "")),
                ),
                ("Points per series", simple.points.to_string()),
            ];
            return run_schema(schema, &simple.output, db, header);
        }
        None => {}
    }
    if let Some(Preset::Devops) = args.preset {
        return run_devops(&args.devops, &args.output, db);
    }
    let Some(path) = args.schema else {
        bail!(
            "missing schema file (or `simple`, `help-schema`, `--preset devops`); see tsmdb generate --help"
        );
    };
    let schema = read_schema_file(&path)?;
    run_schema(schema, &args.output, db, Vec::new())
}

fn label(name: &str, value: impl std::fmt::Display) -> String {
    format!("{name:<25}{value}\n")
}

fn run_schema(
    schema: Schema,
    out: &OutputArgs,
    db: &Path,
    mut header: Vec<(&str, String)>,
) -> anyhow::Result<ExitCode> {
    for warning in &schema.warnings {
        eprintln!("tsmdb: {warning}");
    }
    let range = out.range(TimeRange::default_now, 7 * DAY)?;
    let plan = Plan::new(&schema, range)?;
    let format = out.format();
    if out.print {
        let summary = PlanSummary::new(&plan);
        // As upstream, only `simple` prints these lines (its header is not empty); a schema's
        // totals are the table's TOTAL row.
        if !header.is_empty() {
            header.push(("Total points", summary.total(|m| m.points).to_string()));
            header.push(("Total series", summary.total(|m| m.series).to_string()));
        }
        print!("{}", render_plan(&plan, &summary, out, db, format, &header));
        return Ok(ExitCode::SUCCESS);
    }
    if format == OutputFormat::Tsm && !out.via_wal {
        return bulk_load(&plan, out, db);
    }
    if format == OutputFormat::Tsm {
        let started = Instant::now();
        let progress = progress_bar(|| PlanSummary::new(&plan).total(|m| m.points));
        let engine = open_target(out, db)?;
        let mut sink = PointSink::new(&engine, &out.database, progress.as_ref());
        let result = Generator::new(&plan)
            .for_each_block(|block| sink.add_block(block))
            .and_then(|totals| sink.finish().map(|()| totals));
        if let Some(bar) = &progress {
            bar.finish_and_clear();
        }
        let totals = result.with_context(|| format!("writing into {}", db.display()))?;
        let rejected = sink.rejected;
        close_target(&engine, db)?;
        report_db(started, totals.series, totals.values, rejected, db);
        return Ok(if rejected == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let started = Instant::now();
    let progress = progress_bar(|| PlanSummary::new(&plan).total(|m| m.points));
    let mut writer = LineProtocolWriter::new(open_output(&out.output)?);
    let mut since_tick = 0u64;
    let result = Generator::new(&plan).for_each_block(|block| {
        writer.write_block(block)?;
        since_tick += block.timestamps.len() as u64;
        if since_tick >= 100_000 {
            if let Some(bar) = &progress {
                bar.inc(since_tick);
            }
            since_tick = 0;
        }
        Ok::<(), io::Error>(())
    });
    let result = result.and_then(|totals| writer.flush().map(|()| totals));
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let totals = match result {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(e).context(format!("writing {}", out.output.display())),
    };
    report(started, totals.series, totals.values, writer.bytes());
    Ok(ExitCode::SUCCESS)
}

/// Schema data straight into TSM files (the default output).
fn bulk_load(plan: &Plan, out: &OutputArgs, db: &Path) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let progress = progress_bar(|| PlanSummary::new(plan).total(|m| m.points));
    let engine = open_target(out, db)?;
    let mut load = engine.bulk_load(&out.database)?;
    let mut since_tick = 0u64;
    let result = Generator::new(plan).for_each_block(|block| {
        load.write(
            block.series_key,
            block.field.as_bytes(),
            block.timestamps,
            block.values.as_ref(),
        )?;
        since_tick += block.timestamps.len() as u64;
        if since_tick >= 100_000 {
            if let Some(bar) = &progress {
                bar.inc(since_tick);
            }
            since_tick = 0;
        }
        Ok::<(), tsmdb_engine::Error>(())
    });
    let result = result.and_then(|totals| load.commit().map(|summary| (totals, summary)));
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let (totals, summary) =
        result.with_context(|| format!("bulk-loading into {}", db.display()))?;
    engine
        .close()
        .with_context(|| format!("closing {}", db.display()))?;
    report_db(started, totals.series, totals.values, 0, db);
    eprintln!(
        "tsmdb: {} TSM files ({}) in {} shards",
        summary.files,
        human_bytes_exact(summary.bytes),
        summary.shards
    );
    Ok(ExitCode::SUCCESS)
}

/// The closing summary of a write into the data directory, on standard error.
fn report_db(started: Instant, series: u64, values: u64, rejected: u64, db: &Path) {
    let secs = started.elapsed().as_secs_f64();
    let rate = if secs > 0.0 {
        values as f64 / secs
    } else {
        0.0
    };
    eprintln!(
        "tsmdb: generated {series} series, {values} values into {} in {secs:.2} s ({rate:.0} values/s){}",
        db.display(),
        if rejected > 0 {
            format!("; {rejected} points rejected")
        } else {
            String::new()
        }
    );
}

/// The closing summary on standard error.
fn report(started: Instant, series: u64, values: u64, bytes: u64) {
    let secs = started.elapsed().as_secs_f64();
    let rate = if secs > 0.0 {
        values as f64 / secs
    } else {
        0.0
    };
    eprintln!(
        "tsmdb: generated {series} series, {values} values, {bytes} bytes of line protocol in {secs:.2} s ({rate:.0} values/s)"
    );
}

/// A bar on standard error, only when it is a terminal (`total` is computed only then).
fn progress_bar(total: impl FnOnce() -> u64) -> Option<ProgressBar> {
    if !io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} values ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

fn open_output(path: &Path) -> anyhow::Result<Box<dyn Write>> {
    if path.as_os_str() == "-" {
        Ok(Box::new(io::stdout().lock()))
    } else {
        let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Box::new(BufWriter::with_capacity(1 << 16, file)))
    }
}

/// [`human_bytes`], with the exact count beside it where the short form rounds.
fn human_bytes_exact(bytes: u64) -> String {
    if bytes < 1024 {
        human_bytes(bytes)
    } else {
        format!("{} ({bytes} bytes)", human_bytes(bytes))
    }
}

fn storage_lines(out: &OutputArgs, db: &Path, format: OutputFormat, range: TimeRange) -> String {
    let clean = match out.clean {
        Clean::None => "none",
        Clean::Tsm => "tsm",
        Clean::All => "all",
    };
    let (dir, output) = match format {
        OutputFormat::Tsm => (db.display().to_string(), "tsm".to_string()),
        OutputFormat::Lp => ("-".to_string(), format!("lp to {}", out.output.display())),
    };
    label("Data dir", dir)
        + &label("Start time", format_rfc3339(range.start))
        + &label("End time", format_rfc3339(range.end))
        + &label("Clean data", clean)
        + &label("Output", output)
}

/// The `--print` text: storage plan, per-measurement table, tags, fields, size estimates.
fn render_plan(
    plan: &Plan,
    summary: &PlanSummary,
    out: &OutputArgs,
    db: &Path,
    format: OutputFormat,
    header: &[(&str, String)],
) -> String {
    let mut text = storage_lines(out, db, format, plan.range);
    for (name, value) in header {
        text += &label(name, value);
    }
    text.push('\n');
    text += &summary.table();
    text.push('\n');
    text += "Tags\n";
    for m in &summary.measurements {
        let tags: Vec<String> = m.tags.iter().map(|(k, n)| format!("{k}({n})")).collect();
        let tags = if tags.is_empty() {
            "(none)".to_string()
        } else {
            tags.join(" ")
        };
        text += &format!("  {}  {}\n", m.name, tags);
    }
    text += "Fields\n";
    for spec in &plan.specs {
        let t = spec.times;
        let span = if t.count == 0 {
            "no values in range".to_string()
        } else {
            format!(
                "{} per series, every {} from {}",
                t.count,
                format_go_duration(t.delta),
                format_rfc3339(t.start)
            )
        };
        text += &format!(
            "  {}.{}  {}  {}\n",
            spec.measurement, spec.field, spec.field_type, span
        );
    }
    text.push('\n');
    text += &label(
        "Estimated line protocol",
        human_bytes_exact(summary.total(|m| m.lp_bytes)),
    );
    text += &label(
        "Estimated TSM size",
        human_bytes_exact(summary.total(|m| m.tsm_bytes)),
    );
    text
}

fn run_devops(args: &DevopsArgs, out: &OutputArgs, db: &Path) -> anyhow::Result<ExitCode> {
    let interval = parse_go_duration(&args.log_interval)
        .map_err(|e| anyhow::anyhow!("--log-interval {:?}: {e}", args.log_interval))?;
    if interval <= 0 {
        bail!("--log-interval must be > 0");
    }
    if args.scale == 0 || args.scale > MAX_HOSTS {
        bail!(
            "--scale must be between 1 and {MAX_HOSTS} (every host's tags and state are held in memory)"
        );
    }
    let tsbs_start = 1_451_606_400_000_000_000;
    let range = out.range(
        || TimeRange {
            start: tsbs_start,
            end: tsbs_start + DAY,
        },
        DAY,
    )?;
    let seed = if args.seed != 0 {
        args.seed
    } else {
        // TSBS seeds from the nanosecond part of the clock when no seed is given.
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| i64::from(d.subsec_nanos()))
    };
    let config = DevopsConfig {
        scale: args.scale,
        initial_scale: args.initial_scale,
        start: range.start,
        end: range.end,
        interval,
        seed,
        max_rows: args.max_data_points,
    };
    let format = out.format();
    if out.print {
        let rows = config.rows();
        let mut text = storage_lines(out, db, format, range);
        text += &label("Preset", "devops (TSBS cpu-only)");
        text += &label("Hosts", config.scale);
        text += &label(
            "Seed",
            if args.seed == 0 {
                "from the clock".to_string()
            } else {
                seed.to_string()
            },
        );
        text += &label("Interval", format_go_duration(interval));
        text += &label("Epochs", config.epochs());
        text += &label("Total rows", rows);
        text += &label("Total points", rows * config.fields().len() as u64);
        text += &label("Total series", config.scale);
        text += &label("Field series", config.scale * config.fields().len() as u64);
        // A cpu row is about 300 bytes (10 tags, 10 small integers, a timestamp).
        text += &label("Estimated line protocol", human_bytes_exact(rows * 300));
        print!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    if format == OutputFormat::Tsm && !out.via_wal {
        return run_devops_bulk(config, out, db, args.seed == 0);
    }
    if format == OutputFormat::Tsm {
        return run_devops_into_db(config, out, db, args.seed == 0);
    }
    let started = Instant::now();
    let progress = progress_bar(|| config.rows());
    let mut sink = CountingWriter {
        inner: open_output(&out.output)?,
        bytes: 0,
    };
    let mut generator = DevopsGenerator::new(config.clone());
    let mut last = 0;
    let result = generator
        .write_all(&mut sink, |rows| {
            if let Some(bar) = &progress {
                bar.inc(rows - last);
                last = rows;
            }
        })
        .and_then(|rows| sink.flush().map(|()| rows));
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let rows = match result {
        Ok(rows) => rows,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(e).context(format!("writing {}", out.output.display())),
    };
    if args.seed == 0 {
        eprintln!("tsmdb: seed {seed} (pass --seed {seed} to repeat this data)");
    }
    report(
        started,
        config.scale,
        rows * config.fields().len() as u64,
        sink.bytes,
    );
    Ok(ExitCode::SUCCESS)
}

/// Counts bytes on their way to the output.
struct CountingWriter {
    inner: Box<dyn Write>,
    bytes: u64,
}

impl Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Opens the engine, applies `--clean` and creates the database.
fn open_target(out: &OutputArgs, db: &Path) -> anyhow::Result<Engine> {
    let engine = Engine::open(db, Options::default())
        .with_context(|| format!("opening {}", db.display()))?;
    if out.clean != Clean::None {
        engine
            .drop_database(&out.database)
            .with_context(|| format!("--clean: dropping database {}", out.database))?;
    }
    engine
        .create_database(&out.database, None)
        .with_context(|| format!("creating database {}", out.database))?;
    Ok(engine)
}

/// Snapshots the caches to TSM files and closes the engine.
fn close_target(engine: &Engine, db: &Path) -> anyhow::Result<()> {
    engine
        .snapshot_all()
        .with_context(|| format!("writing TSM files in {}", db.display()))?;
    engine
        .close()
        .with_context(|| format!("closing {}", db.display()))
}

/// Points per engine write (one WAL entry each).
const BATCH_POINTS: usize = 5000;

/// Turns generated blocks into typed points and writes them in batches.
struct PointSink<'a> {
    engine: &'a Engine,
    database: &'a str,
    progress: Option<&'a ProgressBar>,
    batch: Vec<Point>,
    rejected: u64,
}

impl<'a> PointSink<'a> {
    fn new(engine: &'a Engine, database: &'a str, progress: Option<&'a ProgressBar>) -> Self {
        PointSink {
            engine,
            database,
            progress,
            batch: Vec::with_capacity(BATCH_POINTS),
            rejected: 0,
        }
    }

    fn add_block(&mut self, block: &Block<'_>) -> anyhow::Result<()> {
        let Some((measurement, tags)) = parse_series_key(block.series_key) else {
            bail!(
                "generated series key {:?} has a tag without '='",
                String::from_utf8_lossy(block.series_key)
            );
        };
        let tags: Vec<(Vec<u8>, Vec<u8>)> = tags
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        for (i, &time) in block.timestamps.iter().enumerate() {
            let Some(value) = value_at(block.values, i) else {
                bail!(
                    "generated block of {:?} field {} has fewer values than timestamps",
                    String::from_utf8_lossy(block.series_key),
                    block.field
                );
            };
            self.batch.push(Point {
                measurement: measurement.to_vec(),
                tags: tags.clone(),
                fields: vec![(block.field.as_bytes().to_vec(), value)],
                time,
            });
            if self.batch.len() >= BATCH_POINTS {
                self.flush()?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let summary = self.engine.write_points(self.database, &self.batch)?;
        for r in &summary.rejected {
            eprintln!("tsmdb: generated point rejected: {}", r.reason);
        }
        self.rejected += summary.rejected.len() as u64;
        if let Some(bar) = self.progress {
            bar.inc(self.batch.len() as u64);
        }
        self.batch.clear();
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.flush()
    }
}

/// The value at `i` of a generated column as a typed field value.
fn value_at(column: &Column, i: usize) -> Option<FieldValue> {
    Some(match column {
        Column::Float(v) => FieldValue::Float(*v.get(i)?),
        Column::Integer(v) => FieldValue::Integer(*v.get(i)?),
        Column::Unsigned(v) => FieldValue::Unsigned(*v.get(i)?),
        Column::Boolean(v) => FieldValue::Boolean(*v.get(i)?),
        Column::String(v) => FieldValue::String(v.get(i)?.to_vec()),
    })
}

/// `--preset devops` bulk-loaded into the data directory (the default output).
fn run_devops_bulk(
    config: DevopsConfig,
    out: &OutputArgs,
    db: &Path,
    seed_from_clock: bool,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let progress = progress_bar(|| config.rows());
    let engine = open_target(out, db)?;
    let mut load = engine.bulk_load(&out.database)?;
    let mut generator = DevopsGenerator::new(config.clone());
    let mut chunk = devops_bulk::Chunk::new();
    let mut buf = Vec::new();
    let result = (|| -> anyhow::Result<_> {
        while generator.next_epoch(&mut buf) {
            chunk.add_lp(&buf)?;
            buf.clear();
            if chunk.values >= devops_bulk::CHUNK_VALUES {
                chunk.write_to(&mut load)?;
                if let Some(bar) = &progress {
                    bar.set_position(generator.rows_written());
                }
            }
        }
        chunk.write_to(&mut load)?;
        Ok(load.commit()?)
    })();
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let summary = result.with_context(|| format!("bulk-loading into {}", db.display()))?;
    engine
        .close()
        .with_context(|| format!("closing {}", db.display()))?;
    if seed_from_clock {
        eprintln!(
            "tsmdb: seed {} (pass --seed {} to repeat this data)",
            config.seed, config.seed
        );
    }
    report_db(started, config.scale, chunk.written, 0, db);
    eprintln!(
        "tsmdb: {} TSM files ({}) in {} shards",
        summary.files,
        human_bytes_exact(summary.bytes),
        summary.shards
    );
    Ok(ExitCode::SUCCESS)
}

/// `--preset devops` into the data directory through the WAL (`--via-wal`): each epoch's rows go to the engine as one
/// line-protocol batch (the generator's only output is line protocol, byte-identical to TSBS).
fn run_devops_into_db(
    config: DevopsConfig,
    out: &OutputArgs,
    db: &Path,
    seed_from_clock: bool,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let progress = progress_bar(|| config.rows());
    let engine = open_target(out, db)?;
    let mut generator = DevopsGenerator::new(config.clone());
    let mut buf = Vec::new();
    let (mut values, mut rejected) = (0u64, 0u64);
    let mut result = Ok(());
    while generator.next_epoch(&mut buf) {
        // Batches of about BATCH_POINTS rows, cut at epoch boundaries.
        if buf.len() < BATCH_POINTS * 300 {
            continue;
        }
        result = write_lp_batch(&engine, &out.database, &buf, &mut values, &mut rejected);
        if result.is_err() {
            break;
        }
        if let Some(bar) = &progress {
            bar.set_position(generator.rows_written());
        }
        buf.clear();
    }
    if result.is_ok() && !buf.is_empty() {
        result = write_lp_batch(&engine, &out.database, &buf, &mut values, &mut rejected);
    }
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    result.with_context(|| format!("writing into {}", db.display()))?;
    close_target(&engine, db)?;
    if seed_from_clock {
        eprintln!(
            "tsmdb: seed {} (pass --seed {} to repeat this data)",
            config.seed, config.seed
        );
    }
    report_db(started, config.scale, values, rejected, db);
    Ok(if rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn write_lp_batch(
    engine: &Engine,
    database: &str,
    lp: &[u8],
    values: &mut u64,
    rejected: &mut u64,
) -> anyhow::Result<()> {
    let summary = engine.write_lp(database, lp, Precision::Nanosecond)?;
    for r in &summary.rejected {
        eprintln!("tsmdb: generated line {} rejected: {}", r.line, r.reason);
    }
    *values += summary.values;
    *rejected += summary.rejected.len() as u64;
    Ok(())
}
