//! A lowered manifest → stages on the shared runtime: stage 0 on the caller's thread, a [`Worker`]
//! per `"stage": true` boundary, bounded channels of batches between them.

use super::dyn_node::DynNode;
use super::output_spares::output_spares;
use super::params::NodeParams;
use super::pipeline::DynamicPipeline;
use super::stage::{DynStage, Route, StageNode};
use super::stats::NodeStats;
use crate::graph::{
    Description, EdgeInfo, EdgeKind, Endpoint, Name, NodeInfo, Stage, StageEntry, ValidGraph,
    Vertex,
};
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
    } = lowered;
    // Each node leaves the graph once, into its stage or into the node before it, leaving
    // [`Taken`] in its place: the graph's node list holds each until then.
    let mut graph = graph;
    let n = graph.graph.nodes.len();
    // Per-node stats need each node on its own; otherwise chains that run cheaper as one node do.
    let mut chains = Chains::none(n);
    if !options.stats {
        chains.join(&mut graph);
    }
    let stats: Option<Arc<[NodeStats]>> = options
        .stats
        .then(|| (0..n).map(|_| NodeStats::default()).collect());

    // Emptied output batches go back from the caller to whichever stage makes outputs.
    let (output_return, output_spares) = output_spares();
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
    // Each node's place in its stage; with the edges leaving each source (node `i`, or the input
    // as `n`, in declaration order), every stage's routes are one list, read off in one pass.
    for stage in &plan.stages {
        let mut k = 0;
        for &i in &stage.nodes {
            let link = &mut chains.links[i];
            if !link.absorbed {
                link.local = k;
                k += 1;
            }
        }
    }
    let chains = &chains;
    let leaving = &graph.leaving;

    // The workers' thread labels, read while the graph is not lent to `make_stage`.
    let labels: Vec<String> = plan.stages[1..]
        .iter()
        .map(|planned| {
            let ids: Vec<&str> = planned.nodes.iter().map(|&i| graph.id(i)).collect();
            ids.join(",")
        })
        .collect();
    let specs = &mut parsed.manifest.nodes;
    // Each stage is made where it goes, stage 0 straight into the pipeline's head: a list of
    // the stages first cost an allocation and two moves of each (~300 instructions, callgrind).
    let mut make_stage = |stage: &Stage| {
        let mut senders = Vec::new();
        let mut route = |edge: usize| {
            let edge = &graph.edges[edge];
            match (edge.to, edge.kind) {
                (Vertex::Output(o), _) => Route::Output(o),
                (Vertex::Node(t), EdgeKind::Stage) => {
                    senders.push(stage_senders[plan.stage_of[t] - 1].clone());
                    Route::Send(senders.len() - 1)
                }
                (Vertex::Node(t), EdgeKind::Fused) => Route::Node(chains.links[t].local),
                (Vertex::Input, _) => unreachable!("validation rejects edges into input"),
            }
        };
        let mut routes = Vec::with_capacity(stage.nodes.len() + 1);
        match stage.entry {
            StageEntry::Input => routes.extend(leaving.of(n).iter().map(|&e| route(e))),
            StageEntry::Node(i) => routes.push(Route::Node(chains.links[i].local)),
        }
        let entry_routes = routes.len();
        // Sized up front: the heads are filtered, so a collect would grow the list twice for the
        // benchmark's 10-node manifest (callgrind: ~1,200 instructions of reallocation a build).
        let mut stage_nodes = Vec::with_capacity(stage.nodes.len());
        stage_nodes.extend(chains.heads(&stage.nodes).map(|i| {
            let start = routes.len();
            let last = chains.links[i].last;
            // A node with ports: its routes grouped by port, each port's in edge order.
            let port_count = graph.graph.nodes[last].ports.len();
            let mut ports = Vec::with_capacity(port_count);
            if port_count == 0 {
                routes.extend(leaving.of(last).iter().map(|&e| route(e)));
            } else {
                for port in 0..port_count {
                    let port_start = routes.len();
                    let of_port = leaving
                        .of(last)
                        .iter()
                        .filter(|&&e| graph.edges[e].port == Some(port));
                    routes.extend(of_port.map(|&e| route(e)));
                    ports.push(port_start..routes.len());
                }
            }
            StageNode::new(
                Name::clone(&graph.graph.nodes[i].id),
                take(&mut graph.graph.nodes[i].payload),
                NodeParams::new(std::mem::take(&mut specs[i].params)),
                start..routes.len(),
                ports,
                i,
            )
        }));
        DynStage::new(
            stage_nodes,
            routes,
            entry_routes,
            senders,
            stats.clone(),
            output_spares.clone(),
        )
    };
    let head = make_stage(&plan.stages[0]);
    let workers = plan.stages[1..]
        .iter()
        .zip(receivers)
        .zip(labels)
        .map(|((planned, rx), label)| {
            Worker::new(make_stage(planned), rx, planned.inbound, label).boxed()
        })
        .collect();
    drop(stage_senders);
    // The description takes the graph's names over rather than counting each up again (and down
    // when the graph is dropped): an atomic update each, ~90 for the benchmark's 10-node manifest.
    let ValidGraph {
        graph: declared,
        edges,
        outputs,
        ..
    } = graph;
    let mut declared_edges = declared.edges;
    // A list of its own, not the declarations' reused in place: that reuse shrinks the block to
    // whole `NodeInfo`s with a `realloc`, whose split-off tail left glibc's small-block caches out
    // of step (callgrind: a `malloc` a build went the slow way for a 3-node manifest).
    let mut nodes = Vec::with_capacity(declared.nodes.len());
    nodes.extend(
        declared
            .nodes
            .into_iter()
            .enumerate()
            .map(|(i, n)| NodeInfo {
                id: n.id,
                type_name: n.type_name,
                stage: plan.stage_of[i],
            }),
    );
    let description = Description {
        nodes,
        // Each resolved edge has a declaration of its own, whose ends name the same vertices.
        edges: edges
            .iter()
            .map(|e| {
                let decl = &mut declared_edges[e.decl];
                EdgeInfo {
                    from: std::mem::replace(&mut decl.from, Endpoint::Input),
                    port: decl.port.take(),
                    to: std::mem::replace(&mut decl.to, Endpoint::Input),
                    kind: e.kind,
                }
            })
            .collect(),
        outputs,
    };

    DynamicPipeline::new(
        Pipeline::new(head, workers, description),
        stats,
        output_return,
    )
}

