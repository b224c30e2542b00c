//! The object-safe node: what a dynamic graph holds, over [`Value`] items.

use crate::error::Result;
use crate::graph::PortType;
use crate::node::{EmitFn, Node, NodeContext};
use crate::value::{FromValue, IntoValue, Value};

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

    /// See [`Node::cleanup`].
    fn cleanup(&mut self) -> Result<()> {
        Ok(())
    }

    /// What the node accepts, for build-time port checks.
    fn accepts(&self) -> PortType {
        PortType::Any
    }

    /// What the node emits.
    fn emits(&self) -> PortType {
        PortType::Any
    }
}

/// A typed [`Node`] seen as a [`DynNode`]: items are converted with [`FromValue`] and
/// [`IntoValue`], so no node writes its own conversions.
///
/// ```
/// use pipeline_core::dynamic::{DynNode, Typed};
/// use pipeline_core::prelude::*;
/// let mut node = Typed(Calculator::add(1_i64));
/// let mut out = Vec::new();
/// node.process(Value::Int(1), &mut out).unwrap();
/// assert_eq!(out, [Value::Int(2)]);
/// let err = node.process(Value::from("x"), &mut out).unwrap_err();
/// assert_eq!(err.message(), "expected int, got string `\"x\"`");
/// assert_eq!(node.accepts().name(), "int");
/// ```
pub struct Typed<N>(pub N);

impl<N> DynNode for Typed<N>
where
    N: Node + Send,
    N::Input: FromValue,
    N::Output: IntoValue,
{
    fn initialize(&mut self, ctx: &NodeContext<'_>) -> Result<()> {
        self.0.initialize(ctx)
    }

    #[inline]
    fn process(&mut self, item: Value, out: &mut Vec<Value>) -> Result<()> {
        let input = N::Input::from_value(item)?;
        self.0.process(
            input,
            &mut EmitFn(|o: N::Output| {
                out.push(o.into_value());
                Ok(())
            }),
        )
    }

    fn process_batch(&mut self, items: &mut Vec<Value>, out: &mut Vec<Value>) -> Result<()> {
        let node = &mut self.0;
        let mut emit = EmitFn(|o: N::Output| {
            out.push(o.into_value());
            Ok(())
        });
        for item in items.drain(..) {
            node.process(N::Input::from_value(item)?, &mut emit)?;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<Value>) -> Result<()> {
        self.0.finish(&mut EmitFn(|o: N::Output| {
            out.push(o.into_value());
            Ok(())
        }))
    }

    fn cleanup(&mut self) -> Result<()> {
        self.0.cleanup()
    }

    fn accepts(&self) -> PortType {
        N::Input::PORT
    }

    fn emits(&self) -> PortType {
        N::Output::PORT
    }
}
