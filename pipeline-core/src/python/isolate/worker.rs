//! The worker side: what `pipeline __python-worker` runs. It confines itself further (closes
//! inherited descriptors, starts the interpreter, then lowers its descriptor limit and installs
//! the system-call filter), then serves the parent's requests on stdin/stdout until stdin ends.

use super::chain::{self, ChainFailure, OriginSink, AFTER_THE_BATCH};
use super::protocol::{
    failed, failed_in, Body, Frame, BATCH, CHUNK_BYTES, CHUNK_OUTPUTS, CLEANUP, DESCRIBE, DONE,
    FINISH, MAX_FRAME, OUTPUTS, SELF_CHECK, START, TEXT,
};
use super::{crash, seccomp};
use crate::error::{Error, Result};
use crate::node::{Node, NodeContext};
use crate::python::interpreter::Runtime;
use crate::python::PythonNode;
use crate::value::{wire, Value};
use std::io::{Read, Write};
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;
use std::process::ExitCode;
use std::time::Duration;

/// The argument that makes a worker record what it sees before confining itself, for
/// [`self_check`](super::self_check).
pub(crate) const SELF_CHECK_ARG: &str = "--self-check";

/// Runs the worker: `args` are the arguments after the worker subcommand.
///
/// Nothing in it panics on bad input: a malformed request ends the worker with status 2.
#[doc(hidden)] // the `main` of a worker executable (`pipeline __python-worker`), not a library call
pub fn worker_main(args: &[String]) -> ExitCode {
    // Caught RustPython panics become errors sent to the parent; their text is not noise for
    // the log.
    std::panic::set_hook(Box::new(|_| {}));
    close_inherited_descriptors();
    let snapshot = args
        .iter()
        .any(|a| a == SELF_CHECK_ARG)
        .then(Snapshot::take);
    // Started before the filter, so nothing of its start-up is refused; kept for the worker's life.
    let runtime = match Runtime::shared() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("[python worker] cannot start the interpreter: {err}");
            return ExitCode::from(3);
        }
    };
    crash::install();
    let filter = lock_down();
    if let Err(why) = &filter {
        eprintln!("[python worker] running without a system-call filter: {why}");
    }
    let mut worker = Serve {
        out: ManuallyDrop::new(
            // SAFETY: fd 1 is the pipe to the parent, open for the process's life; ManuallyDrop
            // keeps this File from closing it.
            unsafe { std::fs::File::from_raw_fd(1) },
        ),
        nodes: Vec::new(),
        chunk: Vec::with_capacity(CHUNK_BYTES + (64 << 10)),
        snapshot,
        filter,
    };
    // Ready: the parent's item deadlines start from here, not from the (slower) start-up.
    if worker.send(&Frame::new(DONE).uint(0).finish()).is_err() {
        return ExitCode::from(2);
    }
    let status = worker.serve();
    drop(worker);
    drop(runtime);
    status
}

/// Closes every descriptor but stdin, stdout and stderr (the parent's may have leaked some).
fn close_inherited_descriptors() {
    // SAFETY: closing descriptors this process does not use; close_range is a plain syscall.
    let closed = unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
    if closed != 0 {
        for fd in 3..1024 {
            // SAFETY: as above; EBADF for descriptors that are not open.
            unsafe { libc::close(fd) };
        }
    }
}

/// After start-up: at most a few descriptors, no new processes (for non-root users), then the
/// system-call filter.
fn lock_down() -> Result<(), seccomp::Unavailable> {
    let set = |resource, n: libc::rlim_t| {
        let rlim = libc::rlimit {
            rlim_cur: n,
            rlim_max: n,
        };
        // SAFETY: a valid rlimit for this process.
        unsafe { libc::setrlimit(resource, &rlim) };
    };
    set(libc::RLIMIT_NOFILE, 8);
    set(libc::RLIMIT_NPROC, 0);
    seccomp::install()
}

/// One node the parent started, by index.
struct Slot {
    /// Out of the slot while a chain runs it.
    node: Option<PythonNode>,
    heartbeat: Duration,
}

impl Slot {
    fn take_node(&mut self) -> PythonNode {
        self.node
            .take()
            .expect("a slot's node is out only while its chain runs")
    }
}

struct Serve {
    out: ManuallyDrop<std::fs::File>,
    nodes: Vec<Option<Slot>>,
    /// The encoded outputs of the chunk being filled (kept, so its capacity is reused).
    chunk: Vec<u8>,
    snapshot: Option<Snapshot>,
    filter: Result<(), seccomp::Unavailable>,
}

