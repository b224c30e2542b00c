//! The object-safe node: what a dynamic graph holds, over [`Value`] items.

use crate::error::{Error, Result};
use crate::graph::{OutputPort, PortType};
use crate::node::{EmitFn, Node, NodeContext};
use crate::value::{FromValue, IntoValue, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A node over [`Value`] items, callable through `Box<dyn DynNode>`.
///
/// Typed [`Node`]s get it from [`Typed`]; nodes that are dynamic by nature (Python) implement it
/// directly. Outputs go into a `Vec` the stage reuses, so a call costs one virtual dispatch.
pub trait DynNode: Send {
    /// See [`Node::initialize`].
    fn initialize(&mut self, ctx: &NodeContext<'_>) -> Result<()> {
        let _ = ctx;
        Ok(())
    }

    /// Handles one item, pushing outputs onto `out`.
    fn process(&mut self, item: Value, out: &mut Vec<Value>) -> Result<()>;

    /// Handles every item of `items` in order (leaving it empty), pushing outputs onto `out`.
    ///
    /// Dynamic stages call this once per batch, so a graph pays one virtual call per node and batch,
    /// not per item; [`Typed`] runs the loop with the node's code inlined.
    fn process_batch(&mut self, items: &mut Vec<Value>, out: &mut Vec<Value>) -> Result<()> {
        items.drain(..).try_for_each(|item| self.process(item, out))
    }

    /// [`process_batch`](DynNode::process_batch) that also says which input item each output came
    /// from: for every output pushed onto `out`, pushes onto `origins` the entry of `item_origins`
    /// of the item that made it (`item_origins[i]` belongs to `items[i]`). The node may take
    /// `item_origins` (a node making one output per item moves them to `origins` when that is
    /// empty); the caller clears them after the call.
    ///
    /// On failure (an error or a panic) the outputs of the items before the failing one stay in
    /// `out`, what the failing item pushed is removed, and the error names the failing item's
    /// origin ([`Error::failed_item`](crate::Error::failed_item)): so a failed run still hands on
    /// exactly the outputs of the items before the failing one. Dynamic stages call this; the
    /// default runs [`process`](DynNode::process) item by item (statically dispatched, so a typed
    /// node's code inlines into the loop). A node that batches across a boundary of its own (a
    /// child process, a parallel pool) overrides it.
    ///
    /// ```
    /// use pipeline_core::dynamic::{DynNode, Typed};
    /// use pipeline_core::prelude::*;
    /// let mut node = Typed::new(Calculator::divide(1_i64));
    /// let (mut out, mut origins) = (Vec::new(), Vec::new());
    /// let mut items = vec![Value::Int(6), Value::from("x"), Value::Int(8)];
    /// let err = node.process_batch_traced(&mut items, &mut vec![10, 11, 12], &mut out, &mut origins);
    /// assert_eq!(err.unwrap_err().failed_item(), Some(11));
    /// assert_eq!((out, origins), (vec![Value::Int(6)], vec![10]));
    /// ```
    fn process_batch_traced(
        &mut self,
        items: &mut Vec<Value>,
        item_origins: &mut Vec<u64>,
        out: &mut Vec<Value>,
        origins: &mut Vec<u64>,
    ) -> Result<()> {
        traced_item_by_item(self, items, item_origins, out, origins)
    }

    /// [`flush`](DynNode::flush) that also says where its outputs came from (see
    /// [`process_batch_traced`](DynNode::process_batch_traced)): by default all from `latest`,
    /// the origin of the last item the node was given; a node that holds items back for a batch
    /// of its own overrides it to name each item's own origin.
    ///
    /// ```
    /// use pipeline_core::dynamic::{DynNode, Typed};
    /// use pipeline_core::prelude::*;
    /// let mut node = Typed::new(Calculator::add(1_i64));
    /// let (mut out, mut origins) = (Vec::new(), Vec::new());
    /// node.flush_traced(&mut out, &mut origins, 5)?;
    /// assert!(out.is_empty() && origins.is_empty());
    /// # Ok::<(), pipeline_core::Error>(())
    /// ```
    fn flush_traced(
        &mut self,
        out: &mut Vec<Value>,
        origins: &mut Vec<u64>,
        latest: u64,
    ) -> Result<()> {
        let before = out.len();
        let outcome = self.flush(out);
        origins.resize(origins.len() + (out.len() - before), latest);
        outcome
    }

    /// [`finish`](DynNode::finish) that also says where its outputs came from: by default from
    /// `end` (what the stage passes for outputs of the whole stream), or, for a node holding items
    /// back, from each item's own origin.
    ///
    /// ```
    /// use pipeline_core::dynamic::{DynNode, Typed};
    /// use pipeline_core::prelude::*;
    /// let mut node = Typed::new(Count::<i64>::new());
    /// let (mut out, mut origins) = (Vec::new(), Vec::new());
    /// node.process_batch_traced(&mut vec![Value::Int(1)], &mut vec![0], &mut out, &mut origins)?;
    /// node.finish_traced(&mut out, &mut origins, u64::MAX)?;
    /// assert_eq!((out, origins), (vec![Value::Int(1)], vec![u64::MAX]));
    /// # Ok::<(), pipeline_core::Error>(())
    /// ```
    fn finish_traced(
        &mut self,
        out: &mut Vec<Value>,
        origins: &mut Vec<u64>,
        end: u64,
    ) -> Result<()> {
        let before = out.len();
        let outcome = self.finish(out);
        origins.resize(origins.len() + (out.len() - before), end);
        outcome
    }

    /// [`resume`](DynNode::resume) that also says where its outputs came from: by default from
    /// `latest`, the origin of the last item the node was given; a node that resumes work on
    /// several items (a batch left pending) overrides it to name each output's own origin.
    ///
    /// ```
    /// use pipeline_core::dynamic::{DynNode, Typed};
    /// use pipeline_core::prelude::*;
    /// let mut node = Typed::new(Calculator::add(1_i64));
    /// let (mut out, mut origins) = (Vec::new(), Vec::new());
    /// assert!(!node.resume_traced(&mut out, &mut origins, 3)?);
    /// assert!(out.is_empty() && origins.is_empty());
    /// # Ok::<(), pipeline_core::Error>(())
    /// ```
    fn resume_traced(
        &mut self,
        out: &mut Vec<Value>,
        origins: &mut Vec<u64>,
        latest: u64,
    ) -> Result<bool> {
        let before = out.len();
        let outcome = self.resume(out);
        origins.resize(origins.len() + (out.len() - before), latest);
        outcome
    }

    /// End of a batch (the stage flushes): push what is held back for a full batch of its own, as a
    /// parallel node does. Unlike `finish`, the stream goes on.
    fn flush(&mut self, out: &mut Vec<Value>) -> Result<()> {
        let _ = out;
        Ok(())
    }

    /// End of stream: push what was held back.
    fn finish(&mut self, out: &mut Vec<Value>) -> Result<()> {
        let _ = out;
        Ok(())
    }

    /// Continues what [`process_batch`](DynNode::process_batch), [`flush`](DynNode::flush) or
    /// [`finish`](DynNode::finish) left pending to keep memory bounded — a generator with more to
    /// yield — pushing its next outputs onto `out`. Returns whether more is still pending.
    ///
    /// After each of those calls the stage routes `out` downstream and calls `resume` (routing
    /// what it pushes each time) until it returns `false`, before giving the node anything else,
    /// so a node may hand over an endless stream in bounded pieces. Most nodes finish each call at
    /// once and keep the default.
    ///
    /// A stage stops resuming when the work failed further on (or nobody takes the outputs any
    /// more); the node's next call is then [`flush`](DynNode::flush), which must drop what is
    /// still pending — otherwise an endless generator would go on there.
    ///
    /// ```
    /// use pipeline_core::dynamic::DynNode;
    /// use pipeline_core::prelude::*;
    ///
    /// /// Emits each item `n` times, at most 2 outputs per call.
    /// struct Repeat { left: Vec<(Value, usize)> }
    /// impl DynNode for Repeat {
    ///     fn process(&mut self, item: Value, out: &mut Vec<Value>) -> Result<()> {
    ///         let n = item.as_int().unwrap_or(0) as usize;
    ///         self.left.push((item, n));
    ///         self.resume(out).map(|_| ())
    ///     }
    ///     fn resume(&mut self, out: &mut Vec<Value>) -> Result<bool> {
    ///         while let Some((item, n)) = self.left.pop() {
    ///             let now = n.min(2);
    ///             out.extend(std::iter::repeat(item.clone()).take(now));
    ///             if n > now {
    ///                 self.left.push((item, n - now));
    ///                 return Ok(true);
    ///             }
    ///         }
    ///         Ok(false)
    ///     }
    /// }
    /// let mut node = Repeat { left: Vec::new() };
    /// let mut out = Vec::new();
    /// node.process(Value::Int(3), &mut out)?;
    /// assert_eq!(out.len(), 2); // one more to come
    /// assert!(!node.resume(&mut out)?);
    /// assert_eq!(out.len(), 3);
    /// # Ok::<(), pipeline_core::Error>(())
    /// ```
    fn resume(&mut self, out: &mut Vec<Value>) -> Result<bool> {
        let _ = out;
        Ok(false)
    }

    /// Whether the last call may have left work for [`resume`](DynNode::resume). A stage that
    /// hands each piece on as it comes routes what a call gave, returns to its caller, and
    /// resumes the node on its next turn only if this says so — asking first would wait for the
    /// next piece (a slow generator's) before the one at hand could leave.
    ///
    /// The default says yes, so `resume` is always asked; nodes that never leave work pending,
    /// or know they have none, say no and save the stage a turn per batch.
    ///
    /// ```
    /// use pipeline_core::dynamic::{DynNode, Typed};
    /// use pipeline_core::prelude::*;
    /// let mut node = Typed::new(Calculator::add(1_i64));
    /// assert!(!node.may_resume());
    /// ```
    fn may_resume(&mut self) -> bool {
        true
    }

    /// See [`Node::cleanup`].
    fn cleanup(&mut self) -> Result<()> {
        Ok(())
    }

    /// Offers the node `next` (named `next_id`), its only successor in a fused chain, which has
    /// no other input, to run the two as one node. A node that can do the pair's work more
    /// cheaply takes it — an isolated Python node takes an isolated successor into its worker
    /// process, so a batch crosses the process boundary once for the chain, not once per node —
    /// and its outputs are then the successor's. The default declines, giving `next` back.
    ///
    /// ```
    /// use pipeline_core::dynamic::{DynNode, Typed};
    /// use pipeline_core::prelude::*;
    /// let mut node = Typed::new(Calculator::add(1_i64));
    /// let next: Box<dyn DynNode> = Box::new(Typed::new(Calculator::add(2_i64)));
    /// assert!(node.absorb(next, "add_2").is_err());
    /// ```
    fn absorb(
        &mut self,
        next: Box<dyn DynNode>,
        next_id: &str,
    ) -> std::result::Result<(), Box<dyn DynNode>> {
        let _ = next_id;
        Err(next)
    }

    /// The node as [`Any`](std::any::Any), so [`absorb`](DynNode::absorb) can recognise a
    /// successor of its own kind; `None` by default.
    ///
    /// ```
    /// use pipeline_core::dynamic::{DynNode, Typed};
    /// use pipeline_core::prelude::*;
    /// assert!(Typed::new(Calculator::add(1_i64)).as_any_mut().is_none());
    /// ```
    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        None
    }

    /// What the node accepts, for build-time port checks.
    fn accepts(&self) -> PortType {
        PortType::Any
    }

    /// What the node emits.
    fn emits(&self) -> PortType {
        PortType::Any
    }

    /// The node's named outputs, for a node with several ([`Ports`](crate::node::Ports)): each
    /// output it pushes leaves by one of them, as [`take_ports`](DynNode::take_ports) says. Empty
    /// (the default) for a node with one output, which the stage then routes with no per-item cost.
    ///
    /// ```
    /// use pipeline_core::dynamic::{DynNode, Typed, TypedPorts};
    /// use pipeline_core::graph::{OutputPort, PortType};
    /// use pipeline_core::prelude::*;
    /// assert!(Typed::new(Calculator::add(1_i64)).ports().is_empty());
    /// let split = TypedPorts::partition(|x: &Value| x.as_int().is_some_and(|x| x > 0));
    /// assert_eq!(split.ports()[1], OutputPort::new("false", PortType::Any));
    /// ```
    fn ports(&self) -> &[OutputPort] {
        &[]
    }

    /// For a node with [`ports`](DynNode::ports): appends to `ports` the port (an index into
    /// `ports()`) of each output pushed since the node was last asked, in the order they were
    /// pushed. The stage asks after every call that may push outputs (`process_batch_traced`,
    /// `flush_traced`, `finish_traced`, `resume_traced`), so what a call pushed and the ports it
    /// names always match one to one; outputs a failed call took back must not be named.
    ///
    /// ```
    /// use pipeline_core::dynamic::{DynNode, TypedPorts};
    /// use pipeline_core::prelude::*;
    /// let mut split = TypedPorts::partition(|x: &Value| x.as_int().is_some_and(|x| x > 0));
    /// let (mut out, mut ports) = (Vec::new(), Vec::new());
    /// split.process(Value::Int(-1), &mut out)?;
    /// split.process(Value::Int(5), &mut out)?;
    /// split.take_ports(&mut ports);
    /// assert_eq!((out, ports), (vec![Value::Int(-1), Value::Int(5)], vec![1, 0]));
    /// # Ok::<(), pipeline_core::Error>(())
    /// ```
    fn take_ports(&mut self, ports: &mut Vec<usize>) {
        let _ = ports;
    }
}

