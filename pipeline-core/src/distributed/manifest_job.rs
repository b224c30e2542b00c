//! A manifest run across processes: what the local process sends every worker so that each
//! builds the same dataflow (timely requires that) and runs its part of it.

use super::dataflow::{run_process, Assignment, DataflowOptions, Role, RunSummary};
use crate::dynamic::{BuildOptions, Registry};
use crate::graph::GraphLimits;
use crate::manifest::{self, LoadOptions};
use crate::placement::{Placement, PlacementPlan};
use crate::runtime::StageConfig;
use crate::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use timely::worker::Worker;

/// One manifest, placed: every process loads the same text and runs the nodes placed on it.
///
/// ```
/// use pipeline_core::distributed::{Assignment, ManifestJob};
/// let text = r#"{"version": "v1", "metadata": {"name": "m"},
///   "nodes": [{"id": "add", "node_type": "Calculator", "params": {"operand": 1}}], "connections": []}"#;
/// let job = ManifestJob::new("m.json", text.to_string(), Assignment::new(2, vec![1]));
/// assert_eq!(job.assignment.process_of_node, [1]);
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestJob {
    /// The manifest's file name, for messages.
    pub file: String,
    /// The manifest as JSON, each `python` node's `file` already read into `code`: a worker never
    /// reads a file a run names.
    pub text: String,
    /// Which process runs each node.
    pub assignment: Assignment,
    /// Input items per epoch, at most this many per batch between processes.
    pub batch_items: usize,
    /// Epochs in flight at most.
    pub epochs_in_flight: usize,
    /// The largest batch across a segment's stage boundaries (`pipeline run --batch-size`).
    pub stage_batch_size: usize,
    /// The graph limits the local process loaded the manifest with.
    pub max_fused_chain: usize,
    /// See [`GraphLimits::max_stages`].
    pub max_stages: usize,
    /// See [`GraphLimits::max_ports`].
    pub max_ports: usize,
    /// Count items and time per node on every process (`pipeline run --stats`): each worker
    /// sends its nodes' counters back with its `Done`.
    #[serde(default)]
    pub stats: bool,
}

impl ManifestJob {
    /// A job with the default batch, epoch and graph limits.
    pub fn new(file: &str, text: String, assignment: Assignment) -> ManifestJob {
        let dataflow = DataflowOptions::default();
        let limits = GraphLimits::default();
        ManifestJob {
            file: file.to_string(),
            text,
            assignment,
            batch_items: dataflow.batch_items,
            epochs_in_flight: dataflow.epochs_in_flight,
            stage_batch_size: StageConfig::default().batch_size,
            max_fused_chain: limits.max_fused_chain,
            max_stages: limits.max_stages,
            max_ports: limits.max_ports,
            stats: false,
        }
    }

    /// How the dataflow moves items and builds each segment.
    pub fn dataflow_options(&self, stats: bool) -> DataflowOptions {
        DataflowOptions {
            batch_items: self.batch_items,
            epochs_in_flight: self.epochs_in_flight,
            build: BuildOptions {
                stage_config: StageConfig {
                    batch_size: self.stage_batch_size.max(1),
                    ..StageConfig::default()
                },
                stats,
            },
        }
    }

    /// A worker's part: loads the manifest with `registry` (no file is read: `python` nodes
    /// must come with their `code`) and runs the nodes placed on this process.
    pub(crate) fn run_on_worker(
        &self,
        worker: &mut Worker,
        registry: &Registry,
    ) -> Result<RunSummary> {
        let options = LoadOptions {
            // Nothing on the worker's disk is the run's business.
            base_dir: Some("/nonexistent/pipeline-worker".into()),
            max_python_file_bytes: 0,
            graph_limits: GraphLimits {
                max_fused_chain: self.max_fused_chain,
                max_stages: self.max_stages,
                max_ports: self.max_ports,
            },
        };
        let lowered = manifest::load_with_options(&self.file, &self.text, registry, &options)
            .map_err(|err| Error::new(ErrorKind::Graph, err))?;
        let options = self.dataflow_options(self.stats);
        run_process(worker, lowered, &self.assignment, Role::Remote, &options)
    }
}

impl Assignment {
    /// Each node's process from a placement plan over `plan.workers.len() + 1` processes; fails
    /// naming the first node that has no place.
    ///
    /// ```
    /// use pipeline_core::distributed::Assignment;
    /// use pipeline_core::manifest::Manifest;
    /// use pipeline_core::placement::{place_across, HostInfo};
    /// let m: Manifest = serde_json::from_str(r#"{"version": "v1", "metadata": {"name": "m"},
    ///     "nodes": [{"id": "a", "node_type": "PassThrough"}, {"id": "b", "node_type": "PassThrough", "host": "w:1"}],
    ///     "connections": [{"from": "a", "to": "b"}]}"#).unwrap();
    /// let plan = place_across(&m, &HostInfo::probe(), &[("w:1".into(), HostInfo::probe())]);
    /// assert_eq!(Assignment::from_plan(&plan)?.process_of_node, [0, 1]);
    /// # Ok::<(), pipeline_core::Error>(())
    /// ```
    pub fn from_plan(plan: &PlacementPlan) -> Result<Assignment> {
        let mut assignment = Assignment::new(plan.workers.len() + 1, Vec::new());
        assignment.spread.clear();
        for node in &plan.nodes {
            let Some(process) = node.placement.process() else {
                return Err(Error::new(
                    ErrorKind::Graph,
                    format!("node `{}` cannot be placed: {}", node.node, plan_line(node)),
                ));
            };
            assignment.process_of_node.push(process);
            assignment.spread.push(match &node.placement {
                Placement::Spread { processes, .. } => processes.clone(),
                _ => Vec::new(),
            });
        }
        Ok(assignment)
    }
}

/// What a placement that failed says.
fn plan_line(node: &crate::placement::NodePlacement) -> String {
    match &node.placement {
        Placement::Unsatisfiable { unmet } => unmet.clone(),
        Placement::UnlistedHost { host } => {
            format!("pinned to worker {host}, which the run was not given")
        }
        other => format!("{other:?}"),
    }
}
