//! Per-node counters of a run across processes (`pipeline run --hosts --stats`): every process
//! counts the nodes it ran, workers send theirs to the local process with `Done`, and the local
//! process reports each node once, with where it ran.

use crate::dynamic::DynamicPipeline;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One node's counters on one process.
///
/// ```
/// use pipeline_core::distributed::NodeFigures;
/// use std::time::Duration;
/// let figures = NodeFigures { node: "add".into(), process: 1, items_in: 3, items_out: 3, time: Duration::ZERO };
/// assert_eq!(figures.items_out, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeFigures {
    /// The node's id in the manifest.
    pub node: String,
    /// The process it ran on (0 the local process, 1.. the workers in hosts-file order).
    pub process: usize,
    /// Items processed.
    pub items_in: u64,
    /// Items emitted (including by `finish`).
    pub items_out: u64,
    /// Time spent in the node itself.
    pub time: Duration,
}

impl NodeFigures {
    /// Every node's counters of a segment's pipeline built with stats, as run on `process`.
    pub(crate) fn of_pipeline(pipeline: &DynamicPipeline, process: usize) -> Vec<NodeFigures> {
        let Some(stats) = pipeline.stats() else {
            return Vec::new();
        };
        stats
            .map(|(node, stats)| NodeFigures {
                node: node.to_string(),
                process,
                items_in: stats.items_in(),
                items_out: stats.items_out(),
                time: stats.time(),
            })
            .collect()
    }
}

/// One node's counters over every process it ran on (a `"distribute": true` node runs on
/// several), for the report.
///
/// ```
/// use pipeline_core::distributed::{NodeFigures, NodeTotals};
/// use std::time::Duration;
/// let on = |process, items| NodeFigures { node: "f".into(), process, items_in: items, items_out: items, time: Duration::ZERO };
/// let totals = NodeTotals::by_node(["f"], [on(2, 5), on(0, 7)]);
/// assert_eq!(totals[0].processes, [0, 2]);
/// assert_eq!((totals[0].items_in, totals[0].items_out), (12, 12));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeTotals {
    /// The node's id.
    pub node: String,
    /// The processes that ran it, ascending.
    pub processes: Vec<usize>,
    /// Items processed, summed over those processes.
    pub items_in: u64,
    /// Items emitted, summed.
    pub items_out: u64,
    /// Time spent in the node, summed.
    pub time: Duration,
}

impl NodeTotals {
    /// Sums `figures` per node, in the order of `nodes` (the manifest's); a node no process
    /// reported is left out, and figures of a node not in `nodes` are ignored.
    pub fn by_node<'a>(
        nodes: impl IntoIterator<Item = &'a str>,
        figures: impl IntoIterator<Item = NodeFigures>,
    ) -> Vec<NodeTotals> {
        let mut totals: Vec<NodeTotals> = nodes
            .into_iter()
            .map(|node| NodeTotals {
                node: node.to_string(),
                processes: Vec::new(),
                items_in: 0,
                items_out: 0,
                time: Duration::ZERO,
            })
            .collect();
        for figures in figures {
            let Some(total) = totals.iter_mut().find(|t| t.node == figures.node) else {
                continue;
            };
            if !total.processes.contains(&figures.process) {
                total.processes.push(figures.process);
            }
            total.items_in += figures.items_in;
            total.items_out += figures.items_out;
            total.time += figures.time;
        }
        totals.retain(|t| !t.processes.is_empty());
        for total in &mut totals {
            total.processes.sort_unstable();
        }
        totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamic::{build, BuildOptions, Registry};
    use crate::Value;

    #[test]
    fn a_pipeline_built_with_stats_gives_each_nodes_counts() {
        let text = r#"{"version": "v1", "metadata": {"name": "m"},
          "nodes": [{"id": "add", "node_type": "Calculator", "params": {"operand": 1}},
                    {"id": "count", "node_type": "Count"}],
          "connections": [{"from": "add", "to": "count"}]}"#;
        let lowered = crate::manifest::load("m.json", text, &Registry::with_builtins()).unwrap();
        let options = BuildOptions {
            stats: true,
            ..BuildOptions::default()
        };
        let mut pipeline = build(lowered, options);
        let outputs = pipeline
            .run((0..5).map(Value::Int).collect::<Vec<_>>())
            .unwrap();
        assert_eq!(outputs.len(), 1);
        let figures = NodeFigures::of_pipeline(&pipeline, 2);
        let counts: Vec<_> = figures
            .iter()
            .map(|f| (f.node.as_str(), f.process, f.items_in, f.items_out))
            .collect();
        assert_eq!(counts, [("add", 2, 5, 5), ("count", 2, 5, 1)]);
        let unstated = build(
            crate::manifest::load("m.json", text, &Registry::with_builtins()).unwrap(),
            BuildOptions::default(),
        );
        assert!(NodeFigures::of_pipeline(&unstated, 0).is_empty());
    }

    #[test]
    fn totals_keep_the_manifest_order_and_ignore_unknown_nodes() {
        let on = |node: &str, process| NodeFigures {
            node: node.into(),
            process,
            items_in: 1,
            items_out: 2,
            time: Duration::from_millis(1),
        };
        let totals = NodeTotals::by_node(
            ["a", "b", "c"],
            [on("c", 1), on("a", 0), on("zzz", 1), on("c", 2)],
        );
        let got: Vec<_> = totals
            .iter()
            .map(|t| (t.node.as_str(), t.processes.clone(), t.items_out))
            .collect();
        assert_eq!(got, [("a", vec![0], 2), ("c", vec![1, 2], 4)]);
        assert_eq!(totals[1].time, Duration::from_millis(2));
    }
}
