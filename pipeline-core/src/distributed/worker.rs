//! The worker server behind `pipeline worker`: it answers `Describe`, and serves runs one after
//! another.
//!
//! Every connection gets its own thread and starts with the token handshake. A run holds the
//! worker from `Start` to its end: another `Start` meanwhile is refused as busy, and the links
//! of the run's mesh are accepted only from the run's processes (they present its run id). A
//! failed or aborted run leaves the worker ready for the next. The server writes one line to
//! stderr per run and per refused connection, and nothing to stdout.

use super::control::{self, Failure, Message, ReadError, Refusal, StartRun};
use super::mesh::{self, MeshHandle};
use super::options::HEARTBEAT_INTERVAL;
use super::peak_rss::peak_rss_bytes;
use super::run_report::WorkerSummary;
use super::{handshake, ClusterOptions, Job, RunSummary, Secret};
use crate::dynamic::Registry;
use crate::placement::HostInfo;
use crate::{Error, ErrorKind, Result};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use timely::worker::Worker;

/// Default of [`WorkerConfig::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;

/// How long an authenticated connection may wait between requests before `Start` (a client
/// that connected, described the cluster, and is still planning).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// How a worker runs its part of a job: by default [`Job`]'s own; a program that knows more
/// (the CLI: its node registry, for manifests) supplies its own. The summary (its nodes'
/// counters) goes back to the local process with `Done`.
pub type JobRunner = Arc<dyn Fn(&Job, &mut Worker) -> Result<RunSummary> + Send + Sync>;

/// What a worker offers and how it guards itself.
///
/// ```
/// use pipeline_core::distributed::{Secret, WorkerConfig};
/// use pipeline_core::placement::HostInfo;
/// let mut config = WorkerConfig::new(HostInfo::probe(), Secret::from_text("a-token-of-enough-bytes").unwrap());
/// assert_eq!(config.max_connections, 64);
/// let default_runner = config.runner.clone();
/// config.runner = std::sync::Arc::new(move |job, worker| {
///     eprintln!("running {job:?}");
///     default_runner(job, worker)
/// });
/// ```
#[derive(Clone)]
pub struct WorkerConfig {
    /// The host it reports to `Describe` (probed; the CLI's flags override parts of it).
    pub host: HostInfo,
    /// The cluster token.
    pub secret: Secret,
    /// `connect_timeout` bounds the handshake of an incoming connection and the worker's own
    /// mesh links; `max_message_bytes` bounds a control message it reads. A run's other limits
    /// come with the run.
    pub options: ClusterOptions,
    /// Connections served at once (more are refused): a bound on threads and sockets.
    pub max_connections: usize,
    /// Runs the worker's part of each run's job.
    pub runner: JobRunner,
}

impl std::fmt::Debug for WorkerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerConfig")
            .field("host", &self.host)
            .field("options", &self.options)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

impl WorkerConfig {
    /// The default limits.
    pub fn new(host: HostInfo, secret: Secret) -> WorkerConfig {
        WorkerConfig {
            host,
            secret,
            options: ClusterOptions::default(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            runner: Arc::new(|job: &Job, worker: &mut Worker| {
                job.run_on_worker(worker, &Registry::with_builtins())
            }),
        }
    }
}

/// A bound worker, ready to [`serve`](WorkerServer::serve).
///
/// ```
/// use pipeline_core::distributed::{Secret, WorkerConfig, WorkerServer};
/// use pipeline_core::placement::HostInfo;
/// let secret = Secret::from_text("an-example-token-0123456789")?;
/// let server = WorkerServer::bind("127.0.0.1:0", WorkerConfig::new(HostInfo::probe(), secret))?;
/// assert_ne!(server.local_addr().port(), 0);
/// std::thread::spawn(move || server.serve()); // serves until the process ends
/// # Ok::<(), pipeline_core::Error>(())
/// ```
pub struct WorkerServer {
    listener: TcpListener,
    address: SocketAddr,
    state: Arc<State>,
}

struct State {
    config: WorkerConfig,
    connections: AtomicUsize,
    active: Mutex<Option<ActiveRun>>,
}

/// The run this worker serves.
struct ActiveRun {
    run_id: String,
    process: usize,
    /// Lower processes already linked.
    joined: Vec<bool>,
    links: Sender<(usize, TcpStream)>,
}

impl WorkerServer {
    /// Binds the listening socket (port 0: any free port; see [`local_addr`](Self::local_addr)).
    pub fn bind(address: &str, config: WorkerConfig) -> Result<WorkerServer> {
        let listener = TcpListener::bind(address).map_err(|err| {
            Error::new(
                ErrorKind::Cluster,
                format_args!("cannot listen on {address}: {err}"),
            )
        })?;
        let address = listener
            .local_addr()
            .map_err(|err| Error::new(ErrorKind::Cluster, err.to_string()))?;
        Ok(WorkerServer {
            listener,
            address,
            state: Arc::new(State {
                config,
                connections: AtomicUsize::new(0),
                active: Mutex::new(None),
            }),
        })
    }

