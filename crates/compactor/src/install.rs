//! Making a compaction's outputs live, atomically with respect to crashes, and recovering at open.
//!
//! The protocol (docs/compaction.md explains why each step is where it is):
//! 1. Outputs are written and fsynced under staged names `GEN-SEQ.tsm.tmp` (invisible: not `*.tsm`).
//! 2. **Commit point**: a journal `GEN-SEQ.compaction` naming the inputs and outputs is written to
//!    `….compaction.tmp`, fsynced, renamed, and the directory fsynced.
//! 3. Each staged output is renamed to `GEN-SEQ.tsm`; the directory is fsynced.
//! 4. Each input is removed, then its tombstone file; the directory is fsynced.
//! 5. The journal is removed.
//!
//! [`cleanup_dir`] runs at open: a journal means the compaction committed, so it is rolled forward
//! (rename what is still staged, remove what is left of the inputs); without a journal, staged
//! outputs are uncommitted and removed with every other `*.tmp`. A reader of the directory after
//! recovery therefore sees the old set or the new set, never a mix.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tsmdb_tsm_file::{FileId, TMP_SUFFIX, TOMBSTONE_EXT, TSM_EXT, tmp_path, tombstone_path};

use crate::error::{Error, IoContext, Result};
use crate::output::StagedFile;

/// Extension of a compaction journal.
pub const JOURNAL_EXT: &str = "compaction";
const JOURNAL_HEADER: &str = "tsmdb compaction journal 1";

/// The points of a compaction at which a failpoint can stop it, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// Every output is written, fsynced and staged as `.tsm.tmp`; no journal yet.
    Staged,
    /// The journal is durable (the commit point); nothing renamed yet.
    Committed,
    /// Output number `n` (0-based) has been renamed to `.tsm`.
    Renamed(usize),
    /// Every output is live; every input still exists.
    Installed,
    /// Input number `n` (0-based) and its tombstone file have been removed.
    InputRemoved(usize),
    /// Every input is gone; the journal still exists.
    InputsRemoved,
}

/// A test hook: called at every [`Step`]; returning true stops the compaction right there, as a
/// crash would (nothing is cleaned up). Used by the crash-injection tests.
pub type Failpoint = Arc<dyn Fn(Step) -> bool + Send + Sync>;

pub(crate) fn hit(failpoint: Option<&Failpoint>, step: Step) -> Result<()> {
    match failpoint {
        Some(f) if f(step) => Err(Error::Injected(step)),
        _ => Ok(()),
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).at(dir)
}

fn remove_if_exists(path: &Path) -> Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::Io {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

/// The inputs and outputs of one committed compaction, by file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Journal {
    inputs: Vec<FileId>,
    outputs: Vec<FileId>,
}

impl Journal {
    fn encode(&self) -> String {
        let mut body = format!("{JOURNAL_HEADER}\n");
        for id in &self.inputs {
            body.push_str(&format!("input {}\n", id.tsm_name()));
        }
        for id in &self.outputs {
            body.push_str(&format!("output {}\n", id.tsm_name()));
        }
        let crc = crc32fast::hash(body.as_bytes());
        body.push_str(&format!("crc32 {crc:08x}\n"));
        body
    }

    fn parse(path: &Path, text: &str) -> Result<Journal> {
        let bad = |line: usize, what: &str| Error::CorruptJournal {
            path: path.to_path_buf(),
            what: format!("line {line}: {what}"),
        };
        let Some(crc_at) = text.rfind("crc32 ") else {
            return Err(bad(0, "no crc32 line"));
        };
        let (body, crc_line) = text.split_at(crc_at);
        let stored = crc_line
            .trim_end()
            .strip_prefix("crc32 ")
            .and_then(|h| u32::from_str_radix(h, 16).ok());
        let lines = body.lines().count() + 1;
        if stored != Some(crc32fast::hash(body.as_bytes())) {
            return Err(bad(lines, "checksum mismatch"));
        }
        let mut journal = Journal {
            inputs: Vec::new(),
            outputs: Vec::new(),
        };
        for (n, line) in body.lines().enumerate() {
            let n = n + 1;
            if n == 1 {
                if line != JOURNAL_HEADER {
                    return Err(bad(n, "unknown header"));
                }
                continue;
            }
            let (kind, name) = line.split_once(' ').ok_or_else(|| bad(n, "no file name"))?;
            // Names only, never paths: a journal can only touch TSM files of its own directory.
            let id = FileId::parse(name).map_err(|_| bad(n, "not a TSM file name"))?;
            if name != id.tsm_name() {
                return Err(bad(n, "not a canonical TSM file name"));
            }
            match kind {
                "input" => journal.inputs.push(id),
                "output" => journal.outputs.push(id),
                _ => return Err(bad(n, "expected input or output")),
            }
        }
        Ok(journal)
    }
}

/// The contents of a compaction journal: what a committed compaction replaces with what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalContents {
    /// Input files (removed by recovery).
    pub inputs: Vec<FileId>,
    /// Output files (renamed into place by recovery).
    pub outputs: Vec<FileId>,
}

/// Parses a journal file's bytes (`path` names it in errors). Never panics; anything that is not
/// a complete, checksummed journal naming plain TSM files is [`Error::CorruptJournal`].
pub fn parse_journal(path: &Path, bytes: &[u8]) -> Result<JournalContents> {
    let text = std::str::from_utf8(bytes).map_err(|e| Error::CorruptJournal {
        path: path.to_path_buf(),
        what: format!("not UTF-8 at byte {}", e.valid_up_to()),
    })?;
    let j = Journal::parse(path, text)?;
    Ok(JournalContents {
        inputs: j.inputs,
        outputs: j.outputs,
    })
}

