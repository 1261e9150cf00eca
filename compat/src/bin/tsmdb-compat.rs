//! `tsmdb-compat [--seconds N] [--seed S] [--only KIND]`: a long differential run against
//! InfluxDB 1.6.7 (what `cargo xtask compat` starts). Prints counts per kind and every shrunk
//! mismatch; saves them under `tests/fixtures/compat/`. Exits 1 if anything mismatched.

use std::process::ExitCode;

use tsmdb_compat::case::CaseKind;
use tsmdb_compat::deliberate::DELIBERATE;
use tsmdb_compat::reference::Reference;
use tsmdb_compat::runner::{Options, run};

const USAGE: &str = "usage: tsmdb-compat [--seconds N] [--seed S] [--only KIND[,KIND...]]";

fn parse_args() -> Result<Options, String> {
    let mut seconds = 60.0;
    let mut seed = None;
    let mut only: Option<Vec<CaseKind>> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--seconds" => seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--seed" => seed = Some(value()?.parse().map_err(|e| format!("--seed: {e}"))?),
            "--only" => {
                let names = value()?;
                let kinds = names
                    .split(',')
                    .map(|n| {
                        CaseKind::ALL
                            .into_iter()
                            .find(|k| k.name() == n)
                            .ok_or(format!("unknown kind {n:?}"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                only = Some(kinds);
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    // Without --seed, a fresh seed per run (printed, so any run can be repeated).
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let mut options = Options::new(seconds, seed);
    options.max_saved_per_kind = 10;
    if let Some(kinds) = only {
        options.kinds = kinds;
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut reference = match Reference::start() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("compat: {e}");
            return ExitCode::from(2);
        }
    };
    eprintln!(
        "compat: {} s, seed {}, kinds {}",
        options.duration.as_secs_f64(),
        options.seed,
        options
            .kinds
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(",")
    );
    let report = match run(&mut reference, &options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("compat: {e}");
            return ExitCode::from(2);
        }
    };
    println!("{}", report.render());
    println!("deliberate differences (docs/compatibility.md):");
    for d in DELIBERATE {
        println!("  {:<18} {}", d.id, d.spec);
    }
    for (kind, why) in report.not_wired() {
        println!("NOT YET WIRED: {}: {why}", kind.name());
    }
    if report.mismatches() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