    /// The address it listens on (with the real port when port 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Serves connections until the listener fails.
    pub fn serve(self) -> Result<()> {
        for stream in self.listener.incoming() {
            let mut stream = match stream {
                Ok(stream) => stream,
                Err(err) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    eprintln!("pipeline worker: accepting a connection failed: {err}");
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
            };
            let limit = self.state.config.max_connections;
            if self.state.connections.fetch_add(1, Ordering::SeqCst) >= limit {
                self.state.connections.fetch_sub(1, Ordering::SeqCst);
                let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
                let _ = handshake::refuse(&mut stream, Refusal::TooManyConnections { limit });
                eprintln!(
                    "pipeline worker: refused a connection from {}: already {limit} connections",
                    peer(&stream)
                );
                continue;
            }
            let state = self.state.clone();
            let spawned = std::thread::Builder::new()
                .name("pipeline:connection".into())
                .spawn(move || {
                    serve_connection(stream, &state);
                    state.connections.fetch_sub(1, Ordering::SeqCst);
                });
            if let Err(err) = spawned {
                self.state.connections.fetch_sub(1, Ordering::SeqCst);
                eprintln!("pipeline worker: cannot start a connection thread: {err}");
            }
        }
        Ok(())
    }
}

fn peer(stream: &TcpStream) -> String {
    stream
        .peer_addr()
        .map_or_else(|_| "an unknown peer".to_string(), |a| a.to_string())
}

fn serve_connection(mut stream: TcpStream, state: &State) {
    let from = peer(&stream);
    let timeout = Some(state.config.options.connect_timeout);
    if stream.set_nodelay(true).is_err()
        || stream.set_read_timeout(timeout).is_err()
        || stream.set_write_timeout(timeout).is_err()
    {
        return;
    }
    if let Err(why) = handshake::accept(&mut stream, &state.config.secret) {
        eprintln!("pipeline worker: refused a connection from {from}: {why}");
        return;
    }
    if stream.set_read_timeout(Some(IDLE_TIMEOUT)).is_err() {
        return;
    }
    loop {
        match control::read_message(&mut stream, state.config.options.max_message_bytes) {
            Ok(Message::Describe) => {
                let host = state.config.host.clone();
                if control::write_message(&mut stream, &Message::Host { host }).is_err() {
                    return;
                }
            }
            Ok(Message::Start(start)) => return serve_run(stream, state, *start, &from),
            Ok(Message::JoinMesh {
                run_id,
                from: index,
            }) => return join_mesh(stream, state, &run_id, index),
            Ok(other) => {
                let got = control::name(&other).to_string();
                let _ = handshake::refuse(&mut stream, Refusal::Unexpected { got });
                return;
            }
            Err(ReadError::Closed) => return,
            Err(err) => {
                eprintln!("pipeline worker: dropped the connection from {from}: {err}");
                return;
            }
        }
    }
}

/// Hands an incoming mesh link to the run it belongs to.
fn join_mesh(mut stream: TcpStream, state: &State, run_id: &str, from: usize) {
    let mut active = state.active.lock().unwrap_or_else(|p| p.into_inner());
    let why = match active.as_mut() {
        None => Some("this worker serves no run".to_string()),
        Some(run) if run.run_id != run_id => Some("it is for another run".to_string()),
        Some(run) if from >= run.process => Some(format!(
            "process {from} does not link to process {} (the lower index connects)",
            run.process
        )),
        Some(run) if run.joined[from] => Some(format!("process {from} is already linked")),
        Some(_) => None,
    };
    if let Some(why) = why {
        let _ = handshake::refuse(&mut stream, Refusal::NotAPeer { why: why.clone() });
        eprintln!(
            "pipeline worker: refused a mesh link from {}: {why}",
            peer(&stream)
        );
        return;
    }
    let run = active.as_mut().expect("checked above");
    let ready = control::write_message(&mut stream, &Message::Joined).is_ok()
        && stream.set_read_timeout(None).is_ok()
        && stream.set_write_timeout(None).is_ok();
    if ready {
        run.joined[from] = true;
        let _ = run.links.send((from, stream));
    }
}

/// Frees the worker for the next run when a run ends, however it ends.
struct ActiveGuard<'a>(&'a State);

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        *self.0.active.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

