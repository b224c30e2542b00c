//! A segment as a manifest of its own: its nodes with their settings unchanged (`stage`,
//! `parallelism`, isolation, ...), `input -> entry`, and an output per edge leaving the segment,
//! lowered and built like any manifest, so fusion, stages, `par` and Python nodes keep working.
//!
//! The nodes are the ones the whole manifest's lowering already built, handed over in order:
//! nothing is built twice, and nothing about the whole manifest is reported again.

use super::segments::{Destination, SegmentEntry, Segmentation};
use crate::dynamic::{build, BuildOptions, DynNode, DynamicPipeline};
use crate::error::{Error, ErrorKind, Result};
use crate::graph::{GraphLimits, ValidGraph, Vertex};
use crate::manifest::{
    self, Connection, JsonPlace, Manifest, Metadata, NodeCatalog, ParamError, ParsedManifest,
    ResolvedNode,
};
use std::cell::RefCell;

/// A segment ready to run: its pipeline, and where each of the pipeline's outputs goes.
pub(crate) struct SegmentPipeline {
    pub(crate) pipeline: DynamicPipeline,
    /// By the pipeline's output index.
    pub(crate) destinations: Vec<Destination>,
    /// Whether the pipeline has stage threads, whose outputs come later than the push that
    /// caused them.
    pub(crate) threaded: bool,
}

/// Hands out nodes that are already built, in manifest order.
struct Prebuilt(RefCell<std::vec::IntoIter<ResolvedNode<Box<dyn DynNode>>>>);

impl NodeCatalog for Prebuilt {
    type Node = Box<dyn DynNode>;

    fn resolve(
        &self,
        _node_type: &str,
        _params: &serde_json::Value,
    ) -> Option<Result<ResolvedNode<Box<dyn DynNode>>, ParamError>> {
        self.0.borrow_mut().next().map(Ok)
    }

