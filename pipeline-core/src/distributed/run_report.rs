//! What a run across processes reports besides the local part's result: each worker's summary,
//! sent with its `Done`.

use super::node_stats::NodeFigures;
use serde::{Deserialize, Serialize};

/// What one worker did in a run, as it reported with `Done`.
///
/// ```
/// use pipeline_core::distributed::WorkerSummary;
/// let summary = WorkerSummary { process: 1, peak_rss_bytes: Some(40 << 20), ..WorkerSummary::default() };
/// assert!(summary.node_stats.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerSummary {
    /// The worker's address, as in the hosts file.
    #[serde(default)]
    pub address: String,
    /// Its process index (1.. in hosts-file order).
    pub process: usize,
    /// The worker process's peak resident memory in bytes when its part ended (see
    /// [`super::peak_rss_bytes`]: a long-lived worker's peak covers its earlier runs too);
    /// `None` where the platform does not say.
    #[serde(default)]
    pub peak_rss_bytes: Option<u64>,
    /// The counters of the nodes it ran, when the job asked for stats: at most one entry per
    /// node of the manifest, so the message stays as small as the manifest's node list.
    #[serde(default)]
    pub node_stats: Vec<NodeFigures>,
}

/// A completed run across processes: the local part's result and every worker's summary, in
/// hosts-file order. See [`super::Cluster::run_with_summaries`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterRun<T> {
    /// What the local part (the closure) returned.
    pub local: T,
    /// One per worker, in hosts-file order.
    pub workers: Vec<WorkerSummary>,
}