/// Fused chains whose first node took the others in ([`DynNode::absorb`]), and each node's place
/// in its stage: one list of what building needs of each node (four lists of their own were an
/// allocation each).
struct Chains {
    links: Vec<Link>,
}

/// What building notes of one node.
#[derive(Clone, Copy)]
struct Link {
    /// The last node of the chain it heads (itself when it heads none).
    last: usize,
    /// Whether it was taken in by the node before it.
    absorbed: bool,
    /// How many edges enter it.
    inbound: usize,
    /// Its place among its stage's nodes, once placed.
    local: usize,
}

impl Chains {
    fn none(n: usize) -> Chains {
        Chains {
            links: (0..n)
                .map(|last| Link {
                    last,
                    absorbed: false,
                    inbound: 0,
                    local: 0,
                })
                .collect(),
        }
    }

    /// Offers each node its successor while the pair is a plain link of a fused chain: the
    /// node's only edge is fused and the successor's only input, and neither has output ports
    /// (a chain's outputs are all its last node's, along one set of routes).
    fn join<L>(&mut self, graph: &mut ValidGraph<L, Box<dyn DynNode>>) {
        let ValidGraph {
            graph: declared,
            edges,
            topo,
            leaving,
            ..
        } = graph;
        let nodes = &mut declared.nodes;
        let links = &mut self.links;
        for edge in edges.iter() {
            if let Vertex::Node(t) = edge.to {
                links[t].inbound += 1;
            }
        }
        // In topological order a chain's head comes first, so each successor is still alone.
        for &i in topo.iter() {
            if links[i].absorbed {
                continue;
            }
            while let &[e] = leaving.of(links[i].last) {
                let edge = &edges[e];
                let (Vertex::Node(t), EdgeKind::Fused) = (edge.to, edge.kind) else {
                    break;
                };
                let has_ports = |node: usize| !nodes[node].ports.is_empty();
                if links[t].inbound != 1 || has_ports(links[i].last) || has_ports(t) {
                    break;
                }
                let next = take(&mut nodes[t].payload);
                // Out of the list while it takes `next` in (beside `next`'s id), and back.
                let mut head = take(&mut nodes[i].payload);
                let absorbed = head.absorb(next, &nodes[t].id);
                nodes[i].payload = head;
                match absorbed {
                    Ok(()) => {
                        links[t].absorbed = true;
                        links[i].last = t;
                    }
                    Err(next) => {
                        nodes[t].payload = next;
                        break;
                    }
                }
            }
        }
    }

    /// The nodes of `stage` that remain stage nodes.
    fn heads<'a>(&'a self, stage: &'a [usize]) -> impl Iterator<Item = usize> + 'a {
        stage.iter().copied().filter(|&i| !self.links[i].absorbed)
    }
}

/// A node out of its place in the graph, [`Taken`] left there. `Taken` has no size, so the box
/// allocates nothing: the graph's payloads as options first cost a copy of every node
/// declaration (~90 instructions a node, callgrind, the benchmark's 10-node manifest).
fn take(payload: &mut Box<dyn DynNode>) -> Box<dyn DynNode> {
    std::mem::replace(payload, Box::new(Taken))
}

/// What a node's place in the graph holds once the node has gone into its stage or into the
/// node before it. Building takes each node once and never runs what it leaves behind.
struct Taken;

impl DynNode for Taken {
    fn process(&mut self, _item: Value, _out: &mut Vec<Value>) -> crate::Result<()> {
        unreachable!("a node is run from its stage, not from the graph it was taken out of")
    }
}
