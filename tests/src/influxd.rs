//! A real InfluxDB 1.x server for differential tests and benchmarks.
//!
//! [`Influxd::start`] runs `influxd` on 127.0.0.1 with its meta, data and WAL directories in a
//! temporary directory and free ports, and waits until `/ping` answers. Line protocol is loaded
//! and InfluxQL run over plain HTTP (hand-written HTTP/1.0 on a `TcpStream`: one request per
//! connection, the body read to end of stream, so no chunked decoding and no HTTP client crate).
//! Dropping the handle kills the server and waits for it.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How many `/ping` attempts [`Influxd::start`] makes, 100 ms apart, before giving up.
const PING_ATTEMPTS: u32 = 300;

/// Lines per `POST /write` request (InfluxDB's recommended batch size).
pub const WRITE_BATCH_LINES: usize = 5000;

/// A running `influxd`, killed on drop.
pub struct Influxd {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

/// Where the `influxd` binary is, if installed: `$INFLUXD`, then `PATH`, then `/usr/bin/influxd`.
pub fn find_influxd() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("INFLUXD") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("influxd"))
        .chain(std::iter::once(PathBuf::from("/usr/bin/influxd")))
        .find(|p| p.is_file())
}

/// Finds `influxd`, installing the Debian package `influxdb` when running as root with apt-get
/// (running `apt-get update` first if a plain install fails). `None` with the reason otherwise.
pub fn find_or_install_influxd() -> Result<PathBuf, String> {
    if let Some(p) = find_influxd() {
        return Ok(p);
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .is_some_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root {
        return Err("influxd is not installed and we are not root to install it".into());
    }
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let install = || apt(&["install", "-y", "-q", "influxdb"]);
    let installed = install() || (apt(&["update", "-q"]) && install());
    if !installed {
        return Err("influxd is not installed and `apt-get install influxdb` failed".into());
    }
    find_influxd().ok_or_else(|| "influxdb installed but no influxd binary found".into())
}

/// A port nobody listens on right now (the OS picks it; a race with another process is possible
/// but harmless: influxd then fails to start and [`Influxd::start`] reports it).
fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

impl Influxd {
    /// Starts `binary` with a fresh temporary data directory and waits until it answers `/ping`.
    pub fn start(binary: &Path) -> io::Result<Influxd> {
        Influxd::start_with(binary, "")
    }

    /// [`Influxd::start`] with extra settings (`key = value` lines) in the `[data]` section, for
    /// example shorter cold durations so that it snapshots and compacts soon after writes stop.
    pub fn start_with(binary: &Path, extra_data_settings: &str) -> io::Result<Influxd> {
        let dir = tempfile::tempdir()?;
        let http_port = free_port()?;
        let rpc_port = free_port()?;
        let root = dir.path();
        let config = format!(
            "reporting-disabled = true\n\
             bind-address = \"127.0.0.1:{rpc_port}\"\n\
             [meta]\n  dir = \"{meta}\"\n\
             [data]\n  dir = \"{data}\"\n  wal-dir = \"{wal}\"\n  query-log-enabled = false\n{extra_data_settings}\n\
             [coordinator]\n  query-timeout = \"0s\"\n\
             [retention]\n  enabled = false\n\
             [monitor]\n  store-enabled = false\n\
             [http]\n  bind-address = \"127.0.0.1:{http_port}\"\n  log-enabled = false\n\
             [continuous_queries]\n  enabled = false\n\
             [subscriber]\n  enabled = false\n",
            meta = root.join("meta").display(),
            data = root.join("data").display(),
            wal = root.join("wal").display(),
        );
        let config_path = root.join("influxdb.conf");
        std::fs::write(&config_path, config)?;
        let log = std::fs::File::create(root.join("influxd.log"))?;
        let child = Command::new(binary)
            .arg("-config")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let mut server = Influxd {
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, http_port)),
            dir,
        };
        server.wait_ready()?;
        Ok(server)
    }

    /// Polls `/ping` until it answers 204, the process exits, or the attempts run out.
    fn wait_ready(&mut self) -> io::Result<()> {
        for _ in 0..PING_ATTEMPTS {
            if let Some(status) = self.child.try_wait()? {
                return Err(io::Error::other(format!(
                    "influxd exited with {status} before answering /ping; log:\n{}",
                    self.log()
                )));
            }
            if let Ok((204, _)) = self.request("GET", "/ping", &[]) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(io::Error::other(format!(
            "influxd did not answer /ping after {PING_ATTEMPTS} attempts; log:\n{}",
            self.log()
        )))
    }

    /// The server's log so far (for error messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("influxd.log")).unwrap_or_default()
    }

    /// The server's data directory (TSM files live under `data/<db>/<rp>/<shard>/`).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The server's WAL directory (segments live under `wal/<db>/<rp>/<shard>/`).
    pub fn wal_dir(&self) -> PathBuf {
        self.dir.path().join("wal")
    }

    /// One HTTP request; returns the status code and body.
    pub fn request(&self, method: &str, target: &str, body: &[u8]) -> io::Result<(u16, Vec<u8>)> {
        let mut stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))?;
        let head = format!(
            "{method} {target} HTTP/1.0\r\nHost: {}\r\nContent-Length: {}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n",
            self.addr,
            body.len()
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        stream.flush()?;
        let mut reader = BufReader::new(stream);
        let mut status_line = String::new();
        reader.read_line(&mut status_line)?;
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| io::Error::other(format!("bad status line {status_line:?}")))?;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
                break;
            }
        }
        let mut out = Vec::new();
        reader.read_to_end(&mut out)?;
        Ok((status, out))
    }

    /// Runs InfluxQL against `database` (empty: none) with `epoch=ns`; returns the JSON body.
    pub fn query(&self, database: &str, q: &str) -> io::Result<String> {
        let body = format!("db={}&epoch=ns&q={}", url_encode(database), url_encode(q));
        let (status, out) = self.request("POST", "/query", body.as_bytes())?;
        let text = String::from_utf8_lossy(&out).into_owned();
        if status != 200 {
            return Err(io::Error::other(format!(
                "query {q:?}: HTTP {status}: {text}"
            )));
        }
        Ok(text)
    }

    /// The server's process id (to read its memory figures from `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `CREATE DATABASE name`.
    pub fn create_database(&self, name: &str) -> io::Result<()> {
        self.query("", &format!("CREATE DATABASE \"{name}\""))
            .map(drop)
    }

    /// Writes line protocol (nanosecond timestamps) in batches of [`WRITE_BATCH_LINES`] lines.
    pub fn write_lp(&self, database: &str, lp: &[u8]) -> io::Result<()> {
        let target = format!("/write?db={}&precision=ns", url_encode(database));
        let mut start = 0;
        while start < lp.len() {
            let mut end = start;
            for _ in 0..WRITE_BATCH_LINES {
                end = match lp[end..].iter().position(|&b| b == b'\n') {
                    Some(i) => end + i + 1,
                    None => lp.len(),
                };
                if end == lp.len() {
                    break;
                }
            }
            let (status, out) = self.request("POST", &target, &lp[start..end])?;
            if status != 204 {
                return Err(io::Error::other(format!(
                    "write: HTTP {status}: {}",
                    String::from_utf8_lossy(&out)
                )));
            }
            start = end;
        }
        Ok(())
    }
}

impl Drop for Influxd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986), for query strings and forms.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encode_escapes_reserved_bytes() {
        assert_eq!(url_encode("a b=c&'é"), "a%20b%3Dc%26%27%C3%A9");
        assert_eq!(url_encode("host_1-x.y~"), "host_1-x.y~");
    }
}