/// [`DynNode::process_batch_traced`] item by item: what the default runs.
pub(super) fn traced_item_by_item<D: DynNode + ?Sized>(
    node: &mut D,
    items: &mut Vec<Value>,
    item_origins: &[u64],
    out: &mut Vec<Value>,
    origins: &mut Vec<u64>,
) -> Result<()> {
    // One unwind guard per batch, not per item: `done` and `before` say where a panic hit.
    let (mut done, mut before) = (0, out.len());
    let processed = catch_unwind(AssertUnwindSafe(|| {
        for (item, &origin) in items.drain(..).zip(item_origins) {
            before = out.len();
            node.process(item, out)?;
            origins.resize(origins.len() + (out.len() - before), origin);
            done += 1;
        }
        Ok(())
    }))
    .unwrap_or_else(|payload| Err(Error::from_panic(payload)));
    processed.map_err(|err| {
        items.clear();
        out.truncate(before);
        match item_origins.get(done) {
            Some(&origin) => err.with_failed_item(origin),
            None => err,
        }
    })
}

/// A typed [`Node`] seen as a [`DynNode`]: items are converted with [`FromValue`] and
/// [`IntoValue`], so no node writes its own conversions.
///
/// A batch is converted as a whole into a typed buffer the adapter keeps, handed to
/// [`Node::process_batch`], and converted back; for `Value` nodes both conversions are buffer swaps.
///
/// ```
/// use pipeline_core::dynamic::{DynNode, Typed};
/// use pipeline_core::prelude::*;
/// let mut node = Typed::new(Calculator::add(1_i64));
/// let mut out = Vec::new();
/// node.process(Value::Int(1), &mut out).unwrap();
/// assert_eq!(out, [Value::Int(2)]);
/// let err = node.process(Value::from("x"), &mut out).unwrap_err();
/// assert_eq!(err.message(), "expected int, got string `\"x\"`");
/// assert_eq!(node.accepts().name(), "int");
/// ```
pub struct Typed<N: Node> {
    node: N,
    inputs: Vec<N::Input>,
    outputs: Vec<N::Output>,
}