    fn names(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The output name of the sub-manifest for the whole manifest's edge `e`.
fn edge_output(e: usize) -> String {
    format!("output.edge{e}")
}

/// Builds segment `s` of `split` from the whole manifest (`parsed`, `graph`), taking its nodes
/// from `built` (by manifest node index).
pub(crate) fn build_segment(
    parsed: &ParsedManifest,
    graph: &ValidGraph<JsonPlace>,
    split: &Segmentation,
    s: usize,
    built: &mut [Option<Box<dyn DynNode>>],
    options: BuildOptions,
) -> Result<SegmentPipeline> {
    let segment = &split.segments[s];
    let ids = |i: usize| graph.graph.nodes[i].id.clone();
    let mut specs = Vec::with_capacity(segment.nodes.len());
    let mut resolved = Vec::with_capacity(segment.nodes.len());
    for &i in &segment.nodes {
        let mut spec = parsed.manifest.nodes[i].clone();
        spec.distribute = false;
        spec.host = None;
        if segment.is_spread() {
            // Run where the epoch's batch lands, in step with it: outputs belong to the batch.
            spec.stage = false;
            spec.channel_capacity = None;
            if spec.parallelism <= 1 {
                spec.batch_size = None;
            }
        }
        specs.push(spec);
        let decl = &graph.graph.nodes[i];
        let node = built[i].take().ok_or_else(|| {
            Error::new(
                ErrorKind::Graph,
                format!("node `{}` is in two segments", decl.id),
            )
        })?;
        resolved.push(ResolvedNode {
            node,
            accepts: decl.accepts,
            emits: decl.emits,
            ports: decl.ports.clone(),
        });
    }
    let mut connections = Vec::new();
    let mut destinations = Vec::new();
    let connect = |from: String, to: String| Connection {
        from: from.as_str().into(),
        to: to.as_str().into(),
    };
    if let SegmentEntry::Node(entry) = segment.entry {
        connections.push(connect("input".into(), ids(entry).to_string()));
    }
    for (e, edge) in graph.edges.iter().enumerate() {
        let inside = |v: Vertex| matches!(v, Vertex::Node(i) if split.segment_of[i] == s);
        match edge.from {
            Vertex::Input => {
                if let (SegmentEntry::Input, Vertex::Node(t)) = (segment.entry, edge.to) {
                    if inside(edge.to) {
                        connections.push(connect("input".into(), ids(t).to_string()));
                    }
                }
            }
            Vertex::Node(j) if split.segment_of[j] == s => {
                let from = graph.graph.edges[edge.decl].source_text();
                match (split.leaving[e], edge.to) {
                    (Some(destination), _) => {
                        connections.push(connect(from, edge_output(e)));
                        destinations.push((format!("edge{e}"), destination));
                    }
                    (None, Vertex::Node(t)) => connections.push(connect(from, ids(t).to_string())),
                    (None, _) => unreachable!("an edge to an output leaves its segment"),
                }
            }
            _ => {}
        }
    }
    let manifest = Manifest {
        version: parsed.manifest.version,
        metadata: Metadata {
            name: format!("{} segment {s}", parsed.manifest.metadata.name).into(),
            description: None,
            created_at: None,
        },
        nodes: specs,
        connections,
    };
    let internal = |what: String| {
        Error::new(
            ErrorKind::Graph,
            format!("segment {s} of `{}`: {what}", parsed.file),
        )
    };
    let text = serde_json::to_string(&manifest).map_err(|err| internal(err.to_string()))?;
    let file = format!("{} (segment {s})", parsed.file);
    let sub = manifest::parse(&file, &text).map_err(|err| internal(err.to_string()))?;
    let unlimited = GraphLimits {
        max_fused_chain: usize::MAX,
        max_stages: usize::MAX,
        max_ports: usize::MAX,
    };
    let catalog = Prebuilt(RefCell::new(resolved.into_iter()));
    let lowered = manifest::lower_with_limits(sub, &catalog, &unlimited)
        .map_err(|err| internal(err.to_string()))?;
    let threaded = !lowered.plan.is_fused();
    let pipeline = build(lowered, options);
    let destinations = pipeline
        .outputs()
        .iter()
        .map(|name| {
            destinations
                .iter()
                .find(|(edge, _)| **edge == **name)
                .map(|&(_, destination)| destination)
                .ok_or_else(|| internal(format!("unexpected output `{name}`")))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(SegmentPipeline {
        pipeline,
        destinations,
        threaded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributed::Assignment;
    use crate::dynamic::Registry;
    use crate::Value;

    const DIAMOND: &str = r#"{"version": "v1", "metadata": {"name": "d"},
      "nodes": [
        {"id": "a", "node_type": "Calculator", "params": {"operand": 1}},
        {"id": "split", "node_type": "Partition", "params": {"op": "even"}},
        {"id": "t", "node_type": "Calculator", "params": {"operation": "multiply", "operand": 10}, "stage": true},
        {"id": "f", "node_type": "Count"},
        {"id": "sum", "node_type": "Sum", "stage": true}],
      "connections": [
        {"from": "a", "to": "split"}, {"from": "split.true", "to": "t"},
        {"from": "split.false", "to": "f"}, {"from": "t", "to": "sum"}, {"from": "a", "to": "sum"}]}"#;

    /// Every segment of `DIAMOND` split by `processes`, run on `items` in turn (in segment
    /// order, each fed what earlier segments sent it): what reached each output.
    fn run_split(processes: Vec<usize>, items: &[i64]) -> Vec<(String, Vec<Value>)> {
        let lowered = manifest::load("d.json", DIAMOND, &Registry::with_builtins()).unwrap();
        let n = lowered.graph.graph.nodes.len();
        let assignment = Assignment::new(3, processes);
        let g = &lowered.graph;
        let split = Segmentation::split(n, &g.topo, &g.edges, g.outputs.len(), &assignment);
        let mut built: Vec<Option<Box<dyn DynNode>>> = Vec::new();
        let crate::manifest::LoweredGraph { parsed, graph, .. } = lowered;
        let graph = graph.map_payloads(|_, node| built.push(Some(node)));
        let mut fed: Vec<Vec<Value>> = vec![Vec::new(); split.segments.len()];
        let mut outputs: Vec<Vec<Value>> = vec![Vec::new(); graph.outputs.len()];
        for s in 0..split.segments.len() {
            let mut segment = build_segment(
                &parsed,
                &graph,
                &split,
                s,
                &mut built,
                BuildOptions::default(),
            )
            .unwrap();
            let mut input = std::mem::take(&mut fed[s]);
            for _ in 0..split.segments[s].input_copies {
                input.extend(items.iter().map(|&i| Value::Int(i)));
            }
            for tagged in segment.pipeline.run(input).unwrap() {
                match segment.destinations[tagged.output] {
                    Destination::Segment(k) => fed[k].push(tagged.value),
                    Destination::Output(o) => outputs[o].push(tagged.value),
                }
            }
        }
        graph
            .outputs
            .iter()
            .map(|o| o.to_string())
            .zip(outputs)
            .collect()
    }

    /// What the whole manifest, run locally, sends to each output.
    fn run_local(items: &[i64]) -> Vec<(String, Vec<Value>)> {
        let lowered = manifest::load("d.json", DIAMOND, &Registry::with_builtins()).unwrap();
        let mut p = build(lowered, BuildOptions::default());
        let tagged = p.run(items.iter().map(|&i| Value::Int(i))).unwrap();
        let mut outputs: Vec<(String, Vec<Value>)> = p
            .outputs()
            .iter()
            .map(|o| (o.to_string(), Vec::new()))
            .collect();
        for t in tagged {
            outputs[t.output].1.push(t.value);
        }
        outputs
    }

    #[test]
    fn segments_run_one_after_another_give_the_local_outputs() {
        let items = [1, 2, 3, 4, 5];
        let local = run_local(&items);
        assert_eq!(local.len(), 2);
        assert_eq!(run_split(vec![0; 5], &items), local);
        for processes in [
            vec![0, 1, 1, 2, 0],
            vec![1, 0, 2, 2, 1],
            vec![2, 2, 2, 2, 2],
            vec![0, 0, 1, 0, 0],
        ] {
            assert_eq!(run_split(processes.clone(), &items), local, "{processes:?}");
        }
    }
}
