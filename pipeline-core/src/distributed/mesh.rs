//! The mesh: one TCP link between every two processes of a run, made by the project and then
//! handed to timely.
//!
//! Direction: the process with the LOWER index connects to the one with the higher index, at
//! the address the local process's hosts file gives for it. So the local process (0) connects
//! to every worker and needs no listening port of its own, and every connection goes to a
//! listed address. Each link opens with the token handshake, then `JoinMesh { run id, from }`,
//! which the higher process accepts only for its current run and only once per lower process.
//!
//! Timely then runs its send and receive threads on the links. The project keeps a clone of each
//! socket: shutting them down makes those threads fail (timely is fail-stop), which wakes the
//! process's worker, which panics out of the dataflow; [`run_on_mesh`] catches that, and keeps
//! those panics' messages off stderr (`link_panics`).

use super::control::{self, Message, ReadError};
use super::link_panics::{last_panic_was_timelys, QuietLinkPanics};
use super::{handshake, ClusterOptions, Secret};
use crate::{Error, ErrorKind, Result};
use std::net::{Shutdown, TcpStream};
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::{Allocator, ProcessBuilder};
use timely::communication::Hooks;
use timely::worker::Worker;

/// The links of one process, by process index (`None` at its own).
pub(crate) struct Mesh {
    index: usize,
    sockets: Vec<Option<TcpStream>>,
    handle: MeshHandle,
}

/// Shuts the mesh of this process down from another thread (clones of its sockets).
#[derive(Clone)]
pub(crate) struct MeshHandle(Arc<Vec<TcpStream>>);

