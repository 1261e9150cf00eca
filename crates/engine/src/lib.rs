//! # tsmdb-engine
//!
//! The storage engine users embed. It owns the data directory (databases, one shard per time
//! range, each with its TSM files, WAL, cache and grid index), the write path, recovery at open,
//! the read path with aggregates, deletes, retention, and the background snapshots and
//! compactions.
//!
//! It must not know about InfluxQL text, the command line or any network protocol: the `query`
//! layer and the `tsmdb` binary sit above it and call this API.
//!
//! ## Guarantees
//! * A write that returned `Ok` is in the WAL and fsynced: it survives `kill -9` and power loss.
//! * A refused point is never logged, so it never comes back at replay; refusals are explicit in
//!   [`WriteSummary::rejected`] with the line and InfluxDB's reason.
//! * A delete is logged before tombstones are written, so deleted values never come back.
//! * One damaged file or shard is reported ([`OpenReport`]) and never stops the others.
//! * A second process opening the same directory gets [`Error::Locked`].
//!
//! ```
//! use tsmdb_engine::{Engine, Options, Select, Aggregate, aggregate};
//! use tsmdb_lineproto::Precision;
//!
//! let dir = tempfile::tempdir()?;
//! let engine = Engine::open(dir.path(), Options::default())?;
//! engine.create_database("telegraf", None)?;
//! let summary = engine.write_lp(
//!     "telegraf",
//!     b"cpu,host=a usage=0.5 10\ncpu,host=b usage=0.7 10\ncpu,host=a usage=0.9 20\n",
//!     Precision::Nanosecond,
//! )?;
//! assert_eq!((summary.points, summary.rejected.len()), (3, 0));
//!
//! let series = engine.select("telegraf", &Select::all("cpu").fields(["usage"]))?;
//! assert_eq!(series.len(), 2);
//! assert_eq!(series[0].timestamps, vec![10, 20]);
//! let max = aggregate(&series[0].timestamps, &series[0].values, Aggregate::Max, None, 0)?;
//! assert_eq!(max[0].0, 20);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctest;

mod aggregate;
mod background;
mod batch;
mod bulk;
mod database;
mod durable_dir;
mod engine;
mod error;
mod ingest;
mod keys;
mod layout;
mod lock;
mod merge;
mod options;
mod point;
mod read;
mod replay;
mod schema;
mod shard;
mod stats;
mod write_stream;

pub use aggregate::{AggValue, Aggregate, Window, aggregate};
pub use batch::{Rejection, WriteSummary};
pub use bulk::{BulkFailpoint, BulkLoad, BulkStep, BulkSummary};
pub use engine::{Engine, OpenReport};
pub use error::{Error, Result};
pub use keys::parse_series_key;
pub use layout::{DATABASE_META, ShardRange, WAL_DIR};
pub use lock::LOCK_FILE;
pub use options::Options;
#[doc(hidden)]
pub use options::{WalOpenFn, WalOpener};
pub use point::{FieldValue, Point};
pub use read::{Edge, FieldColumn, Select, SeriesColumns, SeriesValues};
pub use shard::ShardReport;
pub use stats::Stats;
pub use tsmdb_index_grid::Expr;