/// The journal text for `contents` (what [`parse_journal`] reads).
pub fn encode_journal(contents: &JournalContents) -> String {
    Journal {
        inputs: contents.inputs.clone(),
        outputs: contents.outputs.clone(),
    }
    .encode()
}

fn journal_path(dir: &Path, id: FileId) -> PathBuf {
    dir.join(format!("{id}.{JOURNAL_EXT}"))
}

/// Runs steps 2–5 of the protocol for staged `outputs` replacing `inputs` (all in `dir`).
/// `journal_id` names the journal (the first output id, even when there is no output).
pub(crate) fn install(
    dir: &Path,
    journal_id: FileId,
    inputs: &[FileId],
    outputs: &[StagedFile],
    failpoint: Option<&Failpoint>,
) -> Result<()> {
    let journal = Journal {
        inputs: inputs.to_vec(),
        outputs: outputs.iter().map(|o| o.id).collect(),
    };
    let path = journal_path(dir, journal_id);
    let tmp = tmp_path(&path);
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .at(&tmp)?;
        f.write_all(journal.encode().as_bytes()).at(&tmp)?;
        f.sync_all().at(&tmp)?;
    }
    std::fs::rename(&tmp, &path).at(&path)?;
    sync_dir(dir)?;
    hit(failpoint, Step::Committed)?;
    roll_forward(dir, &path, &journal, failpoint)
}

/// Steps 3–5 for a committed journal; safe to repeat after a crash at any point.
fn roll_forward(
    dir: &Path,
    path: &Path,
    journal: &Journal,
    failpoint: Option<&Failpoint>,
) -> Result<()> {
    for (n, id) in journal.outputs.iter().enumerate() {
        let live = dir.join(id.tsm_name());
        let staged = tmp_path(&live);
        if staged.exists() {
            std::fs::rename(&staged, &live).at(&live)?;
        } else if !live.exists() {
            return Err(Error::MissingOutput {
                journal: path.to_path_buf(),
                output: id.tsm_name(),
            });
        }
        hit(failpoint, Step::Renamed(n))?;
    }
    sync_dir(dir)?;
    hit(failpoint, Step::Installed)?;
    for (n, id) in journal.inputs.iter().enumerate() {
        let tsm = dir.join(id.tsm_name());
        // The data first, then its tombstones: never a live file without its deletes.
        remove_if_exists(&tsm)?;
        remove_if_exists(&tombstone_path(&tsm))?;
        hit(failpoint, Step::InputRemoved(n))?;
    }
    sync_dir(dir)?;
    hit(failpoint, Step::InputsRemoved)?;
    // No directory fsync after this: a journal that reappears after a crash is rolled forward
    // again, which finds everything done.
    std::fs::remove_file(path).at(path)
}

/// What [`cleanup_dir`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// Committed compactions finished (journals rolled forward).
    pub rolled_forward: usize,
    /// Temporary files and directories removed (`*.tmp`: unfinished writes, uncommitted outputs).
    pub tmp_removed: usize,
    /// Tombstone files removed because their TSM file no longer exists.
    pub orphan_tombstones_removed: usize,
}

/// Recovers a shard directory at open, before any file is read: finishes every committed
/// compaction, removes every `*.tmp` file or directory and every tombstone file without its TSM
/// file. Call it instead of deleting `*.tmp` yourself: a committed compaction's staged outputs
/// are `*.tmp` too, and must be renamed, not deleted.
pub fn cleanup_dir(dir: &Path) -> Result<CleanupReport> {
    let mut report = CleanupReport::default();
    let mut journals: Vec<PathBuf> = list(dir)?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == JOURNAL_EXT))
        .collect();
    journals.sort();
    for path in journals {
        let bytes = std::fs::read(&path).at(&path)?;
        let contents = parse_journal(&path, &bytes)?;
        let journal = Journal {
            inputs: contents.inputs,
            outputs: contents.outputs,
        };
        roll_forward(dir, &path, &journal, None)?;
        report.rolled_forward += 1;
    }
    for path in list(dir)? {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.ends_with(TMP_SUFFIX) {
            if path.is_dir() {
                std::fs::remove_dir_all(&path).at(&path)?;
            } else {
                remove_if_exists(&path)?;
            }
            report.tmp_removed += 1;
        } else if path.extension().is_some_and(|e| e == TOMBSTONE_EXT)
            && !path.with_extension(TSM_EXT).exists()
        {
            remove_if_exists(&path)?;
            report.orphan_tombstones_removed += 1;
        }
    }
    if report != CleanupReport::default() {
        sync_dir(dir)?;
    }
    Ok(report)
}

fn list(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).at(dir)? {
        out.push(entry.at(dir)?.path());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_round_trips_and_rejects_damage() {
        let j = Journal {
            inputs: vec![FileId::new(1, 1), FileId::new(2, 1)],
            outputs: vec![FileId::new(2, 2)],
        };
        let text = j.encode();
        let p = Path::new("x.compaction");
        assert_eq!(Journal::parse(p, &text).expect("parses"), j);
        let flipped = text.replace("000000002-000000002", "000000002-000000003");
        assert!(matches!(
            Journal::parse(p, &flipped),
            Err(Error::CorruptJournal { .. })
        ));
        assert!(Journal::parse(p, "").is_err());
        let truncated = &text[..text.len() / 2];
        assert!(Journal::parse(p, truncated).is_err());
    }

    #[test]
    fn journal_refuses_paths() {
        let mut body = format!("{JOURNAL_HEADER}\ninput ../000000001-000000001.tsm\n");
        let crc = crc32fast::hash(body.as_bytes());
        body.push_str(&format!("crc32 {crc:08x}\n"));
        let err = Journal::parse(Path::new("j"), &body).expect_err("a path is refused");
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
