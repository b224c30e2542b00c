//! Core of the `pipeline` framework: one node model, one graph model, one runtime.
//!
//! The stages a graph goes through, each in its own module:
//!
//! | stage | module | used by |
//! |---|---|---|
//! | node model | [`node`], [`builtins`] | every graph |
//! | built-in node types as specs: names, params, ports, how each is built | `builtin_specs` (feature `manifest-model`) | the registry, `pipeline!(manifest = "...")`, `pipeline nodes` |
//! | graph model | [`graph`] | the `pipeline!` macro and the manifest loader |
//! | validation | [`graph::validate`] | both, so an error reads the same whichever way the graph was written |
//! | plan (fusion groups, stage boundaries) | [`graph::plan`] | both |
//! | execute | `runtime` (feature `runtime`) | generated code and dynamic graphs |
//! | manifests, registry, dynamic stages, placement | `manifest`, `dynamic`, `placement` (feature `manifest`) | the `pipeline` CLI |
//! | Python nodes | `python` (feature `python`) | graphs with nodes written in Python |
//! | one manifest across processes and machines, on timely-dataflow | `distributed` (feature `distributed`) | `pipeline worker`, `pipeline run --hosts` |
//! | manifests without the runtime: parse, lower, validate, export | `manifest` (feature `manifest-model`) | `pipeline!(manifest = "...")` |
//!
//! ```
//! use pipeline_core::prelude::*;
//!
//! let mut add = Calculator::add(1_i64);
//! let mut out = Vec::new();
//! add.process(41, &mut out).unwrap();
//! assert_eq!(out, vec![42]);
//! ```
#![warn(missing_docs)]

#[cfg(feature = "manifest-model")]
pub mod builtin_specs;
pub mod builtins;
#[cfg(feature = "distributed")]
pub mod distributed;
#[cfg(feature = "manifest")]
pub mod dynamic;
pub mod error;
pub mod graph;
#[cfg(feature = "manifest-model")]
pub mod manifest;
pub mod node;
#[cfg(feature = "manifest-model")]
pub mod placement;
#[cfg(feature = "python")]
pub mod python;
#[cfg(feature = "manifest-model")]
pub mod python_params;
#[cfg(feature = "runtime")]
pub mod runtime;
pub mod value;

pub use error::{Error, ErrorKind, Result};
pub use node::{EmitFn, Emitter, Node, NodeContext};
pub use value::Value;

/// Everything a node author or pipeline user needs in scope.
///
/// ```
/// use pipeline_core::prelude::*;
/// let _ = PassThrough::<i64>::new();
/// ```
pub mod prelude {
    pub use crate::builtins::*;
    pub use crate::error::{Error, ErrorKind, Result};
    pub use crate::node::{EmitFn, Emitter, Node, NodeContext, Ports};
    pub use crate::value::Value;
}
