//! Per-node counters for `--stats`: items in and out, time spent in the node.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Counters of one node; shared between the stage that runs it and the caller that reports them.
#[derive(Debug, Default)]
pub struct NodeStats {
    items_in: AtomicU64,
    items_out: AtomicU64,
    nanos: AtomicU64,
}

impl NodeStats {
    pub(crate) fn record(&self, items_in: u64, items_out: usize, time: Duration) {
        self.items_in.fetch_add(items_in, Relaxed);
        self.items_out.fetch_add(items_out as u64, Relaxed);
        self.nanos.fetch_add(time.as_nanos() as u64, Relaxed);
    }

    /// Items processed.
    pub fn items_in(&self) -> u64 {
        self.items_in.load(Relaxed)
    }

    /// Items emitted (including by `finish`).
    pub fn items_out(&self) -> u64 {
        self.items_out.load(Relaxed)
    }

    /// Time spent in `process` (not counting downstream nodes).
    pub fn time(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Relaxed))
    }
}
