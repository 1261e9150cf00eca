//! The background thread: snapshots caches that are over their threshold or cold, runs
//! compactions, and enforces retention. Errors are counted and kept in [`crate::Stats`]; the
//! thread keeps going.

use crate::engine::{Inner, count_compactions, count_snapshot, now_ns, record_background_error};

pub(crate) fn run(inner: &Inner) {
    while !inner.is_shutting_down() {
        inner.wait_for_work(inner.options.background_interval);
        if inner.is_shutting_down() {
            break;
        }
        pass(inner);
    }
}

fn pass(inner: &Inner) {
    let opts = &inner.options;
    for db in inner.all_databases() {
        for shard in db.all_shards() {
            if inner.is_shutting_down() {
                return;
            }
            let size = shard.cache.size();
            let due = shard.cache.needs_snapshot()
                || (size > 0 && shard.write_cold(opts.cache_snapshot_cold));
            if due {
                match shard.snapshot(&inner.compactor) {
                    Ok(true) => count_snapshot(inner),
                    Ok(false) => {}
                    Err(e) => record_background_error(
                        inner,
                        format!("snapshot of {}: {e}", shard.dir.display()),
                    ),
                }
                inner.notify_freed();
            }
            let full = shard.is_cold(inner.planner.config().full_cold_duration);
            match shard.compact_if_changed(&inner.compactor, &inner.planner, full) {
                Ok(n) => count_compactions(inner, n),
                Err(e) => record_background_error(
                    inner,
                    format!("compaction of {}: {e}", shard.dir.display()),
                ),
            }
        }
    }
    if let Err(e) = inner.enforce_retention(now_ns()) {
        record_background_error(inner, format!("retention: {e}"));
    }
}
