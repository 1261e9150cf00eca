//! `tsmdb verify`: checks every file of a data directory without opening it for writing.
//!
//! Files are read directly (no engine, no lock), so a directory another process has open can be
//! checked too; a file being rewritten at that moment may then be reported, so run it on a quiet
//! directory for a verdict. Checks: every TSM file (index, CRC and decode of every block), every
//! tombstone file, every WAL directory (strict replay: corruption and torn tails), every grid
//! index (snapshot plus log).

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args as ClapArgs, ValueEnum};
use tsmdb_encoding::{Column, FieldType};
use tsmdb_index_grid::{INDEX_FILE, Index, LOG_FILE};
use tsmdb_tsm_file::{ReadOptions, TOMBSTONE_EXT, TSM_EXT, TsmReader, read_tombstones};
use tsmdb_wal::{DamageKind, RecoveryPolicy};

/// Arguments of `tsmdb verify`.
#[derive(Debug, ClapArgs)]
#[command(
    after_help = "Exit code 0: every file is sound; 1: damage was found (one line each).\n\n\
    Examples:\n  tsmdb verify\n  tsmdb verify --db /var/lib/tsmdb --format jsonl"
)]
pub struct Args {
    /// Output format: one line of text per problem, or one JSON object per problem.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Output formats of `tsmdb verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `FILE: offset N: what` lines and a summary.
    Text,
    /// One JSON object per problem, then a summary object.
    Jsonl,
}

/// One problem found.
struct Problem {
    file: PathBuf,
    offset: Option<u64>,
    what: String,
}

/// What was checked, and what was wrong.
#[derive(Default)]
struct Findings {
    tsm_files: u64,
    blocks: u64,
    tombstone_files: u64,
    wal_dirs: u64,
    wal_entries: u64,
    indexes: u64,
    /// Torn WAL or index-log tails: the expected trace of a crash, repaired on the next open.
    torn_tails: u64,
    problems: Vec<Problem>,
}

impl Findings {
    fn problem(&mut self, file: &Path, offset: Option<u64>, what: impl Into<String>) {
        self.problems.push(Problem {
            file: file.to_path_buf(),
            offset,
            what: what.into(),
        });
    }
}