impl Serve {
    fn serve(&mut self) -> ExitCode {
        let mut stdin = std::io::stdin().lock();
        let mut frame = Vec::new();
        loop {
            let mut len = [0u8; 4];
            match stdin.read_exact(&mut len) {
                Ok(()) => {}
                Err(_) => return ExitCode::SUCCESS, // the parent is done with us
            }
            let len = u32::from_le_bytes(len) as usize;
            if len > MAX_FRAME {
                return ExitCode::from(2);
            }
            frame.clear();
            frame.resize(len, 0);
            if stdin.read_exact(&mut frame).is_err() {
                return ExitCode::from(2);
            }
            let handled = self.handle(&frame);
            if handled.is_err() {
                return ExitCode::from(2);
            }
        }
    }

    fn send(&mut self, frame: &[u8]) -> Result<(), ()> {
        self.out.write_all(frame).map_err(drop)
    }

    /// Returns a chain's slots to their places.
    fn put_back(&mut self, indices: &[usize], chain: Vec<Slot>) {
        for (&index, slot) in indices.iter().zip(chain) {
            self.nodes[index] = Some(slot);
        }
    }

    fn handle(&mut self, frame: &[u8]) -> Result<(), ()> {
        let mut body = Body::parse(frame).map_err(drop)?;
        match body.tag {
            START => {
                let index = body.uint().map_err(drop)? as usize;
                let id = body.str().map_err(drop)?;
                let source = body.str().map_err(drop)?;
                let filename = body.str().map_err(drop)?;
                let is_class = body.uint().map_err(drop)? == 0;
                let entry = body.str().map_err(drop)?;
                let args = body.value().map_err(drop)?;
                let heartbeat = Duration::from_millis(body.uint().map_err(drop)?);
                body.end().map_err(drop)?;
                if index > self.nodes.len() + 1024 {
                    return Err(());
                }
                let node = if is_class {
                    PythonNode::class(source, entry).with_args(args)
                } else {
                    PythonNode::function(source, entry)
                };
                let mut node = if filename.is_empty() {
                    node
                } else {
                    node.with_filename(filename)
                };
                match node.initialize(&NodeContext::new(id, &Value::Null)) {
                    Ok(()) => {
                        if self.nodes.len() <= index {
                            self.nodes.resize_with(index + 1, || None);
                        }
                        let has_finish = Value::Bool(node.has_finish());
                        self.nodes[index] = Some(Slot {
                            node: Some(node),
                            heartbeat,
                        });
                        self.send(&Frame::new(DONE).uint(1).value(&has_finish).finish())
                    }
                    Err(err) => self.send(&failed(&err)),
                }
            }
            BATCH | FINISH => {
                let members = body.fields.len().map_err(drop)?;
                if members == 0 {
                    return Err(());
                }
                let mut indices = Vec::with_capacity(members.min(64));
                for _ in 0..members {
                    indices.push(body.uint().map_err(drop)? as usize);
                }
                let mut items = Vec::new();
                if body.tag == BATCH {
                    body.values(&mut items).map_err(drop)?;
                }
                body.end().map_err(drop)?;
                let tag = body.tag;
                // The chain's nodes, out of their slots while it runs.
                let mut chain = Vec::with_capacity(indices.len());
                for &index in &indices {
                    match self.nodes.get_mut(index).and_then(Option::take) {
                        Some(slot) => chain.push(slot),
                        None => {
                            self.put_back(&indices, chain);
                            return Err(());
                        }
                    }
                }
                let heartbeat = chain.first().map_or(Duration::MAX, |slot| slot.heartbeat);
                let mut nodes: Vec<PythonNode> = chain.iter_mut().map(Slot::take_node).collect();
                let sink = Sink::new(&mut self.out, &mut self.chunk, heartbeat);
                let mut ends = Ends {
                    sink,
                    ended: 0,
                    items: items.len() as u64,
                };
                let outcome = if tag == BATCH {
                    let origins: Vec<u64> = (0..items.len() as u64).collect();
                    chain::process(&mut nodes, 0, items, &origins, &mut ends)
                } else {
                    chain::finish(&mut nodes, &mut ends)
                };
                crash::set_idle();
                let sent = ends.end(outcome);
                for (slot, node) in chain.iter_mut().zip(nodes) {
                    slot.node = Some(node);
                }
                self.put_back(&indices, chain);
                sent
            }
            CLEANUP => {
                let index = body.uint().map_err(drop)? as usize;
                body.end().map_err(drop)?;
                let Some(mut slot) = self.nodes.get_mut(index).and_then(Option::take) else {
                    return Err(());
                };
                let outcome = slot.node.as_mut().map_or(Ok(()), Node::cleanup);
                drop(slot);
                match outcome {
                    Ok(()) => self.send(&Frame::new(DONE).uint(0).finish()),
                    Err(err) => self.send(&failed(&err)),
                }
            }
            DESCRIBE => {
                let file = body.str().map_err(drop)?;
                let source = body.str().map_err(drop)?;
                body.end().map_err(drop)?;
                match crate::python::script::describe_in_process(file, source) {
                    Ok(described) => {
                        let text = super::script::to_text(&described);
                        self.send(&Frame::new(TEXT).str(&text).finish())
                    }
                    Err(err) => self.send(&failed(&err)),
                }
            }
            SELF_CHECK => {
                body.end().map_err(drop)?;
                let report = self_check_report(self.snapshot.as_ref(), &self.filter);
                self.send(&Frame::new(TEXT).str(&report).finish())
            }
            _ => Err(()),
        }
    }
}

