//! A fused group of dynamic nodes: one [`Stage`] the shared runtime drives like a generated one.

use super::dyn_node::DynNode;
use super::stats::NodeStats;
use crate::error::Result;
use crate::node::{Emitter, NodeContext};
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
            nodes,
            entry,
            senders,
            stats,
        }
    }

    fn deliver(&mut self, route: Route, value: Value, out: &mut Vec<Tagged>) -> Result<()> {
        match route {
            Route::Node(k) => self.run_node(k, value, out),
            Route::Send(s) => self.senders[s].emit(value),
            Route::Output(output) => {
                out.push(Tagged { output, value });
                Ok(())
            }
        }
    }

    /// Sends each value to every route (a clone per extra route: `Value` clones share payloads).
    fn fan_out(
        &mut self,
        routes_of: Option<usize>,
        values: &mut Vec<Value>,
        out: &mut Vec<Tagged>,
    ) -> Result<()> {
        let count = match routes_of {
            Some(k) => self.nodes[k].routes.len(),
            None => self.entry.len(),
        };
        let route = |stage: &Self, r: usize| match routes_of {
            Some(k) => stage.nodes[k].routes[r],
            None => stage.entry[r],
        };
        if count == 0 {
            values.clear();
            return Ok(());
        }
        for value in values.drain(..) {
            for r in 0..count - 1 {
                self.deliver(route(self, r), value.clone(), out)?;
            }
            self.deliver(route(self, count - 1), value, out)?;
        }
        Ok(())
    }

    fn run_node(&mut self, k: usize, item: Value, out: &mut Vec<Tagged>) -> Result<()> {
        let mut buffer = std::mem::take(&mut self.scratch[k]);
        let node = &mut self.nodes[k];
        let site = PanicSite::enter(&node.id);
        let outcome = match &self.stats {
            None => node.node.process(item, &mut buffer),
            Some(stats) => {
                let started = Instant::now();
                let outcome = node.node.process(item, &mut buffer);
                stats[node.graph_index].record(1, buffer.len(), started.elapsed());
                outcome
            }
        };
        site.leave();
        let id = node.id.clone();
        outcome.map_err(|e| e.in_node(&id))?;
        let routed = self.fan_out(Some(k), &mut buffer, out);
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
        let id = node.id.clone();
        outcome.map_err(|e| e.in_node(&id))?;
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

    #[inline]
    fn push(&mut self, item: Value, out: &mut Vec<Tagged>) -> Result<()> {
        if let [route] = self.entry[..] {
            return self.deliver(route, item, out);
        }
        let mut one = vec![item];
        self.fan_out(None, &mut one, out)
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
