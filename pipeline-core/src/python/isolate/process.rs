//! The parent's handle on one worker process: spawning it confined, exchanging frames with a
//! deadline, forwarding its stderr, and saying why it died.

use super::limits::Limits;
use super::protocol::{Reply, MAX_FRAME};
use super::IsolationConfig;
use crate::error::{Error, ErrorKind, Result};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How much of the worker's stderr is kept to diagnose its death.
const STDERR_TAIL: usize = 8 << 10;
/// How long a worker that closed its pipe, or was asked to stop, gets to exit before SIGKILL.
const EXIT_GRACE: Duration = Duration::from_secs(2);
/// How long a worker may take to start its interpreter and report ready.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// What Rust's allocation-failure handler prints before it aborts.
const ALLOCATION_FAILED: &str = "memory allocation of ";

/// Why no reply came.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The deadline passed.
    Timeout,
    /// The worker closed its end (it exited or crashed).
    Closed,
    /// The worker sent something that is not a valid reply.
    Invalid(String),
    /// Its stage gave up on the call the worker is answering (a later node failed).
    Abandoned,
}

/// How the process ended, from `wait4`.
#[derive(Debug, Clone, Copy)]
struct Exit {
    status: libc::c_int,
    cpu: Duration,
}

/// A running worker process.
pub(crate) struct Worker {
    child: Child,
    exit: Option<Exit>,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    buffer: Vec<u8>,
    start: usize,
    stderr: Option<JoinHandle<()>>,
    tail: Arc<Mutex<Vec<u8>>>,
    scratch: Option<PathBuf>,
    limits: Limits,
    /// Why the worker stopped, once it has: later calls fail with this.
    dead: Option<String>,
    next_index: u64,
    /// Outputs read from the pipe after the worker died (its last chunk, flushed by its signal
    /// handler), not yet taken.
    salvaged: Vec<crate::value::Value>,
    /// The item ends of the salvaged outputs (counts of outputs from `salvaged`'s start).
    salvaged_ends: Vec<u64>,
    /// The chain position of the node the worker ran when it died, if it said.
    salvaged_running: Option<u64>,
}

impl Worker {
    /// Starts `config`'s worker command with `extra_args`, confined by `limits`: an empty
    /// environment, a fresh scratch directory, only its three pipes, the rlimits, no new
    /// privileges, and SIGKILL when the spawning thread goes away.
    pub(crate) fn spawn(
        config: &IsolationConfig,
        limits: Limits,
        extra_args: &[&str],
    ) -> Result<Worker> {
        let scratch = scratch_dir().map_err(|e| {
            Error::new(
                ErrorKind::Initialize,
                format_args!("cannot create a scratch directory for the Python worker: {e}"),
            )
        })?;
        let mut command = Command::new(&config.program);
        command
            .args(&config.args)
            .args(extra_args)
            .env_clear()
            .current_dir(&scratch)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: getpid has no preconditions.
        let parent = unsafe { libc::getpid() };
        let (memory_mb, cpu_seconds) = limits.process();
        // SAFETY: the closure only makes async-signal-safe system calls (prctl, getppid,
        // setrlimit) and allocates nothing.
        unsafe {
            command.pre_exec(move || confine(parent, memory_mb, cpu_seconds));
        }
        let mut child = command.spawn().map_err(|e| {
            let _ = std::fs::remove_dir(&scratch);
            Error::new(
                ErrorKind::Initialize,
                format_args!(
                    "cannot start the Python worker `{}`: {e}",
                    config.program.display()
                ),
            )
        })?;
        let (stdin, stdout, stderr) = (
            child.stdin.take().expect("piped"),
            child.stdout.take().expect("piped"),
            child.stderr.take().expect("piped"),
        );
        let tail = Arc::new(Mutex::new(Vec::new()));
        let forward = std::thread::Builder::new()
            .name("python-worker-stderr".into())
            .spawn({
                let tail = Arc::clone(&tail);
                move || forward_stderr(stderr, &tail)
            })
            .ok();
        let mut worker = Worker {
            child,
            exit: None,
            stdin: Some(stdin),
            stdout,
            buffer: Vec::new(),
            start: 0,
            stderr: forward,
            tail,
            scratch: Some(scratch),
            limits,
            dead: None,
            next_index: 0,
            salvaged: Vec::new(),
            salvaged_ends: Vec::new(),
            salvaged_running: None,
        };
        match worker.receive(Some(Instant::now() + STARTUP_TIMEOUT)) {
            Ok(Reply::Done(values, _)) if values.is_empty() => Ok(worker),
            Ok(_) => Err(Error::new(
                ErrorKind::Initialize,
                "the Python worker did not start: unexpected first reply",
            )),
            Err(Stop::Timeout) => {
                worker.fail(Stop::Timeout, 0);
                Err(Error::new(
                    ErrorKind::Initialize,
                    format_args!(
                        "the Python worker did not start within {} s",
                        STARTUP_TIMEOUT.as_secs()
                    ),
                ))
            }
            Err(stop) => {
                let why = worker.fail(stop, 0);
                Err(Error::new(
                    ErrorKind::Initialize,
                    format_args!("the Python worker did not start: {}", why.message()),
                ))
            }
        }
    }

