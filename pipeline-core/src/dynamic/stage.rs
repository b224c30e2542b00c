//! A fused group of dynamic nodes: one [`Stage`] the shared runtime drives like a generated one.

use super::dyn_node::DynNode;
use super::output_spares::OutputSpares;
use super::params::NodeParams;
use super::stats::NodeStats;
use crate::error::{earlier, Error, Result};
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
/// let batch = OutputBatch { output: 1, values: vec![Value::Int(7)], origins: vec![0] };
/// let tagged: Vec<Tagged> = batch.into_tagged().collect();
/// assert_eq!(tagged, [Tagged { output: 1, value: Value::Int(7) }]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OutputBatch {
    /// Index of the output.
    pub output: usize,
    /// The items, in order.
    pub values: Vec<Value>,
    /// For each item, the index of the input item it derives from (`u64::MAX` for what `finish`
    /// made from the whole stream): after a failure, the runtime keeps only the outputs of the
    /// input items before the failing one.
    pub origins: Vec<u64>,
}

impl OutputBatch {
    /// The batch's items, each tagged with the output.
    pub fn into_tagged(self) -> impl Iterator<Item = Tagged> {
        let output = self.output;
        self.values
            .into_iter()
            .map(move |value| Tagged { output, value })
    }

    /// Keeps only the items derived from input items before `cut`.
    fn retain_before(&mut self, cut: u64) {
        if self.origins.iter().all(|&origin| origin < cut) {
            return;
        }
        let mut origins = self.origins.iter();
        self.values
            .retain(|_| origins.next().is_some_and(|&origin| origin < cut));
        self.origins.retain(|&origin| origin < cut);
    }
}

/// The origin of outputs `finish` makes from the whole stream: after every input item, so a
/// failed run never hands them on.
const END_OF_STREAM: u64 = u64::MAX;

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
    pub id: crate::graph::Name,
    pub node: Box<dyn DynNode>,
    pub params: NodeParams,
    /// Where its items go: a range of the stage's routes.
    pub routes: Range<usize>,
    /// For a node with ports, the routes of each port (within `routes`); empty for one output.
    pub ports: Vec<Range<usize>>,
    /// For a node with ports, a reused buffer of items and origins per port.
    pub port_parts: Vec<(Vec<Value>, Vec<u64>)>,
    /// Index in the whole graph, for stats.
    pub graph_index: usize,
    /// A reusable output buffer: kept with the node rather than in lists of their own, which
    /// cost three allocations a stage to build, and three to free (callgrind: ~500 instructions
    /// for the benchmark's 10-node manifest).
    pub scratch: Vec<Value>,
    /// The origins of what `scratch` holds.
    pub scratch_origins: Vec<u64>,
    /// The origin of the last item the node was given: what it flushes is attributed to it.
    pub latest: u64,
}

impl StageNode {
    /// `node`, known as `id` (graph node `graph_index`), sending its items along `routes`
    /// (grouped by port in `ports` for a node with ports).
    pub(crate) fn new(
        id: crate::graph::Name,
        node: Box<dyn DynNode>,
        params: NodeParams,
        routes: Range<usize>,
        ports: Vec<Range<usize>>,
        graph_index: usize,
    ) -> StageNode {
        StageNode {
            id,
            node,
            params,
            routes,
            ports,
            port_parts: Vec::new(),
            graph_index,
            scratch: Vec::new(),
            scratch_origins: Vec::new(),
            latest: 0,
        }
    }
}

/// A batch moving through a stage: items and, for each, the input item it derives from.
struct Traced<'a> {
    items: &'a mut Vec<Value>,
    origins: &'a mut Vec<u64>,
}

impl Traced<'_> {
    /// Drops the items derived from input items at or after `cut`.
    fn retain_before(&mut self, cut: u64) {
        let mut origins = self.origins.iter();
        self.items
            .retain(|_| origins.next().is_some_and(|&origin| origin < cut));
        self.origins.retain(|&origin| origin < cut);
    }

    fn clear(&mut self) {
        self.items.clear();
        self.origins.clear();
    }
}

/// Work a stage left pending to keep memory bounded, resumed piece by piece
/// ([`Stage::resume`]). A stage holds a stack of these, innermost last: each entry is the rest of
/// the work of the entry below it.
enum Pending {
    /// Node `k` has more to give ([`DynNode::resume`]).
    Node {
        k: usize,
        /// The earliest input item what is still to come derives from.
        from: u64,
    },
    /// A `finish` that has still to end nodes `next..`, then the senders.
    Finishing { next: usize },
}

impl Pending {
    /// The earliest input item the pending work derives from.
    fn from(&self) -> u64 {
        match self {
            Pending::Node { from, .. } => *from,
            Pending::Finishing { .. } => END_OF_STREAM,
        }
    }
}

