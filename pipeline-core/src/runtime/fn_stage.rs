//! A stage made of closures over a state tuple: how `pipeline!` builds statically dispatched stages
//! without naming the node types.

use super::stage::Stage;
use crate::error::Result;
use crate::node::Node;
use std::marker::PhantomData;

/// The stage operations that are not on the per-item path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// Initialise every node.
    Initialize,
    /// Process what parallel nodes hold and send partial batches on; outputs that leave the
    /// pipeline go into the `Vec` the closure gets (the other operations get an empty one).
    Flush,
    /// Drop senders to later stages.
    Disconnect,
    /// Clean up every node.
    Cleanup,
}

/// A [`Stage`] whose state (nodes and outbound senders) is `N` and whose behaviour is closures
/// taking `&mut N`: `push` for one item, `push_batch` for a batch (the loop is inside the closure, so
/// the per-item path inlines into it), `finish` at end of stream, `lifecycle` for the rest (with the output `Vec`, which only a flush
/// fills).
///
/// ```
/// use pipeline_core::runtime::{FnStage, Lifecycle, Stage};
/// use pipeline_core::prelude::*;
///
/// let mut stage = FnStage::new(
///     Calculator::add(1_i64),
///     |add: &mut Calculator<i64, ops::Add>, x: i64, out: &mut Vec<i64>| add.process(x, out),
///     |add: &mut Calculator<i64, ops::Add>, xs: &mut Vec<i64>, out: &mut Vec<i64>| {
///         xs.drain(..).try_for_each(|x| add.process(x, out))
///     },
///     |add: &mut Calculator<i64, ops::Add>, out: &mut Vec<i64>| add.finish(out),
///     |_: &mut Calculator<i64, ops::Add>, _: Lifecycle, _: &mut Vec<i64>| Ok(()),
/// );
/// let mut out = Vec::new();
/// stage.push(1, &mut out).unwrap();
/// assert_eq!(out, [2]);
/// ```
pub struct FnStage<N, I, O, P, B, F, L> {
    state: N,
    push: P,
    push_batch: B,
    finish: F,
    lifecycle: L,
    _items: PhantomData<fn(I) -> O>,
}

impl<N, I, O, P, B, F, L> FnStage<N, I, O, P, B, F, L>
where
    P: FnMut(&mut N, I, &mut Vec<O>) -> Result<()>,
    B: FnMut(&mut N, &mut Vec<I>, &mut Vec<O>) -> Result<()>,
    F: FnMut(&mut N, &mut Vec<O>) -> Result<()>,
    L: FnMut(&mut N, Lifecycle, &mut Vec<O>) -> Result<()>,
{
    /// A stage over `state`.
    pub fn new(state: N, push: P, push_batch: B, finish: F, lifecycle: L) -> Self {
        FnStage {
            state,
            push,
            push_batch,
            finish,
            lifecycle,
            _items: PhantomData,
        }
    }
}

impl<N, I, O, P, B, F, L> Stage for FnStage<N, I, O, P, B, F, L>
where
    P: FnMut(&mut N, I, &mut Vec<O>) -> Result<()>,
    B: FnMut(&mut N, &mut Vec<I>, &mut Vec<O>) -> Result<()>,
    F: FnMut(&mut N, &mut Vec<O>) -> Result<()>,
    L: FnMut(&mut N, Lifecycle, &mut Vec<O>) -> Result<()>,
{
    type Input = I;
    type Output = O;

    fn initialize(&mut self) -> Result<()> {
        (self.lifecycle)(&mut self.state, Lifecycle::Initialize, &mut Vec::new())
    }

    #[inline(always)]
    fn push(&mut self, item: I, out: &mut Vec<O>) -> Result<()> {
        (self.push)(&mut self.state, item, out)
    }

    #[inline]
    fn push_batch(&mut self, items: &mut Vec<I>, out: &mut Vec<O>) -> Result<()> {
        (self.push_batch)(&mut self.state, items, out)
    }

    fn flush(&mut self, out: &mut Vec<O>) -> Result<()> {
        (self.lifecycle)(&mut self.state, Lifecycle::Flush, out)
    }

    fn finish(&mut self, out: &mut Vec<O>) -> Result<()> {
        (self.finish)(&mut self.state, out)
    }

    fn disconnect(&mut self) {
        let _ = (self.lifecycle)(&mut self.state, Lifecycle::Disconnect, &mut Vec::new());
    }

    fn cleanup(&mut self) -> Result<()> {
        (self.lifecycle)(&mut self.state, Lifecycle::Cleanup, &mut Vec::new())
    }
}

/// A zero-sized witness of an item type, so generated closures get their argument types from a node
/// value without naming the node's type.
pub struct Marker<T>(PhantomData<fn(T)>);

impl<T> Marker<T> {
    /// The marker of `T`, usually left for inference to fill in: generated code makes one per
    /// pipeline output, so every edge into that output is checked against the same item type.
    #[inline(always)]
    pub fn new() -> Self {
        Marker(PhantomData)
    }
}

impl<T> Default for Marker<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for Marker<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Marker<T> {}

/// The marker of `node`'s output type.
///
/// ```
/// use pipeline_core::runtime::{output_marker, emitter};
/// use pipeline_core::prelude::*;
/// let add = Calculator::add(1_i64);
/// let mut got = 0;
/// let mut sink = emitter(output_marker(&add), |x| { got = x; Ok(()) });
/// sink.emit(5).unwrap();
/// assert_eq!(got, 5);
/// ```
#[inline(always)]
pub fn output_marker<N: Node>(_node: &N) -> Marker<N::Output> {
    Marker(PhantomData)
}

/// The marker of `node`'s input type.
///
/// Generated code takes it from each node value before the nodes move into their stages, so every
/// edge into the node is type-checked against a known type, in one place, at the edge's arrow.
///
/// ```
/// use pipeline_core::runtime::{input_marker, Marker};
/// use pipeline_core::prelude::*;
/// let _: Marker<String> = input_marker(&Map::new(|s: String| s.len()));
/// ```
#[inline(always)]
pub fn input_marker<N: Node>(_node: &N) -> Marker<N::Input> {
    Marker(PhantomData)
}

/// The marker of a type given by a value's reference (for the pipeline input).
#[inline(always)]
pub fn marker_of<T>(_value: &T) -> Marker<T> {
    Marker(PhantomData)
}

/// An emitter closure whose argument type comes from `marker`.
#[inline(always)]
pub fn emitter<T, F: FnMut(T) -> Result<()>>(_marker: Marker<T>, f: F) -> crate::node::EmitFn<F> {
    crate::node::EmitFn(f)
}
