//! # tsmdb-index-grid
//!
//! The series index of tsmdb: a Grid Index. It owns
//! * series ids: each series (measurement + tag set) gets a stable `u64` computed from the
//!   coordinates of its tag values in a grid, from one index-wide allocator, never reused;
//! * the inverse (`tags_of`), by arithmetic on the id and per-dimension dictionaries;
//! * predicate evaluation (`=`, `!=`, `=~`, `!~`, exists, AND, OR, with InfluxDB's semantics for
//!   missing keys) to ascending id sets, candidates generated as ranges;
//! * sorted listings, deletes, and the `index.grid` file (snapshot + change log, checksummed).
//!
//! Dense keys (few values, many combinations used) are grid dimensions; high-cardinality and
//! dependent keys (host names, UUIDs) are kept sparse, with postings inside the grid, so the
//! index stays small where a plain grid would explode; key sets with no grid of their own share
//! one postings segment per measurement (see `docs/index-grid.md`).
//!
//! It must not know about TSM files, field values, the WAL or the engine: it sees measurement
//! names and tag sets as bytes, and nothing else. No other component persists series ids.
//!
//! ```
//! use tsmdb_index_grid::{Expr, Index, Inserted, Policy};
//!
//! let index = Index::new(Policy::default());
//! let (id, how) = index.insert(b"cpu", &[(b"host", b"a"), (b"region", b"eu")]).unwrap();
//! assert_eq!(how, Inserted::Inserted);
//! assert_eq!(index.insert(b"cpu", &[(b"region", b"eu"), (b"host", b"a")]).unwrap().0, id);
//! let hits = index.query(b"cpu", &Expr::regex("region", "^e").unwrap());
//! assert_eq!(hits.to_vec(), vec![id]);
//! assert_eq!(index.tags_of(id).unwrap().tags[0], (b"host".to_vec(), b"a".to_vec()));
//! ```

mod dict;
mod error;
mod expr;
mod grid;
mod ids;
mod index;
mod mask;
mod measurement;
mod payload;
mod persist;
mod policy;
mod posting;
mod query;
mod segment;
mod stats;
mod tagset;

pub use error::{Error, Result};
pub use expr::{Expr, Pred};
pub use ids::{Inserted, SeriesId, SeriesIdSet};
pub use index::{Index, OwnedTags, SeriesKey};
pub use persist::{INDEX_FILE, LOG_FILE, OpenReport};
pub use policy::{AdaptivePolicy, MultiplierPolicy, Policy};
pub use stats::{DimStats, GridKind, GridStats, IndexStats};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
