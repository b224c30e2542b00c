//! A fused group of dynamic nodes: one [`Stage`] the shared runtime drives like a generated one.

use super::dyn_node::DynNode;
use super::params::NodeParams;
use super::stats::NodeStats;
use crate::error::Result;
use crate::node::NodeContext;
use crate::runtime::{BatchSender, PanicSite, Stage};
use crate::value::Value;
use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

/// An output item of a dynamic pipeline: which output (index into the pipeline's output names) and
/// the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Tagged {
    /// Index of the output.
    pub output: usize,
    /// The item.
    pub value: Value,
}

/// A batch of items for one output, as a dynamic stage hands them on: tagged once per batch, so
/// a run pays no per-item cost for knowing which output an item belongs to.
///
/// ```
/// use pipeline_core::dynamic::{OutputBatch, Tagged};
/// use pipeline_core::Value;
/// let batch = OutputBatch { output: 1, values: vec![Value::Int(7)] };
/// let tagged: Vec<Tagged> = batch.into_tagged().collect();
/// assert_eq!(tagged, [Tagged { output: 1, value: Value::Int(7) }]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OutputBatch {
    /// Index of the output.
    pub output: usize,
    /// The items, in order.
    pub values: Vec<Value>,
}

impl OutputBatch {
    /// The batch's items, each tagged with the output.
    pub fn into_tagged(self) -> impl Iterator<Item = Tagged> {
        let output = self.output;
        self.values
            .into_iter()
            .map(move |value| Tagged { output, value })
    }
}

/// Where an item emitted inside a stage goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// To a node of this stage, by local index.
    Node(usize),
    /// Across a stage boundary, by sender index.
    Send(usize),
    /// Out of the pipeline, by output index.
    Output(usize),
}

/// One node of a stage, with everything needed to run and report it.
pub(crate) struct StageNode {
    pub id: Arc<str>,
    pub node: Box<dyn DynNode>,
    pub params: NodeParams,
    /// Where its items go: a range of the stage's routes.
    pub routes: Range<usize>,
    /// Index in the whole graph, for stats.
    pub graph_index: usize,
}

/// A stage of a dynamic graph: its nodes in topological order, the routes between them, and the
/// senders to later stages.
pub struct DynStage {
    nodes: Vec<StageNode>,
    /// Every route of the stage in one list: the entry's first (`..entry_routes`), then each
    /// node's, in the range the node holds.
    routes: Vec<Route>,
    entry_routes: usize,
    senders: Vec<BatchSender<Value>>,
    /// One reusable output buffer per node.
    scratch: Vec<Vec<Value>>,
    /// Reusable one-item batch for item-by-item pushes (streaming handles); allocated by the first
    /// push, so a pipeline that is only ever run never pays for it.
    single: Vec<Value>,
    stats: Option<Arc<[NodeStats]>>,
}

impl DynStage {
    pub(crate) fn new(
        nodes: Vec<StageNode>,
        routes: Vec<Route>,
        entry_routes: usize,
        senders: Vec<BatchSender<Value>>,
        stats: Option<Arc<[NodeStats]>>,
    ) -> DynStage {
        DynStage {
            scratch: nodes.iter().map(|_| Vec::new()).collect(),
            single: Vec::new(),
            nodes,
            routes,
            entry_routes,
            senders,
            stats,
        }
    }

    /// Sends a whole batch along one route.
    fn deliver(
        &mut self,
        route: Route,
        batch: &mut Vec<Value>,
        out: &mut Vec<OutputBatch>,
    ) -> Result<()> {
        match route {
            Route::Node(k) => self.run_node(k, batch, out),
            Route::Send(s) => self.senders[s].emit_all(batch),
            Route::Output(output) => {
                // The whole batch changes hands: no per-item copy or tag.
                let values = std::mem::take(batch);
                out.push(OutputBatch { output, values });
                Ok(())
            }
        }
    }