fn serve_run(mut stream: TcpStream, state: &State, start: StartRun, from: &str) {
    let (links, incoming) = channel();
    {
        let mut active = state.active.lock().unwrap_or_else(|p| p.into_inner());
        if active.is_some() {
            let _ = handshake::refuse(&mut stream, Refusal::Busy);
            eprintln!("pipeline worker: refused a run from {from}: busy with another run");
            return;
        }
        *active = Some(ActiveRun {
            run_id: start.run_id.clone(),
            process: start.process,
            joined: vec![false; start.process.min(start.peers.len() + 1)],
            links,
        });
    }
    let guard = ActiveGuard(state);
    let short_id = &start.run_id[..start.run_id.len().min(8)];
    let processes = start.peers.len() + 1;
    let fail = |stream: &mut TcpStream, error: Error| {
        eprintln!("pipeline worker: run {short_id} failed: {error}");
        let failure = Failure::of(&error, false);
        let _ = control::write_message(stream, &Message::Failed { failure });
    };
    if start.process == 0 || start.process >= processes {
        let error = Error::new(
            ErrorKind::Cluster,
            format_args!(
                "asked to be process {} of a run with {processes} processes",
                start.process
            ),
        );
        return fail(&mut stream, error);
    }
    let options = ClusterOptions {
        connect_timeout: Duration::from_millis(start.connect_timeout_ms.max(1)),
        connect_attempts: start.connect_attempts.max(1),
        worker_timeout: Duration::from_millis(start.worker_timeout_ms.max(1)),
        max_message_bytes: state.config.options.max_message_bytes,
    };
    eprintln!(
        "pipeline worker: run {short_id} from {from}: process {} of {processes}",
        start.process
    );
    if control::write_message(&mut stream, &Message::Prepared).is_err() {
        return;
    }
    let _ = stream.set_read_timeout(Some(options.worker_timeout));
    match control::read_message(&mut stream, options.max_message_bytes) {
        Ok(Message::Connect) => {}
        Ok(Message::Abort { reason }) => {
            eprintln!("pipeline worker: run {short_id} aborted before it started: {reason}");
            return;
        }
        Ok(other) => {
            let got = control::name(&other).to_string();
            let _ = handshake::refuse(&mut stream, Refusal::Unexpected { got });
            return;
        }
        Err(err) => {
            eprintln!("pipeline worker: run {short_id} ended before it started: {err}");
            return;
        }
    }
    let mesh = match mesh::connect_mesh(
        start.process,
        &start.peers,
        &start.run_id,
        &state.config.secret,
        &options,
        Some(&incoming),
        &|| local_gone(&stream),
    ) {
        Ok(mesh) => mesh,
        // The local process is gone: nobody to tell; the run slot is freed now, not after the
        // setup's timeouts (up to connect timeout × (attempts + 1)).
        Err(error) if local_gone(&stream).is_some() => {
            eprintln!("pipeline worker: run {short_id} given up during setup: {error}");
            return;
        }
        Err(error) => return fail(&mut stream, error),
    };
    if control::write_message(&mut stream, &Message::Ready).is_err() {
        return;
    }
    let _ = stream.set_write_timeout(Some(options.worker_timeout));
    let liveness = match Liveness::start(&stream, mesh.handle(), &options) {
        Ok(liveness) => liveness,
        Err(err) => return fail(&mut stream, err),
    };
    let runner = state.config.runner.clone();
    let outcome = mesh::run_on_mesh(mesh, options.connect_timeout, |worker| {
        runner(&start.job, worker)
    });
    liveness.finish();
    let reply = match outcome {
        Ok(summary) => {
            let peak = peak_rss_bytes();
            match peak {
                Some(bytes) => eprintln!(
                    "pipeline worker: run {short_id} done (peak RSS of this worker {:.1} MB)",
                    bytes as f64 / 1e6
                ),
                None => eprintln!("pipeline worker: run {short_id} done"),
            }
            Message::Done(WorkerSummary {
                address: start.peers[start.process - 1].clone(),
                process: start.process,
                peak_rss_bytes: peak,
                node_stats: summary.node_stats,
            })
        }
        Err(_) if liveness.aborted() => {
            eprintln!(
                "pipeline worker: run {short_id} aborted: {}",
                liveness.reason()
            );
            return;
        }
        Err(failure) => {
            eprintln!("pipeline worker: run {short_id} failed: {}", failure.error);
            Message::Failed {
                failure: Failure::of(&failure.error, failure.engine),
            }
        }
    };
    // Free the worker before the local process hears the end: it may start its next run at once.
    drop(guard);
    let _ = liveness.write(&reply);
}