/// A stage of a dynamic graph: its nodes in topological order, the routes between them, and the
/// senders to later stages.
///
/// Every item carries its origin, the index of the input item it derives from, through the
/// stage's nodes ([`DynNode::process_batch_traced`]) and across stage boundaries
/// ([`Message::Traced`](crate::runtime::Message::Traced)), so a failure names the input item it
/// came from and the runtime can hand on exactly the outputs of the items before it.
pub struct DynStage {
    nodes: Vec<StageNode>,
    /// Every route of the stage in one list: the entry's first (`..entry_routes`), then each
    /// node's, in the range the node holds.
    routes: Vec<Route>,
    entry_routes: usize,
    senders: Vec<BatchSender<Value>>,
    /// Reusable origins of the items entering stage 0.
    entry_origins: Vec<u64>,
    /// The origin the next untraced item entering the stage gets.
    next_origin: u64,
    /// Reusable one-item batch for item-by-item pushes (streaming handles); allocated by the first
    /// push, so a pipeline that is only ever run never pays for it.
    single: Vec<Value>,
    stats: Option<Arc<[NodeStats]>>,
    /// Work left pending by a generator, innermost last (see [`Pending`]).
    pending: Vec<Pending>,
    /// Reused ports of what a node with ports pushed ([`DynNode::take_ports`]).
    port_tags: Vec<usize>,
    /// Output buffers the caller has written and given back.
    output_spares: OutputSpares,
}

impl DynStage {
    pub(crate) fn new(
        nodes: Vec<StageNode>,
        routes: Vec<Route>,
        entry_routes: usize,
        senders: Vec<BatchSender<Value>>,
        stats: Option<Arc<[NodeStats]>>,
        output_spares: OutputSpares,
    ) -> DynStage {
        DynStage {
            entry_origins: Vec::new(),
            next_origin: 0,
            single: Vec::new(),
            nodes,
            routes,
            entry_routes,
            senders,
            stats,
            pending: Vec::new(),
            port_tags: Vec::new(),
            output_spares,
        }
    }

    /// Sends a whole batch along one route. `tail`: nothing of the call is left to do after
    /// this delivery, so a node that has more to give may leave it pending (see [`Pending`]).
    fn deliver(
        &mut self,
        route: Route,
        batch: Traced<'_>,
        out: &mut Vec<OutputBatch>,
        tail: bool,
    ) -> Result<()> {
        match route {
            Route::Node(k) => self.run_node(k, batch, out, tail),
            Route::Send(s) => self.senders[s].emit_all_traced(batch.items, batch.origins),
            Route::Output(output) => {
                // The whole batch changes hands: no per-item copy or tag. Buffers the caller
                // gave back take its place.
                let batch = self.output_spares.take(output, batch.items, batch.origins);
                out.push(batch);
                Ok(())
            }
        }
    }

    /// Sends a batch to every route (a copy per extra route: `Value` clones share payloads).
    ///
    /// When a route fails on an item, the routes after it still get the items before that one,
    /// as they would have item by item; the earliest failure is returned.
    ///
    /// `tail` (see [`deliver`](Self::deliver)) holds for the last route only, and only while no
    /// route has failed: the items before a failure are processed to the end at once.
    fn fan_out(
        &mut self,
        routes: Range<usize>,
        mut batch: Traced<'_>,
        out: &mut Vec<OutputBatch>,
        tail: bool,
    ) -> Result<()> {
        // Nothing to route: most flushes and finishes emit nothing, and passing their empty
        // batches on would run every later node once more for each earlier one.
        if batch.items.is_empty() {
            return Ok(());
        }
        // Routes are fixed once built: read by index (they are `Copy`), so delivering, which needs
        // the whole stage, never has to take the list out and put it back.
        let Some(last) = routes.len().checked_sub(1) else {
            batch.clear();
            return Ok(());
        };
        let mut failure: Option<Error> = None;
        for r in 0..=last {
            if let Some(failed) = &failure {
                match failed.failed_item() {
                    Some(cut) => batch.retain_before(cut),
                    None => break,
                }
                if batch.items.is_empty() {
                    break;
                }
            }
            let route = self.routes[routes.start + r];
            let delivered = if r < last {
                let (mut items, mut origins) = (batch.items.clone(), batch.origins.clone());
                let copy = Traced {
                    items: &mut items,
                    origins: &mut origins,
                };
                self.deliver(route, copy, out, false)
            } else {
                let whole = Traced {
                    items: &mut *batch.items,
                    origins: &mut *batch.origins,
                };
                self.deliver(route, whole, out, tail && failure.is_none())
            };
            if let Err(err) = delivered {
                failure = Some(earlier(failure, err));
            }
        }
        batch.clear();
        failure.map_or(Ok(()), Err)
    }

    /// Sends what node `k` pushed (`batch`, all of it from its last call) along its edges: for a
    /// node with ports, each item along the edges of the port it leaves by.
    fn hand_on(
        &mut self,
        k: usize,
        batch: Traced<'_>,
        out: &mut Vec<OutputBatch>,
        tail: bool,
    ) -> Result<()> {
        if self.nodes[k].ports.is_empty() {
            let routes = self.nodes[k].routes.clone();
            return self.fan_out(routes, batch, out, tail);
        }
        self.hand_on_by_port(k, batch, out, tail)
    }