impl MeshHandle {
    /// Shuts every link down: timely's threads on them fail, and this process's worker with them.
    pub(crate) fn shutdown(&self) {
        for socket in self.0.iter() {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }
}

impl Mesh {
    /// A handle that can shut this mesh down while the run is in timely's hands.
    pub(crate) fn handle(&self) -> MeshHandle {
        self.handle.clone()
    }
}

/// The address of process `p` (`peers[p - 1]`) for messages.
fn who(peers: &[String], process: usize) -> String {
    match process {
        0 => "the local process".to_string(),
        p => format!("worker {} (process {p})", peers[p - 1]),
    }
}

/// How often a process setting up its links checks whether the run was given up.
const SETUP_POLL: Duration = Duration::from_millis(50);

/// Connects process `index`'s links: out to every higher process, in from every lower one
/// (`incoming` delivers those the worker's listener accepted for this run). `given_up` is asked
/// every [`SETUP_POLL`] while links are missing: when it says why (a worker's local process is
/// gone), setup stops at once rather than after its timeouts.
pub(crate) fn connect_mesh(
    index: usize,
    peers: &[String],
    run_id: &str,
    secret: &Secret,
    options: &ClusterOptions,
    incoming: Option<&Receiver<(usize, TcpStream)>>,
    given_up: &dyn Fn() -> Option<String>,
) -> Result<Mesh> {
    let processes = peers.len() + 1;
    let (linked, outgoing) = std::sync::mpsc::channel();
    for target in (index + 1)..processes {
        let address = peers[target - 1].clone();
        let (run_id, secret, options) = (run_id.to_string(), secret.clone(), options.clone());
        let sender = linked.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("pipeline:link-{target}"))
            .spawn(move || {
                let link = connect_link(&address, &secret, &options, &run_id, index);
                // The receiver is gone when setup was given up: the link just closes.
                let _ = sender.send((target, link));
            });
        if let Err(err) = spawned {
            let _ = linked.send((
                target,
                Err(Error::new(
                    ErrorKind::Cluster,
                    format_args!("cannot start a link thread: {err}"),
                )),
            ));
        }
    }
    drop(linked);
    let mut sockets: Vec<Option<TcpStream>> = (0..processes).map(|_| None).collect();
    let mut missing_in = index;
    let mut missing_out = processes - index - 1;
    // Each outgoing link bounds itself (attempts × connect timeout); the incoming ones are
    // waited for as long as one process may take to make its own.
    let wait = options.connect_timeout * (options.connect_attempts + 1);
    let deadline = Instant::now() + wait;
    let link_error = |target: usize, err: Error| {
        Error::new(
            ErrorKind::Cluster,
            format_args!(
                "{} cannot link to {}: {}",
                who(peers, index),
                who(peers, target),
                err.message()
            ),
        )
    };
    while missing_in + missing_out > 0 {
        if let Some(why) = given_up() {
            return Err(Error::new(
                ErrorKind::Cluster,
                format_args!("{} gave up its links: {why}", who(peers, index)),
            ));
        }
        while missing_out > 0 {
            match outgoing.try_recv() {
                Ok((target, Ok(socket))) => {
                    sockets[target] = Some(socket);
                    missing_out -= 1;
                }
                Ok((target, Err(err))) => return Err(link_error(target, err)),
                Err(_) => break,
            }
        }
        if missing_in + missing_out == 0 {
            break;
        }
        if missing_in > 0 && Instant::now() >= deadline {
            let absent: Vec<String> = (0..index)
                .filter(|&p| sockets[p].is_none())
                .map(|p| who(peers, p))
                .collect();
            return Err(Error::new(
                ErrorKind::Cluster,
                format_args!(
                    "{} got no mesh link from {} within {wait:?}",
                    who(peers, index),
                    absent.join(", "),
                ),
            ));
        }
        let slice = SETUP_POLL.min(deadline.saturating_duration_since(Instant::now()));
        match incoming {
            Some(incoming) if missing_in > 0 => match incoming.recv_timeout(slice) {
                Ok((from, socket)) if from < index && sockets[from].is_none() => {
                    sockets[from] = Some(socket);
                    missing_in -= 1;
                }
                Ok(_) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Error::new(
                        ErrorKind::Cluster,
                        format_args!("{}: the run ended during setup", who(peers, index)),
                    ))
                }
            },
            _ => match outgoing.recv_timeout(SETUP_POLL) {
                Ok((target, Ok(socket))) => {
                    sockets[target] = Some(socket);
                    missing_out -= 1;
                }
                Ok((target, Err(err))) => return Err(link_error(target, err)),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Error::new(
                        ErrorKind::Cluster,
                        format_args!("{}: a link thread ended without a link", who(peers, index)),
                    ))
                }
            },
        }
    }
    let clones = sockets
        .iter()
        .flatten()
        .map(TcpStream::try_clone)
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|err| {
            Error::new(
                ErrorKind::Cluster,
                format_args!("cannot clone a mesh socket: {err}"),
            )
        })?;
    Ok(Mesh {
        index,
        sockets,
        handle: MeshHandle(Arc::new(clones)),
    })
}

/// One outgoing link: handshake, `JoinMesh`, `Joined`; then the socket is timely's (blocking,
/// no timeouts: timely's receive thread takes a timeout for a broken link).
fn connect_link(
    address: &str,
    secret: &Secret,
    options: &ClusterOptions,
    run_id: &str,
    from: usize,
) -> Result<TcpStream> {
    let mut stream = handshake::connect(address, secret, options)?;
    let io = |err: std::io::Error| Error::new(ErrorKind::Cluster, err.to_string());
    control::write_message(
        &mut stream,
        &Message::JoinMesh {
            run_id: run_id.to_string(),
            from,
        },
    )
    .map_err(io)?;
    match control::read_message(&mut stream, options.max_message_bytes) {
        Ok(Message::Joined) => {}
        Ok(Message::Refused { refusal }) => return Err(refusal.to_error(address)),
        Ok(other) => {
            return Err(Error::new(
                ErrorKind::Cluster,
                format_args!("answered `{}` to a mesh link", control::name(&other)),
            ))
        }
        Err(ReadError::TimedOut) => {
            return Err(Error::new(
                ErrorKind::Cluster,
                format_args!(
                    "no answer to the mesh link within {:?}",
                    options.connect_timeout
                ),
            ))
        }
        Err(err) => return Err(Error::new(ErrorKind::Cluster, err.to_string())),
    }
    stream.set_read_timeout(None).map_err(io)?;
    stream.set_write_timeout(None).map_err(io)?;
    Ok(stream)
}

