//! What a built pipeline remembers so it can write itself back as a manifest: per node its manifest
//! entry (when it has one), stage flag and parallelism; the edges with typed endpoints. Generated
//! code records it at compile time, where `output.x` and node `x` are still told apart.

use super::model::Endpoint;
use crate::node::ManifestNode;

/// A node of a [`GraphExport`].
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedNode {
    /// Node id.
    pub id: String,
    /// The node's short Rust type name, for the error when it has no manifest entry.
    pub type_name: String,
    /// Its registry type name and params; `None` when a manifest cannot express it (a closure).
    pub manifest: Option<ManifestNode>,
    /// Whether it starts a stage (`=>` into it; `"stage": true`).
    pub stage: bool,
    /// Its data-parallel degree.
    pub parallelism: usize,
    /// Whether a parallel node keeps input order.
    pub ordered: bool,
    /// Its batch size, when set.
    pub batch_size: Option<usize>,
    /// Its channel capacity, when set.
    pub capacity: Option<usize>,
}

/// A pipeline's graph as a manifest needs it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GraphExport {
    /// Nodes in declaration order.
    pub nodes: Vec<ExportedNode>,
    /// Edges in declaration order, input and outputs included. An edge leaving a node by an
    /// output port has the source as a manifest writes it, `Endpoint::Node("split.true")` (node
    /// ids hold no `.`).
    pub edges: Vec<(Endpoint, Endpoint)>,
}
