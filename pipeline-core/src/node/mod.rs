//! The node model: one trait that static (`pipeline!`), dynamic (manifest) and Python graphs share.

pub(crate) mod context;
mod emitter;
mod manifest_node;
mod move_all;
mod ports;

pub use context::NodeContext;
pub use emitter::{EmitFn, Emitter};
pub use manifest_node::ManifestNode;
pub use move_all::move_all;
pub use ports::Ports;

use crate::error::Result;

/// A processing step: takes `Input` items and emits zero, one or many `Output` items.
///
/// Lifecycle: [`initialize`](Node::initialize) once before the first item →
/// [`process`](Node::process) per item → [`finish`](Node::finish) at the end of each stream (flush
/// aggregates, partial batches) → [`cleanup`](Node::cleanup) once when the pipeline is dropped.
/// Stateful nodes are ordinary structs mutated through `&mut self`.
///
/// `process` is generic over the emitter, so in a fused chain the whole downstream is inlined into
/// one loop; dynamic graphs pass `&mut dyn Emitter<_>` through the same method.
///
/// ```
/// use pipeline_core::prelude::*;
///
/// /// Emits every word of a line.
/// struct Words;
///
/// impl Node for Words {
///     type Input = String;
///     type Output = String;
///     fn process<E: Emitter<String> + ?Sized>(&mut self, line: String, out: &mut E) -> Result<()> {
///         for word in line.split_whitespace() {
///             out.emit(word.to_string())?;
///         }
///         Ok(())
///     }
/// }
///
/// let mut out = Vec::new();
/// Words.process("a b c".to_string(), &mut out).unwrap();
/// assert_eq!(out, ["a", "b", "c"]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a pipeline node",
    label = "this must implement `pipeline::Node`",
    note = "a node is a value whose type implements `Node`: a built-in such as `Map::new(|x: i64| x + 1)` or `Calculator::add(1)`, or your own type with `impl Node for ...`"
)]
pub trait Node {
    /// The item type this node accepts.
    type Input;
    /// The item type this node emits.
    type Output;

    /// Called once before the first item, with the node's id and params.
    fn initialize(&mut self, ctx: &NodeContext<'_>) -> Result<()> {
        let _ = ctx;
        Ok(())
    }

    /// Handles one item, emitting any number of outputs.
    ///
    /// Return the error of `out.emit` with `?`: it carries the id of the downstream node that failed.
    fn process<E: Emitter<Self::Output> + ?Sized>(
        &mut self,
        item: Self::Input,
        out: &mut E,
    ) -> Result<()>;

    /// Whether [`process_batch`](Node::process_batch) makes exactly one output per item, in
    /// order, and on failure leaves in `out` the outputs of exactly the items before the failing
    /// one. Dynamic stages then keep the batch path and still know which input item each output
    /// and a failure came from; otherwise they run the node item by item to know it.
    ///
    /// ```
    /// use pipeline_core::prelude::*;
    /// assert!(Calculator::add(1_i64).one_to_one());
    /// ```
    fn one_to_one(&self) -> bool {
        false
    }

    /// The node as a pure function of one item, when it is one: `f(item)` is `(output, flag)`,
    /// the one output [`process`](Node::process) emits for `item`, with `flag` negative when
    /// `process` would fail on `item` (or when `f` cannot tell); the output is then any value.
    /// (Negative rather than a `bool`: a sign bit is what overflow checks compute, and flags
    /// or-ed together keep it, so a line of checks needs no branch.)
    ///
    /// A fused line of `pipeline!` whose nodes all offer one, over items that need no drop, runs
    /// each batch through the composed functions in one loop without branches, which the
    /// compiler can vectorise; when any item is flagged, the batch runs item by item through
    /// `process` as usual, so outputs and errors are always `process`'s (a flagged batch pays
    /// for both passes: flag only items `process` may fail on). Offer it only when `process`
    /// emits exactly one output per item, has no effect besides it, and depends on nothing
    /// `process` changes; `f` must not panic. The default, `None`, keeps the node on the
    /// item-by-item path.
    ///
    /// ```
    /// use pipeline_core::prelude::*;
    /// let add = Calculator::add(1_i64);
    /// let f = add.pure_fn().unwrap();
    /// let (output, flag) = f(41);
    /// assert_eq!(output, 42);
    /// assert!(flag >= 0);
    /// assert!(f(i64::MAX).1 < 0, "process fails there: overflow");
    /// ```
    fn pure_fn(&self) -> Option<impl Fn(Self::Input) -> (Self::Output, i64) + '_> {
        None::<fn(Self::Input) -> (Self::Output, i64)>
    }

    /// Handles a whole batch in order, leaving `items` empty and pushing outputs onto `out`.
    ///
    /// Dynamic graphs call this once per node and batch. The default runs [`process`](Node::process)
    /// per item; override it when a batch can be handled at once (a pass-through moves the buffer).
    ///
    /// ```
    /// use pipeline_core::prelude::*;
    /// let mut items = vec![1_i64, 2, 3];
    /// let mut out = Vec::new();
    /// Calculator::add(10_i64).process_batch(&mut items, &mut out).unwrap();
    /// assert_eq!((items.len(), out), (0, vec![11, 12, 13]));
    /// ```
    fn process_batch(
        &mut self,
        items: &mut Vec<Self::Input>,
        out: &mut Vec<Self::Output>,
    ) -> Result<()> {
        out.reserve(items.len());
        items.drain(..).try_for_each(|item| self.process(item, out))
    }

    /// Called at the end of every stream, after the last `process`: emit what was held back.
    fn finish<E: Emitter<Self::Output> + ?Sized>(&mut self, out: &mut E) -> Result<()> {
        let _ = out;
        Ok(())
    }

    /// Called once when the pipeline is torn down, also after a failure.
    fn cleanup(&mut self) -> Result<()> {
        Ok(())
    }

    /// The node as a manifest entry (registry type name and params), so a graph holding it can
    /// export its manifest. `None`, the default, for nodes a manifest cannot express.
    fn manifest_node(&self) -> Option<ManifestNode> {
        None
    }

    /// The short type name shown by graph descriptions and manifests.
    fn type_name(&self) -> &'static str {
        short_type_name(std::any::type_name::<Self>())
    }
}

/// `std::any::type_name` without module paths or generic arguments: `Calculator`, not
/// `pipeline_core::builtins::calculator::Calculator<i64>`.
///
/// ```
/// use pipeline_core::node::short_type_name;
/// assert_eq!(short_type_name("a::b::Calculator<i64>"), "Calculator");
/// assert_eq!(short_type_name("Words"), "Words");
/// ```
pub fn short_type_name(full: &'static str) -> &'static str {
    let without_generics = full.split('<').next().unwrap_or(full);
    without_generics
        .rsplit("::")
        .next()
        .unwrap_or(without_generics)
}