impl<N: Node> Typed<N> {
    /// Wraps a typed node.
    pub fn new(node: N) -> Self {
        Typed {
            node,
            inputs: Vec::new(),
            outputs: Vec::new(),
        }
    }

    /// The typed node.
    pub fn node(&self) -> &N {
        &self.node
    }
}

impl<N> DynNode for Typed<N>
where
    N: Node + Send,
    N::Input: FromValue + Send,
    N::Output: IntoValue + Send,
{
    fn initialize(&mut self, ctx: &NodeContext<'_>) -> Result<()> {
        self.node.initialize(ctx)
    }

    #[inline]
    fn process(&mut self, item: Value, out: &mut Vec<Value>) -> Result<()> {
        let input = N::Input::from_value(item)?;
        self.node.process(
            input,
            &mut EmitFn(|o: N::Output| {
                out.push(o.into_value());
                Ok(())
            }),
        )
    }

    fn process_batch(&mut self, items: &mut Vec<Value>, out: &mut Vec<Value>) -> Result<()> {
        // The items before one that does not convert are still processed, and the outputs made
        // before any failure still go on, as they would item by item.
        let converted = N::Input::from_values(items, &mut self.inputs);
        let processed = self.node.process_batch(&mut self.inputs, &mut self.outputs);
        N::Output::into_values(&mut self.outputs, out);
        self.inputs.clear();
        processed.and(converted)
    }

    /// A node that is one-to-one keeps its batch path: the outputs' origins are the items'.
    fn process_batch_traced(
        &mut self,
        items: &mut Vec<Value>,
        item_origins: &mut Vec<u64>,
        out: &mut Vec<Value>,
        origins: &mut Vec<u64>,
    ) -> Result<()> {
        if !self.node.one_to_one() {
            return traced_item_by_item(self, items, item_origins, out, origins);
        }
        let before = out.len();
        let processed = catch_unwind(AssertUnwindSafe(|| self.process_batch(items, out)))
            .unwrap_or_else(|payload| Err(Error::from_panic(payload)));
        items.clear();
        let made = (out.len() - before).min(item_origins.len());
        out.truncate(before + made);
        let failed = item_origins.get(made).copied();
        if origins.is_empty() && made == item_origins.len() {
            // The whole batch made one output each: its origins are the outputs', moved rather
            // than copied (a copy per node of a staged run, on its thread).
            std::mem::swap(origins, item_origins);
        } else {
            origins.extend_from_slice(&item_origins[..made]);
        }
        processed.map_err(|err| match failed {
            Some(origin) => err.with_failed_item(origin),
            None => err,
        })
    }

    fn finish(&mut self, out: &mut Vec<Value>) -> Result<()> {
        self.node.finish(&mut EmitFn(|o: N::Output| {
            out.push(o.into_value());
            Ok(())
        }))
    }

    /// A typed node finishes each call at once.
    fn may_resume(&mut self) -> bool {
        false
    }

    fn cleanup(&mut self) -> Result<()> {
        self.node.cleanup()
    }

    fn accepts(&self) -> PortType {
        N::Input::PORT
    }

    fn emits(&self) -> PortType {
        N::Output::PORT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::{Calculator, PassThrough};

    #[test]
    fn a_batch_stops_at_the_first_failure_keeping_what_came_before() {
        let mut node = Typed::new(Calculator::add(1_i64));
        let mut items = vec![
            Value::Int(1),
            Value::Int(2),
            Value::from("x"),
            Value::Int(4),
        ];
        let mut out = Vec::new();
        let err = node.process_batch(&mut items, &mut out).unwrap_err();
        assert_eq!(err.message(), "expected int, got string `\"x\"`");
        assert_eq!(out, [Value::Int(2), Value::Int(3)]);
        assert!(items.is_empty());

        let mut items = vec![Value::Int(1), Value::Int(i64::MAX), Value::Int(3)];
        out.clear();
        let err = node.process_batch(&mut items, &mut out).unwrap_err();
        assert!(err.message().contains("overflows"), "{err}");
        assert_eq!(out, [Value::Int(2)]);
        // Nothing of the failed batch is left over for the next one.
        node.process_batch(&mut vec![Value::Int(10)], &mut out)
            .unwrap();
        assert_eq!(out, [Value::Int(2), Value::Int(11)]);
    }

    #[test]
    fn a_one_to_one_batch_hands_its_origins_on_whole_or_in_part() {
        let mut node = Typed::new(Calculator::add(1_i64));
        // Nothing pending: the whole batch's origins become the outputs'.
        let (mut out, mut origins) = (Vec::new(), Vec::new());
        let mut item_origins = vec![7, 8];
        node.process_batch_traced(
            &mut vec![Value::Int(1), Value::Int(2)],
            &mut item_origins,
            &mut out,
            &mut origins,
        )
        .unwrap();
        assert_eq!(
            (&out[..], &origins[..]),
            (&[Value::Int(2), Value::Int(3)][..], &[7, 8][..])
        );
        // After outputs already there, the origins are appended.
        let mut item_origins = vec![9];
        node.process_batch_traced(
            &mut vec![Value::Int(3)],
            &mut item_origins,
            &mut out,
            &mut origins,
        )
        .unwrap();
        assert_eq!(origins, [7, 8, 9]);
        // A failure keeps the origins of the items before it and names the failing one.
        let (mut out, mut origins) = (Vec::new(), Vec::new());
        let mut items = vec![Value::Int(1), Value::from("x"), Value::Int(3)];
        let err = node
            .process_batch_traced(&mut items, &mut vec![4, 5, 6], &mut out, &mut origins)
            .unwrap_err();
        assert_eq!(err.failed_item(), Some(5));
        assert_eq!((out, origins), (vec![Value::Int(2)], vec![4]));
    }

    #[test]
    fn value_nodes_append_after_what_is_already_there() {
        let mut node = Typed::new(PassThrough::<Value>::new());
        let mut out = vec![Value::Int(0)];
        node.process_batch(&mut vec![Value::Int(1), Value::from("a")], &mut out)
            .unwrap();
        node.process_batch(&mut vec![Value::Null], &mut out)
            .unwrap();
        assert_eq!(
            out,
            [Value::Int(0), Value::Int(1), Value::from("a"), Value::Null]
        );
    }
}