/// Why the local process is taken as gone while this worker sets up a run's links, if it is:
/// its control connection closed or broke. The local process sends nothing during setup, so a
/// look (without reading or waiting) tells: end of stream, an error, or nothing yet.
fn local_gone(stream: &TcpStream) -> Option<String> {
    if let Err(err) = stream.set_nonblocking(true) {
        return Some(format!("its control connection failed ({err})"));
    }
    let mut byte = [0u8; 1];
    let gone = match stream.peek(&mut byte) {
        Ok(0) => Some("the local process closed its control connection".to_string()),
        // A message waits (the local process never sends one during setup, but the run's
        // watcher reads it once the run starts).
        Ok(_) => None,
        Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => None,
        Err(err) if err.kind() == std::io::ErrorKind::Interrupted => None,
        Err(err) => Some(format!("its control connection failed ({err})")),
    };
    if let Err(err) = stream.set_nonblocking(false) {
        return Some(format!("its control connection failed ({err})"));
    }
    gone
}

/// The control connection during a run: heartbeats out every [`HEARTBEAT_INTERVAL`], and a
/// watcher that aborts the run (shuts the mesh down) on `Abort`, on the local process closing
/// the connection, or on its silence for the worker timeout.
struct Liveness {
    writer: Arc<Mutex<TcpStream>>,
    finished: Arc<AtomicBool>,
    aborted: Arc<Mutex<Option<String>>>,
    heartbeat: Option<std::thread::JoinHandle<()>>,
}

