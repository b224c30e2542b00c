//! Per-node tuning (parallel degree, output order, batch size, channel capacity): the rules that say
//! where each setting means something, shared by `pipeline!` and manifests.

use super::error::{GraphError, GraphErrorKind};
use super::plan::{Stage, StageEntry};
use super::validate::ValidGraph;

/// The largest parallel degree accepted: more replicas than this only cost memory.
pub const MAX_PARALLELISM: usize = 256;
/// The largest batch size accepted (a batch is allocated whole).
pub const MAX_BATCH_SIZE: usize = 1 << 20;
/// The largest channel capacity accepted, in batches (a channel's slots are allocated up front).
pub const MAX_CAPACITY: usize = 1 << 16;

impl<L: Clone, P> ValidGraph<L, P> {
    /// Settings that cannot take effect where they are: each is an error at its node.
    ///
    /// A channel capacity needs a channel (a `=>` edge into the node); a batch size needs a channel
    /// or a parallel node to batch for; unordered output needs a parallel node.
    ///
    /// ```
    /// use pipeline_core::graph::{Endpoint as E, EdgeKind::*, Graph};
    /// let mut g = Graph::new(());
    /// g.add_node("a", "T", ());
    /// g.nodes[0].capacity = Some(8);
    /// g.add_edge(E::Input, E::node("a"), Fused, ());
    /// g.add_edge(E::node("a"), E::output("output"), Fused, ());
    /// let errors = g.validate().unwrap().tuning_errors();
    /// assert!(errors[0].to_string().contains("no stage boundary leads into it"));
    /// ```
    pub fn tuning_errors(&self) -> Vec<GraphError<L>> {
        let into = self.in_edge_counts();
        self.tuning_errors_with(|i| into[i].staged > 0)
    }

    /// [`tuning_errors`](Self::tuning_errors), given which nodes a `=>` edge enters.
    pub(crate) fn tuning_errors_with(&self, staged: impl Fn(usize) -> bool) -> Vec<GraphError<L>> {
        let mut errors = Vec::new();
        for (i, node) in self.graph.nodes.iter().enumerate() {
            // Most nodes set nothing but a degree in range: nothing to check.
            if node.batch_size.is_none()
                && node.capacity.is_none()
                && node.ordered
                && node.parallelism <= MAX_PARALLELISM
            {
                continue;
            }
            let id = &node.id;
            let at = |kind| GraphError::new(kind, node.loc.clone());
            let staged = staged(i);
            let parallel = node.parallelism > 1;
            for (value, setting, max) in [
                (Some(node.parallelism), "parallelism", MAX_PARALLELISM),
                (node.batch_size, "batch size", MAX_BATCH_SIZE),
                (node.capacity, "channel capacity", MAX_CAPACITY),
            ] {
                match value {
                    Some(0) if setting != "parallelism" => {
                        errors.push(at(GraphErrorKind::ZeroSetting {
                            id: id.to_string(),
                            setting,
                        }))
                    }
                    Some(n) if n > max => errors.push(at(GraphErrorKind::TooLarge {
                        id: id.to_string(),
                        setting,
                        value: n,
                        max,
                    })),
                    _ => {}
                }
            }
            if node.capacity.is_some() && !staged {
                errors.push(
                    at(GraphErrorKind::CapacityWithoutStage { id: id.to_string() }).with_help(
                        format!("enter `{id}` with a stage boundary, or drop the setting"),
                    ),
                );
            }
            if node.batch_size.is_some() && !staged && !parallel {
                errors.push(
                    at(GraphErrorKind::BatchWithoutStage { id: id.to_string() }).with_help(format!(
                        "enter `{id}` with a stage boundary or make it parallel, or drop the setting"
                    )),
                );
            }
            if !node.ordered && !parallel {
                errors.push(at(GraphErrorKind::UnorderedSequential {
                    id: id.to_string(),
                }));
            }
        }
        errors
    }

    /// The batch size and capacity set for the channel into `stage` (`None`: the default).
    pub fn stage_tuning(&self, stage: &Stage) -> (Option<usize>, Option<usize>) {
        match stage.entry {
            StageEntry::Input => (None, None),
            StageEntry::Node(i) => {
                let node = &self.graph.nodes[i];
                (node.batch_size, node.capacity)
            }
        }
    }
}
