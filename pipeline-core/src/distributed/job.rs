//! What a run asks its workers to do. Every process of a run is given the same job and builds
//! the same timely dataflow from it (timely requires that); the process index decides each
//! process's part.

use super::dataflow::RunSummary;
use super::exchange_sum::ExchangeSum;
use super::manifest_job::ManifestJob;
use crate::dynamic::Registry;
use crate::Result;
use serde::{Deserialize, Serialize};
use timely::worker::Worker;

/// The job of a run, sent to every worker in the run's `Start` message.
///
/// ```
/// use pipeline_core::distributed::{ExchangeSum, Job};
/// let job = Job::ExchangeSum(ExchangeSum { rounds: 2, per_round: 3, delay_ms: 0, fail_on: None });
/// assert!(matches!(job, Job::ExchangeSum(_)));
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Job {
    /// A self-test of the mesh: numbers exchanged between all processes and summed on process 0.
    #[doc(hidden)]
    ExchangeSum(ExchangeSum),
    /// A manifest, placed over the processes of the run.
    Manifest(Box<ManifestJob>),
}

impl Job {
    /// A worker's part of the job, loading a manifest with `registry`, as the default
    /// [`super::JobRunner`] runs it (with the built-in node types) (the local
    /// process's part is the closure given to [`super::Cluster::run`]). What the worker did
    /// (its nodes' counters, for a manifest run with stats) goes back to the local process.
    ///
    /// ```
    /// use pipeline_core::distributed::{ExchangeSum, Job};
    /// use pipeline_core::dynamic::Registry;
    /// let job = Job::ExchangeSum(ExchangeSum { rounds: 1, per_round: 4, delay_ms: 0, fail_on: None });
    /// pipeline_core::distributed::timely::execute_directly(move |worker| job.run_on_worker(worker, &Registry::with_builtins()))
    ///     .unwrap();
    /// ```
    pub fn run_on_worker(&self, worker: &mut Worker, registry: &Registry) -> Result<RunSummary> {
        match self {
            Job::ExchangeSum(job) => job.run(worker).map(|_| RunSummary::default()),
            Job::Manifest(job) => job.run_on_worker(worker, registry),
        }
    }
}