    /// Sends a batch to every route (a copy per extra route: `Value` clones share payloads).
    fn fan_out(
        &mut self,
        routes_of: Option<usize>,
        batch: &mut Vec<Value>,
        out: &mut Vec<OutputBatch>,
    ) -> Result<()> {
        // Nothing to route: most flushes and finishes emit nothing, and passing their empty
        // batches on would run every later node once more for each earlier one.
        if batch.is_empty() {
            return Ok(());
        }
        // Routes are fixed once built: read by index (they are `Copy`), so delivering, which needs
        // the whole stage, never has to take the list out and put it back.
        let Some(last) = self.routes(routes_of).len().checked_sub(1) else {
            batch.clear();
            return Ok(());
        };
        for r in 0..last {
            let route = self.routes(routes_of)[r];
            let mut copy = batch.clone();
            self.deliver(route, &mut copy, out)?;
        }
        let route = self.routes(routes_of)[last];
        self.deliver(route, batch, out)
    }

    /// The routes out of node `k`, or of the stage's entry.
    fn routes(&self, routes_of: Option<usize>) -> &[Route] {
        match routes_of {
            Some(k) => &self.routes[self.nodes[k].routes.clone()],
            None => &self.routes[..self.entry_routes],
        }
    }

    /// Runs node `k` over a batch, then sends its outputs on.
    fn run_node(
        &mut self,
        k: usize,
        batch: &mut Vec<Value>,
        out: &mut Vec<OutputBatch>,
    ) -> Result<()> {
        let mut buffer = std::mem::take(&mut self.scratch[k]);
        let node = &mut self.nodes[k];
        let site = PanicSite::enter(&node.id);
        let outcome = match &self.stats {
            None => node.node.process_batch(batch, &mut buffer),
            Some(stats) => {
                let (items, started) = (batch.len(), Instant::now());
                let outcome = node.node.process_batch(batch, &mut buffer);
                stats[node.graph_index].record(items as u64, buffer.len(), started.elapsed());
                outcome
            }
        };
        site.leave();
        if let Err(err) = outcome {
            // Attributed here, on the failure path only: no per-item cost for the node id.
            return Err(err.in_node(&node.id));
        }
        let routed = self.route_and_resume(k, &mut buffer, out);
        buffer.clear();
        self.scratch[k] = buffer;
        routed
    }

    /// Routes what node `k` pushed onto `buffer`, then lets the node go on with anything it left
    /// pending ([`DynNode::resume`]), routing each piece as it comes.
    fn route_and_resume(
        &mut self,
        k: usize,
        buffer: &mut Vec<Value>,
        out: &mut Vec<OutputBatch>,
    ) -> Result<()> {
        loop {
            self.fan_out(Some(k), buffer, out)?;
            buffer.clear();
            let node = &mut self.nodes[k];
            let site = PanicSite::enter(&node.id);
            let pending = node.node.resume(buffer);
            site.leave();
            match pending {
                Ok(true) => {}
                Ok(false) if buffer.is_empty() => return Ok(()),
                Ok(false) => return self.fan_out(Some(k), buffer, out),
                Err(err) => return Err(err.in_node(&node.id)),
            }
        }
    }
}

/// What a stage is ending: a batch (flush) or the stream (finish).
#[derive(Clone, Copy)]
enum EndOf {
    Batch,
    Stream,
}

impl DynStage {
    /// Flushes or finishes node `k`, routing what it emits.
    fn end_node(&mut self, k: usize, end: EndOf, out: &mut Vec<OutputBatch>) -> Result<()> {
        let mut buffer = std::mem::take(&mut self.scratch[k]);
        let node = &mut self.nodes[k];
        let started = self.stats.as_ref().map(|_| Instant::now());
        let site = PanicSite::enter(&node.id);
        let outcome = match end {
            EndOf::Batch => node.node.flush(&mut buffer),
            EndOf::Stream => node.node.finish(&mut buffer),
        };
        site.leave();
        if let (Some(stats), Some(started)) = (&self.stats, started) {
            stats[node.graph_index].record(0, buffer.len(), started.elapsed());
        }
        if let Err(err) = outcome {
            return Err(err.in_node(&node.id));
        }
        self.route_and_resume(k, &mut buffer, out)?;
        buffer.clear();
        self.scratch[k] = buffer;
        Ok(())
    }
}

