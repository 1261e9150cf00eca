//! A model of a disk for tests: what survives a power cut, and fsyncs or writes that fail.
//!
//! * File data written but not synced lives in a volatile log per file. A power cut keeps what was
//!   synced plus a random prefix of the unsynced writes, the last of them torn at sector
//!   granularity (a sector is all or nothing, like a real drive's atomic write unit).
//! * Directory entries created, removed or renamed since the directory's last sync can each be
//!   kept or lost at a power cut (a rename is atomic: old name or new name, never both or none).
//!   Directories themselves are durable once created.
//! * Faults: the n-th `sync_data` can fail with EIO the way Linux does it (PostgreSQL's
//!   "fsyncgate"): the unsynced writes are dropped from what will reach the disk, reads still see
//!   them, and the *next* fsync succeeds. The n-th write can fail with ENOSPC after writing only a
//!   prefix. A power cut can be scheduled at the n-th operation: that operation and all later
//!   ones fail until [`SimDisk::power_cut`] brings the disk back with what survived (or
//!   [`SimDisk::restart_process`] models a process killed there, losing nothing).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::io::{SegmentFile, Storage};

pub mod check;

/// The atomic write unit of the modelled drive.
pub const SECTOR: u64 = 512;

const EIO: i32 = 5;
const ENOENT: i32 = 2;
const EEXIST: i32 = 17;
const ENOSPC: i32 = 28;

/// A tiny deterministic generator (xorshift64*), so a failing case replays exactly.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (any value, zero included).
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A fair coin.
    pub fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }
}

#[derive(Debug, Clone)]
enum FileOp {
    Write { offset: u64, data: Vec<u8> },
    SetLen(u64),
}

#[derive(Debug, Default, Clone)]
struct Inode {
    /// What reads see (the page cache).
    current: Vec<u8>,
    /// What is on the platter.
    durable: Vec<u8>,
    /// Changes not yet synced, oldest first.
    unsynced: Vec<FileOp>,
}

#[derive(Debug, Clone)]
enum DirOp {
    Link(PathBuf, u64),
    Unlink(PathBuf),
    Rename(PathBuf, PathBuf),
}

impl DirOp {
    fn dir(&self) -> Option<&Path> {
        match self {
            DirOp::Link(p, _) | DirOp::Unlink(p) | DirOp::Rename(p, _) => p.parent(),
        }
    }

    fn apply(&self, names: &mut BTreeMap<PathBuf, u64>) {
        match self {
            DirOp::Link(p, ino) => {
                names.insert(p.clone(), *ino);
            }
            DirOp::Unlink(p) => {
                names.remove(p);
            }
            DirOp::Rename(from, to) => {
                if let Some(ino) = names.remove(from) {
                    names.insert(to.clone(), ino);
                }
            }
        }
    }
}

/// Scheduled failures.
#[derive(Debug, Default, Clone)]
pub struct Faults {
    /// Fail these `sync_data` calls (counted from 0 since the last power cut) with EIO.
    pub fail_syncs: BTreeSet<u64>,
    /// Fail this write (counted from 0) with ENOSPC after writing this many of its bytes.
    pub fail_write: Option<(u64, usize)>,
    /// Lose power just before this operation (counted from 0).
    pub cut_at_op: Option<u64>,
}

#[derive(Debug, Default)]
struct Disk {
    inodes: HashMap<u64, Inode>,
    next_inode: u64,
    dirs: BTreeSet<PathBuf>,
    /// Directory entries as the running system sees them.
    names: BTreeMap<PathBuf, u64>,
    /// Directory entries on the platter.
    durable_names: BTreeMap<PathBuf, u64>,
    unsynced_dir: Vec<DirOp>,
    faults: Faults,
    ops: u64,
    syncs: u64,
    writes: u64,
    /// Power is off: every operation fails until [`SimDisk::power_cut`].
    dead: bool,
    /// Bumped at each power cut; handles from before it no longer work.
    boot: u64,
}

