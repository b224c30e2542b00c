//! Manifests: pipelines written as JSON (the seed's v1 format), loaded at run time.
//!
//! The stages, one file each: [`model`] (the format, and the JSON Schema's source), [`parse`] (text
//! → model, every problem located by JSON pointer and line:column, see [`location`]), [`lower()`]
//! (model → the shared `graph::Graph`, validated and planned by the same code as `pipeline!`,
//! nodes built from a [`Registry`](crate::dynamic::Registry)), [`check_placement`] (capabilities
//! against this host). [`crate::dynamic::build`] turns the result into a running pipeline.
//!
//! ```
//! use pipeline_core::{dynamic::Registry, manifest};
//! let text = r#"{"version": "v1", "metadata": {"name": "m"},
//!   "nodes": [{"id": "a", "node_type": "PassThrough"}, {"id": "b", "node_type": "Calculater"}],
//!   "connections": [{"from": "a", "to": "b"}]}"#;
//! let err = manifest::load("m.json", text, &Registry::with_builtins()).err().unwrap();
//! assert_eq!(
//!     err.to_string(),
//!     "m.json:2:79 (/nodes/1/node_type): error: node `b`: unknown node type `Calculater` (did you mean `Calculator`?)"
//! );
//! ```

pub mod builtin_types;
mod catalog;
mod error;
mod export;
pub mod location;
mod lower;
pub mod model;
mod parse;
mod placement_check;

pub use catalog::{deserialize_params, NodeCatalog, ParamError, ResolvedNode};
pub use error::{ManifestError, Problem, ProblemKind, Severity};
pub use export::{export, manifest_node_from_json, node_from_params};
pub use location::{Location, SourceMap};
#[cfg(feature = "manifest")]
pub use lower::{lower, LoweredManifest};
pub use lower::{lower_with, LoweredGraph};
pub use model::{Connection, Manifest, Metadata, NodeSpec, Version};
pub use parse::{parse, ParsedManifest};
pub use placement_check::check_placement;

#[cfg(feature = "manifest")]
use crate::dynamic::Registry;

/// Parses and lowers a manifest: the whole check `pipeline validate` does.
#[cfg(feature = "manifest")]
pub fn load(file: &str, text: &str, registry: &Registry) -> Result<LoweredManifest, ManifestError> {
    lower(parse(file, text)?, registry)
}

/// The manifest's JSON Schema, generated from [`Manifest`].
///
/// ```
/// let schema = pipeline_core::manifest::json_schema();
/// assert!(schema.contains("\"node_type\""));
/// ```
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Manifest);
    serde_json::to_string_pretty(&schema).expect("a schema serialises") + "\n"
}
