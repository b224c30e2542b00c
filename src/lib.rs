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

/// Nodes written in Python, sandboxed (feature `python`, on by default).
#[cfg(feature = "python")]
pub use pipeline_core::python;
pub use pipeline_core::{builtins, error, graph, node, runtime, value};
pub use pipeline_core::{EmitFn, Emitter, Error, ErrorKind, Node, NodeContext, Result, Value};
pub use pipeline_macros::pipeline;

/// Everything needed to write and run pipelines: built-in nodes, the node trait, the macro.
pub mod prelude {
    pub use pipeline_core::prelude::*;
    #[cfg(feature = "python")]
    pub use pipeline_core::python::{Python, PythonNode};
    pub use pipeline_macros::pipeline;
}