    /// A fresh node index.
    pub(crate) fn next_index(&mut self) -> u64 {
        self.next_index += 1;
        self.next_index - 1
    }

    /// Why the worker is unusable, if it is.
    pub(crate) fn dead(&self) -> Option<&str> {
        self.dead.as_deref()
    }

    /// Writes a request frame.
    pub(crate) fn send(&mut self, frame: &[u8]) -> Result<(), Stop> {
        let stdin = self.stdin.as_mut().ok_or(Stop::Closed)?;
        stdin.write_all(frame).map_err(|_| Stop::Closed)
    }

    /// Reads the next reply, waiting at most until `deadline`.
    pub(crate) fn receive(&mut self, deadline: Option<Instant>) -> Result<Reply, Stop> {
        loop {
            let available = &self.buffer[self.start..];
            if available.len() >= 4 {
                let len = u32::from_le_bytes(available[..4].try_into().expect("4 bytes")) as usize;
                if len > MAX_FRAME {
                    return Err(Stop::Invalid(format!("a frame of {len} bytes")));
                }
                if available.len() >= 4 + len {
                    let reply = Reply::parse(&available[4..4 + len])
                        .map_err(|e| Stop::Invalid(e.to_string()));
                    self.start += 4 + len;
                    if self.start == self.buffer.len() {
                        self.buffer.clear();
                        self.start = 0;
                    }
                    // A dying worker's last word: kept for naming the node, not a reply.
                    if let Ok(Reply::Running(member)) = reply {
                        self.salvaged_running = Some(member);
                        continue;
                    }
                    return reply;
                }
            }
            if self.start > 0 {
                self.buffer.drain(..self.start);
                self.start = 0;
            }
            self.wait_readable(deadline)?;
            let filled = self.buffer.len();
            self.buffer.resize(filled + (64 << 10), 0);
            let read = self.stdout.read(&mut self.buffer[filled..]);
            match read {
                Ok(0) => {
                    self.buffer.truncate(filled);
                    return Err(Stop::Closed);
                }
                Ok(n) => self.buffer.truncate(filled + n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                    self.buffer.truncate(filled)
                }
                Err(_) => {
                    self.buffer.truncate(filled);
                    return Err(Stop::Closed);
                }
            }
        }
    }

