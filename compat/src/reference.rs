//! The InfluxDB oracle: builds `compat/reference/main.go` against InfluxDB 1.6.7's packages as
//! Debian ships them (GOPATH mode, sources under `/usr/share/gocode`) and keeps it running as a
//! subprocess that answers one JSON request per line.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde::{Deserialize, Serialize};

/// The reference program's source, embedded so the build does not depend on the working directory.
const SOURCE: &str = include_str!("../reference/main.go");

/// Where Debian's `golang-github-influxdb-influxdb-dev` puts the sources.
pub const GOCODE: &str = "/usr/share/gocode";

/// The Debian packages the reference program needs.
pub const PACKAGES: [&str; 2] = ["golang-go", "golang-github-influxdb-influxdb-dev"];

/// Why the reference program is unavailable or failed.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    /// Go or InfluxDB's sources are missing and could not be installed here.
    #[error("InfluxDB reference unavailable: {0}")]
    Unavailable(String),
    /// `go build` failed.
    #[error("building the Go reference program failed:\n{0}")]
    Build(String),
    /// Talking to the subprocess failed.
    #[error("reference program I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The subprocess answered something that is not a response.
    #[error("reference program protocol: {0}")]
    Protocol(String),
    /// The subprocess closed its output (it died).
    #[error("the reference program exited")]
    Exited,
    /// Replaying a saved case needed an answer that was not recorded (our side's output changed).
    #[error("this check needs the live reference program")]
    NotRecorded,
}

fn have_go() -> bool {
    Command::new("go")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn have_sources() -> bool {
    Path::new(GOCODE)
        .join("src/github.com/influxdata/influxdb/tsdb/engine/tsm1/wal.go")
        .is_file()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Makes sure `go` and InfluxDB's sources are present, installing them with apt when running as
/// root; otherwise says what is missing.
pub fn ensure_installed() -> Result<(), ReferenceError> {
    if have_go() && have_sources() {
        return Ok(());
    }
    let missing = format!(
        "needs `go` and {GOCODE}/src/github.com/influxdata/influxdb (Debian packages: {})",
        PACKAGES.join(" ")
    );
    if !is_root() || !Path::new("/usr/bin/apt-get").exists() {
        return Err(ReferenceError::Unavailable(format!(
            "{missing}; not root or no apt-get, so not installing"
        )));
    }
    eprintln!("compat: installing {} with apt-get", PACKAGES.join(" "));
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let installed = apt(&["install", "-y", "-q", PACKAGES[0], PACKAGES[1]])
        || (apt(&["update", "-q"]) && apt(&["install", "-y", "-q", PACKAGES[0], PACKAGES[1]]));
    if installed && have_go() && have_sources() {
        Ok(())
    } else {
        Err(ReferenceError::Unavailable(format!(
            "{missing}; apt-get install failed"
        )))
    }
}

/// FNV-1a of the source, naming the build directory so an edited program is rebuilt.
fn source_hash() -> u64 {
    SOURCE.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Builds the reference program (once per source version) and returns the binary's path.
pub fn build() -> Result<PathBuf, ReferenceError> {
    ensure_installed()?;
    let dir = std::env::temp_dir().join(format!("tsmdb-compat-{:016x}", source_hash()));
    let binary = dir.join("reference");
    if binary.is_file() {
        return Ok(binary);
    }
    std::fs::create_dir_all(&dir)?;
    // A private build directory per process; the finished binary is renamed into place, so
    // concurrent test processes never see a half-written file.
    let work = tempfile::Builder::new().prefix("build-").tempdir_in(&dir)?;
    let pkg = work.path().join("src/tsmdbcompat/reference");
    std::fs::create_dir_all(&pkg)?;
    std::fs::write(pkg.join("main.go"), SOURCE)?;
    let out = work.path().join("reference");
    let mut cmd = Command::new("go");
    cmd.args(["build", "-o"])
        .arg(&out)
        .arg(".")
        .current_dir(&pkg)
        .env("GOPATH", format!("{}:{GOCODE}", work.path().display()))
        .env("GO111MODULE", "off")
        .env("GOFLAGS", "");
    if std::env::var_os("HOME").is_none() && std::env::var_os("GOCACHE").is_none() {
        cmd.env("GOCACHE", dir.join("gocache"));
    }
    let output = cmd.output()?;
    if !output.status.success() {
        return Err(ReferenceError::Build(
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ));
    }
    std::fs::rename(&out, &binary)?;
    Ok(binary)
}

/// Go encodes a nil slice as `null`: read it as empty.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// The error text of InfluxDB's poisoned pooled boolean decoder (see [`Reference::call`]).
const POISONED_DECODER: &str = "BooleanDecoder: invalid count";

/// One request to the reference program (see `compat/reference/main.go`).
#[derive(Debug, Default, Clone, Serialize)]
pub struct Request {
    /// Request kind.
    pub op: &'static str,
    /// Hex bytes (line protocol, a section or a block).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub data: String,
    /// Line-protocol precision.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub precision: String,
    /// Default time for points without one.
    pub now: i64,
    /// Value type name (or `time`).
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Wire values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// Timestamps.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub times: Vec<i64>,
    /// Hex bytes of a tombstone file next to the TSM file in `data`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tombstone: String,
    /// Series for `tsm_write`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<WireSeries>,
    /// Hex keys for `tsm_delete`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    /// Range lower bound.
    pub min: i64,
    /// Range upper bound.
    pub max: i64,
    /// WAL entries for `wal_write`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<WireEntry>,
}

/// A series on the wire.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct WireSeries {
    /// Hex key.
    pub key: String,
    /// Type name.
    #[serde(rename = "type")]
    pub kind: String,
    /// Timestamps.
    #[serde(default, deserialize_with = "nullable")]
    pub times: Vec<i64>,
    /// Wire values.
    #[serde(default, deserialize_with = "nullable")]
    pub values: Vec<String>,
    /// Tombstoned ranges.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tombstones: Vec<(i64, i64)>,
}

/// A WAL entry on the wire.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct WireEntry {
    /// `write`, `delete` or `delete_range`.
    pub kind: String,
    /// Series of a write entry.
    #[serde(default, deserialize_with = "nullable")]
    pub series: Vec<WireSeries>,
    /// Hex keys of a delete.
    #[serde(default, deserialize_with = "nullable")]
    pub keys: Vec<String>,
    /// Range lower bound.
    #[serde(default)]
    pub min: i64,
    /// Range upper bound.
    #[serde(default)]
    pub max: i64,
}

/// A parsed field on the wire.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct WireField {
    /// Hex key.
    pub key: String,
    /// Type name.
    #[serde(rename = "type")]
    pub kind: String,
    /// Wire value.
    #[serde(default)]
    pub value: String,
    /// Conversion error.
    #[serde(default)]
    pub err: String,
}