    /// [`hand_on`](Self::hand_on) for a node with ports: the batch is split by port (order kept
    /// within each port), and each port's part goes to that port's routes, ports in declaration
    /// order. Items of a port no edge leaves are dropped. As in [`fan_out`](Self::fan_out), after
    /// a failure the later ports still get the items before the failing one.
    fn hand_on_by_port(
        &mut self,
        k: usize,
        mut batch: Traced<'_>,
        out: &mut Vec<OutputBatch>,
        tail: bool,
    ) -> Result<()> {
        let mut tags = std::mem::take(&mut self.port_tags);
        let node = &mut self.nodes[k];
        node.node.take_ports(&mut tags);
        let port_count = node.ports.len();
        if tags.len() != batch.items.len() || tags.iter().any(|&port| port >= port_count) {
            let err = Error::msg(format_args!(
                "the node named {} ports for {} outputs (of {port_count} ports): a node with \
                 ports must name a port for each output it pushes",
                tags.len(),
                batch.items.len()
            ))
            .in_node(&node.id);
            tags.clear();
            self.port_tags = tags;
            batch.clear();
            return Err(err);
        }
        let mut parts = std::mem::take(&mut node.port_parts);
        parts.resize_with(port_count, Default::default);
        let items = batch.items.drain(..).zip(batch.origins.drain(..));
        for ((item, origin), &port) in items.zip(&tags) {
            if !node.ports[port].is_empty() {
                parts[port].0.push(item);
                parts[port].1.push(origin);
            }
        }
        tags.clear();
        self.port_tags = tags;
        let last = parts.iter().rposition(|(items, _)| !items.is_empty());
        let mut failure: Option<Error> = None;
        for (port, (items, origins)) in parts.iter_mut().enumerate() {
            let mut part = Traced { items, origins };
            if let Some(failed) = &failure {
                match failed.failed_item() {
                    Some(cut) => part.retain_before(cut),
                    None => part.clear(),
                }
            }
            if part.items.is_empty() {
                continue;
            }
            let routes = self.nodes[k].ports[port].clone();
            let tail = tail && failure.is_none() && Some(port) == last;
            if let Err(err) = self.fan_out(routes, part, out, tail) {
                failure = Some(earlier(failure, err));
            }
        }
        parts.iter_mut().for_each(|(items, origins)| {
            items.clear();
            origins.clear();
        });
        self.nodes[k].port_parts = parts;
        failure.map_or(Ok(()), Err)
    }

    /// Node `k`'s reused output and origin buffers, empty (see [`give_back_scratch`]).
    ///
    /// [`give_back_scratch`]: Self::give_back_scratch
    fn take_scratch(&mut self, k: usize) -> (Vec<Value>, Vec<u64>) {
        (
            std::mem::take(&mut self.nodes[k].scratch),
            std::mem::take(&mut self.nodes[k].scratch_origins),
        )
    }

    /// Returns node `k`'s buffers, cleared, for its next call (they keep their capacity).
    fn give_back_scratch(&mut self, k: usize, mut buffer: Vec<Value>, mut origins: Vec<u64>) {
        buffer.clear();
        origins.clear();
        self.nodes[k].scratch = buffer;
        self.nodes[k].scratch_origins = origins;
    }

    /// Runs node `k` over a batch, then sends its outputs on: on failure, the outputs of the
    /// items before the failing one.
    fn run_node(
        &mut self,
        k: usize,
        batch: Traced<'_>,
        out: &mut Vec<OutputBatch>,
        tail: bool,
    ) -> Result<()> {
        let (mut buffer, mut origins) = self.take_scratch(k);
        if let Some(&latest) = batch.origins.last() {
            self.nodes[k].latest = latest;
        }
        let first = batch
            .origins
            .first()
            .copied()
            .unwrap_or(self.nodes[k].latest);
        let node = &mut self.nodes[k];
        let site = PanicSite::enter(&node.id);
        let (items, item_origins) = (batch.items, &mut *batch.origins);
        let outcome = match &self.stats {
            None => node
                .node
                .process_batch_traced(items, item_origins, &mut buffer, &mut origins),
            Some(stats) => {
                let (count, started) = (items.len(), Instant::now());
                let outcome =
                    node.node
                        .process_batch_traced(items, item_origins, &mut buffer, &mut origins);
                stats[node.graph_index].record(count as u64, buffer.len(), started.elapsed());
                outcome
            }
        };
        site.leave();
        items.clear();
        batch.origins.clear();
        let routed = match outcome {
            Ok(()) => self.route_and_resume(k, &mut buffer, &mut origins, out, tail, first),
            // Attributed here, on the failure path only: no per-item cost for the node id.
            Err(err) => {
                let err = err.in_node(&self.nodes[k].id);
                let routed = self.hand_on(
                    k,
                    Traced {
                        items: &mut buffer,
                        origins: &mut origins,
                    },
                    out,
                    false,
                );
                Err(match routed {
                    Ok(()) => err,
                    Err(later) => earlier(Some(err), later),
                })
            }
        };
        self.give_back_scratch(k, buffer, origins);
        routed
    }

