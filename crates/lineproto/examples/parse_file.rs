//! Parses a line-protocol file (or generated TSBS-devops-like data) and prints the counts and
//! the throughput: `cargo run --release -p tsmdb-lineproto --example parse_file -- FILE`
//! (`devops-int` or `devops-float` instead of FILE generates 32 MB in memory).

use std::time::Instant;

use tsmdb_lineproto::{ParseOptions, Parser};

#[path = "../benches/devops.rs"]
mod devops;

fn main() {
    let arg = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "devops-int".to_string());
    let data = match arg.as_str() {
        "devops-int" => devops::generate(32 << 20, false).0,
        "devops-float" => devops::generate(32 << 20, true).0,
        path => std::fs::read(path).unwrap_or_else(|e| {
            eprintln!("{path}: {e}");
            std::process::exit(2)
        }),
    };
    let mut parser = Parser::new(ParseOptions::default());
    let start = Instant::now();
    let checksum = devops::parse_all(&mut parser, &data);
    let secs = start.elapsed().as_secs_f64();
    let summary = parser.parse(&data, |_| {});
    println!(
        "{} bytes, {summary:?}, {:.1} MB/s (checksum {checksum:x})",
        data.len(),
        data.len() as f64 / 1e6 / secs
    );
}