/// How the process's part of a run failed.
pub(crate) struct PartFailure {
    pub error: Error,
    /// The engine failed (a link broke), not the run's own code: another process's failure is
    /// the likely cause.
    pub engine: bool,
}

/// Runs this process's timely worker on the mesh, on the calling thread (the local process's
/// input and outputs need not be `Send`): `part` builds and drives the dataflow; afterwards
/// the worker is stepped until its dataflows are complete. A panic (timely's, on a broken link)
/// is caught. `teardown` bounds the wait for timely's link threads at the end.
pub(crate) fn run_on_mesh<T>(
    mesh: Mesh,
    teardown: Duration,
    part: impl FnOnce(&mut Worker) -> Result<T>,
) -> std::result::Result<T, PartFailure> {
    let Mesh {
        index,
        sockets,
        handle,
    } = mesh;
    // Until timely's threads are joined: their panics on broken links are expected.
    let _quiet = QuietLinkPanics::start();
    let hooks = Hooks::default();
    let process_allocators =
        ProcessBuilder::new_typed_vector(1, hooks.refill.clone(), hooks.spill.clone());
    let (builders, comms) =
        initialize_networking_from_sockets(process_allocators, sockets, index, 1, hooks).map_err(
            |err| PartFailure {
                error: Error::new(
                    ErrorKind::Cluster,
                    format_args!("cannot start timely's networking: {err}"),
                ),
                engine: true,
            },
        )?;
    let builder = builders.into_iter().next().expect("one worker thread");
    last_panic_was_timelys();
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(move || {
        let allocator = Allocator::Tcp(builder.build());
        let mut worker = Worker::new(
            timely::WorkerConfig::default(),
            allocator,
            Some(Instant::now()),
        );
        let result = part(&mut worker);
        if result.is_ok() {
            while worker.has_dataflows() {
                worker.step_or_park(Some(Duration::from_millis(500)));
            }
        }
        drop(worker);
        result
    }));
    let outcome = match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(PartFailure {
            error,
            engine: false,
        }),
        // The run's own code panicked (a job's part, not timely on a broken link): a panic.
        Err(payload) if last_panic_was_timelys() == Some(false) => {
            handle.shutdown();
            Err(PartFailure {
                error: Error::from_panic(payload),
                engine: false,
            })
        }
        Err(payload) => {
            handle.shutdown();
            Err(PartFailure {
                error: Error::new(
                    ErrorKind::Cluster,
                    format_args!(
                        "a link between the processes broke (timely: {})",
                        Error::from_panic(payload)
                            .message()
                            .trim_start_matches("panicked: ")
                    ),
                ),
                engine: true,
            })
        }
    };
    if outcome.is_err() {
        handle.shutdown();
    }
    join_links(comms, &handle, teardown);
    outcome
}

/// Waits (at most `teardown`, then shuts the links down and waits as long again) for timely's
/// send and receive threads; their panics on broken links are expected and dropped.
fn join_links<G: Send + 'static>(comms: G, handle: &MeshHandle, teardown: Duration) {
    let (done, finished) = std::sync::mpsc::channel();
    let joiner = std::thread::Builder::new()
        .name("pipeline:mesh-join".into())
        .spawn(move || {
            let _ = std::panic::catch_unwind(AssertUnwindSafe(move || drop(comms)));
            let _ = done.send(());
        });
    if joiner.is_err() {
        handle.shutdown();
        return;
    }
    if finished.recv_timeout(teardown).is_err() {
        handle.shutdown();
        let _ = finished.recv_timeout(teardown);
    }
}
