//! The local process's side: connect to the workers, describe them, run a job across them, and
//! supervise the run until it completes or fails.

use super::control::{self, Message, ReadError, StartRun};
use super::mesh::{self, MeshHandle, PartFailure};
use super::options::HEARTBEAT_INTERVAL;
use super::token::{hex, random_bytes};
use super::{
    handshake, ClusterOptions, ClusterRun, HostsFile, Job, NodeFigures, ProcessFailure, Secret,
    WorkerSummary,
};
use crate::placement::HostInfo;
use crate::{Error, ErrorKind, Result};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use timely::worker::Worker;

/// How long a failure of the engine (a broken link) waits for a more telling one (a worker
/// lost, a node's error) before it is reported as it is.
const ENGINE_GRACE: Duration = Duration::from_secs(1);

/// Authenticated control connections to every worker of a hosts file; see [`connect`].
///
/// ```
/// use pipeline_core::distributed::*;
/// use pipeline_core::placement::HostInfo;
/// let secret = Secret::from_text("an-example-token-0123456789")?;
/// // Two workers in this process, on free loopback ports (usually `pipeline worker`s).
/// let mut addresses = Vec::new();
/// for _ in 0..2 {
///     let server = WorkerServer::bind("127.0.0.1:0", WorkerConfig::new(HostInfo::probe(), secret.clone()))?;
///     addresses.push(server.local_addr().to_string());
///     std::thread::spawn(move || server.serve());
/// }
/// let hosts = HostsFile::from_addresses(&addresses)?;
/// let mut cluster = connect(&hosts, &secret, &ClusterOptions::default())?;
/// assert_eq!(cluster.workers(), addresses);
/// assert_eq!(cluster.describe()?.len(), 2);
/// let job = ExchangeSum { rounds: 3, per_round: 10, delay_ms: 0, fail_on: None };
/// let sum = cluster.run(&Job::ExchangeSum(job.clone()), |worker| job.run(worker))?;
/// assert_eq!(sum, job.expected(3));
/// # Ok::<(), pipeline_core::Error>(())
/// ```
pub struct Cluster {
    workers: Vec<Connection>,
    secret: Secret,
    options: ClusterOptions,
}

struct Connection {
    address: String,
    stream: TcpStream,
}