/// The chain's last outputs on their way to the parent, with the ends of the batch's items: an
/// item has ended when an output of a later one comes, or the batch is done.
struct Ends<'a> {
    sink: Sink<'a>,
    ended: u64,
    items: u64,
}

impl Ends<'_> {
    fn end_items_before(&mut self, origin: u64) -> Result<()> {
        while self.ended < origin.min(self.items) {
            self.sink.item_done()?;
            self.ended += 1;
        }
        Ok(())
    }

    /// Ends the call: every item ended and `Done`, or the items before the failing one ended,
    /// then `Failed` naming the node.
    fn end(mut self, outcome: Result<(), ChainFailure>) -> Result<(), ()> {
        match outcome {
            Ok(()) => {
                let ended = self.end_items_before(self.items);
                self.sink.end(ended, 0)
            }
            Err(failure) => {
                let ended = self.end_items_before(failure.origin);
                self.sink.end(ended.and(Err(failure.error)), failure.member)
            }
        }
    }
}

impl OriginSink for Ends<'_> {
    fn output(&mut self, value: Value, origin: u64) -> Result<()> {
        if origin != AFTER_THE_BATCH {
            self.end_items_before(origin)?;
        }
        self.sink.push(value)
    }

    fn ended_before(&mut self, origin: u64) -> Result<()> {
        self.end_items_before(origin)
    }

    fn tick(&mut self) -> Result<()> {
        self.sink.tick()
    }
}

impl Sink<'_> {
    /// Marks where the current item's outputs end and reports progress when the heartbeat is due.
    fn item_done(&mut self) -> Result<()> {
        wire::put_varint(&mut self.ends, self.count as u64);
        self.ends_count += 1;
        self.publish();
        self.tick()
    }
}

/// The monotonic clock at its coarse resolution (a few milliseconds, far below any heartbeat):
/// read for every output and item end, and the precise clock showed in profiles of chains of
/// cheap nodes (~3% of the worker's time).
fn coarse_now() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec to fill; CLOCK_MONOTONIC_COARSE is always available on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// Outputs on their way to the parent, in chunks.
struct Sink<'a> {
    out: &'a mut std::fs::File,
    values: &'a mut Vec<u8>,
    count: usize,
    /// For each item that ended since the last chunk: how many of the chunk's outputs came
    /// before its end (varints, as they go on the wire).
    ends: Vec<u8>,
    ends_count: usize,
    heartbeat: Duration,
    last_sent: Duration,
}

impl<'a> Sink<'a> {
    fn new(out: &'a mut std::fs::File, values: &'a mut Vec<u8>, heartbeat: Duration) -> Self {
        values.clear();
        Sink {
            out,
            values,
            count: 0,
            ends: Vec::new(),
            ends_count: 0,
            heartbeat,
            last_sent: coarse_now(),
        }
    }

    fn push(&mut self, value: Value) -> Result<()> {
        wire::encode(&value, self.values);
        self.count += 1;
        self.publish();
        if self.count >= CHUNK_OUTPUTS || self.values.len() >= CHUNK_BYTES {
            return self.send(OUTPUTS);
        }
        self.tick()
    }

    /// What the crash handler sends if the worker dies before the next chunk.
    fn publish(&self) {
        crash::publish(self.values, self.count, &self.ends, self.ends_count);
    }

    /// Between items (and outputs): a chunk, possibly empty, when the heartbeat is due.
    fn tick(&mut self) -> Result<()> {
        if coarse_now().saturating_sub(self.last_sent) >= self.heartbeat {
            return self.send(OUTPUTS);
        }
        Ok(())
    }