impl Stage for DynStage {
    type Input = Value;
    type Output = OutputBatch;

    fn initialize(&mut self) -> Result<()> {
        for k in 0..self.nodes.len() {
            let node = &mut self.nodes[k];
            let ctx = NodeContext::new(&node.id, node.params.value());
            if let Err(err) = node.node.initialize(&ctx) {
                let err = err.in_node(&node.id);
                for earlier in &mut self.nodes[..k] {
                    let _ = earlier.node.cleanup();
                }
                return Err(err);
            }
        }
        Ok(())
    }

    fn push(&mut self, item: Value, out: &mut Vec<OutputBatch>) -> Result<()> {
        let mut one = std::mem::take(&mut self.single);
        one.push(item);
        let outcome = self.push_batch(&mut one, out);
        one.clear();
        self.single = one;
        outcome
    }

    fn outputs_hint(&self, _items: usize) -> usize {
        // One entry per output batch, not per item: a few for a typical run.
        4
    }

    fn push_batch(&mut self, items: &mut Vec<Value>, out: &mut Vec<OutputBatch>) -> Result<()> {
        self.fan_out(None, items, out)
    }

    fn flush(&mut self, out: &mut Vec<OutputBatch>) -> Result<()> {
        for k in 0..self.nodes.len() {
            self.end_node(k, EndOf::Batch, out)?;
        }
        self.senders.iter_mut().try_for_each(BatchSender::flush)
    }

    fn finish(&mut self, out: &mut Vec<OutputBatch>) -> Result<()> {
        for k in 0..self.nodes.len() {
            self.end_node(k, EndOf::Stream, out)?;
        }
        self.senders.iter_mut().try_for_each(BatchSender::finish)
    }

    fn disconnect(&mut self) {
        self.senders.iter_mut().for_each(BatchSender::disconnect);
    }

    fn cleanup(&mut self) -> Result<()> {
        let mut first = None;
        for node in &mut self.nodes {
            if let Err(err) = node.node.cleanup() {
                first.get_or_insert(err.in_node(&node.id));
            }
        }
        first.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamic::{build, BuildOptions, Registry};
    use crate::graph::PortType;
    use std::sync::Mutex;

    /// Passes items on, recording the size of every batch it is given.
    struct Probe(Arc<Mutex<Vec<usize>>>);

    impl DynNode for Probe {
        fn process(&mut self, item: Value, out: &mut Vec<Value>) -> Result<()> {
            out.push(item);
            Ok(())
        }

        fn process_batch(&mut self, items: &mut Vec<Value>, out: &mut Vec<Value>) -> Result<()> {
            self.0.lock().unwrap().push(items.len());
            out.append(items);
            Ok(())
        }
    }

    #[test]
    fn ending_a_stream_runs_no_node_on_an_empty_batch() {
        let batches = Arc::new(Mutex::new(Vec::new()));
        let mut registry = Registry::new();
        let seen = Arc::clone(&batches);
        registry.register_dyn(
            "Probe",
            PortType::Any,
            PortType::Any,
            Vec::new(),
            move |_| Ok(Box::new(Probe(Arc::clone(&seen))) as Box<dyn DynNode>),
        );
        let nodes: Vec<String> = (0..5)
            .map(|i| format!(r#"{{"id": "p{i}", "node_type": "Probe"}}"#))
            .collect();
        let connections: Vec<String> = (1..5)
            .map(|i| format!(r#"{{"from": "p{}", "to": "p{i}"}}"#, i - 1))
            .collect();
        let text = format!(
            r#"{{"version": "v1", "metadata": {{"name": "chain"}}, "nodes": [{}], "connections": [{}]}}"#,
            nodes.join(","),
            connections.join(",")
        );
        let lowered = crate::manifest::load("chain.json", &text, &registry).unwrap();
        let mut pipeline = build(lowered, BuildOptions::default());
        let out = pipeline.run((0..3).map(Value::Int)).unwrap();
        assert_eq!(out.len(), 3);
        // One batch of three per node; finishing the stream sends nothing further down the chain.
        assert_eq!(*batches.lock().unwrap(), [3, 3, 3, 3, 3]);
    }
}
