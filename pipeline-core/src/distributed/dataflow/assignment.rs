//! Which process runs each node of a manifest: what every process of a run agrees on.

use crate::error::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};

/// Which process runs each node.
///
/// ```
/// use pipeline_core::distributed::Assignment;
/// let mut assignment = Assignment::new(3, vec![0, 1, 0]);
/// assignment.spread[2] = vec![0, 1, 2]; // node 2, `"distribute": true`, on every process
/// assert_eq!(assignment.process_of_node, [0, 1, 0]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Processes in the run: 0 is the local process, 1.. the workers.
    pub processes: usize,
    /// By manifest node index: the process the node runs on.
    pub process_of_node: Vec<usize>,
    /// By manifest node index: for a `"distribute": true` node, the processes its replicas are
    /// spread over (`process_of_node` is then the first of them); empty for every other node.
    pub spread: Vec<Vec<usize>>,
}

impl Assignment {
    /// `process_of_node` over `processes` processes, nothing spread.
    ///
    /// ```
    /// let assignment = pipeline_core::distributed::Assignment::new(2, vec![1, 0]);
    /// assert_eq!(assignment.spread, [Vec::<usize>::new(), Vec::new()]);
    /// ```
    pub fn new(processes: usize, process_of_node: Vec<usize>) -> Assignment {
        let spread = vec![Vec::new(); process_of_node.len()];
        Assignment {
            processes,
            process_of_node,
            spread,
        }
    }

    /// Whether the assignment fits a manifest of `nodes` nodes (`id` names them) run on `peers`
    /// processes.
    pub(super) fn check(
        &self,
        nodes: usize,
        peers: usize,
        id: impl Fn(usize) -> String,
    ) -> Result<()> {
        let invalid = |what: String| {
            Err(Error::new(
                ErrorKind::Graph,
                format!("invalid assignment of nodes to processes: {what}"),
            ))
        };
        if self.processes != peers {
            return invalid(format!(
                "it is for {} processes, the run has {peers}",
                self.processes
            ));
        }
        if self.process_of_node.len() != nodes || self.spread.len() != nodes {
            return invalid(format!(
                "it places {} nodes (spreads {}), the manifest has {nodes}",
                self.process_of_node.len(),
                self.spread.len()
            ));
        }
        for i in 0..nodes {
            let beyond = |p: &usize| *p >= peers;
            if beyond(&self.process_of_node[i]) || self.spread[i].iter().any(beyond) {
                return invalid(format!(
                    "node `{}` is placed on a process beyond the {peers} of the run",
                    id(i)
                ));
            }
            let mut spread = self.spread[i].clone();
            spread.sort_unstable();
            spread.dedup();
            if spread.len() != self.spread[i].len() {
                return invalid(format!("node `{}` is spread over a process twice", id(i)));
            }
        }
        Ok(())
    }
}
