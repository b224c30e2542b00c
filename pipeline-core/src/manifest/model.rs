//! The manifest's data model: the seed's v1 format, plus this project's optional extensions.
//!
//! These types are the single source of the JSON Schema (`pipeline schema`). Unknown fields of the
//! manifest and of its nodes are accepted by [`parse`](super::parse) (later seed versions added
//! some) and reported as warnings. Deserialized directly, [`Manifest`] and [`NodeSpec`] refuse them:
//! that is how the parser's fast path learns, without tracking where every key is, that a document
//! has fields to warn about.

use super::name::deserialize_name;
use super::params::Params;
use super::text::Text;
use crate::graph::{Name, PortType};
use crate::placement::Capabilities;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A pipeline manifest (format version v1).
///
/// ```
/// use pipeline_core::manifest::Manifest;
/// let m: Manifest = serde_json::from_str(r#"{"version": "v1", "metadata": {"name": "m"},
///     "nodes": [{"id": "a", "node_type": "PassThrough"}], "connections": []}"#).unwrap();
/// assert_eq!(&*m.nodes[0].id, "a");
/// ```
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "pipeline manifest v1",
    description = "A pipeline manifest (format version v1).",
    extend("additionalProperties" = true)
)]
pub struct Manifest {
    /// Format version: `v1`.
    pub version: Version,
    /// Name and description.
    pub metadata: Metadata,
    /// The nodes; at least one.
    #[schemars(length(min = 1))]
    pub nodes: Vec<NodeSpec>,
    /// Edges between nodes. Nodes with no incoming connection are fed the pipeline input; nodes
    /// with no outgoing connection are outputs named by their id.
    pub connections: Vec<Connection>,
}

/// The format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Version {
    /// The seed system's v1.
    #[serde(rename = "v1")]
    V1,
}

/// What the pipeline is.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Metadata {
    /// Pipeline name.
    pub name: Text,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// ISO-8601 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// One node.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("additionalProperties" = true))]
pub struct NodeSpec {
    /// Unique id: letters, digits, `_` and `-`.
    #[schemars(regex(pattern = r"^[a-zA-Z0-9_-]+$"))]
    #[serde(deserialize_with = "deserialize_name")]
    pub id: Name,
    /// A registered node type (`pipeline nodes` lists them).
    #[serde(deserialize_with = "deserialize_name")]
    pub node_type: Name,
    /// The node type's parameters.
    #[serde(default, skip_serializing_if = "Params::is_empty")]
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub params: Params,
    /// Hardware the node needs; checked against the host before a run.
    // Boxed, like `execution`: a node is moved whole while a manifest is read, and few have either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Box<Capabilities>>,
    /// `host:port` of the `pipeline worker` this node must run on (`pipeline run --hosts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Which Python runtime a Python node prefers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_hint: Option<RuntimeHint>,
    /// The seed's execution placement notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<Box<Execution>>,
    /// Extension: run this node (and what is fused after it) on its own thread, behind a bounded
    /// channel: the macro's `=>`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stage: bool,
    /// Extension: data-parallel degree: this many replicas of the node (built from the same params)
    /// process its items in batches on rayon's pool; 1 runs sequentially. The macro's `par(n)`.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    #[schemars(range(min = 1, max = 256))]
    pub parallelism: usize,
    /// Extension: whether a parallel node emits in input order (default `true`); `false` emits each
    /// chunk as soon as it is done. The macro's `par(n, unordered)`.
    #[serde(default = "yes", skip_serializing_if = "Clone::clone")]
    pub ordered: bool,
    /// Extension, `pipeline run --hosts`: spread this stateless parallel node's replicas over every
    /// process able to run it (the local one and the capable workers) instead of one process.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub distribute: bool,
    /// Extension: the largest batch on the stage channel into this node (`"stage": true`; batches
    /// start at up to 1024 items and double while a stream fills them; default 16384), and the
    /// items per parallel batch (default 1024). The macro's `batch(n)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1048576))]
    pub batch_size: Option<usize>,
    /// Extension: batches the stage channel into this node holds before senders wait; default 4.
    /// The macro's `capacity(n)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65536))]
    pub channel_capacity: Option<usize>,
    /// Extension: declares the item type the node accepts, narrowing an untyped (`any`) node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepts: Option<PortType>,
    /// Extension: declares the item type the node emits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emits: Option<PortType>,
    /// Extension, `python` nodes only: where the node runs when the CLI runs the manifest: in an
    /// isolated worker process (`"process"`, the CLI's default) or in the CLI's own interpreter
    /// (`"in_process"`, trusted code only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation: Option<Isolation>,
    /// Extension, `python` nodes only: limits of the isolated worker, overriding the run's
    /// (`pipeline run --python-memory-mb ...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<PythonLimits>,
}

/// Where a Python node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// In a worker process of its own stage, under limits and a system-call filter.
    Process,
    /// In the interpreter of the process running the pipeline (its sandbox, no process limits).
    InProcess,
}

/// Limits of an isolated Python node; each one left out keeps the run's value, `0` is unlimited.
///
/// ```
/// use pipeline_core::manifest::PythonLimits;
/// let limits: PythonLimits = serde_json::from_str(r#"{"memory_mb": 256, "item_timeout_ms": 500}"#).unwrap();
/// assert_eq!((limits.memory_mb, limits.cpu_seconds), (Some(256), None));
/// assert!(serde_json::from_str::<PythonLimits>(r#"{"memory": 1}"#).is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PythonLimits {
    /// Address space of the worker (`RLIMIT_AS`), in MiB; default 2048.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u64>,
    /// CPU time of the worker over the run (`RLIMIT_CPU`), in seconds; default 3600.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_seconds: Option<u64>,
    /// Wall-clock time one item may take without the node returning or yielding, in
    /// milliseconds; default 60000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_timeout_ms: Option<u64>,
}

fn one() -> usize {
    1
}

fn yes() -> bool {
    true
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

/// Python runtime preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuntimeHint {
    /// Embedded RustPython.
    RustPython,
    /// CPython.
    Cpython,
    /// CPython compiled to WebAssembly.
    CpythonWasm,
    /// Let the runtime choose.
    Auto,
}

/// The seed's placement notes (informational).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Execution {
    /// Where the seed placed the node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<String>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What to do when the placement fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

/// An edge: items emitted by `from` go to `to`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Connection {
    /// Source node id, or `input` for the pipeline input; `<id>.<port>` leaves a node with
    /// output ports (`Partition`, `Route`) by that port (`split.true`).
    #[serde(deserialize_with = "deserialize_name")]
    pub from: Name,
    /// Target node id, or `output` / `output.<name>` for a pipeline output.
    #[serde(deserialize_with = "deserialize_name")]
    pub to: Name,
}

/// Fields this version knows, per object; others are warned about.
pub(crate) const TOP_LEVEL_FIELDS: &[&str] = &["version", "metadata", "nodes", "connections"];
pub(crate) const NODE_FIELDS: &[&str] = &[
    "id",
    "node_type",
    "params",
    "capabilities",
    "host",
    "runtime_hint",
    "execution",
    "stage",
    "parallelism",
    "ordered",
    "distribute",
    "batch_size",
    "channel_capacity",
    "accepts",
    "emits",
    "isolation",
    "limits",
];
