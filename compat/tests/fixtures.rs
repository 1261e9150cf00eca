//! Replays every saved mismatch (`tests/fixtures/compat/*.json`) against InfluxDB's recorded
//! answers: no Go needed. Fixtures marked `"open": true` are known bugs and are only reported;
//! the others must now agree.

use tsmdb_compat::check::Verdict;
use tsmdb_compat::fixture::{load_all, replay};

#[test]
fn saved_mismatches_replay_without_go() {
    let fixtures = load_all().expect("fixtures must parse");
    let mut regressions = Vec::new();
    for (path, fixture) in &fixtures {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        match (replay(fixture), fixture.open) {
            (Verdict::Mismatch(text), false) => regressions.push(format!("{name}: {text}")),
            (Verdict::Mismatch(_), true) => eprintln!("known open mismatch: {name}"),
            (Verdict::NotWired(why), _) => eprintln!("{name}: not yet wired: {why}"),
            (Verdict::NeedsGo, _) => eprintln!("{name}: needs Go to judge (our output changed)"),
            (_, true) => eprintln!("{name}: now agrees with InfluxDB; set \"open\": false"),
            (_, false) => {}
        }
    }
    assert!(
        regressions.is_empty(),
        "saved cases that differ from InfluxDB again:\n{}",
        regressions.join("\n")
    );
}
