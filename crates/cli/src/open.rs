//! Opening the data directory for a command, and telling the user what the open found.
//!
//! The engine repairs what it can while opening (a damaged TSM file is set aside as `.tsm.bad`,
//! a damaged index is rebuilt, a torn WAL tail is cut) and records it in its open report; a
//! command that kept quiet about it would let a query silently miss the data of a set-aside
//! file. So every command opens through [`open`], which prints one warning line per finding.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use tsmdb_engine::{Engine, OpenReport, Options};

/// Whether a command may create a data directory that does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Create it and say so (commands that store data).
    Create,
    /// Fail: reading a directory that is not there is almost always a mistyped `--db`, and
    /// creating it would turn the mistake into an empty answer.
    Fail,
}

/// Opens the engine on `db` and prints the open report's findings to standard error.
pub fn open(db: &Path, options: Options, missing: Missing) -> anyhow::Result<Engine> {
    let existed = db.is_dir();
    if !existed {
        if missing == Missing::Fail {
            bail!(
                "{}: no data directory here (tsmdb write creates one; --db DIR or TSMDB_DB picks another)",
                db.display()
            );
        }
        if db.exists() {
            bail!("{}: not a directory (--db DIR picks another)", db.display());
        }
    }
    let engine = Engine::open(db, options).with_context(|| format!("opening {}", db.display()))?;
    let mut err = std::io::stderr().lock();
    if !existed {
        let _ = writeln!(err, "tsmdb: created data directory {}", db.display());
    }
    for line in findings(engine.open_report()) {
        let _ = writeln!(err, "tsmdb: warning: {line}");
    }
    Ok(engine)
}

/// One line per thing the open repaired or could not open, saying what to do about it.
pub fn findings(report: &OpenReport) -> Vec<String> {
    let mut lines = Vec::new();
    for (dir, why) in &report.failed_shards {
        lines.push(format!(
            "shard {} could not be opened and its data is not served: {why} (run tsmdb verify)",
            dir.display()
        ));
    }
    for shard in &report.shards {
        for (file, why) in &shard.bad_files {
            lines.push(format!(
                "{}: damaged, set aside as .bad and not served: {why} (run tsmdb verify; restore it from a backup or delete it)",
                file.display()
            ));
        }
        if let Some(why) = &shard.index_rebuilt {
            lines.push(format!(
                "{}: series index rebuilt from the TSM files and the WAL: {why}",
                shard.dir.display()
            ));
        }
        for damage in &shard.wal_damage {
            lines.push(format!("{}: WAL: {damage}", shard.dir.display()));
        }
        if shard.replay_dropped > 0 {
            lines.push(format!(
                "{}: WAL replay dropped {} values whose type conflicted with their key's",
                shard.dir.display(),
                shard.replay_dropped
            ));
        }
    }
    lines
}