fn err(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

impl Disk {
    /// Counts an operation and fails it if the power is (now) off.
    fn op(&mut self, boot: u64) -> io::Result<()> {
        if boot != self.boot || self.dead {
            return Err(err(EIO));
        }
        if self.faults.cut_at_op == Some(self.ops) {
            self.dead = true;
            return Err(err(EIO));
        }
        self.ops += 1;
        Ok(())
    }

    fn inode(&mut self, ino: u64) -> &mut Inode {
        self.inodes.entry(ino).or_default()
    }

    fn new_file(&mut self, path: &Path) -> io::Result<u64> {
        let dir = path.parent().unwrap_or(Path::new(""));
        if !self.dirs.contains(dir) {
            return Err(err(ENOENT));
        }
        if let Some(old) = self.names.get(path).copied() {
            let inode = self.inode(old);
            inode.current.clear();
            inode.unsynced.push(FileOp::SetLen(0));
            return Ok(old);
        }
        let ino = self.next_inode;
        self.next_inode += 1;
        self.inodes.insert(ino, Inode::default());
        self.names.insert(path.to_path_buf(), ino);
        self.unsynced_dir.push(DirOp::Link(path.to_path_buf(), ino));
        Ok(ino)
    }
}

fn write_into(buf: &mut Vec<u8>, offset: u64, data: &[u8]) {
    let end = offset as usize + data.len();
    if buf.len() < end {
        buf.resize(end, 0);
    }
    buf[offset as usize..end].copy_from_slice(data);
}

fn apply(buf: &mut Vec<u8>, op: &FileOp) {
    match op {
        FileOp::Write { offset, data } => write_into(buf, *offset, data),
        FileOp::SetLen(len) => buf.resize(*len as usize, 0),
    }
}

/// The modelled disk. Clones share it.
#[derive(Debug, Clone, Default)]
pub struct SimDisk(Arc<Mutex<Disk>>);

#[derive(Debug)]
struct SimFile {
    disk: SimDisk,
    ino: u64,
    boot: u64,
}

impl SimDisk {
    pub fn new() -> Self {
        SimDisk::default()
    }

    /// Replaces the scheduled failures; operation counters restart at 0.
    pub fn set_faults(&self, faults: Faults) {
        let mut d = self.0.lock();
        d.faults = faults;
        d.ops = 0;
        d.syncs = 0;
        d.writes = 0;
    }

    /// True once a scheduled power cut has happened.
    pub fn is_dead(&self) -> bool {
        self.0.lock().dead
    }

    /// Loses power (if it was not lost already) and boots again with what survived: synced data
    /// plus a random prefix of each file's unsynced writes (the last one torn at a sector
    /// boundary), and the synced directory entries plus a random choice of unsynced ones.
    /// Faults are cleared.
    pub fn power_cut(&self, rng: &mut Rng) {
        self.cut(rng, false);
    }

    /// A harsher power cut: any subset of the unsynced sectors reached the disk, in any order
    /// (the page cache writes pages back in whatever order it likes), so an unsynced range can
    /// come back with zero-filled holes. Truncations are kept.
    pub fn power_cut_reordered(&self, rng: &mut Rng) {
        self.cut(rng, true);
    }

    fn cut(&self, rng: &mut Rng, reordered: bool) {
        let mut d = self.0.lock();
        let mut names = d.durable_names.clone();
        for op in std::mem::take(&mut d.unsynced_dir) {
            if rng.coin() {
                op.apply(&mut names);
            }
        }
        let live: BTreeSet<u64> = names.values().copied().collect();
        let mut inodes = HashMap::new();
        for ino in live {
            let Some(inode) = d.inodes.get(&ino) else {
                continue;
            };
            let mut data = inode.durable.clone();
            if reordered {
                for op in &inode.unsynced {
                    match op {
                        FileOp::SetLen(_) => apply(&mut data, op),
                        FileOp::Write {
                            offset,
                            data: bytes,
                        } => {
                            let mut at = *offset;
                            let end = offset + bytes.len() as u64;
                            while at < end {
                                let next = ((at / SECTOR + 1) * SECTOR).min(end);
                                if rng.coin() {
                                    let range = (at - offset) as usize..(next - offset) as usize;
                                    write_into(&mut data, at, &bytes[range]);
                                }
                                at = next;
                            }
                        }
                    }
                }
                inodes.insert(
                    ino,
                    Inode {
                        current: data.clone(),
                        durable: data,
                        unsynced: Vec::new(),
                    },
                );
                continue;
            }
            let keep = rng.below(inode.unsynced.len() as u64 + 1) as usize;
            for op in &inode.unsynced[..keep] {
                apply(&mut data, op);
            }
            if let Some(FileOp::Write {
                offset,
                data: bytes,
            }) = inode.unsynced.get(keep)
            {
                // A torn write: whole sectors from its start, never a partial sector.
                let first_boundary = (offset / SECTOR + 1) * SECTOR - offset;
                let sectors = (bytes.len() as u64).saturating_sub(first_boundary) / SECTOR + 1;
                let cut = rng.below(sectors + 1);
                let len = if cut == 0 {
                    0
                } else {
                    (first_boundary + (cut - 1) * SECTOR).min(bytes.len() as u64)
                };
                write_into(&mut data, *offset, &bytes[..len as usize]);
            }
            inodes.insert(
                ino,
                Inode {
                    current: data.clone(),
                    durable: data,
                    unsynced: Vec::new(),
                },
            );
        }
        d.inodes = inodes;
        d.names = names.clone();
        d.durable_names = names;
        d.faults = Faults::default();
        d.dead = false;
        d.boot += 1;
        d.ops = 0;
        d.syncs = 0;
        d.writes = 0;
    }

    /// The process died (kill -9) but the machine did not: everything written stays in the page
    /// cache and reaches the disk in time. Handles from before stop working; faults are cleared.
    pub fn restart_process(&self) {
        let mut d = self.0.lock();
        d.faults = Faults::default();
        d.dead = false;
        d.boot += 1;
        d.ops = 0;
        d.syncs = 0;
        d.writes = 0;
    }

    /// Opens a [`Wal`](crate::Wal) whose segments live on this disk, as
    /// [`Wal::open`](crate::Wal::open) does on the real file system (for tests of the WAL's
    /// users, e.g. the engine's recovery from a failed fsync).
    pub fn open_wal(
        &self,
        dir: &Path,
        options: crate::WalOptions,
        visit: impl FnMut(crate::EntryPosition, &crate::Entry),
    ) -> Result<(crate::Wal, crate::Recovery), crate::WalError> {
        crate::Wal::open_in(Arc::new(self.clone()), dir, options, visit)
    }

    /// The contents of a file as reads see them, or `None` if it does not exist.
    pub fn file(&self, path: &Path) -> Option<Vec<u8>> {
        let d = self.0.lock();
        let ino = d.names.get(path)?;
        d.inodes.get(ino).map(|i| i.current.clone())
    }

    fn handle(&self, ino: u64, boot: u64) -> Arc<dyn SegmentFile> {
        Arc::new(SimFile {
            disk: self.clone(),
            ino,
            boot,
        })
    }
}

impl SegmentFile for SimFile {
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        let mut d = self.disk.0.lock();
        d.op(self.boot)?;
        let n = d.writes;
        d.writes += 1;
        let (data, result) = match d.faults.fail_write {
            Some((at, written)) if at == n => (&buf[..written.min(buf.len())], Err(err(ENOSPC))),
            _ => (buf, Ok(())),
        };
        let inode = d.inode(self.ino);
        write_into(&mut inode.current, offset, data);
        inode.unsynced.push(FileOp::Write {
            offset,
            data: data.to_vec(),
        });
        result
    }

    fn sync_data(&self) -> io::Result<()> {
        let mut d = self.disk.0.lock();
        d.op(self.boot)?;
        let n = d.syncs;
        d.syncs += 1;
        let fail = d.faults.fail_syncs.contains(&n);
        let inode = d.inode(self.ino);
        if fail {
            // The writeback failed: those pages are marked clean and never reach the disk, reads
            // still return them, and the error is reported once.
            inode.unsynced.clear();
            return Err(err(EIO));
        }
        for op in std::mem::take(&mut inode.unsynced) {
            apply(&mut inode.durable, &op);
        }
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut d = self.disk.0.lock();
        d.op(self.boot)?;
        let inode = d.inode(self.ino);
        inode.current.resize(len as usize, 0);
        inode.unsynced.push(FileOp::SetLen(len));
        Ok(())
    }
}

