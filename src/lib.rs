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
#[cfg(feature = "python")]
pub use pipeline_core::python;
pub use pipeline_core::{
    builtins, dynamic, error, graph, manifest, node, placement, runtime, value,
};
pub use pipeline_core::{EmitFn, Emitter, Error, ErrorKind, Node, NodeContext, Result, Value};
pub use pipeline_macros::{pipeline, Ports};

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

/// Everything needed to write and run pipelines: built-in nodes, the node trait, the macro.
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
