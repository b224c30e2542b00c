//! The worker side of a chain: consecutive isolated nodes of one stage share a worker process, and
//! a batch runs through all of them in one request, so a chain of `n` nodes costs one pipe round
//! trip per batch instead of `n` (the round trip, waking a sleeping process and being woken, is
//! most of an isolated node's overhead).
//!
//! Each node's call streams its outputs into a buffer that is handed to the next node in pieces
//! of [`PIECE`] outputs (so a node with `process_batch` still gets whole batches, and an endless
//! generator streams in bounded memory). Every output carries the index of the batch item it came
//! from, which is how the last node's outputs get their item ends, and how a failure anywhere in
//! the chain names its item: outputs of earlier items still go through the rest of the chain, the
//! failing item's and later ones do not.

use super::crash;
use crate::error::{Error, Result};
use crate::python::node::ItemSink;
use crate::python::PythonNode;
use crate::value::Value;

/// Outputs of one node handed to the next at a time.
pub(crate) const PIECE: usize = crate::python::node::OUTPUTS_PER_CALL;

/// The origin of `finish` outputs (they belong to no item of a batch).
pub(crate) const AFTER_THE_BATCH: u64 = u64::MAX;

/// Where the last node's outputs go, each with the index of the batch item it came from.
pub(crate) trait OriginSink {
    fn output(&mut self, value: Value, origin: u64) -> Result<()>;
    /// Every batch item before `origin` is done.
    fn ended_before(&mut self, origin: u64) -> Result<()>;
    /// Progress within a call (a heartbeat is sent when one is due).
    fn tick(&mut self) -> Result<()>;
}

/// A failure in the chain: the error, the chain position of the node that failed, and the batch
/// item it failed on ([`AFTER_THE_BATCH`] in `finish`).
#[derive(Debug)]
pub(crate) struct ChainFailure {
    pub(crate) error: Error,
    pub(crate) member: usize,
    pub(crate) origin: u64,
}

/// Runs `items` (with their `origins`) through `nodes[0]`, and what it makes through the rest.
/// `first_member` is `nodes[0]`'s position in the whole chain.
pub(crate) fn process(
    nodes: &mut [PythonNode],
    first_member: usize,
    items: Vec<Value>,
    origins: &[u64],
    sink: &mut dyn OriginSink,
) -> Result<(), ChainFailure> {
    let Some((node, rest)) = nodes.split_first_mut() else {
        return Ok(());
    };
    let mut hop = Hop::new(rest, first_member, origins, sink);
    crash::set_running(first_member);
    let outcome = node.process_each(items, &mut hop);
    hop.end(outcome)
}

/// Calls `finish` of every node that has one, in chain order, each one's outputs going through
/// the nodes after it.
pub(crate) fn finish(
    nodes: &mut [PythonNode],
    sink: &mut dyn OriginSink,
) -> Result<(), ChainFailure> {
    for member in 0..nodes.len() {
        let (node, rest) = nodes[member..]
            .split_first_mut()
            .expect("member is in range");
        if !node.has_finish() {
            continue;
        }
        let mut hop = Hop::new(rest, member, &[], sink);
        crash::set_running(member);
        let outcome = node.finish_each(&mut hop);
        hop.end(outcome)?;
    }
    Ok(())
}

/// The sink of one node's call: its outputs, tagged with their origins, to the next node in
/// pieces (or to the chain's sink from the last node).
struct Hop<'a> {
    rest: &'a mut [PythonNode],
    member: usize,
    /// The origins of the call's items; the item being worked on is `origins[done]`.
    origins: &'a [u64],
    done: usize,
    buffer: Vec<Value>,
    buffer_origins: Vec<u64>,
    sink: &'a mut dyn OriginSink,
    /// A node further down failed while this call was running (its error stopped the call).
    downstream: Option<ChainFailure>,
}

impl<'a> Hop<'a> {
    fn new(
        rest: &'a mut [PythonNode],
        member: usize,
        origins: &'a [u64],
        sink: &'a mut dyn OriginSink,
    ) -> Self {
        Hop {
            rest,
            member,
            origins,
            done: 0,
            buffer: Vec::new(),
            buffer_origins: Vec::new(),
            sink,
            downstream: None,
        }
    }

    fn current_origin(&self) -> u64 {
        self.origins
            .get(self.done)
            .or(self.origins.last())
            .copied()
            .unwrap_or(AFTER_THE_BATCH)
    }

    /// Runs the buffered outputs through the rest of the chain.
    fn pass_on(&mut self) -> Result<(), ChainFailure> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let items = std::mem::take(&mut self.buffer);
        let origins = std::mem::take(&mut self.buffer_origins);
        let outcome = process(self.rest, self.member + 1, items, &origins, self.sink);
        crash::set_running(self.member);
        outcome
    }

    /// After the node's call: what is buffered goes on; on the node's failure, only what came
    /// from items before the failing one.
    fn end(mut self, outcome: Result<()>) -> Result<(), ChainFailure> {
        if let Some(failure) = self.downstream.take() {
            return Err(failure);
        }
        match outcome {
            Ok(()) => self.pass_on(),
            Err(error) => {
                let origin = self.current_origin();
                if origin != AFTER_THE_BATCH {
                    let keep = self.buffer_origins.partition_point(|&o| o < origin);
                    self.buffer.truncate(keep);
                    self.buffer_origins.truncate(keep);
                }
                self.pass_on()?;
                Err(ChainFailure {
                    error,
                    member: self.member,
                    origin,
                })
            }
        }
    }
}

impl ItemSink for Hop<'_> {
    fn output(&mut self, value: Value) -> Result<()> {
        let origin = self.current_origin();
        if self.rest.is_empty() {
            return self.sink.output(value, origin);
        }
        self.buffer.push(value);
        self.buffer_origins.push(origin);
        if self.buffer.len() >= PIECE {
            if let Err(failure) = self.pass_on() {
                self.downstream = Some(failure);
                return Err(Error::msg("a later node of the chain failed"));
            }
        }
        self.sink.tick()
    }

    /// In the last node, an item done ends the batch items before the next one's origin (or,
    /// when the last node is also the first, its own): marked now, so a worker dying on the next
    /// item still names the right one.
    fn item_done(&mut self) -> Result<()> {
        self.done += 1;
        if self.rest.is_empty() {
            match self.origins.get(self.done) {
                Some(&next) => self.sink.ended_before(next)?,
                None if self.member == 0 => {
                    if let Some(&last) = self.origins.last() {
                        self.sink.ended_before(last.saturating_add(1))?;
                    }
                }
                None => {}
            }
        }
        self.sink.tick()
    }
}
