//! The data directory's lock file: a second process gets a clear error instead of corrupting data.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, Result, io};

/// Name of the lock file in the data directory.
pub const LOCK_FILE: &str = "LOCK";

/// Holds an exclusive `flock` on `DIR/LOCK` for as long as it lives; the kernel releases it when
/// the process dies, so a crash never leaves a stale lock.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock> {
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io("opening lock file", &path))?;
        // A lock held only for a moment is waited for: the lock belongs to the open file, so a
        // child process forked by the embedding program (another thread spawning a command
        // while an engine was open) holds it until the child calls exec, even after the engine
        // that took it was closed. A real second owner still gets `Locked`, a moment later.
        let mut pause = Duration::from_millis(1);
        let give_up = Instant::now() + LOCK_PATIENCE;
        loop {
            // SAFETY: flock on a file descriptor we own; no memory is passed.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                return Ok(DirLock { _file: file });
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(io("locking", &path)(err));
            }
            if Instant::now() >= give_up {
                return Err(Error::Locked {
                    dir: dir.to_path_buf(),
                    lock: path,
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }
}

/// How long a held lock is retried before the directory is reported in use.
const LOCK_PATIENCE: Duration = Duration::from_millis(500);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path()).unwrap();
        let err = DirLock::acquire(dir.path()).unwrap_err();
        assert!(matches!(err, Error::Locked { .. }), "{err}");
        drop(first);
        DirLock::acquire(dir.path()).unwrap();
    }

    /// A forked child holds a copy of the descriptor until it execs; a copy made with `dup`
    /// behaves the same: the lock outlives the `DirLock` that took it, and is waited for.
    #[test]
    fn a_copy_of_the_descriptor_keeps_the_lock_until_it_closes() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path()).unwrap();
        let copy = first._file.try_clone().unwrap();
        drop(first);
        let err = DirLock::acquire(dir.path()).unwrap_err();
        assert!(matches!(err, Error::Locked { .. }), "{err}");

        let (release, released) = std::sync::mpsc::channel::<()>();
        let holder = std::thread::spawn(move || {
            released.recv().unwrap();
            drop(copy);
        });
        release.send(()).unwrap();
        // The copy closes now or while acquire waits: either way the lock is had.
        DirLock::acquire(dir.path()).unwrap();
        holder.join().unwrap();
    }
}
