//! # tsmdb-datagen
//!
//! Synthetic workloads for tsmdb, compatible with the tools people benchmark InfluxDB with:
//!
//! * **`influxd generate` schemas** ([`schema`], [`Plan`], [`Generator`]): the TOML schema format
//!   with the same keys, defaults and meaning; tag combinations walked as a cartesian product with
//!   the same sampling (Go `math/rand` v1, bit-exact: [`gorand`]), series limits, time ranges and
//!   per-field timestamps, merged in (series key, field) order. Values come out as typed
//!   [`tsmdb_encoding::Column`]s in blocks of at most [`BLOCK_SIZE`] with their timestamps, never
//!   as text; [`LineProtocolWriter`] renders them as line protocol when asked.
//! * **`generate simple`** ([`simple`]): the one-measurement shortcut.
//! * **`--print`** ([`PlanSummary`]): exact series and point counts from walking keys only.
//! * **TSBS devops `cpu-only`** ([`devops`]): byte-identical line protocol to
//!   `tsbs_generate_data --use-case=cpu-only --format=influx`.
//!
//! This crate owns *what* data is generated. It must not know how data is stored: no TSM files,
//! WAL or index (writing generated blocks into a shard is the caller's job, through the engine's
//! public API), and no command-line parsing.
//!
//! ```
//! use tsmdb_datagen::{Generator, Plan, TimeRange, parse_schema};
//!
//! let schema = parse_schema(
//!     r#"
//!     [[measurements]]
//!     name = "cpu"
//!     sample = 1.0
//!     tags = [{ name = "host", source = ["a", "b"] }]
//!     fields = [{ name = "usage", count = 3, time-interval = "10s", source = 2.5 }]
//!     "#,
//!     "example.toml",
//!     None,
//! )?;
//! let plan = Plan::new(&schema, TimeRange { start: 0, end: 60_000_000_000 })?;
//! let mut keys = Vec::new();
//! let totals = Generator::new(&plan).for_each_block(|block| {
//!     keys.push(String::from_utf8_lossy(block.series_key).into_owned());
//!     Ok::<(), std::convert::Infallible>(())
//! })?;
//! assert_eq!(keys, ["cpu,host=a", "cpu,host=b"]);
//! assert_eq!((totals.series, totals.values), (2, 6));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod devops;
pub mod duration;
mod escape;
mod generator;
pub mod gorand;
mod lp;
mod plan;
pub mod schema;
mod series;
pub mod simple;
mod summary;
pub mod time;
mod values;

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use generator::{BLOCK_SIZE, Block, Generator, Totals};
pub use lp::{LineProtocolWriter, format_float};
pub use plan::{FieldSpec, Plan, TagSet, sequence_values};
pub use schema::{Schema, SchemaError, parse_schema, read_schema_file};
pub use series::{Combinations, Pair, SeriesWalker, sample_seed, series_key};
pub use summary::{MeasurementSummary, PlanSummary};
pub use time::{FieldTimes, TimeRange};