/// Runs `tsmdb verify`.
pub fn run(args: Args, db: &Path) -> anyhow::Result<ExitCode> {
    if !db.is_dir() {
        anyhow::bail!("{} is not a directory", db.display());
    }
    let mut findings = Findings::default();
    walk(db, &mut findings).with_context(|| format!("listing {}", db.display()))?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    print(&findings, args.format, &mut out)?;
    out.flush()?;
    Ok(if findings.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn walk(dir: &Path, f: &mut Findings) -> io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<io::Result<_>>()?;
    entries.sort();
    if entries.iter().any(|p| {
        p.file_name()
            .is_some_and(|n| n == INDEX_FILE || n == LOG_FILE)
    }) {
        check_index(dir, f);
    }
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == tsmdb_engine::WAL_DIR) {
                check_wal(&path, f);
            } else {
                walk(&path, f)?;
            }
            continue;
        }
        if is_set_aside(&path) {
            f.problem(
                &path,
                None,
                "a TSM file the engine set aside as damaged when it opened the shard; its data is \
                 not served (tsmdb inspect tsm --verify shows the damage; restore it from a backup \
                 or delete it)",
            );
            continue;
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some(TSM_EXT) => check_tsm(&path, f),
            Some(TOMBSTONE_EXT) => {
                f.tombstone_files += 1;
                if let Err(e) = read_tombstones(&path) {
                    f.problem(&path, None, tsm_problem(&e));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A `NAME.tsm.bad` file: the engine renames a TSM file it cannot open so that the shard still
/// opens; the damage must stay visible here after that, or verify would pass a directory that
/// silently lost data.
fn is_set_aside(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(&format!(".{TSM_EXT}.bad")))
}

fn check_tsm(path: &Path, f: &mut Findings) {
    f.tsm_files += 1;
    let options = ReadOptions {
        verify_checksums: true,
        // Every block is checked, deleted or not.
        apply_tombstones: false,
    };
    let reader = match TsmReader::open_with(path, options) {
        Ok(r) => r,
        Err(e) => return f.problem(path, None, tsm_problem(&e)),
    };
    let (mut times, mut values) = (Vec::new(), Column::empty(FieldType::Float));
    for (k, e) in reader.blocks() {
        f.blocks += 1;
        if let Err(err) = reader.decode_block(&k, &e, &mut times, &mut values) {
            f.problem(path, Some(e.offset), tsm_problem(&err));
        }
    }
}

/// A TSM or tombstone error without the file and the block offset, which start the problem's
/// line already (`FILE: offset N: what`): the error's own text would repeat both.
fn tsm_problem(e: &tsmdb_tsm_file::Error) -> String {
    use tsmdb_tsm_file::Error as E;
    let key = |k: &[u8]| k.escape_ascii().to_string();
    match e {
        E::Io { error, .. } => error.to_string(),
        E::Corrupt { what, .. } => format!("corrupt TSM file: {what}"),
        E::Checksum {
            key: k,
            stored,
            computed,
            ..
        } => format!(
            "block checksum mismatch (key {}): stored {stored:08x}, computed {computed:08x}",
            key(k)
        ),
        E::BlockCorrupt { key: k, what, .. } => format!("block corrupt (key {}): {what}", key(k)),
        E::CorruptTombstone { what, .. } => format!("corrupt tombstone file: {what}"),
        other => other.to_string(),
    }
}

fn check_wal(dir: &Path, f: &mut Findings) {
    f.wal_dirs += 1;
    // Strict: reports the first corruption of the directory and changes no file.
    match tsmdb_wal::read_dir(dir, RecoveryPolicy::Strict, |_, _| {}) {
        Ok(recovery) => {
            f.wal_entries += recovery.entries;
            for d in recovery.damage {
                match d.kind {
                    DamageKind::TornTail => f.torn_tails += 1,
                    DamageKind::Corrupt => f.problem(&d.segment, Some(d.bytes.start), d.reason),
                }
            }
        }
        Err(e) => f.problem(dir, None, e.to_string()),
    }
}

fn check_index(dir: &Path, f: &mut Findings) {
    f.indexes += 1;
    match Index::load_read_only(dir) {
        Ok((_, report)) => {
            if report.torn_tail.is_some() {
                f.torn_tails += 1;
            }
        }
        Err(e) => f.problem(&dir.join(INDEX_FILE), None, e.to_string()),
    }
}

fn print(f: &Findings, format: Format, out: &mut impl Write) -> io::Result<()> {
    for p in &f.problems {
        match format {
            Format::Text => match p.offset {
                Some(o) => writeln!(out, "{}: offset {o}: {}", p.file.display(), p.what)?,
                None => writeln!(out, "{}: {}", p.file.display(), p.what)?,
            },
            Format::Jsonl => writeln!(
                out,
                "{}",
                serde_json::json!({"file": p.file.display().to_string(), "offset": p.offset,
                    "error": p.what})
            )?,
        }
    }
    match format {
        Format::Text => writeln!(
            out,
            "{}: {} TSM files ({} blocks), {} tombstone files, {} WAL directories ({} entries), {} indexes, {} torn tails",
            if f.problems.is_empty() {
                "ok".to_string()
            } else {
                format!("FAILED {} problems", f.problems.len())
            },
            f.tsm_files,
            f.blocks,
            f.tombstone_files,
            f.wal_dirs,
            f.wal_entries,
            f.indexes,
            f.torn_tails
        ),
        Format::Jsonl => writeln!(
            out,
            "{}",
            serde_json::json!({"ok": f.problems.is_empty(), "problems": f.problems.len(),
                "tsm_files": f.tsm_files, "blocks": f.blocks,
                "tombstone_files": f.tombstone_files, "wal_dirs": f.wal_dirs,
                "wal_entries": f.wal_entries, "indexes": f.indexes, "torn_tails": f.torn_tails})
        ),
    }
}
