//! Saved mismatches: each shrunk case is stored with the InfluxDB answers it needed, so it replays
//! as a plain regression test without Go.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::case::Case;
use crate::check::{Verdict, check};
use crate::oracle::{Exchange, Oracle, Recorder, Replay};
use crate::reference::ReferenceError;

/// The repository directory the suite saves to and replays from.
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/compat")
}

/// One saved case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fixture {
    /// Case kind name.
    pub kind: String,
    /// True while the bug is not fixed: replay reports it instead of failing. Set to false once
    /// fixed, and the case guards against regressions.
    pub open: bool,
    /// What differed when it was found.
    pub found: String,
    /// Readable rendering of the case.
    pub description: String,
    /// The case.
    pub case: Case,
    /// InfluxDB's answers to every request the check made.
    pub transcript: Vec<Exchange>,
}

/// FNV-1a over the case's JSON: the file name, so one bug found twice is saved once.
fn case_id(case: &Case) -> String {
    let json = serde_json::to_string(case).unwrap_or_default();
    let h = json.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{}-{h:016x}.json", case.kind().name())
}

/// The file a case is (or would be) saved in.
pub fn path_for(case: &Case) -> PathBuf {
    fixture_dir().join(case_id(case))
}

/// Re-checks `case` against the live oracle while recording, and saves it. Returns the path, and
/// whether the file is new.
pub fn save(
    case: &Case,
    found: &str,
    oracle: &mut dyn Oracle,
) -> Result<(PathBuf, bool), ReferenceError> {
    let path = path_for(case);
    if path.exists() {
        return Ok((path, false));
    }
    let mut recorder = Recorder::new(oracle);
    check(case, &mut recorder)?;
    let fixture = Fixture {
        kind: case.kind().name().to_string(),
        open: true,
        found: found.to_string(),
        description: case.describe(),
        case: case.clone(),
        transcript: recorder.log,
    };
    std::fs::create_dir_all(fixture_dir())?;
    let json = serde_json::to_string_pretty(&fixture)
        .map_err(|e| ReferenceError::Protocol(e.to_string()))?;
    std::fs::write(&path, json + "\n")?;
    Ok((path, true))
}

/// Every saved fixture with its file name.
pub fn load_all() -> Result<Vec<(PathBuf, Fixture)>, String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(fixture_dir()) else {
        return Ok(out);
    };
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let fixture: Fixture =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        out.push((path, fixture));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Replays a fixture against its recorded InfluxDB answers.
pub fn replay(fixture: &Fixture) -> Verdict {
    let mut oracle = Replay::new(&fixture.transcript);
    match check(&fixture.case, &mut oracle) {
        Ok(v) => v,
        Err(e) => Verdict::Mismatch(format!("replay failed: {e}")),
    }
}

/// Signatures of every open fixture (known, unfixed bugs), taken from replaying it with today's
/// comparison so a change in message wording does not turn a known bug into a "new" one.
pub fn open_signatures() -> Vec<String> {
    load_all()
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, f)| f.open)
        .map(|(_, f)| match replay(&f) {
            Verdict::Mismatch(text) => crate::check::signature(&text),
            _ => crate::check::signature(&f.found),
        })
        .collect()
}
