//! What keeps compactions out of each other's way and out of ingest's: the in-use set with its
//! lease guard, the concurrency limit, and the write throttle.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// Files held by running compactions, by path. Shared by every compaction of a [`crate::Compactor`].
#[derive(Debug, Default)]
pub struct InUse {
    held: Mutex<HashSet<PathBuf>>,
}

impl InUse {
    /// Takes every path, or none when any is already held (the plan is dropped for this round).
    pub fn try_acquire(self: &Arc<Self>, paths: Vec<PathBuf>) -> Option<Lease> {
        let mut held = self.held.lock();
        if paths.iter().any(|p| held.contains(p)) {
            return None;
        }
        held.extend(paths.iter().cloned());
        Some(Lease {
            owner: Arc::clone(self),
            paths,
        })
    }

    /// True when a running compaction holds `path`.
    pub fn contains(&self, path: &std::path::Path) -> bool {
        self.held.lock().contains(path)
    }

    /// A copy of the held paths.
    pub fn paths(&self) -> HashSet<PathBuf> {
        self.held.lock().clone()
    }
}

/// Files held by one compaction; released when dropped (also on error or panic).
#[derive(Debug)]
pub struct Lease {
    owner: Arc<InUse>,
    paths: Vec<PathBuf>,
}

impl Lease {
    /// The held paths.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut held = self.owner.held.lock();
        for p in &self.paths {
            held.remove(p);
        }
    }
}

/// A counting semaphore: at most `limit` compactions run at once, whoever starts them.
#[derive(Debug)]
pub struct Slots {
    limit: usize,
    used: Mutex<usize>,
    freed: Condvar,
}

impl Slots {
    /// At most `limit` (at least 1) holders at once.
    pub fn new(limit: usize) -> Slots {
        Slots {
            limit: limit.max(1),
            used: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// The limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Waits for a free slot.
    pub fn acquire(&self) -> Slot<'_> {
        let mut used = self.used.lock();
        while *used >= self.limit {
            self.freed.wait(&mut used);
        }
        *used += 1;
        Slot { slots: self }
    }

    /// A slot if one is free now.
    pub fn try_acquire(&self) -> Option<Slot<'_>> {
        let mut used = self.used.lock();
        (*used < self.limit).then(|| {
            *used += 1;
            Slot { slots: self }
        })
    }
}

/// One running compaction's slot, given back when dropped.
#[derive(Debug)]
pub struct Slot<'a> {
    slots: &'a Slots,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.slots.used.lock() -= 1;
        self.slots.freed.notify_one();
    }
}

/// A token bucket over bytes written, shared by all compactions (InfluxDB: 48 MiB/s, burst 48 MiB).
///
/// A write takes its bytes from the bucket; when the bucket runs dry the writer sleeps until the
/// debt is repaid at `rate`. A write larger than the burst is allowed and simply waits longer, so
/// no block is ever refused.
#[derive(Debug)]
pub struct Throttle {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl Throttle {
    /// `bytes_per_sec` of 0 means unlimited.
    pub fn new(bytes_per_sec: u64, burst: u64) -> Throttle {
        Throttle {
            rate: bytes_per_sec as f64,
            burst: burst.max(1) as f64,
            state: Mutex::new((burst as f64, Instant::now())),
        }
    }

    /// No limit.
    pub fn unlimited() -> Throttle {
        Throttle::new(0, 1)
    }

    /// The rate in bytes per second (0 = unlimited).
    pub fn rate(&self) -> u64 {
        self.rate as u64
    }

    /// Takes `bytes` from the bucket, sleeping (outside the lock) if it is in debt.
    pub fn take(&self, bytes: usize) {
        if let Some(wait) = self.debit(bytes, Instant::now()) {
            std::thread::sleep(wait);
        }
    }

    /// Books `bytes` at `now`; returns how long the caller must wait.
    fn debit(&self, bytes: usize, now: Instant) -> Option<Duration> {
        if self.rate <= 0.0 {
            return None;
        }
        let mut state = self.state.lock();
        let (tokens, last) = &mut *state;
        let elapsed = now.saturating_duration_since(*last).as_secs_f64();
        *tokens = (*tokens + elapsed * self.rate).min(self.burst) - bytes as f64;
        *last = now.max(*last);
        (*tokens < 0.0).then(|| Duration::from_secs_f64(-*tokens / self.rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_excludes_and_releases() {
        let in_use = Arc::new(InUse::default());
        let a = in_use
            .try_acquire(vec!["a".into(), "b".into()])
            .expect("free");
        assert!(in_use.try_acquire(vec!["b".into(), "c".into()]).is_none());
        let c = in_use.try_acquire(vec!["c".into()]).expect("c is free");
        drop(a);
        assert!(!in_use.contains("b".as_ref()));
        assert!(in_use.contains("c".as_ref()));
        drop(c);
        assert!(in_use.paths().is_empty());
    }

    #[test]
    fn slots_limit_holders() {
        let slots = Slots::new(2);
        let a = slots.acquire();
        let _b = slots.acquire();
        assert!(slots.try_acquire().is_none());
        drop(a);
        assert!(slots.try_acquire().is_some());
    }

    #[test]
    fn throttle_books_debt_at_rate() {
        let t = Throttle::new(1000, 500);
        let start = *t.state.lock();
        // The burst is free, then every byte costs 1 ms.
        assert_eq!(t.debit(500, start.1), None);
        let wait = t.debit(250, start.1).expect("in debt");
        assert!((wait.as_secs_f64() - 0.25).abs() < 1e-9);
        // Half a second later 500 bytes were earned: the 250 of debt is repaid, 250 left.
        assert_eq!(t.debit(250, start.1 + Duration::from_millis(500)), None);
        assert!(
            Throttle::unlimited()
                .debit(1 << 40, Instant::now())
                .is_none()
        );
    }
}
