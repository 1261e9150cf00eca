//! # tsmdb-compactor
//!
//! Compaction of TSM files (spec `tsm-format.md` §8): the level planner, the k-way block merge
//! with tombstones applied, cache snapshots written as new generations, the crash-safe install
//! protocol with its recovery at open, and the limits that keep compaction from starving ingest
//! (in-use leases, a global concurrency limit, a write throttle).
//!
//! It owns: which files to merge ([`Planner`], from [`FileInfo`] descriptors only, so plans are
//! deterministic and testable without a disk), how to merge them ([`Compactor::compact`]), how a
//! snapshot becomes files ([`Compactor::write_snapshot`]), and how outputs replace inputs
//! ([`cleanup_dir`] finishes or undoes an interrupted install; `docs/compaction.md` explains the
//! protocol).
//!
//! It must not know about the WAL, the series index, queries, shards or the engine's scheduling:
//! it works on one directory of TSM files at a time and is told when to run. Reading and writing
//! single files is `tsmdb-tsm-file`'s; block codecs are `tsmdb-encoding`'s.
//!
//! ## Merge semantics
//! For each key (in byte order across inputs) its blocks from all inputs are sorted by start
//! time. A full block that overlaps no other block, has no tombstone in its range and has nothing
//! pending before it is copied as bytes (no decode). Other blocks are decoded, cleaned of
//! tombstoned values and merged into the pending values (on equal timestamps the newer input
//! wins); values that no later block can reach are re-encoded into full blocks. Tombstoned values
//! and keys never reach the outputs.
#![doc = include_str!("../README.md")]

mod columns;
mod compactor;
mod error;
mod files;
mod install;
mod limits;
mod merge;
mod output;
mod planner;

pub use compactor::{CompactionReport, Compactor, CompactorConfig, DirReport};
pub use error::{Error, Result};
pub use files::{FileInfo, FileInfoCache, scan_dir, tsm_paths};
pub use install::{
    CleanupReport, Failpoint, JOURNAL_EXT, JournalContents, Step, cleanup_dir, encode_journal,
    parse_journal,
};
pub use limits::{InUse, Lease, Slot, Slots, Throttle};
pub use merge::MergeStats;
pub use output::StagedFile;
pub use planner::{Plan, PlanKind, Planner, PlannerConfig};