/// Connects to every worker of `hosts` at once (so timeouts do not add up) and proves the token
/// both ways. Fails naming the first worker (in the hosts file's order) that cannot be reached,
/// does not answer in time, or refuses the token.
///
/// ```no_run
/// use pipeline_core::distributed::{connect, ClusterOptions, HostsFile, Secret};
/// let hosts = HostsFile::parse("127.0.0.1:7001\n127.0.0.1:7002\n", "hosts")?;
/// let mut cluster = connect(&hosts, &Secret::load(None)?, &ClusterOptions::default())?;
/// for (address, host) in cluster.describe()? {
///     println!("{address}: {} cores", host.cores);
/// }
/// # Ok::<(), pipeline_core::Error>(())
/// ```
pub fn connect(hosts: &HostsFile, secret: &Secret, options: &ClusterOptions) -> Result<Cluster> {
    let attempts: Vec<_> = hosts
        .workers()
        .iter()
        .map(|address| {
            let (address, secret, options) = (address.clone(), secret.clone(), options.clone());
            std::thread::spawn(move || handshake::connect(&address, &secret, &options))
        })
        .collect();
    let mut workers = Vec::new();
    let mut first_error = None;
    for (address, attempt) in hosts.workers().iter().zip(attempts) {
        let outcome = attempt.join().unwrap_or_else(|_| {
            Err(Error::new(
                ErrorKind::Cluster,
                "a connecting thread panicked",
            ))
        });
        match outcome {
            Ok(stream) => workers.push(Connection {
                address: address.clone(),
                stream,
            }),
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    match first_error {
        Some(err) => Err(err),
        None => Ok(Cluster {
            workers,
            secret: secret.clone(),
            options: options.clone(),
        }),
    }
}

fn cluster_error(message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Cluster, message)
}

impl Cluster {
    /// The workers' addresses; worker `i` is process `i + 1`.
    pub fn workers(&self) -> Vec<&str> {
        self.workers.iter().map(|w| w.address.as_str()).collect()
    }

    /// Each worker's address and host (cores, memory, GPUs), in the hosts file's order.
    pub fn describe(&mut self) -> Result<Vec<(String, HostInfo)>> {
        let limit = self.options.max_message_bytes;
        self.workers
            .iter_mut()
            .map(|worker| {
                let address = worker.address.clone();
                control::write_message(&mut worker.stream, &Message::Describe)
                    .map_err(|err| cluster_error(format_args!("worker {address}: {err}")))?;
                match control::read_message(&mut worker.stream, limit) {
                    Ok(Message::Host { host }) => Ok((address, host)),
                    Ok(other) => Err(unexpected(&address, &other)),
                    Err(err) => Err(cluster_error(format_args!(
                        "worker {address} did not describe itself: {err}"
                    ))),
                }
            })
            .collect()
    }

    /// Runs `job` across the cluster: this process is process 0 and runs `local` on its timely
    /// worker (on the calling thread, so `local` may borrow the input and the outputs); every
    /// worker runs its part of `job`. Returns `local`'s result once every process has completed.
    ///
    /// Fails (fail-stop: nothing is retried) when a worker is busy, a link cannot be made, a
    /// worker reports an error (`node <id> on <host:port>: <message>`), a worker is lost (its
    /// connection closes: within moments of a `kill -9`) or sends nothing for the worker
    /// timeout, or `local` fails. The other processes are then told to abort, and this process's
    /// timely worker is stopped by shutting its links down.
    pub fn run<T>(self, job: &Job, local: impl FnOnce(&mut Worker) -> Result<T>) -> Result<T> {
        self.run_with_summaries(job, local).map(|run| run.local)
    }

    /// [`run`](Self::run), returning what each worker reported with its `Done` besides `local`'s
    /// result: its peak memory and, for a manifest job with `stats`, its nodes' counters.
    ///
    /// ```
    /// use pipeline_core::distributed::*;
    /// use pipeline_core::placement::HostInfo;
    /// let secret = Secret::from_text("an-example-token-0123456789")?;
    /// let server = WorkerServer::bind("127.0.0.1:0", WorkerConfig::new(HostInfo::probe(), secret.clone()))?;
    /// let hosts = HostsFile::from_addresses([server.local_addr().to_string()])?;
    /// std::thread::spawn(move || server.serve());
    /// let cluster = connect(&hosts, &secret, &ClusterOptions::default())?;
    /// let job = ExchangeSum { rounds: 2, per_round: 10, delay_ms: 0, fail_on: None };
    /// let run = cluster.run_with_summaries(&Job::ExchangeSum(job.clone()), |worker| job.run(worker))?;
    /// assert_eq!(run.local, job.expected(2));
    /// assert_eq!((run.workers[0].process, run.workers[0].address.as_str()), (1, hosts.workers()[0].as_str()));
    /// # Ok::<(), pipeline_core::Error>(())
    /// ```
    pub fn run_with_summaries<T>(
        self,
        job: &Job,
        local: impl FnOnce(&mut Worker) -> Result<T>,
    ) -> Result<ClusterRun<T>> {
        let Cluster {
            mut workers,
            secret,
            options,
        } = self;
        let (run_id, peers) = start_on_workers(&mut workers, job, &options)?;
        // This process's own links first: when one cannot be made, that is the clearest report
        // (dropping the connections then tells every worker to give the run up).
        let mesh = mesh::connect_mesh(0, &peers, &run_id, &secret, &options, None, &|| None)?;
        let mesh_wait = options.connect_timeout * (options.connect_attempts + 2);
        for worker in &mut workers {
            let _ = worker.stream.set_read_timeout(Some(mesh_wait));
            expect(worker, options.max_message_bytes, "ready", |m| {
                matches!(m, Message::Ready)
            })?;
        }
        let supervisor = Supervisor::start(workers, mesh.handle(), &options)?;
        let outcome = mesh::run_on_mesh(mesh, options.connect_timeout, local);
        let local_result = match outcome {
            Ok(value) => {
                supervisor.events.send(Event::LocalDone).ok();
                Ok(value)
            }
            Err(failure) => {
                let event = Event::LocalFailed {
                    engine: failure.engine,
                    message: failure.error.to_string(),
                };
                supervisor.events.send(event).ok();
                Err(failure)
            }
        };
        match (supervisor.finish(), local_result) {
            (Err(Verdict::Remote(error)), _) => Err(error),
            (_, Err(PartFailure { error, .. })) => Err(name_the_worker(error, &peers)),
            (Ok(workers), Ok(local)) => Ok(ClusterRun { local, workers }),
            (Err(Verdict::Local(message)), Ok(_)) => Err(cluster_error(message)),
        }
    }

    /// Starts `job` on every worker as [`run`](Self::run) does, up to telling them to link up,
    /// then closes every connection without linking, as a local process that dies there would:
    /// for tests of how workers recover.
    #[doc(hidden)]
    pub fn abandon_during_setup(self, job: &Job) -> Result<()> {
        let Cluster {
            mut workers,
            options,
            ..
        } = self;
        start_on_workers(&mut workers, job, &options)?;
        for worker in &workers {
            let _ = worker.stream.shutdown(Shutdown::Both);
        }
        Ok(())
    }
}

/// Sends `Start` to every worker, waits for each to be prepared and tells them to link up;
/// returns the run id and the workers' addresses.
fn start_on_workers(
    workers: &mut [Connection],
    job: &Job,
    options: &ClusterOptions,
) -> Result<(String, Vec<String>)> {
    let run_id = hex(&random_bytes::<16>()?);
    let peers: Vec<String> = workers.iter().map(|w| w.address.clone()).collect();
    let setup_timeout = Some(options.connect_timeout);
    for (index, worker) in workers.iter_mut().enumerate() {
        let start = StartRun {
            run_id: run_id.clone(),
            process: index + 1,
            peers: peers.clone(),
            connect_timeout_ms: millis(options.connect_timeout),
            connect_attempts: options.connect_attempts,
            worker_timeout_ms: millis(options.worker_timeout),
            job: job.clone(),
        };
        let _ = worker.stream.set_read_timeout(setup_timeout);
        send(worker, &Message::Start(Box::new(start)))?;
    }
    for worker in workers.iter_mut() {
        expect(worker, options.max_message_bytes, "prepared", |m| {
            matches!(m, Message::Prepared)
        })?;
    }
    for worker in workers.iter_mut() {
        send(worker, &Message::Connect)?;
    }
    Ok((run_id, peers))
}

/// A worker's failure that reached this process through the dataflow (as a [`ProcessFailure`],
/// often before the worker's own `Failed` message) is reported like that message:
/// `node <id> on <host:port>: <message>`, naming the worker rather than its process index.
fn name_the_worker(error: Error, peers: &[String]) -> Error {
    let relayed = error
        .source_error()
        .and_then(|source| source.downcast_ref::<ProcessFailure>());
    let Some(failure) = relayed else {
        return error;
    };
    let Some(address) = failure.process.checked_sub(1).and_then(|i| peers.get(i)) else {
        return error;
    };
    let named = Error::new(error.kind(), &failure.message).on_host(address);
    match &failure.node {
        Some(node) => named.in_node(node),
        None => Error::new(
            error.kind(),
            format_args!("worker {address}: {}", failure.message),
        )
        .on_host(address),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn unexpected(address: &str, message: &Message) -> Error {
    match message {
        Message::Refused { refusal } => refusal.to_error(address),
        Message::Failed { failure } => failure.to_error(address),
        other => cluster_error(format_args!(
            "worker {address} answered `{}` out of turn",
            control::name(other)
        )),
    }
}

fn send(worker: &mut Connection, message: &Message) -> Result<()> {
    control::write_message(&mut worker.stream, message).map_err(|err| {
        cluster_error(format_args!(
            "worker {}: the connection failed: {err}",
            worker.address
        ))
    })
}

fn expect(
    worker: &mut Connection,
    limit: usize,
    what: &str,
    wanted: impl Fn(&Message) -> bool,
) -> Result<()> {
    match control::read_message(&mut worker.stream, limit) {
        Ok(message) if wanted(&message) => Ok(()),
        Ok(other) => Err(unexpected(&worker.address, &other)),
        Err(err) => Err(cluster_error(format_args!(
            "worker {} did not answer `{what}`: {err}",
            worker.address
        ))),
    }
}

/// What the supervisor learns.
enum Event {
    /// Anything from worker `i` (0-based here): it is alive.
    Heard(usize, Message),
    /// Worker `i`'s connection failed, closed, or fell silent.
    Lost(usize, ReadError),
    /// This process's part completed.
    LocalDone,
    /// This process's part failed.
    LocalFailed {
        /// The engine's failure (a broken link), not the part's own.
        engine: bool,
        message: String,
    },
}

/// Why a run failed.
enum Verdict {
    /// Another process's failure (this error names it).
    Remote(Error),
    /// This process's own part failed (its error is the run's).
    Local(String),
}

/// Watches a run from a thread of its own: reads every worker's control connection, sends
/// this process's heartbeats, and on the first failure tells the workers to abort and shuts
/// this process's links down. Its verdict is the run's error, the most telling one: a node's
/// error or a lost worker before a broken link (which a lost worker causes everywhere).
struct Supervisor {
    events: Sender<Event>,
    verdict: std::thread::JoinHandle<std::result::Result<Vec<WorkerSummary>, Verdict>>,
    stop: Arc<AtomicBool>,
    heartbeat: std::thread::JoinHandle<()>,
    streams: Vec<TcpStream>,
}

impl Supervisor {
    fn start(
        workers: Vec<Connection>,
        mesh: MeshHandle,
        options: &ClusterOptions,
    ) -> Result<Supervisor> {
        let (events, inbox) = channel();
        let io = |err: std::io::Error| cluster_error(format_args!("a control connection: {err}"));
        let mut writers = Vec::new();
        let mut streams = Vec::new();
        for (index, worker) in workers.iter().enumerate() {
            let mut reader = worker.stream.try_clone().map_err(io)?;
            reader
                .set_read_timeout(Some(options.worker_timeout))
                .map_err(io)?;
            worker
                .stream
                .set_write_timeout(Some(options.connect_timeout))
                .map_err(io)?;
            writers.push(Mutex::new(worker.stream.try_clone().map_err(io)?));
            streams.push(worker.stream.try_clone().map_err(io)?);
            let (events, limit) = (events.clone(), options.max_message_bytes);
            std::thread::Builder::new()
                .name(format!("pipeline:watch-{}", index + 1))
                .spawn(move || loop {
                    match control::read_message(&mut reader, limit) {
                        Ok(message) => {
                            let last = matches!(message, Message::Done(_) | Message::Failed { .. });
                            if events.send(Event::Heard(index, message)).is_err() || last {
                                return;
                            }
                        }
                        Err(err) => {
                            let _ = events.send(Event::Lost(index, err));
                            return;
                        }
                    }
                })
                .map_err(io)?;
        }
        let writers = Arc::new(writers);
        let stop = Arc::new(AtomicBool::new(false));
        let (beat, stopped) = (writers.clone(), stop.clone());
        let heartbeat = std::thread::Builder::new()
            .name("pipeline:heartbeat".into())
            .spawn(move || {
                while !stopped.load(Ordering::SeqCst) {
                    for writer in beat.iter() {
                        let mut writer = writer.lock().unwrap_or_else(|p| p.into_inner());
                        let _ = control::write_message(&mut *writer, &Message::Heartbeat);
                    }
                    std::thread::park_timeout(HEARTBEAT_INTERVAL);
                }
            })
            .map_err(io)?;
        let addresses: Vec<String> = workers.iter().map(|w| w.address.clone()).collect();
        let timeout = options.worker_timeout;
        let verdict = std::thread::Builder::new()
            .name("pipeline:supervisor".into())
            .spawn(move || {
                let verdict = judge(&inbox, &addresses, timeout);
                if let Err(failure) = &verdict {
                    let reason = match failure {
                        Verdict::Remote(error) => error.to_string(),
                        Verdict::Local(message) => format!("the local process failed: {message}"),
                    };
                    for writer in writers.iter() {
                        let mut writer = writer.lock().unwrap_or_else(|p| p.into_inner());
                        let abort = Message::Abort {
                            reason: reason.clone(),
                        };
                        let _ = control::write_message(&mut *writer, &abort);
                    }
                    mesh.shutdown();
                }
                verdict
            })
            .map_err(io)?;
        drop(workers);
        Ok(Supervisor {
            events,
            verdict,
            stop,
            heartbeat,
            streams,
        })
    }

    /// Waits for the verdict (every worker's summary when the run completed), then stops the
    /// heartbeats and closes the control connections.
    fn finish(self) -> std::result::Result<Vec<WorkerSummary>, Verdict> {
        let verdict = self.verdict.join().unwrap_or_else(|_| {
            Err(Verdict::Remote(cluster_error(
                "the run's supervisor panicked",
            )))
        });
        self.stop.store(true, Ordering::SeqCst);
        self.heartbeat.thread().unpark();
        let _ = self.heartbeat.join();
        for stream in &self.streams {
            let _ = stream.shutdown(Shutdown::Both);
        }
        verdict
    }
}

/// The supervisor's loop: every worker's summary once this process and every worker completed,
/// else the most telling failure.
fn judge(
    inbox: &Receiver<Event>,
    addresses: &[String],
    timeout: Duration,
) -> std::result::Result<Vec<WorkerSummary>, Verdict> {
    let mut summaries: Vec<Option<WorkerSummary>> = vec![None; addresses.len()];
    let mut local_done = false;
    // A failure of the engine, held back for `ENGINE_GRACE` in case a clearer one follows.
    // The flag: whether it names a node's failure relayed from another process (preferred).
    let mut pending: Option<(Verdict, Instant, bool)> = None;
    let worker = |i: usize| format!("worker {} (process {})", addresses[i], i + 1);
    loop {
        if local_done && summaries.iter().all(Option::is_some) {
            return Ok(summaries.into_iter().flatten().collect());
        }
        let wait = match &pending {
            Some((_, since, _)) => ENGINE_GRACE.saturating_sub(since.elapsed()),
            // Each watcher's read timeout is the worker timeout; this only bounds the loop.
            None => timeout + ENGINE_GRACE,
        };
        let event = match inbox.recv_timeout(wait) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) => match pending.take() {
                Some((error, _, _)) => return Err(error),
                None => continue,
            },
            Err(RecvTimeoutError::Disconnected) => {
                return Err(pending.map_or_else(
                    || Verdict::Remote(cluster_error("the run's supervisor lost its events")),
                    |(verdict, _, _)| verdict,
                ))
            }
        };
        match event {
            Event::Heard(_, Message::Heartbeat) => {}
            Event::Heard(i, Message::Done(summary)) => {
                // Named and numbered by this process, whatever the worker says of itself.
                let process = i + 1;
                let node_stats = summary
                    .node_stats
                    .into_iter()
                    .map(|figures| NodeFigures { process, ..figures })
                    .collect();
                summaries[i] = Some(WorkerSummary {
                    address: addresses[i].clone(),
                    process,
                    node_stats,
                    ..summary
                });
            }
            Event::Heard(i, Message::Failed { failure }) => {
                // A failure relayed by another worker is named after the process it happened
                // on, and waits (like the engine's) for that process's own report.
                let origin = match failure.relayed_from {
                    Some(p) if (1..=addresses.len()).contains(&p) => p - 1,
                    _ => i,
                };
                let error = Verdict::Remote(failure.to_error(&addresses[origin]));
                if failure.relayed_from.is_some() && !failure.engine {
                    // Names the node and where it failed: clearer than a broken link.
                    match &pending {
                        Some((_, _, true)) => {}
                        _ => pending = Some((error, Instant::now(), true)),
                    }
                } else if failure.engine {
                    pending.get_or_insert((error, Instant::now(), false));
                } else {
                    return Err(error);
                }
            }
            Event::Heard(i, other) => {
                return Err(Verdict::Remote(unexpected(&addresses[i], &other)));
            }
            Event::Lost(i, _) if summaries[i].is_some() => {}
            Event::Lost(i, ReadError::TimedOut) => {
                return Err(Verdict::Remote(
                    cluster_error(format_args!(
                        "{} sent nothing for {timeout:?} (stopped or hung?); the limit is \
                         --worker-timeout",
                        worker(i)
                    ))
                    .on_host(&addresses[i]),
                ));
            }
            Event::Lost(i, err) => {
                let why = match err {
                    ReadError::Closed => "its connection closed".to_string(),
                    other => other.to_string(),
                };
                return Err(Verdict::Remote(
                    cluster_error(format_args!(
                        "{} was lost mid-run: {why} (killed or crashed?)",
                        worker(i)
                    ))
                    .on_host(&addresses[i]),
                ));
            }
            Event::LocalDone => local_done = true,
            Event::LocalFailed {
                engine: true,
                message,
            } => {
                pending.get_or_insert((Verdict::Local(message), Instant::now(), false));
            }
            Event::LocalFailed { message, .. } => return Err(Verdict::Local(message)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ExchangeSum, WorkerConfig, WorkerServer};
    use super::*;

    fn secret(text: &str) -> Secret {
        Secret::from_text(text).unwrap()
    }

    /// Starts an in-process worker on a free port; returns its address.
    fn worker(token: &str) -> String {
        let config = WorkerConfig::new(HostInfo::probe(), secret(token));
        let server = WorkerServer::bind("127.0.0.1:0", config).unwrap();
        let address = server.local_addr().to_string();
        std::thread::spawn(move || server.serve());
        address
    }

    const TOKEN: &str = "unit-test-token-0123456789";

    fn options() -> ClusterOptions {
        ClusterOptions {
            connect_timeout: Duration::from_secs(2),
            worker_timeout: Duration::from_secs(3),
            ..ClusterOptions::default()
        }
    }

    fn job(fail_on: Option<u64>) -> ExchangeSum {
        ExchangeSum {
            rounds: 5,
            per_round: 20,
            delay_ms: 0,
            fail_on,
        }
    }

    #[test]
    fn a_job_runs_across_two_workers_and_again_on_the_same_workers() {
        let hosts = HostsFile::from_addresses([worker(TOKEN), worker(TOKEN)]).unwrap();
        for _ in 0..2 {
            let mut cluster = connect(&hosts, &secret(TOKEN), &options()).unwrap();
            let described = cluster.describe().unwrap();
            assert_eq!(described.len(), 2);
            assert_eq!(described[0].0, hosts.workers()[0]);
            let job = job(None);
            let sum = cluster
                .run(&Job::ExchangeSum(job.clone()), |w| job.run(w))
                .unwrap();
            assert_eq!(sum, job.expected(3));
        }
    }

    /// The worker is free again by the time the local process hears `Done`: a run started right
    /// after (as a benchmark does) is never refused as busy.
    #[test]
    fn back_to_back_runs_on_one_worker_are_not_refused_as_busy() {
        let hosts = HostsFile::from_addresses([worker(TOKEN)]).unwrap();
        let job = job(None);
        for round in 0..20 {
            let cluster = connect(&hosts, &secret(TOKEN), &options()).unwrap();
            let sum = cluster
                .run(&Job::ExchangeSum(job.clone()), |w| job.run(w))
                .unwrap_or_else(|err| panic!("run {round}: {err}"));
            assert_eq!(sum, job.expected(2));
        }
    }

    /// Runs `job` on `hosts` until a run is not refused as busy; how long that took.
    fn next_run_within(hosts: &HostsFile, limit: Duration) -> Duration {
        let started = Instant::now();
        let job = job(None);
        loop {
            let cluster = connect(hosts, &secret(TOKEN), &ClusterOptions::default()).unwrap();
            match cluster.run(&Job::ExchangeSum(job.clone()), |w| job.run(w)) {
                Ok(sum) => {
                    assert_eq!(sum, job.expected(hosts.workers().len() as u64 + 1));
                    return started.elapsed();
                }
                Err(err) if err.to_string().contains("busy") && started.elapsed() < limit => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(err) => panic!("after {:?}: {err}", started.elapsed()),
            }
        }
    }

    /// A local process lost while the workers link up frees them at once: not after the
    /// setup's timeouts (5 s × (3 + 1) with the defaults).
    #[test]
    fn workers_whose_local_process_vanishes_during_setup_are_free_again_at_once() {
        let hosts = HostsFile::from_addresses([worker(TOKEN), worker(TOKEN)]).unwrap();
        let cluster = connect(&hosts, &secret(TOKEN), &ClusterOptions::default()).unwrap();
        cluster
            .abandon_during_setup(&Job::ExchangeSum(job(None)))
            .unwrap();
        let took = next_run_within(&hosts, Duration::from_secs(8));
        assert!(took < Duration::from_secs(8), "{took:?}");
    }

    #[test]
    fn a_completed_run_reports_every_workers_summary_in_hosts_file_order() {
        let hosts = HostsFile::from_addresses([worker(TOKEN), worker(TOKEN)]).unwrap();
        let cluster = connect(&hosts, &secret(TOKEN), &options()).unwrap();
        let job = job(None);
        let run = cluster
            .run_with_summaries(&Job::ExchangeSum(job.clone()), |w| job.run(w))
            .unwrap();
        assert_eq!(run.local, job.expected(3));
        let got: Vec<_> = run
            .workers
            .iter()
            .map(|w| (w.address.as_str(), w.process, w.node_stats.len()))
            .collect();
        let want = [
            (hosts.workers()[0].as_str(), 1, 0),
            (hosts.workers()[1].as_str(), 2, 0),
        ];
        assert_eq!(got, want);
        if cfg!(target_os = "linux") {
            assert!(run.workers.iter().all(|w| w.peak_rss_bytes > Some(1 << 20)));
        }
    }

    /// A panic of the run's own code (here the local part) is reported as that panic, not as
    /// a broken link between the processes; the worker is told to stop and serves the next run.
    #[test]
    fn a_panic_of_the_local_part_is_a_panic_not_a_broken_link() {
        let hosts = HostsFile::from_addresses([worker(TOKEN)]).unwrap();
        let cluster = connect(&hosts, &secret(TOKEN), &options()).unwrap();
        let job = job(None);
        let err = cluster
            .run(&Job::ExchangeSum(job.clone()), |_| -> Result<u64> {
                panic!("the local part gave up")
            })
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Panic, "{err}");
        assert_eq!(err.to_string(), "panicked: the local part gave up");
        next_run_within(&hosts, Duration::from_secs(8));
    }

    #[test]
    fn a_wrong_token_is_refused_by_name() {
        let hosts = HostsFile::from_addresses([worker(TOKEN)]).unwrap();
        let err = connect(&hosts, &secret("another-token-0123456789"), &options())
            .err()
            .unwrap();
        let address = &hosts.workers()[0];
        assert!(
            err.to_string()
                .starts_with(&format!("worker {address} refused the token")),
            "{err}"
        );
    }

    #[test]
    fn a_node_error_on_a_worker_names_the_node_and_the_worker_and_frees_it() {
        let hosts = HostsFile::from_addresses([worker(TOKEN), worker(TOKEN)]).unwrap();
        // 3 processes: 3 % 3 == 0, 4 % 3 == 1 → process 1, the first worker.
        let job = job(Some(4));
        let cluster = connect(&hosts, &secret(TOKEN), &options()).unwrap();
        let err = cluster
            .run(&Job::ExchangeSum(job.clone()), |w| job.run(w))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "node `check` on {}: refused the number 4",
                hosts.workers()[0]
            )
        );
        assert_eq!(err.node(), Some("check"));
        // Both workers serve the next run.
        let job = self::job(None);
        let mut ok = None;
        for _ in 0..20 {
            let cluster = connect(&hosts, &secret(TOKEN), &options()).unwrap();
            match cluster.run(&Job::ExchangeSum(job.clone()), |w| job.run(w)) {
                Ok(sum) => {
                    ok = Some(sum);
                    break;
                }
                Err(err) if err.to_string().contains("busy") => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                Err(err) => panic!("{err}"),
            }
        }
        assert_eq!(ok, Some(job.expected(3)));
    }

    #[test]
    fn a_local_error_aborts_the_workers() {
        let hosts = HostsFile::from_addresses([worker(TOKEN)]).unwrap();
        // 2 processes: 6 % 2 == 0 → the local process refuses it.
        let job = job(Some(6));
        let cluster = connect(&hosts, &secret(TOKEN), &options()).unwrap();
        let err = cluster
            .run(&Job::ExchangeSum(job.clone()), |w| job.run(w))
            .unwrap_err();
        assert_eq!(err.to_string(), "node `check`: refused the number 6");
    }

    #[test]
    fn an_unreachable_worker_fails_after_bounded_attempts() {
        // A port nobody listens on: bind, read the port, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let hosts = HostsFile::from_addresses([format!("127.0.0.1:{port}")]).unwrap();
        let started = Instant::now();
        let err = connect(&hosts, &secret(TOKEN), &options()).err().unwrap();
        assert!(
            err.to_string()
                .starts_with(&format!("cannot reach worker 127.0.0.1:{port} (3 attempts")),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
