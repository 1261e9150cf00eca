//! The real session in the repository's README.md stays true: each `$ tsmdb ...` command of it
//! runs on a fresh data directory, and what it prints is what the README shows, except the
//! figures that vary from run to run (elapsed time, rates, open time).

use std::path::Path;
use std::process::Command;

const README: &str = include_str!("../../../README.md");

/// The commands of the README's session block and the lines shown after each.
fn session() -> Vec<(String, Vec<String>)> {
    let start = README
        .find("A real session")
        .expect("README has a real session");
    let block = &README[start..];
    let body_start = block.find("```text\n").expect("session block") + "```text\n".len();
    let body = &block[body_start..];
    let body = &body[..body.find("```").expect("end of session block")];
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in body.lines() {
        match line.strip_prefix("$ ") {
            Some(cmd) => out.push((cmd.to_string(), Vec::new())),
            None => out
                .last_mut()
                .expect("session starts with a command")
                .1
                .push(line.to_string()),
        }
    }
    out
}

/// Splits a shell-like command line: words, and 'single' or "double" quoted words.
fn words(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = cmd.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c == ' ' {
            chars.next();
            continue;
        }
        let mut w = String::new();
        if c == '"' || c == '\'' {
            chars.next();
            for d in chars.by_ref() {
                if d == c {
                    break;
                }
                w.push(d);
            }
        } else {
            while let Some(&d) = chars.peek() {
                if d == ' ' {
                    break;
                }
                w.push(d);
                chars.next();
            }
        }
        out.push(w);
    }
    out
}

/// A line with the run-dependent figures replaced by `#`.
fn normalize(line: &str) -> String {
    if line.starts_with("open_ms") {
        return "open_ms #".into();
    }
    if let Some(i) = line.find(" in ")
        && line.starts_with("wrote ")
        && let Some(j) = line.find(" values/s)")
    {
        return format!("{} in #{}", &line[..i], &line[j + " values/s)".len()..]);
    }
    line.to_string()
}

#[test]
fn the_readme_session_is_what_users_see() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let steps = session();
    assert!(steps.len() >= 3, "{steps:?}");
    for (cmd, shown) in steps {
        let mut w = words(&cmd);
        assert_eq!(w.remove(0), "tsmdb", "{cmd}");
        // Paths in the session are relative to the repository; the data goes to a temporary
        // directory that plays ./tsmdb-data.
        let args: Vec<String> = w
            .into_iter()
            .map(|a| {
                if a.starts_with("tests/") {
                    repo.join(&a).display().to_string()
                } else {
                    a
                }
            })
            .collect();
        let o = Command::new(env!("CARGO_BIN_EXE_tsmdb"))
            .current_dir(dir.path())
            .args(&args)
            .env_remove("TSMDB_DB")
            .output()
            .expect("run tsmdb");
        let printed: Vec<String> = String::from_utf8_lossy(&o.stderr)
            .lines()
            .chain(String::from_utf8_lossy(&o.stdout).lines())
            .map(normalize)
            .collect();
        let shown: Vec<String> = shown.iter().map(|l| normalize(l)).collect();
        // The README separates commands with a blank line after tables; the binary prints it too.
        assert_eq!(printed, shown, "$ {cmd}");
    }
}