    fn send(&mut self, tag: u8) -> Result<()> {
        crash::clear();
        let mut frame = Frame::new(tag).uint(self.count as u64).0;
        frame.extend_from_slice(self.values);
        wire::put_varint(&mut frame, self.ends_count as u64);
        frame.extend_from_slice(&self.ends);
        self.ends.clear();
        self.ends_count = 0;
        let len = (frame.len() - 4) as u32;
        frame[..4].copy_from_slice(&len.to_le_bytes());
        self.values.clear();
        self.count = 0;
        self.last_sent = coarse_now();
        self.out
            .write_all(&frame)
            .map_err(|e| Error::msg(format_args!("the parent went away: {e}")))
    }

    /// Ends the call: the last outputs and `Done`, or the outputs so far and `Failed` naming the
    /// node at chain position `member`.
    fn end(&mut self, outcome: Result<()>, member: usize) -> Result<(), ()> {
        match outcome {
            Ok(()) => self.send(DONE).map_err(drop),
            Err(err) => {
                // Outputs, or items that ended without any: the parent needs both to name the
                // failing item.
                if self.count > 0 || self.ends_count > 0 {
                    self.send(OUTPUTS).map_err(drop)?;
                }
                self.out.write_all(&failed_in(&err, member)).map_err(drop)
            }
        }
    }
}

/// What the worker saw before confining itself further: its descriptors, environment and working
/// directory.
struct Snapshot {
    fds: Vec<i32>,
    env: Vec<String>,
    cwd: String,
}

impl Snapshot {
    fn take() -> Snapshot {
        let mut fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
            .map(|dir| {
                dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        // The directory listing's own descriptor is closed again by now.
        // SAFETY: fcntl(F_GETFD) only queries.
        fds.retain(|&fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1);
        fds.sort_unstable();
        Snapshot {
            fds,
            env: std::env::vars_os()
                .map(|(k, _)| k.to_string_lossy().into_owned())
                .collect(),
            cwd: std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
        }
    }
}

/// What a denied call returned: `"EPERM"`, `"ok"`, or another errno.
fn outcome(result: libc::c_long) -> String {
    if result >= 0 {
        return "ok".into();
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::EPERM) => "EPERM".into(),
        Some(libc::ENOSYS) => "ENOSYS".into(),
        Some(code) => format!("errno {code}"),
        None => "error".into(),
    }
}

/// The worker's view of its own confinement, as JSON.
fn self_check_report(
    snapshot: Option<&Snapshot>,
    filter: &Result<(), seccomp::Unavailable>,
) -> String {
    // SAFETY: each call below either fails (as the filter should make it) or has no lasting
    // effect: a socket or file that opens is closed, a forked child exits at once.
    let (socket, open, fork, kill_parent, rlimit_as) = unsafe {
        let socket = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        let socket_outcome = outcome(socket as libc::c_long);
        if socket >= 0 {
            libc::close(socket);
        }
        let fd = libc::open(c"/etc/hostname".as_ptr(), libc::O_RDONLY);
        let open_outcome = outcome(fd as libc::c_long);
        if fd >= 0 {
            libc::close(fd);
        }
        let pid = libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_ulong, 0, 0, 0, 0);
        if pid == 0 {
            libc::_exit(0);
        }
        let fork_outcome = outcome(pid);
        if pid > 0 {
            libc::waitpid(pid as libc::pid_t, std::ptr::null_mut(), 0);
        }
        // Signal 0 only checks permission.
        let kill_outcome = outcome(libc::kill(libc::getppid(), 0) as libc::c_long);
        let mut rlim: libc::rlimit = std::mem::zeroed();
        libc::getrlimit(libc::RLIMIT_AS, &mut rlim);
        (
            socket_outcome,
            open_outcome,
            fork_outcome,
            kill_outcome,
            rlim.rlim_cur,
        )
    };
    let rlimit_as = (rlimit_as != libc::RLIM_INFINITY).then_some(rlimit_as >> 20);
    let report = serde_json::json!({
        "fds": snapshot.map(|s| s.fds.clone()),
        "env": snapshot.map(|s| s.env.clone()),
        "cwd": snapshot.map(|s| s.cwd.clone()),
        "seccomp_mode": seccomp::mode(),
        "seccomp_error": filter.as_ref().err(),
        "socket": socket,
        "open": open,
        "fork": fork,
        "kill_parent": kill_parent,
        "memory_limit_mb": rlimit_as,
    });
    report.to_string()
}
