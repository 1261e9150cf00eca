//! # tsmdb-lineproto
//!
//! InfluxDB 1.x line protocol for tsmdb: a zero-copy parser that accepts and rejects exactly
//! what InfluxDB 1.x does (with its error texts), a writer, and the series keys and composite
//! TSM keys built from parsed points.
//!
//! What it owns:
//! * [`Parser`]: a reusable parser calling a visitor with each [`Point`] or [`LineError`].
//!   Points borrow the input; numbers are decoded during the scan; strings and names stay
//!   escaped until asked for ([`Tag::key`], [`Field::key`], [`EscapedStr::unescape`] return
//!   `Cow`s that allocate only when there is an escape). After warm-up it allocates nothing
//!   per valid line.
//! * [`parse_batch`] and [`parse_batch_parallel`]: every good point plus every line's error;
//!   the parallel form gives the same result as the single-threaded one.
//! * [`parse_reader`]: any [`std::io::Read`] in chunks cut at line boundaries (quoted strings
//!   may span lines, as InfluxDB allows), for inputs larger than memory.
//! * Keys: [`Point::series_key`] (the input's escaped key, tags sorted by key bytes),
//!   [`append_composite_key`], [`split_composite_key`], [`series_key`] from unescaped parts,
//!   and the escape helpers.
//! * [`write_line`]: renders a point to line protocol; parsing the output gives it back.
//!
//! Known differences from InfluxDB (all deliberate or harmless):
//! * Measurement names are unescaped like InfluxDB's `Point.Name()` (`\,` `\ ` `\=` `\"`);
//!   spec §10.2 lists only `\,` and `\ `. Keys keep the input's escapes either way.
//! * Lines whose fields InfluxDB's iterator would read differently from its validator are
//!   re-extracted the iterator's way; a value it would then fail to convert is reported with
//!   the deferred-conversion message instead of failing later in the write path, and an
//!   empty value (InfluxDB's `Empty` field type) is dropped.
//! * [`parse_reader`] reports a logical line longer than `max_line` as
//!   [`ErrorKind::LineTooLong`] and resumes at the next newline.
//!
//! What it must NOT know about: value encodings, blocks, TSM files, the WAL, the cache or the
//! index. Its [`FieldKind`] is its own type code; the engine maps it to storage types.
//!
//! ```
//! use tsmdb_lineproto::{Parser, ParseOptions, FieldValue};
//!
//! let input = b"cpu,region=west,host=a usage=0.5,count=3i 1700000000000000000\nbad line\n";
//! let mut parser = Parser::new(ParseOptions::default());
//! let mut keys = Vec::new();
//! let mut errors = Vec::new();
//! parser.parse(input, |r| match r {
//!     Ok(p) => {
//!         for f in p.fields() {
//!             let mut key = Vec::new();
//!             p.composite_key(&f, &mut key);
//!             keys.push((String::from_utf8(key).unwrap(), f.value.kind().name()));
//!         }
//!         assert!(matches!(p.fields().next().unwrap().value, FieldValue::Float(v) if v == 0.5));
//!     }
//!     Err(e) => errors.push(e),
//! });
//! assert_eq!(keys[0], ("cpu,host=a,region=west#!~#usage".to_string(), "float"));
//! assert_eq!(keys[1].1, "integer");
//! assert_eq!(errors[0].line, 2);
//! assert_eq!(errors[0].to_string(), "unable to parse 'bad line': invalid field format");
//! ```

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
struct ReadmeDoctests;

mod batch;
mod error;
mod escape;
mod goquote;
mod key;
mod number;
mod options;
mod parser;
mod point;
mod scan;
mod slow_fields;
mod stream;
mod value;
mod writer;

pub use batch::{Batch, parse_batch, parse_batch_parallel, parse_batch_parallel_with};
pub use error::{ErrorKind, LineError, MAX_KEY_LEN, MAX_TIME, MIN_TIME};
pub use escape::{
    escape_field_key, escape_measurement, escape_string, escape_tag, unescape_field_key,
    unescape_measurement, unescape_string, unescape_tag,
};
pub use goquote::go_quote;
pub use key::{
    FIELD_SEPARATOR, append_composite_key, append_series_key, composite_key, series_key,
    series_key_measurement, split_composite_key,
};
pub use options::{ParseOptions, Precision, UnknownPrecision};
pub use parser::{ChunkEnd, Parser, Summary};
pub use point::{Field, ParsedPoint, Point, Tag};
pub use stream::{StreamOptions, parse_reader};
pub use value::{EscapedStr, FieldKind, FieldValue, Value};
pub use writer::{WriteError, write_line};
