//! A lowered manifest → stages on the shared runtime: stage 0 on the caller's thread, a [`Worker`]
//! per `"stage": true` boundary, bounded channels of batches between them.

use super::params::NodeParams;
use super::pipeline::DynamicPipeline;
use super::stage::{DynStage, Route, StageNode};
use super::stats::NodeStats;
use crate::graph::{Description, EdgeInfo, EdgeKind, Name, NodeInfo, StageEntry, Vertex};
use crate::manifest::LoweredManifest;
use crate::runtime::{stage_channel, Pipeline, StageConfig, Worker};
use crate::value::Value;
use std::sync::Arc;

/// How to build a dynamic pipeline.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildOptions {
    /// Batch size and capacity of stage channels whose entry node sets none.
    pub stage_config: StageConfig,
    /// Count items and time per node (costs two clock reads per item and node).
    pub stats: bool,
}

/// Builds the runnable pipeline of a lowered manifest.
pub fn build(lowered: LoweredManifest, options: BuildOptions) -> DynamicPipeline {
    let LoweredManifest {
        mut parsed,
        graph,
        plan,
        nodes,
        ..
    } = lowered;
    let mut nodes: Vec<Option<_>> = nodes.into_iter().map(Some).collect();
    let stats: Option<Arc<[NodeStats]>> = options
        .stats
        .then(|| (0..nodes.len()).map(|_| NodeStats::default()).collect());

    // Channels into stages 1.., and one sender per `=>` edge, held by the source's stage.
    let mut receivers = Vec::with_capacity(plan.stages.len() - 1);
    let mut stage_senders = Vec::with_capacity(plan.stages.len() - 1);
    for stage in &plan.stages[1..] {
        let (batch_size, capacity) = graph.stage_tuning(stage);
        let config = StageConfig {
            batch_size: batch_size.unwrap_or(options.stage_config.batch_size),
            capacity: capacity.unwrap_or(options.stage_config.capacity),
        };
        let (tx, rx) = stage_channel::<Value>(config);
        stage_senders.push(tx);
        receivers.push(rx);
    }
    let mut senders: Vec<Vec<_>> = plan.stages.iter().map(|_| Vec::new()).collect();
    let local = |i: usize| {
        plan.stages[plan.stage_of[i]]
            .nodes
            .iter()
            .position(|&n| n == i)
            .expect("a node is in its stage")
    };
    let mut route_of_edge = |from_stage: usize, to: Vertex, kind: EdgeKind| match (to, kind) {
        (Vertex::Output(o), _) => Route::Output(o),
        (Vertex::Node(t), EdgeKind::Stage) => {
            let target = plan.stage_of[t];
            senders[from_stage].push(stage_senders[target - 1].clone());
            Route::Send(senders[from_stage].len() - 1)
        }
        (Vertex::Node(t), EdgeKind::Fused) => Route::Node(local(t)),
        (Vertex::Input, _) => unreachable!("validation rejects edges into input"),
    };
    let mut entry0 = Vec::new();
    let mut routes: Vec<Vec<Route>> = nodes.iter().map(|_| Vec::new()).collect();
    for edge in &graph.edges {
        let from_stage = plan
            .stage_of_vertex(edge.from)
            .expect("edges leave input or nodes");
        let route = route_of_edge(from_stage, edge.to, edge.kind);
        match edge.from {
            Vertex::Input => entry0.push(route),
            Vertex::Node(i) => routes[i].push(route),
            Vertex::Output(_) => unreachable!("validation rejects edges out of outputs"),
        }
    }
    drop(stage_senders);

    let specs = &mut parsed.manifest.nodes;
    let mut stages: Vec<DynStage> = Vec::with_capacity(plan.stages.len());
    for (k, stage) in plan.stages.iter().enumerate() {
        let stage_nodes = stage
            .nodes
            .iter()
            .map(|&i| StageNode {
                id: Name::clone(&graph.graph.nodes[i].id),
                node: nodes[i].take().expect("each node is in one stage"),
                params: NodeParams::new(std::mem::take(&mut specs[i].params)),
                routes: std::mem::take(&mut routes[i]),
                graph_index: i,
            })
            .collect();
        let entry = match stage.entry {
            StageEntry::Input => std::mem::take(&mut entry0),
            StageEntry::Node(i) => vec![Route::Node(local(i))],
        };
        stages.push(DynStage::new(
            stage_nodes,
            entry,
            std::mem::take(&mut senders[k]),
            stats.clone(),
        ));
    }

    let mut stages = stages.into_iter();
    let head = stages.next().expect("stage 0 always exists");
    let workers = stages
        .zip(receivers)
        .enumerate()
        .map(|(k, (stage, rx))| {
            let planned = &plan.stages[k + 1];
            let label: Vec<&str> = planned.nodes.iter().map(|&i| graph.id(i)).collect();
            Worker::new(stage, rx, planned.inbound, label.join(",")).boxed()
        })
        .collect();
    let description = Description {
        nodes: graph
            .graph
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| NodeInfo {
                id: Name::clone(&n.id),
                type_name: Name::clone(&n.type_name),
                stage: plan.stage_of[i],
            })
            .collect(),
        edges: graph
            .edges
            .iter()
            .map(|e| EdgeInfo {
                from: graph.vertex_name_shared(e.from),
                to: graph.vertex_name_shared(e.to),
                kind: e.kind,
            })
            .collect(),
        outputs: graph.outputs,
    };

    DynamicPipeline::new(Pipeline::new(head, workers, description), stats)
}
