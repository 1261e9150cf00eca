//! # tsmdb-query
//!
//! InfluxQL for tsmdb: a tokenizer and parser for the subset users run every day (SELECT with
//! aggregates, tag and field conditions, time ranges, GROUP BY time and tags, fill, ORDER BY,
//! LIMIT/OFFSET/SLIMIT/SOFFSET; SHOW, CREATE, DROP and DELETE statements), and an executor that
//! runs them on a [`tsmdb_engine::Engine`] and returns results shaped like InfluxDB's `/query`
//! JSON.
//!
//! It must not know about files, the WAL, the index's layout or any transport: it speaks to the
//! engine's public API only, so that a server can reuse it.
//!
//! ```
//! use tsmdb_engine::{Engine, Options};
//! use tsmdb_lineproto::Precision;
//! use tsmdb_query::{execute, to_json, Epoch};
//!
//! let dir = tempfile::tempdir()?;
//! let engine = Engine::open(dir.path(), Options::default())?;
//! engine.create_database("db", None)?;
//! engine.write_lp("db", b"cpu,host=a usage=1 0\ncpu,host=a usage=3 10000000000\n", Precision::Nanosecond)?;
//! let results = execute(&engine, "db", "SELECT mean(usage) FROM cpu", 0)?;
//! let json = to_json(&results, Epoch::Rfc3339);
//! assert_eq!(
//!     json,
//!     r#"{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","mean"],"values":[["1970-01-01T00:00:00Z",2.0]]}]}]}"#
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctest;

mod ast;
mod error;
mod exec;
mod lexer;
mod parser;
mod partial;
mod result;
mod select;
mod series;
mod timefmt;
mod windows;

pub use ast::{
    CmpOp, Cond, FieldExpr, Fill, GroupTags, KeySelector, Operand, Page, SelectStatement, Statement,
};
pub use error::QueryError;
pub use exec::execute;
pub use lexer::{Spanned, Token, tokenize};
pub use parser::parse_statements;
pub use result::{Epoch, Series, StatementResult, Value, to_json};
pub use timefmt::{format_rfc3339, parse_rfc3339};
