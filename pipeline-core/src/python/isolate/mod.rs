//! Python nodes isolated in worker processes: what the CLI runs manifests and scripts with.
//!
//! The library cannot know which executable can serve as a worker, so isolation is off until a
//! program [`install`]s an [`IsolationConfig`] naming one (the `pipeline` CLI installs itself,
//! in its hidden `__python-worker` mode, whose `main` is [`worker_main`]). From then on the
//! manifest loader builds each `python` node as an [`IsolatedPython`] (unless the node says
//! `"isolation": "in_process"`), and [`describe_script`](super::describe_script) evaluates
//! scripts in a worker. `pipeline!` code and library users who install nothing keep in-process
//! nodes.
//!
//! # One worker per chain
//!
//! Each isolated node has a worker process of its own, except that a fused chain of isolated
//! nodes with the same limits shares one: the dynamic builder offers each node its successor
//! ([`DynNode::absorb`](crate::dynamic::DynNode::absorb)), and the worker runs a batch through
//! the whole chain in one request (`chain.rs`), each node's outputs handed to the next in pieces.
//! A process round trip (waking a sleeping worker and being woken) is most of an isolated node's
//! overhead, so a chain of `n` nodes pays it once per batch instead of `n` times. Not one worker
//! per stage, as in-process nodes share one interpreter per stage thread: a node's call streams
//! its outputs in chunks while the stage hands each chunk on, so nodes of one stage that are not
//! one chain may have calls open at once, and a worker answers one call at a time. Items cross in
//! batches and outputs come back in chunks as they are made, each marked with the item it came
//! from, so generators stream in bounded memory and a failure names its item and its node (a
//! dying worker's last frame says which node of its chain was running).
//!
//! # Confinement of a worker
//!
//! - `RLIMIT_AS` = `limits.memory_mb` (default [`DEFAULT_MEMORY_MB`]); an allocation beyond it
//!   aborts the worker, and the parent reports the memory limit.
//! - `RLIMIT_CPU` = `limits.cpu_seconds` (default [`DEFAULT_CPU_SECONDS`]) over the worker's life:
//!   SIGXCPU at the limit, SIGKILL a second later.
//! - `limits.item_timeout_ms` (default [`DEFAULT_ITEM_TIMEOUT_MS`]): the parent waits on the
//!   worker's pipe with a deadline; a busy worker reports progress every eighth of the timeout (at
//!   most every 100 ms), so an item (or `finish`, or the node's start) that goes longer than the
//!   timeout without returning or yielding is killed (SIGKILL) within that eighth.
//! - An empty environment, a fresh private scratch directory as working directory (removed with
//!   the worker), only its stdin/stdout/stderr pipes (every other descriptor is closed first),
//!   `RLIMIT_FSIZE` 0, `RLIMIT_CORE` 0, then after start-up `RLIMIT_NOFILE` 8 and `RLIMIT_NPROC` 0,
//!   `PR_SET_NO_NEW_PRIVS`, `PR_SET_PDEATHSIG` (SIGKILL when the parent's thread goes away), and
//!   a seccomp-bpf system-call filter where the kernel has seccomp (the README lists what it
//!   refuses: programs, processes, files, the network, signals to others, admin calls).
//! - The worker's stderr (Python `print`) is forwarded line by line to the parent's stderr.
//!
//! A crash, abort, limit or timeout ends the worker and is an error naming the node and the limit
//! (`the Python worker was killed: memory limit of 2048 MiB reached (limits.memory_mb)`); the
//! outputs it sent before are delivered first.

mod chain;
mod crash;
mod limits;
mod node;
mod process;
mod protocol;
pub(crate) mod script;
mod seccomp;
mod worker;

pub use limits::{Limits, DEFAULT_CPU_SECONDS, DEFAULT_ITEM_TIMEOUT_MS, DEFAULT_MEMORY_MB};
pub use node::IsolatedPython;
pub use worker::worker_main;

use crate::error::{Error, ErrorKind, Result};
use protocol::{Frame, Reply, SELF_CHECK};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// How to start a worker, and the run's limits.
///
/// ```no_run
/// use pipeline_core::python::isolate::{self, IsolationConfig, Limits};
///
/// // In a program whose `main` calls `isolate::worker_main` when given `__python-worker`:
/// isolate::install(IsolationConfig {
///     program: std::env::current_exe()?,
///     args: vec!["__python-worker".into()],
///     limits: Limits { item_timeout_ms: 5_000, ..Limits::default() },
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct IsolationConfig {
    /// The executable to run as a worker.
    pub program: PathBuf,
    /// Its arguments, which must make it call [`worker_main`].
    pub args: Vec<OsString>,
    /// The limits of nodes that set none of their own.
    pub limits: Limits,
}

static INSTALLED: RwLock<Option<Arc<IsolationConfig>>> = RwLock::new(None);

/// Makes manifests loaded and scripts described from now on in this process run their Python
/// nodes isolated with `config` (`None` turns isolation off again).
///
/// ```
/// use pipeline_core::python::isolate::{self, IsolationConfig, Limits};
///
/// isolate::install(IsolationConfig {
///     program: "/usr/local/bin/pipeline".into(),
///     args: vec!["__python-worker".into()],
///     limits: Limits::default(),
/// });
/// assert_eq!(isolate::installed().unwrap().limits.memory_mb, 2048);
/// isolate::install(None);
/// assert!(isolate::installed().is_none());
/// ```
pub fn install(config: impl Into<Option<IsolationConfig>>) {
    let config = config.into().map(Arc::new);
    match INSTALLED.write() {
        Ok(mut installed) => *installed = config,
        Err(poisoned) => *poisoned.into_inner() = config,
    }
}

/// The installed config, if any (see [`install`]).
pub fn installed() -> Option<Arc<IsolationConfig>> {
    match INSTALLED.read() {
        Ok(installed) => installed.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

/// Starts a worker of `config` as nodes' workers are started, and returns its report on its own
/// confinement as JSON: the descriptors, environment and directory it started with, whether the
/// system-call filter is active (`seccomp_mode` 2) and what denied calls returned.
#[doc(hidden)] // what `pipeline __python-sandbox-check` prints; needs a worker executable
pub fn self_check(config: &IsolationConfig) -> Result<String> {
    let mut worker = process::Worker::spawn(config, config.limits, &[worker::SELF_CHECK_ARG])?;
    let timeout = config.limits.item_timeout_ms;
    if let Err(stop) = worker.send(&Frame::new(SELF_CHECK).finish()) {
        return Err(worker.fail(stop, timeout));
    }
    let deadline = config
        .limits
        .item_timeout()
        .map(|t| std::time::Instant::now() + t);
    match worker.receive(deadline) {
        Ok(Reply::Text(report)) => Ok(report),
        Ok(other) => Err(Error::new(
            ErrorKind::Node,
            format_args!("unexpected self-check reply {other:?}"),
        )),
        Err(stop) => Err(worker.fail(stop, timeout)),
    }
}