    /// Routes what node `k` pushed onto `buffer`, then lets the node go on with anything it left
    /// pending ([`DynNode::resume_traced`]), routing each piece as it comes. In `tail` position
    /// the rest is left pending for [`Stage::resume`] instead (see [`continue_node`]); `from` is
    /// the earliest input item the node's outputs can derive from.
    ///
    /// [`continue_node`]: Self::continue_node
    fn route_and_resume(
        &mut self,
        k: usize,
        buffer: &mut Vec<Value>,
        origins: &mut Vec<u64>,
        out: &mut Vec<OutputBatch>,
        tail: bool,
        from: u64,
    ) -> Result<()> {
        if tail {
            let more = self.nodes[k].node.may_resume();
            return self.continue_node(k, buffer, origins, more, from, out);
        }
        loop {
            let batch = Traced {
                items: buffer,
                origins,
            };
            self.hand_on(k, batch, out, false)?;
            buffer.clear();
            origins.clear();
            let latest = self.nodes[k].latest;
            let node = &mut self.nodes[k];
            let site = PanicSite::enter(&node.id);
            let pending = node.node.resume_traced(buffer, origins, latest);
            site.leave();
            match pending {
                Ok(true) => {}
                Ok(false) if buffer.is_empty() => return Ok(()),
                Ok(false) => {
                    let batch = Traced {
                        items: buffer,
                        origins,
                    };
                    return self.hand_on(k, batch, out, false);
                }
                Err(err) => {
                    // What the node pushed before it failed still goes on, as in `run_node`.
                    let err = err.in_node(&node.id).with_failed_item(latest);
                    let batch = Traced {
                        items: buffer,
                        origins,
                    };
                    return Err(match self.hand_on(k, batch, out, false) {
                        Ok(()) => err,
                        Err(later) => earlier(Some(err), later),
                    });
                }
            }
        }
    }
}

impl DynStage {
    /// Node `k` gave `piece` (not routed yet) and, if `more`, has more to give: leaves the rest
    /// pending, then routes the piece in tail position, so what it makes downstream may be left
    /// pending in turn, above it. The node is resumed on a later turn, after the piece has left:
    /// resuming it now would hold the piece until the next one came (a slow generator's).
    fn continue_node(
        &mut self,
        k: usize,
        piece: &mut Vec<Value>,
        piece_origins: &mut Vec<u64>,
        more: bool,
        from: u64,
        out: &mut Vec<OutputBatch>,
    ) -> Result<()> {
        if more {
            let from = piece_origins.last().copied().unwrap_or(from);
            self.pending.push(Pending::Node { k, from });
        }
        let piece = Traced {
            items: piece,
            origins: piece_origins,
        };
        self.hand_on(k, piece, out, true)
    }

    /// Resumes node `k` for its next piece and hands it on (see [`continue_node`]).
    ///
    /// [`continue_node`]: Self::continue_node
    fn resume_node(&mut self, k: usize, from: u64, out: &mut Vec<OutputBatch>) -> Result<()> {
        let (mut piece, mut origins) = self.take_scratch(k);
        let latest = self.nodes[k].latest;
        let node = &mut self.nodes[k];
        let site = PanicSite::enter(&node.id);
        let resumed = node.node.resume_traced(&mut piece, &mut origins, latest);
        site.leave();
        let outcome = match resumed {
            Ok(more) => self.continue_node(k, &mut piece, &mut origins, more, from, out),
            Err(err) => {
                // What the node gave before it failed still goes on, at once.
                let err = err.in_node(&self.nodes[k].id).with_failed_item(latest);
                let batch = Traced {
                    items: &mut piece,
                    origins: &mut origins,
                };
                Err(match self.hand_on(k, batch, out, false) {
                    Ok(()) => err,
                    Err(later) => earlier(Some(err), later),
                })
            }
        };
        self.give_back_scratch(k, piece, origins);
        outcome
    }

