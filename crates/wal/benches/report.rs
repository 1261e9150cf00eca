//! `cargo xtask bench` figures for the WAL: fsyncs/s, entries/s and MB/s with 1, 4 and 16
//! concurrent writers, each beside the raw fsync rate of the same disk measured in the same run.
//!
//! The baselines are measured in the same directory as the WAL (so the same file system and disk),
//! in short slices interleaved with the WAL runs, round after round, so that load from other
//! processes hits all of them alike; each figure is the median over the rounds. (On a shared
//! machine a single raw run is worthless: the same loop measured 150 and 1,500 fsyncs/s a minute
//! apart.)
//! * **raw append, entry-sized**: a fresh file, one WAL entry's worth of bytes `pwrite` at its
//!   end + `fdatasync`, in a loop: what a WAL with one writer and zero overhead would do. Each sync
//!   also commits the new size (a journal commit on ext4). This is the baseline of every WAL row.
//! * **raw append, 4 KiB**: the same with whole blocks, so every sync also allocates a block.
//! * **raw overwrite, 4 KiB**: a preallocated, synced file, 4 KiB `pwrite` over the same block +
//!   `fdatasync`: data only, no metadata.
//! * **raw append, entry-sized, other core busy**: the first loop while another thread spins. On
//!   this VM a single thread waiting in `fdatasync` lets its vCPU halt, and waking it on the I/O
//!   completion costs about as much as the flush itself: a busy second core doubles or triples
//!   the raw rate. Several WAL writers keep cores awake the same way (lock spinning, encoding),
//!   which is why the WAL's group-commit fsyncs/s can exceed the idle single-thread baseline.
//!
//! The directory is `TSMDB_BENCH_DIR` (default: the system temp dir; on the build machine that is
//! the same ext4 disk as /work, not tmpfs).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tsmdb_wal::{
    ColumnRef, EntryKind, Record, Wal, WalOptions, encode_frame, encode_write_payload,
};

const BLOCK: usize = 4096;

fn bench_dir() -> tempfile::TempDir {
    match std::env::var_os("TSMDB_BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d).expect("temp dir"),
        None => tempfile::tempdir().expect("temp dir"),
    }
}

fn row(figure: &str, value: f64, unit: &str, baseline: &str, baseline_value: f64) {
    println!("ROW\twal\t{figure}\t{value:.1}\t{unit}\t{baseline}\t{baseline_value:.1}");
}

fn new_file(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(path)
        .expect("bench file")
}

/// Appending `size` bytes + fdatasync: syncs per second.
fn raw_append(dir: &Path, size: usize, duration: Duration) -> f64 {
    let path = dir.join("raw-append");
    let file = new_file(&path);
    File::open(dir)
        .and_then(|d| d.sync_all())
        .expect("dir sync");
    let block = vec![0x5au8; size];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        file.write_all_at(&block, n * size as u64).expect("write");
        file.sync_data().expect("fdatasync");
        n += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    std::fs::remove_file(path).expect("remove");
    rate
}

/// [`raw_append`] while another thread keeps a second core busy.
fn raw_append_busy(dir: &Path, size: usize, duration: Duration) -> f64 {
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        });
        let rate = raw_append(dir, size, duration);
        stop.store(true, Ordering::Relaxed);
        rate
    })
}

/// Overwriting one preallocated 4 KiB block + fdatasync: syncs per second.
fn raw_overwrite(dir: &Path, duration: Duration) -> f64 {
    let path = dir.join("raw-overwrite");
    let file = new_file(&path);
    let block = vec![0x5au8; BLOCK];
    file.write_all_at(&block, 0).expect("write");
    file.sync_all().expect("fsync");
    File::open(dir)
        .and_then(|d| d.sync_all())
        .expect("dir sync");
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        file.write_all_at(&block, 0).expect("write");
        file.sync_data().expect("fdatasync");
        n += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    std::fs::remove_file(path).expect("remove");
    rate
}

/// One TSBS-shaped entry: 10 float fields of one series, one value each (~600 bytes).
struct TsbsLine {
    keys: Vec<Vec<u8>>,
    ts: [i64; 1],
    vals: Vec<[f64; 1]>,
}

impl TsbsLine {
    fn new(host: usize) -> Self {
        let series = format!(
            "cpu,arch=x64,datacenter=eu-west-1a,hostname=host_{host},os=Ubuntu16.10,rack=42,region=eu-west-1,service=18,service_environment=production,service_version=1,team=SF"
        );
        TsbsLine {
            keys: (0..10)
                .map(|f| format!("{series}#!~#usage_field_{f}").into_bytes())
                .collect(),
            ts: [0],
            vals: (0..10).map(|f| [f as f64 * 1.5]).collect(),
        }
    }

