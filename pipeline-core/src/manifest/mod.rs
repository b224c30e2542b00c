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

mod catalog;
mod checked_params;
mod error;
mod export;
pub mod location;
mod lower;
pub mod model;
mod name;
mod name_table;
mod node_ids;
mod params;
mod parse;
mod place;
mod placement_check;
mod plain;
pub(crate) mod plain_cursor;
mod plain_field;
mod python_files;
mod scan;
mod source_file;
mod spare;
mod text;

pub use catalog::{deserialize_params, NodeCatalog, ParamError, ResolvedNode};
pub use error::{
    ManifestError, Problem, ProblemKind, Severity, MAX_LISTED_ERRORS, MAX_LISTED_WARNINGS,
};
pub use export::{export, manifest_node_from_json, node_from_params};
pub use location::{Location, SourceMap};
#[cfg(feature = "manifest")]
pub use lower::{lower, lower_limited, LoweredManifest};
pub use lower::{lower_with, lower_with_limits, LoweredGraph};
pub use model::{Connection, Isolation, Manifest, Metadata, NodeSpec, PythonLimits, Version};
pub use params::Params;
pub use parse::MAX_NESTING;
pub use parse::{parse, ParsedManifest};
pub use place::JsonPlace;
pub use placement_check::{check_placement, check_plan};
pub use python_files::read_python_files;
pub use source_file::{
    read_bounded, read_source_file, SourceFileError, DEFAULT_MAX_MANIFEST_BYTES,
    DEFAULT_MAX_PYTHON_FILE_BYTES,
};
pub use text::Text;

#[cfg(feature = "manifest")]
use crate::dynamic::Registry;

/// Parses and lowers a manifest: the whole check `pipeline validate` does. Files named by
/// `python` nodes are read relative to the folder of `file` (see [`load_with_options`]).
#[cfg(feature = "manifest")]
pub fn load(file: &str, text: &str, registry: &Registry) -> Result<LoweredManifest, ManifestError> {
    load_with_options(file, text, registry, &LoadOptions::default())
}

/// How [`load_with_options`] treats what lies outside the manifest's text, and the limits it
/// holds a manifest to.
///
/// ```
/// use pipeline_core::manifest::LoadOptions;
/// let options = LoadOptions { max_python_file_bytes: 4 << 20, ..LoadOptions::default() };
/// assert_eq!(options.graph_limits.max_stages, pipeline_core::graph::GraphLimits::default().max_stages);
/// ```
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The folder that relative `file` params of `python` nodes are resolved against (and must
    /// stay inside); `None`, the default, means the folder of the manifest's file name.
    pub base_dir: Option<std::path::PathBuf>,
    /// The largest source file a `python` node's `file` may name, in bytes
    /// ([`DEFAULT_MAX_PYTHON_FILE_BYTES`] by default).
    pub max_python_file_bytes: u64,
    /// Limits on the graph's shape (longest fused chain, number of stages).
    pub graph_limits: crate::graph::GraphLimits,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            base_dir: None,
            max_python_file_bytes: DEFAULT_MAX_PYTHON_FILE_BYTES,
            graph_limits: crate::graph::GraphLimits::default(),
        }
    }
}

impl LoadOptions {
    /// Options resolving relative paths against `base_dir`.
    pub fn with_base_dir(base_dir: impl Into<std::path::PathBuf>) -> LoadOptions {
        LoadOptions {
            base_dir: Some(base_dir.into()),
            ..LoadOptions::default()
        }
    }
}

/// [`load`] with options: parses, reads the source files of `python` nodes (relative to
/// [`LoadOptions::base_dir`]), lowers and validates.
///
/// ```
/// use pipeline_core::{dynamic::Registry, manifest::{self, LoadOptions}};
/// let text = r#"{"version": "v1", "metadata": {"name": "m"},
///   "nodes": [{"id": "scale", "node_type": "python", "params": {"file": "nodes/missing.py", "class": "Scale"}}],
///   "connections": []}"#;
/// let options = LoadOptions::with_base_dir("/nonexistent");
/// let err = manifest::load_with_options("m.json", text, &Registry::with_builtins(), &options).err().unwrap();
/// assert!(err.to_string().starts_with(
///     "m.json:2:71 (/nodes/0/params/file): error: node `scale`: invalid params for `python`: param `file`: cannot read `nodes/missing.py`: the manifest's folder /nonexistent"
/// ), "{err}");
/// ```
#[cfg(feature = "manifest")]
pub fn load_with_options(
    file: &str,
    text: &str,
    registry: &Registry,
    options: &LoadOptions,
) -> Result<LoweredManifest, ManifestError> {
    let mut parsed = parse(file, text)?;
    // Only `python` nodes read files: the folder is not worked out for a manifest without one
    // (`Path::parent` alone cost ~230 instructions a load, callgrind, the benchmark's manifests).
    let python = crate::python_params::PYTHON_NODE_TYPE;
    if parsed
        .manifest
        .nodes
        .iter()
        .any(|s| &*s.node_type == python)
    {
        let base_dir = match &options.base_dir {
            Some(dir) => dir.clone(),
            None => std::path::Path::new(file)
                .parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default(),
        };
        read_python_files(&mut parsed, &base_dir, options.max_python_file_bytes)?;
    }
    lower_limited(parsed, registry, &options.graph_limits)
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
