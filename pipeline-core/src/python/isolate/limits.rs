//! The limits an isolated Python worker runs under, their defaults, and how a node's own
//! `"limits"` override the run's.

use crate::manifest::PythonLimits;
use std::time::Duration;

/// The default address-space limit of a worker: 2 GiB. RustPython's interpreter stack reserves
/// 256 MiB and glibc's arenas a few more; a normal node stays far below.
pub const DEFAULT_MEMORY_MB: u64 = 2048;
/// The default CPU time of a worker over its whole life: one hour (a worker serves one stage for
/// the whole run, so this bounds a runaway run, not an item; the item timeout does that).
pub const DEFAULT_CPU_SECONDS: u64 = 3600;
/// The default time one item (or one `finish`, or starting the node) may take without the node
/// returning or yielding anything: one minute.
pub const DEFAULT_ITEM_TIMEOUT_MS: u64 = 60_000;

/// Limits of an isolated Python node; `0` means unlimited.
///
/// ```
/// use pipeline_core::manifest::PythonLimits;
/// use pipeline_core::python::isolate::Limits;
///
/// let run = Limits { item_timeout_ms: 500, ..Limits::default() };
/// let node = PythonLimits { memory_mb: Some(64), ..Default::default() };
/// let merged = run.with(&node);
/// assert_eq!((merged.memory_mb, merged.cpu_seconds, merged.item_timeout_ms), (64, 3600, 500));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Address space of the worker process (`RLIMIT_AS`), in MiB.
    pub memory_mb: u64,
    /// CPU time of the worker process (`RLIMIT_CPU`), in seconds.
    pub cpu_seconds: u64,
    /// Wall-clock time an item may take without progress, in milliseconds (enforced by the parent).
    pub item_timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_mb: DEFAULT_MEMORY_MB,
            cpu_seconds: DEFAULT_CPU_SECONDS,
            item_timeout_ms: DEFAULT_ITEM_TIMEOUT_MS,
        }
    }
}

impl Limits {
    /// These limits with the ones `node` sets replacing them.
    pub fn with(self, node: &PythonLimits) -> Limits {
        Limits {
            memory_mb: node.memory_mb.unwrap_or(self.memory_mb),
            cpu_seconds: node.cpu_seconds.unwrap_or(self.cpu_seconds),
            item_timeout_ms: node.item_timeout_ms.unwrap_or(self.item_timeout_ms),
        }
    }

    /// The item timeout, if any.
    pub(crate) fn item_timeout(&self) -> Option<Duration> {
        (self.item_timeout_ms > 0).then(|| Duration::from_millis(self.item_timeout_ms))
    }

    /// What the process-wide limits of a worker are: nodes that agree on them share a worker.
    pub(crate) fn process(&self) -> (u64, u64) {
        (self.memory_mb, self.cpu_seconds)
    }

    /// How often a busy worker reports progress to the parent: often enough that the parent's
    /// deadline (the item timeout plus this) catches an item that overruns the timeout, rarely
    /// enough to cost nothing.
    pub(crate) fn heartbeat(&self) -> Duration {
        match self.item_timeout() {
            Some(timeout) => {
                (timeout / 8).clamp(Duration::from_millis(1), Duration::from_millis(100))
            }
            None => Duration::from_millis(100),
        }
    }
}
