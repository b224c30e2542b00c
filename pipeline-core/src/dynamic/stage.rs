//! A fused group of dynamic nodes: one [`Stage`] the shared runtime drives like a generated one.

use super::dyn_node::DynNode;
use super::stats::NodeStats;
use crate::error::Result;
use crate::node::NodeContext;
use crate::runtime::{BatchSender, PanicSite, Stage};
use crate::value::Value;
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
    pub params: Value,
    pub routes: Vec<Route>,
    /// Index in the whole graph, for stats.
    pub graph_index: usize,
}

/// A stage of a dynamic graph: its nodes in topological order, the routes between them, and the
/// senders to later stages.
pub struct DynStage {
    nodes: Vec<StageNode>,
    entry: Vec<Route>,
    senders: Vec<BatchSender<Value>>,
    /// One reusable output buffer per node.
    scratch: Vec<Vec<Value>>,
    /// Reusable one-item batch for item-by-item pushes (streaming handles).
    single: Vec<Value>,
    stats: Option<Arc<[NodeStats]>>,
}

impl DynStage {
    pub(crate) fn new(
        nodes: Vec<StageNode>,
        entry: Vec<Route>,
        senders: Vec<BatchSender<Value>>,
        stats: Option<Arc<[NodeStats]>>,
    ) -> DynStage {
        DynStage {
            scratch: nodes.iter().map(|_| Vec::new()).collect(),
            single: Vec::with_capacity(1),
            nodes,
            entry,
            senders,
            stats,
        }
    }

    /// Sends a whole batch along one route.
    fn deliver(
        &mut self,
        route: Route,
        batch: &mut Vec<Value>,
        out: &mut Vec<Tagged>,
    ) -> Result<()> {
        match route {
            Route::Node(k) => self.run_node(k, batch, out),
            Route::Send(s) => self.senders[s].emit_all(batch),
            Route::Output(output) => {
                out.extend(batch.drain(..).map(|value| Tagged { output, value }));
                Ok(())
            }
        }
    }

    /// Sends a batch to every route (a copy per extra route: `Value` clones share payloads).
    fn fan_out(
        &mut self,
        routes_of: Option<usize>,
        batch: &mut Vec<Value>,
        out: &mut Vec<Tagged>,
    ) -> Result<()> {
        let routes = match routes_of {
            Some(k) => std::mem::take(&mut self.nodes[k].routes),
            None => std::mem::take(&mut self.entry),
        };
        let outcome = (|| {
            let Some((last, others)) = routes.split_last() else {
                batch.clear();
                return Ok(());
            };
            for &route in others {
                let mut copy = batch.clone();
                self.deliver(route, &mut copy, out)?;
            }
            self.deliver(*last, batch, out)
        })();
        match routes_of {
            Some(k) => self.nodes[k].routes = routes,
            None => self.entry = routes,
        }
        outcome
    }

    /// Runs node `k` over a batch, then sends its outputs on.
    fn run_node(&mut self, k: usize, batch: &mut Vec<Value>, out: &mut Vec<Tagged>) -> Result<()> {
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
        let routed = self.fan_out(Some(k), &mut buffer, out);
        buffer.clear();
        self.scratch[k] = buffer;
        routed
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
    fn end_node(&mut self, k: usize, end: EndOf, out: &mut Vec<Tagged>) -> Result<()> {
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
        self.fan_out(Some(k), &mut buffer, out)?;
        self.scratch[k] = buffer;
        Ok(())
    }
}

impl Stage for DynStage {
    type Input = Value;
    type Output = Tagged;

    fn initialize(&mut self) -> Result<()> {
        for k in 0..self.nodes.len() {
            let node = &mut self.nodes[k];
            let ctx = NodeContext::new(&node.id, &node.params);
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

    fn push(&mut self, item: Value, out: &mut Vec<Tagged>) -> Result<()> {
        let mut one = std::mem::take(&mut self.single);
        one.push(item);
        let outcome = self.push_batch(&mut one, out);
        one.clear();
        self.single = one;
        outcome
    }

    fn push_batch(&mut self, items: &mut Vec<Value>, out: &mut Vec<Tagged>) -> Result<()> {
        self.fan_out(None, items, out)
    }

    fn flush(&mut self, out: &mut Vec<Tagged>) -> Result<()> {
        for k in 0..self.nodes.len() {
            self.end_node(k, EndOf::Batch, out)?;
        }
        self.senders.iter_mut().try_for_each(BatchSender::flush)
    }

    fn finish(&mut self, out: &mut Vec<Tagged>) -> Result<()> {
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