impl Storage for SimDisk {
    fn create_dir_all(&self, dir: &Path) -> io::Result<bool> {
        let mut d = self.0.lock();
        let boot = d.boot;
        d.op(boot)?;
        let mut created = false;
        for a in dir.ancestors() {
            created |= d.dirs.insert(a.to_path_buf());
        }
        Ok(created)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<(String, u64)>> {
        let mut d = self.0.lock();
        let boot = d.boot;
        d.op(boot)?;
        if !d.dirs.contains(dir) {
            return Err(err(ENOENT));
        }
        let mut out = Vec::new();
        for (path, ino) in &d.names {
            if path.parent() == Some(dir) {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let size = d.inodes.get(ino).map_or(0, |i| i.current.len() as u64);
                out.push((name.to_string(), size));
            }
        }
        Ok(out)
    }

    fn read(&self, path: &Path, buf: &mut Vec<u8>) -> io::Result<()> {
        let mut d = self.0.lock();
        let boot = d.boot;
        d.op(boot)?;
        let ino = *d.names.get(path).ok_or_else(|| err(ENOENT))?;
        buf.clear();
        buf.extend_from_slice(&d.inode(ino).current);
        Ok(())
    }

    fn create_new(&self, path: &Path) -> io::Result<Arc<dyn SegmentFile>> {
        let mut d = self.0.lock();
        let boot = d.boot;
        d.op(boot)?;
        if d.names.contains_key(path) {
            return Err(err(EEXIST));
        }
        let ino = d.new_file(path)?;
        drop(d);
        Ok(self.handle(ino, boot))
    }

    fn create(&self, path: &Path) -> io::Result<Arc<dyn SegmentFile>> {
        let mut d = self.0.lock();
        let boot = d.boot;
        d.op(boot)?;
        let ino = d.new_file(path)?;
        drop(d);
        Ok(self.handle(ino, boot))
    }

    fn open_write(&self, path: &Path) -> io::Result<Arc<dyn SegmentFile>> {
        let mut d = self.0.lock();
        let boot = d.boot;
        d.op(boot)?;
        let ino = *d.names.get(path).ok_or_else(|| err(ENOENT))?;
        drop(d);
        Ok(self.handle(ino, boot))
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut d = self.0.lock();
        let boot = d.boot;
        d.op(boot)?;
        d.names.remove(path).ok_or_else(|| err(ENOENT))?;
        d.unsynced_dir.push(DirOp::Unlink(path.to_path_buf()));
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut d = self.0.lock();
        let boot = d.boot;
        d.op(boot)?;
        let ino = d.names.remove(from).ok_or_else(|| err(ENOENT))?;
        d.names.insert(to.to_path_buf(), ino);
        d.unsynced_dir
            .push(DirOp::Rename(from.to_path_buf(), to.to_path_buf()));
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut d = self.0.lock();
        let boot = d.boot;
        d.op(boot)?;
        let (now, later): (Vec<DirOp>, Vec<DirOp>) = std::mem::take(&mut d.unsynced_dir)
            .into_iter()
            .partition(|op| op.dir() == Some(dir));
        for op in &now {
            op.apply(&mut d.durable_names);
        }
        d.unsynced_dir = later;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(disk: &SimDisk, path: &str, data: &[u8]) -> Arc<dyn SegmentFile> {
        let f = disk.create_new(Path::new(path)).unwrap();
        f.write_all_at(data, 0).unwrap();
        f
    }

    #[test]
    fn a_power_cut_keeps_synced_data_and_synced_names_only() {
        let disk = SimDisk::new();
        disk.create_dir_all(Path::new("/d")).unwrap();
        let f = write(&disk, "/d/a", &[1; 1000]);
        f.sync_data().unwrap();
        disk.sync_dir(Path::new("/d")).unwrap();
        f.write_all_at(&[2; 2000], 1000).unwrap();
        let g = write(&disk, "/d/b", b"never synced");
        g.sync_data().unwrap();
        for seed in 0..64 {
            let copy = SimDisk::new();
            *copy.0.lock() = clone_disk(&disk);
            copy.power_cut(&mut Rng::new(seed));
            let a = copy.file(Path::new("/d/a")).unwrap();
            assert_eq!(a[..1000], [1; 1000]);
            // Torn only at sector boundaries: the kept length is 1000 (nothing), or ends on one.
            assert!(a.len() == 1000 || a.len() == 3000 || a.len().is_multiple_of(SECTOR as usize));
            assert!(a[1000..].iter().all(|&b| b == 2));
            // b's data was synced but its directory entry never was.
            if let Some(b) = copy.file(Path::new("/d/b")) {
                assert_eq!(b, b"never synced");
            }
        }
    }

    fn clone_disk(disk: &SimDisk) -> Disk {
        let d = disk.0.lock();
        Disk {
            inodes: d.inodes.clone(),
            next_inode: d.next_inode,
            dirs: d.dirs.clone(),
            names: d.names.clone(),
            durable_names: d.durable_names.clone(),
            unsynced_dir: d.unsynced_dir.clone(),
            ..Disk::default()
        }
    }

    #[test]
    fn a_failed_fsync_loses_the_data_but_the_retry_succeeds() {
        let disk = SimDisk::new();
        disk.create_dir_all(Path::new("/d")).unwrap();
        let f = write(&disk, "/d/a", b"lost");
        disk.sync_dir(Path::new("/d")).unwrap();
        disk.set_faults(Faults {
            fail_syncs: [0].into(),
            ..Faults::default()
        });
        assert_eq!(f.sync_data().unwrap_err().raw_os_error(), Some(EIO));
        f.sync_data().unwrap();
        assert_eq!(disk.file(Path::new("/d/a")).unwrap(), b"lost");
        disk.power_cut(&mut Rng::new(1));
        assert_eq!(disk.file(Path::new("/d/a")).unwrap(), b"");
    }

    #[test]
    fn scheduled_cut_fails_everything_after_it() {
        let disk = SimDisk::new();
        disk.create_dir_all(Path::new("/d")).unwrap();
        disk.set_faults(Faults {
            cut_at_op: Some(1),
            ..Faults::default()
        });
        let f = disk.create_new(Path::new("/d/a")).unwrap();
        assert!(f.write_all_at(b"x", 0).is_err());
        assert!(disk.is_dead());
        assert!(disk.sync_dir(Path::new("/d")).is_err());
        disk.power_cut(&mut Rng::new(3));
        assert!(
            f.write_all_at(b"x", 0).is_err(),
            "handle from before the cut"
        );
        assert!(!disk.is_dead());
    }
}
