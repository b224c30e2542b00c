//! # pipeline
//!
//! Node-graph pipelines for Rust: one node model, three ways to write a graph, one runtime.
//!
//! ```
//! use pipeline::prelude::*;
//!
//! let mut p = pipeline! {
//!     pass_in  = PassThrough::new();
//!     add      = Calculator::add(1);
//!     pass_out = PassThrough::new();
//!     input -> pass_in -> add -> pass_out -> output;
//! };
//! let out: Vec<i64> = p.run(0..100)?;
//! assert_eq!(out[0], 1);
//! # Ok::<(), pipeline::Error>(())
//! ```
#![doc = include_str!("../docs/grammar.md")]

// Generated code names `::pipeline`; this makes that path work inside this crate too.
extern crate self as pipeline;

/// Nodes written in Python, sandboxed (feature `python`, on by default).
#[cfg(feature = "distributed")]
pub use pipeline_core::distributed;
#[cfg(feature = "python")]
pub use pipeline_core::python;
pub use pipeline_core::{
    builtins, dynamic, error, graph, manifest, node, placement, runtime, value,
};
pub use pipeline_core::{EmitFn, Emitter, Error, ErrorKind, Node, NodeContext, Result, Value};
pub use pipeline_macros::{pipeline, Ports};

/// The built-in specs, for the code compiled manifests generate (`Partition`'s predicate).
#[doc(hidden)]
pub use pipeline_core::builtin_specs;

/// The benchmark workloads (criterion benches, `pipeline bench`, the examples): not part of the
/// library's API, public only so those targets can share them.
#[doc(hidden)]
pub mod workloads;

/// `pipeline!(manifest = "...")` wraps each `python` node's expression in this macro: with the
/// `python` feature it is the node (`Python::<T, T>` of the RustPython bridge); without it, the
/// bridge does not exist and the node is a compile error naming it and its place in the manifest.
#[cfg(feature = "python")]
#[doc(hidden)]
#[macro_export]
macro_rules! __manifest_python_node {
    ($without_feature:literal, $node:expr) => {
        $node
    };
}

/// Without the `python` feature: the compile error the manifest compiler prepared.
#[cfg(not(feature = "python"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __manifest_python_node {
    ($without_feature:literal, $node:expr) => {
        ::core::compile_error!($without_feature)
    };
}

/// What a pipeline author writes, in one import: the `pipeline!` macro; every built-in node (with
/// the types their constructors take, such as `ops` for `Calculator`); the node trait and its
/// emitters (`Node`, `Emitter`, `EmitFn`, `NodeContext`, `Ports`) for nodes of your own; `Result`,
/// `Error` and `ErrorKind`; `Value`, the item of dynamic graphs; and with the `python` feature the
/// Python node.
///
/// Left out, and reached by path: what only names a pipeline's type (`runtime::Pipeline`,
/// `runtime::Stage`), the manifest loader and registry (`manifest`, `dynamic`), graph
/// introspection (`graph`). Support code that `pipeline!` expands to lives in `runtime` under
/// `#[doc(hidden)]`.
///
/// ```
/// use pipeline::prelude::*;
///
/// let mut p = pipeline! {
///     double = Map::new(|x: i64| x * 2);
///     input -> double -> output;
/// };
/// assert_eq!(p.run([1, 2])?, [2, 4]);
/// # Ok::<(), Error>(())
/// ```
pub mod prelude {
    pub use pipeline_core::prelude::*;
    #[cfg(feature = "python")]
    pub use pipeline_core::python::{Python, PythonNode};
    pub use pipeline_macros::{pipeline, Ports};
}

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