    fn records(&self) -> Vec<Record<'_>> {
        self.keys
            .iter()
            .zip(&self.vals)
            .map(|(k, v)| Record {
                key: k,
                timestamps: &self.ts,
                values: ColumnRef::Float(v),
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct WalRun {
    entries_per_sec: f64,
    mb_per_sec: f64,
    syncs_per_sec: f64,
}

fn wal_rate(dir: &Path, writers: usize, duration: Duration) -> WalRun {
    let wal_dir = dir.join(format!("wal-{writers}"));
    let (wal, _) = Wal::open(&wal_dir, WalOptions::default(), |_, _| {}).expect("open wal");
    let start = Instant::now();
    std::thread::scope(|s| {
        for w in 0..writers {
            let wal = &wal;
            s.spawn(move || {
                let mut line = TsbsLine::new(w);
                while start.elapsed() < duration {
                    line.ts[0] += 10_000_000_000;
                    wal.write(&line.records()).expect("wal write");
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    let stats = wal.stats();
    drop(wal);
    std::fs::remove_dir_all(&wal_dir).expect("remove wal dir");
    WalRun {
        entries_per_sec: stats.entries as f64 / secs,
        mb_per_sec: stats.bytes as f64 / secs / 1e6,
        syncs_per_sec: stats.syncs as f64 / secs,
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// The size of one benchmark entry's frame on disk.
fn entry_size() -> usize {
    let line = TsbsLine::new(0);
    let mut payload = Vec::new();
    encode_write_payload(&line.records(), &mut payload).expect("encode");
    let mut frame = Vec::new();
    encode_frame(
        EntryKind::Write,
        &payload,
        &mut snap::raw::Encoder::new(),
        &mut frame,
    )
    .expect("frame");
    frame.len()
}

/// What one slice of a round measures.
#[derive(Debug, Clone, Copy)]
enum Run {
    AppendEntry,
    AppendEntryBusy,
    Append4k,
    Overwrite4k,
    Wal(usize),
}

const WRITERS: [usize; 3] = [1, 4, 16];

fn main() {
    let quick = std::env::var("TSMDB_BENCH_QUICK").is_ok_and(|v| v == "1");
    let (rounds, d) = if quick {
        (2, Duration::from_millis(200))
    } else {
        (9, Duration::from_millis(700))
    };
    let dir = bench_dir();
    let entry = entry_size();
    let plan = [
        Run::AppendEntry,
        Run::AppendEntryBusy,
        Run::Append4k,
        Run::Overwrite4k,
        Run::Wal(WRITERS[0]),
        Run::Wal(WRITERS[1]),
        Run::Wal(WRITERS[2]),
    ];
    let mut raw: [Vec<f64>; 4] = Default::default();
    let mut wal: [Vec<WalRun>; 3] = Default::default();
    for round in 0..rounds {
        // Rotate the order so that no run always follows the same neighbour.
        for i in 0..plan.len() {
            match plan[(i + round) % plan.len()] {
                Run::AppendEntry => raw[0].push(raw_append(dir.path(), entry, d)),
                Run::Append4k => raw[1].push(raw_append(dir.path(), BLOCK, d)),
                Run::Overwrite4k => raw[2].push(raw_overwrite(dir.path(), d)),
                Run::AppendEntryBusy => raw[3].push(raw_append_busy(dir.path(), entry, d)),
                Run::Wal(w) => {
                    let slot = WRITERS.iter().position(|&x| x == w).unwrap_or(0);
                    wal[slot].push(wal_rate(dir.path(), w, d));
                }
            }
        }
    }
    let [append_entry, append_4k, overwrite_4k, append_busy] = raw.map(median);
    eprintln!(
        "wal bench: {} in {}: {rounds} rounds of {d:?} per run; one entry is {entry} bytes",
        if quick { "quick" } else { "full" },
        dir.path().display()
    );
    let base = format!("raw fsync/s (append {entry} B)");
    row(
        "raw fsyncs/s, append 4 KiB",
        append_4k,
        "fsyncs/s",
        &base,
        append_entry,
    );
    row(
        &format!("raw fsyncs/s, append {entry} B, other core busy"),
        append_busy,
        "fsyncs/s",
        &base,
        append_entry,
    );
    row(
        "raw fsyncs/s, overwrite 4 KiB in place",
        overwrite_4k,
        "fsyncs/s",
        &base,
        append_entry,
    );
    for (runs, writers) in wal.into_iter().zip(WRITERS) {
        let w = if writers == 1 { "writer" } else { "writers" };
        let pick = |f: fn(&WalRun) -> f64| median(runs.iter().map(f).collect());
        row(
            &format!("WAL fsyncs/s, {writers} {w}"),
            pick(|r| r.syncs_per_sec),
            "fsyncs/s",
            &base,
            append_entry,
        );
        row(
            &format!("WAL entries/s, {writers} {w}"),
            pick(|r| r.entries_per_sec),
            "entries/s",
            &base,
            append_entry,
        );
        row(
            &format!("WAL MB/s, {writers} {w}"),
            pick(|r| r.mb_per_sec),
            "MB/s",
            &format!("raw append MB/s ({entry} B fsyncs)"),
            append_entry * entry as f64 / 1e6,
        );
    }
}