/// A parsed point on the wire.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct WirePoint {
    /// Hex series key.
    pub key: String,
    /// Hex measurement.
    pub name: String,
    /// Hex tag pairs.
    #[serde(default, deserialize_with = "nullable")]
    pub tags: Vec<(String, String)>,
    /// Fields.
    #[serde(default, deserialize_with = "nullable")]
    pub fields: Vec<WireField>,
    /// Time.
    pub time: i64,
}

/// One response.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Response {
    /// Whether the request succeeded.
    pub ok: bool,
    /// Error text (hex for `parse`, whose errors quote arbitrary input bytes).
    #[serde(default)]
    pub err: String,
    /// Points of `parse`.
    #[serde(default, deserialize_with = "nullable")]
    pub points: Vec<WirePoint>,
    /// Hex bytes of `encode`/`block_encode`.
    #[serde(default)]
    pub data: String,
    /// Type of `block_decode`.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// Wire values.
    #[serde(default, deserialize_with = "nullable")]
    pub values: Vec<String>,
    /// Timestamps.
    #[serde(default, deserialize_with = "nullable")]
    pub times: Vec<i64>,
    /// Series of `tsm_read`.
    #[serde(default, deserialize_with = "nullable")]
    pub series: Vec<WireSeries>,
    /// Entries of `wal_read`.
    #[serde(default, deserialize_with = "nullable")]
    pub entries: Vec<WireEntry>,
    /// Bytes `wal_read` validated.
    #[serde(default)]
    pub count: i64,
    /// Hex bytes of the tombstone file `tsm_delete` left.
    #[serde(default)]
    pub tombstone: String,
}

/// A running reference program.
#[derive(Debug)]
pub struct Reference {
    binary: PathBuf,
    child: Child,
    input: BufWriter<ChildStdin>,
    output: BufReader<ChildStdout>,
    line: String,
}

impl Reference {
    /// Builds (if needed) and starts the reference program.
    pub fn start() -> Result<Reference, ReferenceError> {
        let binary = build()?;
        Reference::spawn(&binary)
    }

    /// Starts an already built binary.
    pub fn spawn(binary: &Path) -> Result<Reference, ReferenceError> {
        let mut child = Command::new(binary)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(ReferenceError::Protocol("no pipes".into()));
        };
        Ok(Reference {
            binary: binary.to_path_buf(),
            child,
            input: BufWriter::new(input),
            output: BufReader::new(output),
            line: String::new(),
        })
    }

    /// Sends one request and waits for its response.
    ///
    /// InfluxDB 1.6.7 keeps block decoders in fixed-size pools, and a `BooleanDecoder` that once
    /// failed with `invalid count` keeps that error for good (`SetBytes` never clears it), so one
    /// damaged boolean block makes later valid boolean reads in the same process fail. When an
    /// answer carries that error, the program is restarted and the request asked again, so no
    /// answer depends on an earlier request.
    ///
    /// If the program dies (InfluxDB code can exhaust memory on damaged input, which Go cannot
    /// recover from), it is restarted and the answer is a failure starting with `panic:`.
    pub fn call(&mut self, request: &Request) -> Result<Response, ReferenceError> {
        let response = match self.call_once(request) {
            Err(ReferenceError::Io(_)) | Err(ReferenceError::Exited) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                self.restart()?;
                return Ok(Response {
                    err: "panic: the reference program died on this input (see its stderr)".into(),
                    ..Response::default()
                });
            }
            other => other?,
        };
        if !response.err.contains(POISONED_DECODER) {
            return Ok(response);
        }
        self.restart()?;
        self.call_once(request)
    }

    fn restart(&mut self) -> Result<(), ReferenceError> {
        let fresh = Reference::spawn(&self.binary)?;
        // Dropping the old value kills and reaps the old process.
        drop(std::mem::replace(self, fresh));
        Ok(())
    }

    fn call_once(&mut self, request: &Request) -> Result<Response, ReferenceError> {
        serde_json::to_writer(&mut self.input, request)
            .map_err(|e| ReferenceError::Protocol(e.to_string()))?;
        self.input.write_all(b"\n")?;
        self.input.flush()?;
        self.line.clear();
        if self.output.read_line(&mut self.line)? == 0 {
            return Err(ReferenceError::Exited);
        }
        serde_json::from_str(&self.line)
            .map_err(|e| ReferenceError::Protocol(format!("{e} in response {:?}", self.line)))
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