impl Liveness {
    fn start(stream: &TcpStream, mesh: MeshHandle, options: &ClusterOptions) -> Result<Liveness> {
        let clone = |s: &TcpStream| {
            s.try_clone()
                .map_err(|err| Error::new(ErrorKind::Cluster, err.to_string()))
        };
        let writer = Arc::new(Mutex::new(clone(stream)?));
        let mut reader = clone(stream)?;
        let finished = Arc::new(AtomicBool::new(false));
        let aborted: Arc<Mutex<Option<String>>> = Arc::default();
        let (timeout, limit) = (options.worker_timeout, options.max_message_bytes);
        let (done, stop) = (finished.clone(), aborted.clone());
        let _ = reader.set_read_timeout(Some(timeout));
        std::thread::Builder::new()
            .name("pipeline:watch-local".into())
            .spawn(move || loop {
                let why = match control::read_message(&mut reader, limit) {
                    Ok(Message::Heartbeat) => continue,
                    Ok(Message::Abort { reason }) => reason,
                    Ok(other) => format!(
                        "unexpected `{}` from the local process",
                        control::name(&other)
                    ),
                    Err(ReadError::TimedOut) => {
                        format!("the local process sent nothing for {timeout:?} (stopped or hung?)")
                    }
                    Err(err) => format!("the local process is gone ({err})"),
                };
                if !done.load(Ordering::SeqCst) {
                    *stop.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
                    mesh.shutdown();
                }
                return;
            })
            .map_err(|err| Error::new(ErrorKind::Cluster, err.to_string()))?;
        let (beat, done) = (writer.clone(), finished.clone());
        let heartbeat = std::thread::Builder::new()
            .name("pipeline:heartbeat".into())
            .spawn(move || {
                while !done.load(Ordering::SeqCst) {
                    let sent = {
                        let mut writer = beat.lock().unwrap_or_else(|p| p.into_inner());
                        control::write_message(&mut *writer, &Message::Heartbeat)
                    };
                    if sent.is_err() {
                        return;
                    }
                    std::thread::park_timeout(HEARTBEAT_INTERVAL);
                }
            })
            .map_err(|err| Error::new(ErrorKind::Cluster, err.to_string()))?;
        Ok(Liveness {
            writer,
            finished,
            aborted,
            heartbeat: Some(heartbeat),
        })
    }

    /// The run's part ended: stop the heartbeats (the watcher then ignores the connection's end).
    fn finish(&self) {
        self.finished.store(true, Ordering::SeqCst);
        if let Some(heartbeat) = &self.heartbeat {
            heartbeat.thread().unpark();
        }
    }

    fn aborted(&self) -> bool {
        self.aborted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    fn reason(&self) -> String {
        self.aborted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_default()
    }

    fn write(mut self, message: &Message) -> std::io::Result<()> {
        if let Some(heartbeat) = self.heartbeat.take() {
            let _ = heartbeat.join();
        }
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        control::write_message(&mut *writer, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::from_text("worker-unit-test-token-0123").unwrap()
    }

    fn options() -> ClusterOptions {
        ClusterOptions {
            connect_timeout: Duration::from_secs(2),
            max_message_bytes: 1024,
            ..ClusterOptions::default()
        }
    }

    fn server(max_connections: usize) -> String {
        let mut config = WorkerConfig::new(HostInfo::probe(), secret());
        config.options = options();
        config.max_connections = max_connections;
        let server = WorkerServer::bind("127.0.0.1:0", config).unwrap();
        let address = server.local_addr().to_string();
        std::thread::spawn(move || server.serve());
        address
    }

    #[test]
    fn a_mesh_link_for_no_run_of_this_worker_is_refused() {
        let address = server(4);
        let mut stream = handshake::connect(&address, &secret(), &options()).unwrap();
        let join = Message::JoinMesh {
            run_id: "feedface".into(),
            from: 0,
        };
        control::write_message(&mut stream, &join).unwrap();
        match control::read_message(&mut stream, 4096) {
            Ok(Message::Refused {
                refusal: Refusal::NotAPeer { why },
            }) => assert_eq!(why, "this worker serves no run"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn connections_over_the_limit_are_refused() {
        let address = server(1);
        // Holds the only slot: it never answers the challenge.
        let mut first = TcpStream::connect(&address).unwrap();
        assert!(matches!(
            control::read_message(&mut first, 4096),
            Ok(Message::Challenge { .. })
        ));
        let mut second = TcpStream::connect(&address).unwrap();
        match control::read_message(&mut second, 4096) {
            Ok(Message::Refused { refusal }) => {
                assert_eq!(refusal, Refusal::TooManyConnections { limit: 1 });
                assert!(refusal
                    .to_error(&address)
                    .to_string()
                    .contains("already has 1 connections (its --max-connections)"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_control_message_over_the_limit_ends_the_connection() {
        let address = server(4);
        let mut stream = handshake::connect(&address, &secret(), &options()).unwrap();
        std::io::Write::write_all(&mut stream, &4096u32.to_be_bytes()).unwrap();
        assert!(matches!(
            control::read_message(&mut stream, 4096),
            Err(ReadError::Closed)
        ));
    }
}