    /// Waits until stdout has data (or is closed), or the deadline passes.
    fn wait_readable(&self, deadline: Option<Instant>) -> Result<(), Stop> {
        loop {
            let timeout = match deadline {
                None => -1,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Stop::Timeout);
                    }
                    left.as_millis().clamp(1, i32::MAX as u128) as i32
                }
            };
            let mut fd = libc::pollfd {
                fd: self.stdout.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            match unsafe { libc::poll(&mut fd, 1, timeout) } {
                0 => continue, // the loop re-checks the deadline
                n if n > 0 => return Ok(()),
                _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
                _ => return Err(Stop::Closed),
            }
        }
    }

    /// Ends the worker after `stop` and says why, naming the limit that was hit; the worker is
    /// unusable afterwards.
    pub(crate) fn fail(&mut self, stop: Stop, item_timeout_ms: u64) -> Error {
        let reason = match stop {
            Stop::Timeout => {
                // SIGTERM first: the worker's handler writes the outputs it holds, then dies.
                // SAFETY: signalling our own child, not yet reaped.
                unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
                self.reap(Duration::from_millis(500));
                self.salvage();
                self.join_stderr();
                format!(
                    "the Python worker was killed: an item took longer than {item_timeout_ms} ms (limits.item_timeout_ms)"
                )
            }
            Stop::Invalid(what) => {
                self.kill();
                format!("the Python worker sent an invalid reply ({what}) and was killed")
            }
            Stop::Abandoned => {
                self.kill();
                "the Python worker was stopped after a later node failed".to_string()
            }
            Stop::Closed => {
                self.reap(EXIT_GRACE);
                self.salvage();
                self.join_stderr();
                self.death()
            }
        };
        self.dead = Some(reason.clone());
        Error::new(ErrorKind::Node, reason)
    }

    /// Reads the outputs the dead worker left in the pipe.
    fn salvage(&mut self) {
        let deadline = Instant::now() + Duration::from_millis(200);
        while let Ok(reply) = self.receive(Some(deadline)) {
            match reply {
                Reply::Outputs(mut values, ends) | Reply::Done(mut values, ends) => {
                    let before = self.salvaged.len() as u64;
                    self.salvaged_ends
                        .extend(ends.iter().map(|end| before + end));
                    self.salvaged.append(&mut values);
                }
                Reply::Running(member) => self.salvaged_running = Some(member),
                Reply::Failed(..) | Reply::Text(_) => {}
            }
        }
    }

    /// The outputs the worker sent just before it died, with their item ends.
    pub(crate) fn take_salvaged(&mut self) -> (Vec<crate::value::Value>, Vec<u64>) {
        (
            std::mem::take(&mut self.salvaged),
            std::mem::take(&mut self.salvaged_ends),
        )
    }

    /// The chain position of the node the worker was running when it died, if it said.
    pub(crate) fn running_when_it_died(&self) -> Option<u64> {
        self.salvaged_running
    }

    /// What the exit status and the stderr tail say about how the worker ended.
    fn death(&self) -> String {
        let Some(exit) = self.exit else {
            return "the Python worker closed its pipe".into();
        };
        let tail = self.tail.lock().map(|t| t.clone()).unwrap_or_default();
        let tail = String::from_utf8_lossy(&tail);
        let Limits {
            memory_mb,
            cpu_seconds,
            ..
        } = self.limits;
        if tail.contains(ALLOCATION_FAILED) {
            return format!(
                "the Python worker was killed: memory limit of {memory_mb} MiB reached (limits.memory_mb)"
            );
        }
        let status = exit.status;
        if libc::WIFSIGNALED(status) {
            let signal = libc::WTERMSIG(status);
            let cpu_spent = cpu_seconds > 0 && exit.cpu >= Duration::from_secs(cpu_seconds);
            if signal == libc::SIGXCPU || (signal == libc::SIGKILL && cpu_spent) {
                return format!(
                    "the Python worker was killed: CPU time limit of {cpu_seconds} s reached (limits.cpu_seconds)"
                );
            }
            return format!("the Python worker crashed ({})", signal_name(signal));
        }
        format!(
            "the Python worker exited unexpectedly (status {})",
            libc::WEXITSTATUS(status)
        )
    }

    /// SIGKILL and reap.
    fn kill(&mut self) {
        if self.exit.is_none() {
            let _ = self.child.kill();
            self.reap(Duration::MAX);
        }
        self.join_stderr();
    }

    /// Waits up to `grace` for the worker to exit, then kills it; records how it ended.
    fn reap(&mut self, grace: Duration) {
        if self.exit.is_some() {
            return;
        }
        let started = Instant::now();
        let pid = self.child.id() as libc::pid_t;
        loop {
            let blocking = grace == Duration::MAX;
            let mut status = 0;
            // SAFETY: a zeroed rusage is a valid out-parameter.
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            let flags = if blocking { 0 } else { libc::WNOHANG };
            // SAFETY: waits for our own child, with valid out-pointers.
            let reaped = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
            if reaped == pid {
                let time = |t: libc::timeval| {
                    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
                };
                self.exit = Some(Exit {
                    status,
                    cpu: time(usage.ru_utime) + time(usage.ru_stime),
                });
                return;
            }
            if reaped < 0
                && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
            {
                // Not our child any more (cannot happen): nothing to record.
                self.exit = Some(Exit {
                    status: 0,
                    cpu: Duration::ZERO,
                });
                return;
            }
            if !blocking && started.elapsed() >= grace {
                let _ = self.child.kill();
                self.reap(Duration::MAX);
                return;
            }
            if !blocking {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }

    /// Waits (boundedly) for the stderr forwarder to see the end of the worker's stderr.
    fn join_stderr(&mut self) {
        let Some(handle) = self.stderr.take() else {
            return;
        };
        let started = Instant::now();
        while !handle.is_finished() && started.elapsed() < Duration::from_secs(1) {
            std::thread::sleep(Duration::from_millis(2));
        }
        if handle.is_finished() {
            let _ = handle.join();
        }
    }
}

impl Drop for Worker {
    /// Closes the worker's stdin (it exits when it reads the end), reaps it, removes its scratch
    /// directory.
    fn drop(&mut self) {
        self.stdin = None;
        self.reap(EXIT_GRACE);
        self.join_stderr();
        if let Some(scratch) = self.scratch.take() {
            let _ = std::fs::remove_dir_all(scratch);
        }
    }
}

/// Runs in the child between fork and exec: only async-signal-safe calls.
fn confine(parent: libc::pid_t, memory_mb: u64, cpu_seconds: u64) -> std::io::Result<()> {
    let check = |r: libc::c_int| {
        if r == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    };
    let limit = |resource, soft: u64, hard: u64| {
        let rlim = libc::rlimit {
            rlim_cur: soft as libc::rlim_t,
            rlim_max: hard as libc::rlim_t,
        };
        // SAFETY: a valid rlimit for our own process.
        check(unsafe { libc::setrlimit(resource, &rlim) })
    };
    // SAFETY: plain prctl/getppid calls.
    unsafe {
        check(libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        ))?;
        if libc::getppid() != parent {
            // The parent died before the death signal was armed.
            libc::_exit(1);
        }
        check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))?;
    }
    if memory_mb > 0 {
        let bytes = memory_mb.saturating_mul(1 << 20);
        limit(libc::RLIMIT_AS, bytes, bytes)?;
    }
    if cpu_seconds > 0 {
        // The soft limit sends SIGXCPU (fatal: the worker does not handle it), the hard one a
        // second later SIGKILL.
        limit(libc::RLIMIT_CPU, cpu_seconds, cpu_seconds + 1)?;
    }
    limit(libc::RLIMIT_FSIZE, 0, 0)?;
    limit(libc::RLIMIT_CORE, 0, 0)?;
    Ok(())
}

/// A fresh private directory under the temporary directory.
fn scratch_dir() -> std::io::Result<PathBuf> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let base = std::env::temp_dir();
    loop {
        let dir = base.join(format!(
            "pipeline-python-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let mut builder = std::fs::DirBuilder::new();
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        match builder.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Copies the worker's stderr to ours line by line (so lines of different workers do not
/// interleave mid-line), keeping the last [`STDERR_TAIL`] bytes.
fn forward_stderr(stderr: std::process::ChildStderr, tail: &Mutex<Vec<u8>>) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut reader).take(64 << 10).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if line.last() != Some(&b'\n') {
            line.push(b'\n');
        }
        let _ = std::io::stderr().lock().write_all(&line);
        if let Ok(mut tail) = tail.lock() {
            tail.extend_from_slice(&line);
            if tail.len() > STDERR_TAIL {
                let excess = tail.len() - STDERR_TAIL;
                tail.drain(..excess);
            }
        }
    }
}

fn signal_name(signal: libc::c_int) -> String {
    let name = match signal {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGSYS => "SIGSYS",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGINT => "SIGINT",
        libc::SIGPIPE => "SIGPIPE",
        _ => return format!("signal {signal}"),
    };
    name.to_string()
}