    /// One step of the pending work (see [`Stage::resume`]): one piece of the innermost node,
    /// or, while finishing, the nodes' `finish` up to the first that leaves work pending.
    fn resume_pending(&mut self, cut: u64, out: &mut Vec<OutputBatch>) -> Result<()> {
        while let Some(top) = self.pending.pop() {
            // What is below the innermost entry comes after it, from the same items or later.
            if cut != u64::MAX && top.from() >= cut {
                self.pending.clear();
                return Ok(());
            }
            match top {
                Pending::Node { k, from } => return self.resume_node(k, from, out),
                Pending::Finishing { next } if next < self.nodes.len() => {
                    self.pending.push(Pending::Finishing { next: next + 1 });
                    self.end_node(next, EndOf::Stream, out, true)?;
                }
                Pending::Finishing { .. } => {
                    self.next_origin = 0;
                    self.senders.iter_mut().try_for_each(BatchSender::finish)?;
                }
            }
            if matches!(self.pending.last(), Some(Pending::Node { .. })) {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Finishes whatever is pending at once: what a call does first, so a caller that never
    /// resumes still gets every output, in order.
    fn settle(&mut self, out: &mut Vec<OutputBatch>) -> Result<()> {
        while !self.pending.is_empty() {
            self.resume_pending(u64::MAX, out)?;
        }
        Ok(())
    }

    /// Drops the pending work (after a failure, whose error says what became of the rest).
    fn drop_pending(&mut self) {
        self.pending.clear();
    }

    /// Runs `call`; on failure nothing stays pending (the error ends what was in progress).
    fn unless_failed(
        &mut self,
        out: &mut Vec<OutputBatch>,
        call: impl FnOnce(&mut Self, &mut Vec<OutputBatch>) -> Result<()>,
    ) -> Result<()> {
        let outcome = call(self, out);
        if outcome.is_err() {
            self.drop_pending();
        }
        outcome
    }
}

/// What a stage is ending: a batch (flush) or the stream (finish).
#[derive(Clone, Copy)]
enum EndOf {
    Batch,
    Stream,
}

impl DynStage {
    /// Flushes or finishes node `k`, routing what it emits (`tail`: see
    /// [`deliver`](Self::deliver)).
    fn end_node(
        &mut self,
        k: usize,
        end: EndOf,
        out: &mut Vec<OutputBatch>,
        tail: bool,
    ) -> Result<()> {
        let (mut buffer, mut origins) = self.take_scratch(k);
        let latest = self.nodes[k].latest;
        let node = &mut self.nodes[k];
        let started = self.stats.as_ref().map(|_| Instant::now());
        let site = PanicSite::enter(&node.id);
        let outcome = match end {
            EndOf::Batch => node.node.flush_traced(&mut buffer, &mut origins, latest),
            EndOf::Stream => node
                .node
                .finish_traced(&mut buffer, &mut origins, END_OF_STREAM),
        };
        site.leave();
        if let (Some(stats), Some(started)) = (&self.stats, started) {
            stats[node.graph_index].record(0, buffer.len(), started.elapsed());
        }
        // Most flushes and finishes give nothing and leave nothing to resume: nothing to route,
        // whether or not in tail position (callgrind: ~250 instructions a node a run).
        if outcome.is_ok() && buffer.is_empty() && !self.nodes[k].node.may_resume() {
            self.give_back_scratch(k, buffer, origins);
            return Ok(());
        }
        let from = match end {
            EndOf::Batch => latest,
            EndOf::Stream => END_OF_STREAM,
        };
        let routed = match outcome {
            Ok(()) => self.route_and_resume(k, &mut buffer, &mut origins, out, tail, from),
            Err(err) => {
                let err = err.in_node(&self.nodes[k].id);
                let batch = Traced {
                    items: &mut buffer,
                    origins: &mut origins,
                };
                Err(earlier(self.hand_on(k, batch, out, false).err(), err))
            }
        };
        self.give_back_scratch(k, buffer, origins);
        routed
    }

    /// Pushes `items` with their origins through the stage.
    fn push_traced_batch(
        &mut self,
        items: &mut Vec<Value>,
        origins: &mut Vec<u64>,
        out: &mut Vec<OutputBatch>,
    ) -> Result<()> {
        self.unless_failed(out, |stage, out| {
            stage.settle(out)?;
            if let Some(&last) = origins.last() {
                stage.next_origin = stage.next_origin.max(last.saturating_add(1));
            }
            let entry = 0..stage.entry_routes;
            stage.fan_out(entry, Traced { items, origins }, out, true)
        })
    }
}

impl Stage for DynStage {
    type Input = Value;
    type Output = OutputBatch;

    fn initialize(&mut self) -> Result<()> {
        for k in 0..self.nodes.len() {
            let node = &mut self.nodes[k];
            let ctx = NodeContext::lazy(&node.id, &node.params);
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
        let origin = self.next_origin;
        self.push_at(origin, item, out)
    }

    fn push_at(&mut self, origin: u64, item: Value, out: &mut Vec<OutputBatch>) -> Result<()> {
        let mut one = std::mem::take(&mut self.single);
        let mut origins = std::mem::take(&mut self.entry_origins);
        one.push(item);
        origins.push(origin);
        let outcome = self.push_traced_batch(&mut one, &mut origins, out);
        one.clear();
        origins.clear();
        self.single = one;
        self.entry_origins = origins;
        outcome
    }

    fn outputs_hint(&self, _items: usize) -> usize {
        // One entry per output batch, not per item: a few for a typical run.
        4
    }

    fn push_batch(&mut self, items: &mut Vec<Value>, out: &mut Vec<OutputBatch>) -> Result<()> {
        let first = self.next_origin;
        self.push_batch_at(first, items, out)
    }

    fn push_batch_at(
        &mut self,
        first: u64,
        items: &mut Vec<Value>,
        out: &mut Vec<OutputBatch>,
    ) -> Result<()> {
        let mut origins = std::mem::take(&mut self.entry_origins);
        origins.clear();
        origins.extend(first..first + items.len() as u64);
        let outcome = self.push_traced_batch(items, &mut origins, out);
        origins.clear();
        self.entry_origins = origins;
        outcome
    }

    fn push_traced(
        &mut self,
        items: &mut Vec<Value>,
        origins: &mut Vec<u64>,
        out: &mut Vec<OutputBatch>,
    ) -> Result<()> {
        self.push_traced_batch(items, origins, out)
    }

    fn retain_before(outputs: &mut Vec<OutputBatch>, cut: u64) {
        outputs
            .iter_mut()
            .for_each(|batch| batch.retain_before(cut));
        outputs.retain(|batch| !batch.values.is_empty());
    }

    fn flush(&mut self, out: &mut Vec<OutputBatch>) -> Result<()> {
        self.unless_failed(out, Self::settle)?;
        // After a failure every node still hands on what it holds (the items before the failing
        // one a parallel node was holding back).
        let mut failure = None;
        for k in 0..self.nodes.len() {
            if let Err(err) = self.end_node(k, EndOf::Batch, out, false) {
                failure = Some(earlier(failure, err));
            }
        }
        for sender in &mut self.senders {
            if let Err(err) = sender.flush() {
                failure = Some(earlier(failure, err));
            }
        }
        failure.map_or(Ok(()), Err)
    }

    /// Ends the nodes in order; a node that has more to give than one piece (a generator) is
    /// left pending, and [`resume`](Stage::resume) goes on from there.
    fn finish(&mut self, out: &mut Vec<OutputBatch>) -> Result<()> {
        self.unless_failed(out, |stage, out| {
            stage.settle(out)?;
            stage.pending.push(Pending::Finishing { next: 0 });
            stage.resume_pending(u64::MAX, out)
        })
    }

    fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    fn resume(&mut self, cut: u64, out: &mut Vec<OutputBatch>) -> Result<()> {
        self.unless_failed(out, |stage, out| stage.resume_pending(cut, out))
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
    use crate::dynamic::{build, BuildOptions, DynamicPipeline, Registry};
    use crate::graph::PortType;
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    /// Passes items on, recording the size of every batch it is given.
    struct Probe(Arc<Mutex<Vec<usize>>>);

    impl DynNode for Probe {
        fn process(&mut self, item: Value, out: &mut Vec<Value>) -> Result<()> {
            out.push(item);
            Ok(())
        }

        fn process_batch_traced(
            &mut self,
            items: &mut Vec<Value>,
            item_origins: &mut Vec<u64>,
            out: &mut Vec<Value>,
            origins: &mut Vec<u64>,
        ) -> Result<()> {
            self.0.lock().unwrap().push(items.len());
            out.append(items);
            origins.extend_from_slice(item_origins);
            Ok(())
        }
    }

    /// For each item `x`, emits `x * 1000 + i` for `i` in `0..count` (without end when `count`
    /// is `None`), at most `piece` outputs per call, the rest left pending like a generator's;
    /// with `on_finish`, does the same for `9` at the end of the stream. Counts what it made.
    struct Spout {
        count: Option<i64>,
        piece: usize,
        on_finish: bool,
        made: Arc<AtomicUsize>,
        queue: VecDeque<(i64, u64)>,
        next: i64,
    }

    impl DynNode for Spout {
        fn process(&mut self, item: Value, out: &mut Vec<Value>) -> Result<()> {
            self.queue.push_back((item.as_int().unwrap(), 0));
            while self.resume(out)? {}
            Ok(())
        }

        fn process_batch_traced(
            &mut self,
            items: &mut Vec<Value>,
            item_origins: &mut Vec<u64>,
            out: &mut Vec<Value>,
            origins: &mut Vec<u64>,
        ) -> Result<()> {
            let items = items.drain(..).map(|item| item.as_int().unwrap());
            self.queue.extend(items.zip(item_origins.iter().copied()));
            self.resume_traced(out, origins, 0).map(drop)
        }

        fn finish_traced(
            &mut self,
            out: &mut Vec<Value>,
            origins: &mut Vec<u64>,
            end: u64,
        ) -> Result<()> {
            if self.on_finish {
                self.queue.push_back((9, end));
            }
            self.resume_traced(out, origins, end).map(drop)
        }

        fn resume_traced(
            &mut self,
            out: &mut Vec<Value>,
            origins: &mut Vec<u64>,
            _latest: u64,
        ) -> Result<bool> {
            for _ in 0..self.piece {
                let Some(&(x, origin)) = self.queue.front() else {
                    return Ok(false);
                };
                if Some(self.next) == self.count {
                    self.queue.pop_front();
                    self.next = 0;
                    continue;
                }
                out.push(Value::Int(x * 1000 + self.next));
                origins.push(origin);
                self.next += 1;
                self.made.fetch_add(1, Ordering::SeqCst);
            }
            Ok(!self.queue.is_empty())
        }

        fn resume(&mut self, out: &mut Vec<Value>) -> Result<bool> {
            self.resume_traced(out, &mut Vec::new(), 0)
        }

        /// What the stage stopped resuming is dropped (see [`DynNode::resume`]).
        fn flush(&mut self, _out: &mut Vec<Value>) -> Result<()> {
            self.queue.clear();
            self.next = 0;
            Ok(())
        }
    }

    /// A registry with `Endless` (pieces of 100), `Spout` (250 per item and at the end, pieces
    /// of 100) and `Triple` (3 per item, pieces of 2); `made` counts every output they make.
    fn spouts(made: &Arc<AtomicUsize>) -> Registry {
        let mut registry = Registry::with_builtins();
        for (name, count, piece, on_finish) in [
            ("Endless", None, 100, false),
            ("Spout", Some(250), 100, true),
            ("Triple", Some(3), 2, false),
        ] {
            let made = Arc::clone(made);
            registry.register_dyn(name, PortType::Any, PortType::Any, Vec::new(), move |_| {
                Ok(Box::new(Spout {
                    count,
                    piece,
                    on_finish,
                    made: Arc::clone(&made),
                    queue: VecDeque::new(),
                    next: 0,
                }) as Box<dyn DynNode>)
            });
        }
        registry
    }

    fn spout_pipeline(made: &Arc<AtomicUsize>, nodes: &str, connections: &str) -> DynamicPipeline {
        let text = format!(
            r#"{{"version": "v1", "metadata": {{"name": "spouts"}}, "nodes": [{nodes}], "connections": [{connections}]}}"#
        );
        let lowered = crate::manifest::load("spouts.json", &text, &spouts(made)).unwrap();
        build(lowered, BuildOptions::default())
    }

    #[test]
    fn an_endless_generator_on_the_callers_thread_hands_out_each_piece_as_it_comes() {
        let made = Arc::new(AtomicUsize::new(0));
        let mut p = spout_pipeline(&made, r#"{"id": "e", "node_type": "Endless"}"#, "");
        let mut stream = p.start().unwrap();
        stream.push(Value::Int(1)).unwrap();
        for i in 0..10_000 {
            let got = stream.try_next().unwrap().map(|t| t.value);
            assert_eq!(got, Some(Value::Int(1000 + i)));
        }
        // Made ahead of what was taken: at most the piece being handed out and the one held.
        let ahead = made.load(Ordering::SeqCst) - 10_000;
        assert!(ahead <= 200, "made {ahead} outputs ahead");
        drop(stream);
    }

    #[test]
    fn an_endless_generator_on_a_stage_thread_streams_through_next_and_stops_when_dropped() {
        let made = Arc::new(AtomicUsize::new(0));
        let node = r#"{"id": "e", "node_type": "Endless", "stage": true}"#;
        let mut p = spout_pipeline(&made, node, "");
        let mut stream = p.start().unwrap();
        stream.push(Value::Int(2)).unwrap();
        stream.close_input().unwrap();
        for i in 0..10_000 {
            let got = stream.next().unwrap().map(|t| t.value);
            assert_eq!(got, Some(Value::Int(2000 + i)));
        }
        // Bounded by the outputs channel (4 batches of one piece), the batch being sent, the
        // piece held and the batch being handed out.
        let ahead = made.load(Ordering::SeqCst) - 10_000;
        assert!(ahead <= 1000, "made {ahead} outputs ahead");
        // Dropping the stream stops the stage thread, which is still generating.
        drop(stream);
        assert!(p.start().is_err(), "a cancelled stream stops the pipeline");
    }

    /// What `Spout -> Triple` makes, in the order a run item by item makes it: for each item,
    /// each of its 250 outputs tripled, then the same for `9` at the end.
    fn spout_then_triple(items: &[i64]) -> Vec<Value> {
        let tripled =
            |x: i64| (0..250).flat_map(move |i| (0..3).map(move |j| (x * 1000 + i) * 1000 + j));
        items
            .iter()
            .chain([&9])
            .flat_map(|&x| tripled(x))
            .map(Value::Int)
            .collect()
    }

    #[test]
    fn pieces_left_pending_keep_the_order_of_a_run_item_by_item() {
        let made = Arc::new(AtomicUsize::new(0));
        let expected = spout_then_triple(&[1, 2, 3]);
        for (spout, triple) in [
            ("", ""),
            ("", r#", "stage": true"#),
            (r#", "stage": true"#, ""),
        ] {
            let nodes = format!(
                r#"{{"id": "s", "node_type": "Spout"{spout}}}, {{"id": "t", "node_type": "Triple"{triple}}}"#
            );
            let mut p = spout_pipeline(&made, &nodes, r#"{"from": "s", "to": "t"}"#);
            let items = || (1..=3).map(Value::Int);
            assert_eq!(
                p.run_values(items()).unwrap(),
                expected,
                "run {spout} {triple}"
            );
            let mut streamed = Vec::new();
            p.run_with(items(), |t| {
                streamed.push(t.value);
                Ok(())
            })
            .unwrap();
            assert_eq!(streamed, expected, "run_with {spout} {triple}");
            let mut stream = p.start().unwrap();
            let mut taken = Vec::new();
            for item in items() {
                stream.push(item).unwrap();
                while let Some(t) = stream.try_next().unwrap() {
                    taken.push(t.value);
                }
            }
            stream.close_input().unwrap();
            while let Some(t) = stream.next().unwrap() {
                taken.push(t.value);
            }
            assert_eq!(taken, expected, "stream {spout} {triple}");
            drop(stream);
            // A caller that never takes outputs until the end gets them all, in order.
            let mut stream = p.start().unwrap();
            items().for_each(|item| stream.push(item).unwrap());
            let values: Vec<Value> = stream
                .finish()
                .unwrap()
                .into_iter()
                .map(|t| t.value)
                .collect();
            assert_eq!(values, expected, "finish {spout} {triple}");
        }
    }

    #[test]
    fn a_failure_downstream_of_an_endless_generator_ends_the_stream_keeping_what_came_before() {
        // The calculator overflows on the generator's 302nd value (1301), in its fourth piece
        // (1300..1400): the error names item 0, the generator's pending rest is dropped, and the
        // outputs handed out before the failure was known stay out; the failing item's outputs
        // still held when it is known are cut with it. On the caller's thread that is exactly
        // the first three pieces; on a stage thread, whole batches of them, or none.
        let operand = i64::MAX - 1300;
        let expected: Vec<Value> = (1000..1300).map(|v| Value::Int(v + operand)).collect();
        for staged in ["", r#", "stage": true"#] {
            let made = Arc::new(AtomicUsize::new(0));
            let nodes = format!(
                r#"{{"id": "s", "node_type": "Endless"}},
                   {{"id": "f", "node_type": "CalculatorNode", "params": {{"operand": {operand}}}{staged}}}"#
            );
            let mut p = spout_pipeline(&made, &nodes, r#"{"from": "s", "to": "f"}"#);
            let mut stream = p.start().unwrap();
            stream.push(Value::Int(1)).unwrap();
            let mut taken = Vec::new();
            let err = loop {
                match stream.try_next() {
                    Ok(Some(t)) => taken.push(t.value),
                    Ok(None) => assert!(!staged.is_empty(), "an endless generator ran out"),
                    Err(err) => break err,
                }
            };
            while let Some(t) = stream.try_next().unwrap() {
                taken.push(t.value);
            }
            assert_eq!(err.failed_item(), Some(0), "{err}");
            assert!(err.to_string().contains("`f`"), "{err}");
            if staged.is_empty() {
                assert_eq!(taken, expected);
            } else {
                assert_eq!(taken, expected[..taken.len()], "staged");
            }
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

    /// A manifest over the built-ins (and `registry`'s extra types).
    fn manifest_pipeline(registry: &Registry, nodes: &str, connections: &str) -> DynamicPipeline {
        let text = format!(
            r#"{{"version": "v1", "metadata": {{"name": "ports"}}, "nodes": [{nodes}], "connections": [{connections}]}}"#
        );
        let lowered = crate::manifest::load("ports.json", &text, registry).unwrap();
        build(lowered, BuildOptions::default())
    }

    #[test]
    fn a_failure_behind_one_port_keeps_the_other_ports_items_before_it() {
        // Port `true` overflows on 4 (input item 3); port `false` still hands on 1 and 3, which
        // came before it, and nothing after.
        let operand = i64::MAX - 3;
        let nodes = format!(
            r#"{{"id": "split", "node_type": "Partition", "params": {{"op": "even"}}}},
               {{"id": "add", "node_type": "Calculator", "params": {{"operand": {operand}}}}}"#
        );
        let connections = r#"{"from": "input", "to": "split"}, {"from": "split.true", "to": "add"},
            {"from": "add", "to": "output.sums"}, {"from": "split.false", "to": "output.odds"}"#;
        let mut p = manifest_pipeline(&Registry::with_builtins(), &nodes, connections);
        let mut got = Vec::new();
        let err = p
            .run_with((1..=6).map(Value::Int), |t| {
                got.push((t.output, t.value));
                Ok(())
            })
            .unwrap_err();
        assert_eq!(err.failed_item(), Some(3), "{err}");
        assert!(err.to_string().contains("`add`"), "{err}");
        got.sort_by_key(|(output, _)| *output);
        assert_eq!(
            got,
            [
                (0, Value::Int(operand + 2)),
                (1, Value::Int(1)),
                (1, Value::Int(3))
            ]
        );
    }

    /// Says it has two ports but names a port for none of what it pushes.
    struct Mute(Vec<crate::graph::OutputPort>);

    impl DynNode for Mute {
        fn process(&mut self, item: Value, out: &mut Vec<Value>) -> Result<()> {
            out.push(item);
            Ok(())
        }

        fn ports(&self) -> &[crate::graph::OutputPort] {
            &self.0
        }
    }

    #[test]
    fn a_node_that_names_no_port_for_an_output_is_an_error_naming_it() {
        let mut registry = Registry::with_builtins();
        registry.register_dyn("Mute", PortType::Any, PortType::Any, Vec::new(), |_| {
            let port = |name| crate::graph::OutputPort::new(name, PortType::Any);
            Ok(Box::new(Mute(vec![port("a"), port("b")])) as Box<dyn DynNode>)
        });
        let mut p = manifest_pipeline(
            &registry,
            r#"{"id": "mute", "node_type": "Mute"}"#,
            r#"{"from": "input", "to": "mute"}, {"from": "mute.a", "to": "output"}"#,
        );
        let err = p.run_values([Value::Int(1)]).unwrap_err();
        assert_eq!(err.node(), Some("mute"));
        assert!(
            err.message().contains("named 0 ports for 1 outputs"),
            "{err}"
        );
    }

    #[test]
    fn a_generator_behind_a_port_hands_on_its_pieces_in_order() {
        // `Triple` behind port `true` leaves work pending (pieces of 2): every item still comes
        // out, in order, on the caller's thread and across a stage.
        let made = Arc::new(AtomicUsize::new(0));
        let registry = spouts(&made);
        for staged in ["", r#", "stage": true"#] {
            let nodes = format!(
                r#"{{"id": "split", "node_type": "Partition", "params": {{"op": "lt", "value": 3}}}},
                   {{"id": "t", "node_type": "Triple"{staged}}}"#
            );
            let connections = r#"{"from": "input", "to": "split"}, {"from": "split.true", "to": "t"},
                {"from": "t", "to": "output.tripled"}, {"from": "split.false", "to": "output.rest"}"#;
            let mut p = manifest_pipeline(&registry, &nodes, connections);
            let out = p.run((1..=4).map(Value::Int)).unwrap();
            let of = |output| -> Vec<i64> {
                out.iter()
                    .filter(|t| t.output == output)
                    .map(|t| t.value.as_int().unwrap())
                    .collect()
            };
            assert_eq!(of(0), [1000, 1001, 1002, 2000, 2001, 2002], "{staged}");
            assert_eq!(of(1), [3, 4], "{staged}");
        }
    }
}
