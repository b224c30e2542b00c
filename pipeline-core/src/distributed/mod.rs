//! One manifest across processes and machines, on timely-dataflow.
//!
//! The local process reads the input, writes the outputs and runs every node nothing forces
//! elsewhere; `pipeline worker`s run the rest. Nodes placed on one process run as segments on the
//! ordinary runtime (fusion, stages, `par`, Python nodes); only edges between processes cross
//! timely exchanges, in batches encoded with [`crate::value::wire`].
//!
//! # Transport
//!
//! Processes are numbered: 0 is the local process, `1..=k` the workers in the order of the
//! [`HostsFile`]. Each process runs one timely worker, so timely's worker index is the process
//! index.
//!
//! - A worker ([`WorkerServer`]) listens on one port for everything: control connections from a
//!   local process and the mesh links of a run. Every connection opens with a challenge–response
//!   on the cluster [`Secret`] (HMAC-SHA256, both ways; the secret never crosses the wire).
//! - The local process [`connect`]s to every worker (a [`Cluster`]), may
//!   [`describe`](Cluster::describe) them (for placement), and [`run`](Cluster::run)s a [`Job`]:
//!   `Start` (with a fresh random run id) to every worker, then every pair of processes links up
//!   (the lower index connects to the higher, at the hosts file's address, presenting the run id;
//!   see `mesh`), and the links go to timely (`initialize_networking_from_sockets`). Workers
//!   contact only the addresses the local process sent them, which come from its hosts file.
//! - During a run every process sends a heartbeat on its control connection every
//!   [`HEARTBEAT_INTERVAL`]. The run is fail-stop: a worker's error (reported as
//!   `node <id> on <host:port>: <message>`), a worker lost (its connection closes, as on
//!   `kill -9`), or silent for [`ClusterOptions::worker_timeout`] (a stopped process) fails the run;
//!   the other processes are told to abort and every process shuts its links down, which stops
//!   timely's threads. Timely's panics on broken links are caught and reported as errors.
//!
//! The control protocol is described in `control`; limits and defaults are in
//! [`ClusterOptions`].
//!
//! # Dataflow
//!
//! Every process loads the same manifest ([`ManifestJob`]) and calls [`run_process`] with the same
//! [`Assignment`] (from the placement plan: [`Assignment::from_plan`]), so each builds the same
//! timely dataflow. [`Segmentation`] cuts the graph where the process changes into segments with
//! one entry each (like the local runtime's stages); each segment runs as an ordinary
//! `DynamicPipeline` on its process, on a thread of its own. Items cross between processes as
//! [`Batch`]es of wire-encoded values routed by an exchange to their segment's process. Process 0
//! reads the input in epochs, at most [`DEFAULT_EPOCHS_IN_FLIGHT`] ahead of the outputs; a segment
//! finishes its pipeline once its input frontier has passed; what a spread (`"distribute"`) node
//! emits is released epoch by epoch in input order. A failure anywhere is sent to every process,
//! so all of them stop.
//!
//! # Joining a dataflow to the transport
//!
//! A run's work is a [`Job`], sent to every worker in the run's `Start`. The local process's part
//! is the closure given to [`Cluster::run`] (it runs on the calling thread, so it may borrow the
//! input and the output sink); a worker's part is its [`WorkerConfig::runner`] applied to the
//! job (by default [`Job::run_on_worker`]). Both get the process's timely `Worker` on the mesh,
//! and must build the same dataflow. A manifest is [`Job::Manifest`]: `pipeline run --hosts` calls
//! [`run_process`] from `Cluster::run`'s closure with the local role, and `pipeline worker`
//! installs a runner that loads the manifest with the CLI's node registry. An `Err` a worker's
//! part returns reaches the local process as `node <id> on <host:port>: <message>`; its
//! [`RunSummary`] goes back with its `Done`, with the worker's peak memory, as a
//! [`WorkerSummary`] ([`Cluster::run_with_summaries`]): a manifest job with `stats` set has every
//! process count its nodes ([`NodeFigures`]), and the local process reports each node once
//! ([`NodeTotals`]), as `pipeline run --hosts --stats` does.
//!
//! # The client API
//!
//! ```no_run
//! use pipeline_core::distributed::{connect, ClusterOptions, ExchangeSum, HostsFile, Job, Secret};
//! let hosts = HostsFile::read("hosts.txt".as_ref())?;
//! let mut cluster = connect(&hosts, &Secret::load(None)?, &ClusterOptions::default())?;
//! let hosts_info = cluster.describe()?; // Vec<(address, HostInfo)>, for placement
//! let job = ExchangeSum { rounds: 10, per_round: 100, delay_ms: 0, fail_on: None };
//! let processes = hosts_info.len() as u64 + 1;
//! let sum = cluster.run(&Job::ExchangeSum(job.clone()), |worker| job.run(worker))?;
//! assert_eq!(sum, job.expected(processes));
//! # Ok::<(), pipeline_core::Error>(())
//! ```

mod batch;
mod client;
mod control;
mod dataflow;
mod exchange_sum;
mod handshake;
mod hosts;
mod job;
mod link_panics;
mod manifest_job;
mod mesh;
mod node_stats;
mod options;
mod peak_rss;
mod run_report;
mod segment_thread;
mod segments;
mod sub_manifest;
mod token;
mod worker;

/// The engine, at the version this crate pins (jobs are written against its `Worker`).
pub use timely;

pub use client::{connect, Cluster};
#[doc(hidden)]
pub use exchange_sum::ExchangeSum;
pub use hosts::HostsFile;
pub use job::Job;
pub use manifest_job::ManifestJob;
pub use node_stats::{NodeFigures, NodeTotals};
pub use options::{
    ClusterOptions, DEFAULT_CONNECT_ATTEMPTS, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_MESSAGE_BYTES,
    DEFAULT_WORKER_TIMEOUT, HEARTBEAT_INTERVAL,
};
pub use peak_rss::peak_rss_bytes;
pub use run_report::{ClusterRun, WorkerSummary};
pub use token::{default_token_path, Secret, MIN_TOKEN_BYTES, TOKEN_ENV};
pub use worker::{JobRunner, WorkerConfig, WorkerServer, DEFAULT_MAX_CONNECTIONS, IDLE_TIMEOUT};

pub use batch::{Batch, Target};
pub use dataflow::{
    run_process, Assignment, DataflowOptions, LocalInput, LocalSink, NextItem, ProcessFailure,
    Role, RunSummary, DEFAULT_BATCH_ITEMS, DEFAULT_EPOCHS_IN_FLIGHT,
};
pub use segments::{Destination, Segment, SegmentEntry, Segmentation};
