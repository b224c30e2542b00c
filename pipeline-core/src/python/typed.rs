//! [`Python<I, O>`]: a [`PythonNode`] with typed items, for statically typed `pipeline!` graphs.

use super::node::PythonNode;
use crate::error::{Error, Result};
use crate::node::{Emitter, ManifestNode, Node, NodeContext};
use crate::value::{FromValue, IntoValue, Value};
use std::marker::PhantomData;

/// A Python node whose items are `I` in and `O` out, converted through [`IntoValue`] and
/// [`FromValue`]; a Python result that does not convert to `O` is an error naming the node.
///
/// ```
/// use pipeline_core::prelude::*;
/// use pipeline_core::python::Python;
///
/// let mut add = Python::<i64, i64>::function("def add_one(x):\n    return x + 1\n", "add_one");
/// let mut out = Vec::new();
/// add.process(41, &mut out)?;
/// assert_eq!(out, vec![42]);
/// # Ok::<(), pipeline_core::Error>(())
/// ```
///
/// In a graph (the `pipeline` facade crate re-exports this as `pipeline::python::Python`):
///
/// ```ignore
/// let mut p = pipeline! {
///     add = Python::<i64, i64>::function("def add_one(x):\n    return x + 1\n", "add_one");
///     input => add -> output;
/// };
/// ```
pub struct Python<I, O> {
    node: PythonNode,
    _items: PhantomData<fn(I) -> O>,
}

impl<I, O> Python<I, O> {
    /// Wraps a dynamic node.
    pub fn new(node: PythonNode) -> Self {
        Python {
            node,
            _items: PhantomData,
        }
    }

    /// See [`PythonNode::class`].
    pub fn class(source: impl Into<String>, class: impl Into<String>) -> Self {
        Self::new(PythonNode::class(source, class))
    }

    /// See [`PythonNode::function`].
    pub fn function(source: impl Into<String>, function: impl Into<String>) -> Self {
        Self::new(PythonNode::function(source, function))
    }

    /// See [`PythonNode::with_args`].
    pub fn with_args(self, args: Value) -> Self {
        Self::new(self.node.with_args(args))
    }

    /// See [`PythonNode::with_filename`].
    pub fn with_filename(self, filename: impl Into<String>) -> Self {
        Self::new(self.node.with_filename(filename))
    }
}

#[cfg(feature = "manifest")]
impl<I, O> Python<I, O> {
    /// The node, if its source passes [`PythonNode::check_source`]; else the error, in node
    /// `node`, that the manifest loader gives for the same source. What a compiled manifest's
    /// `python` node is built through, so a bad source fails `pipeline!(manifest = ...)` when the
    /// pipeline is built, not on the first item.
    ///
    /// ```
    /// use pipeline_core::python::Python;
    /// let err = Python::<i64, i64>::function("def f(x):\n    return x +\n", "f")
    ///     .checked("add")
    ///     .unwrap_err();
    /// assert!(err.to_string().starts_with(
    ///     "node `add`: invalid params for `python`: param `code`: SyntaxError: "
    /// ), "{err}");
    /// ```
    pub fn checked(self, node: &str) -> Result<Self> {
        match self.node.check_source() {
            Ok(()) => Ok(self),
            Err(e) => {
                Err(Error::msg(format_args!("invalid params for `python`: {e}")).in_node(node))
            }
        }
    }
}

impl<I, O> Clone for Python<I, O> {
    fn clone(&self) -> Self {
        Self::new(self.node.clone())
    }
}

impl<I, O> std::fmt::Debug for Python<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.node.fmt(f)
    }
}

/// Converts each Python result to `O` before emitting it; the node's own `call` stamps a failed
/// conversion with the node id.
fn typed<O: FromValue, E: Emitter<O> + ?Sized>(
    out: &mut E,
) -> impl FnMut(Value) -> Result<()> + '_ {
    move |v| {
        let item = O::from_value(v)
            .map_err(|e| Error::new(e.kind(), format_args!("Python result: {}", e.message())))?;
        out.emit(item)
    }
}

impl<I: IntoValue, O: FromValue> Node for Python<I, O> {
    type Input = I;
    type Output = O;

    fn initialize(&mut self, ctx: &NodeContext<'_>) -> Result<()> {
        self.node.initialize(ctx)
    }

    fn process<E: Emitter<O> + ?Sized>(&mut self, item: I, out: &mut E) -> Result<()> {
        self.node.process_dyn(item.into_value(), &mut typed(out))
    }

    fn finish<E: Emitter<O> + ?Sized>(&mut self, out: &mut E) -> Result<()> {
        self.node.finish_dyn(&mut typed(out))
    }

    fn cleanup(&mut self) -> Result<()> {
        self.node.cleanup()
    }

    fn type_name(&self) -> &'static str {
        "Python"
    }

    /// The `python` manifest entry of the underlying [`PythonNode`] (source inline as `code`).
    fn manifest_node(&self) -> Option<ManifestNode> {
        Some(self.node.manifest_entry())
    }
}
