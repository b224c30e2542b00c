//! Where lowering finds node types: the run-time [`Registry`](crate::dynamic::Registry) (nodes built
//! as `DynNode`s) or, in `pipeline!(manifest = "...")`, the macro's table of Rust types (nodes turned
//! into code). One trait, so both go through the same lowering and the same checks.

use crate::graph::{OutputPort, PortType};
use serde::de::DeserializeOwned;

/// Params that did not deserialise: which one (a path inside `params`, when known) and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{message}", param.as_ref().map_or(String::new(), |p| format!("param `{p}`: ")))]
pub struct ParamError {
    /// The param's path inside `params` (`operation`, `window.size`).
    pub param: Option<String>,
    /// What was wrong, with the expected type.
    pub message: String,
}

/// A node type resolved with its params: what it became and its port types.
#[derive(Debug, Clone)]
pub struct ResolvedNode<N> {
    /// The built node (or whatever the catalog makes of it).
    pub node: N,
    /// What it accepts.
    pub accepts: PortType,
    /// What it emits.
    pub emits: PortType,
    /// Its named outputs (`route.even`) and their types; empty for a node with one output.
    pub ports: Vec<OutputPort>,
}

/// A source of node types for [`lower_with`](super::lower_with).
///
/// ```
/// use pipeline_core::graph::PortType;
/// use pipeline_core::manifest::{self, NodeCatalog, ParamError, ResolvedNode};
///
/// /// Knows one type, `Id`, and records its params.
/// struct OneType;
/// impl NodeCatalog for OneType {
///     type Node = serde_json::Value;
///     fn resolve(&self, node_type: &str, params: &serde_json::Value)
///         -> Option<Result<ResolvedNode<serde_json::Value>, ParamError>> {
///         (node_type == "Id").then(|| Ok(ResolvedNode {
///             node: params.clone(), accepts: PortType::Any, emits: PortType::Any, ports: Vec::new(),
///         }))
///     }
///     fn names(&self) -> Vec<String> { vec!["Id".into()] }
/// }
///
/// let text = r#"{"version": "v1", "metadata": {"name": "m"},
///   "nodes": [{"id": "a", "node_type": "Id", "params": {"k": 1}}], "connections": []}"#;
/// let lowered = manifest::lower_with(manifest::parse("m.json", text)?, &OneType)?;
/// // Each node's payload is what the catalog made of it.
/// assert_eq!(lowered.graph.payload(0)["k"], 1);
/// # Ok::<(), manifest::ManifestError>(())
/// ```
pub trait NodeCatalog {
    /// What a resolved node becomes.
    type Node;

    /// `node_type` built from `params` (a JSON object): `None` if the type is unknown.
    fn resolve(
        &self,
        node_type: &str,
        params: &serde_json::Value,
    ) -> Option<Result<ResolvedNode<Self::Node>, ParamError>>;

    /// [`resolve`](NodeCatalog::resolve) for a manifest node's params, which may still be the
    /// text of their object ([`Params`](super::Params)): a catalog that can build from that text
    /// overrides this; by default they are read as a map, lent as a JSON value and taken back.
    fn resolve_params(
        &self,
        node_type: &str,
        params: &mut super::Params,
    ) -> Option<Result<ResolvedNode<Self::Node>, ParamError>> {
        let value = serde_json::Value::Object(params.take_map());
        let resolution = self.resolve(node_type, &value);
        if let serde_json::Value::Object(map) = value {
            *params = super::Params::from(map);
        }
        resolution
    }

    /// [`resolve_params`](Self::resolve_params) for each of a manifest's nodes, in order. A
    /// catalog may find a type once for the nodes that share it.
    fn resolve_nodes(
        &self,
        specs: &mut [super::model::NodeSpec],
    ) -> Vec<Option<Result<ResolvedNode<Self::Node>, ParamError>>> {
        specs
            .iter_mut()
            .map(|spec| self.resolve_params(&spec.node_type, &mut spec.params))
            .collect()
    }

    /// Every name a type can be asked for by, for "did you mean".
    fn names(&self) -> Vec<String>;

    /// The hint for an unknown type when no name is close.
    fn unknown_type_help(&self) -> String {
        "`pipeline nodes` lists the registered node types".to_string()
    }
}

/// Deserialises `params` (an object, or `null` for none) into `P`, reporting the path of a bad param.
///
/// ```
/// use pipeline_core::manifest::deserialize_params;
/// #[derive(serde::Deserialize)]
/// struct Scale { factor: i64 }
/// let err = deserialize_params::<Scale>(&serde_json::json!({"factor": "x"})).err().unwrap();
/// assert_eq!(err.param.as_deref(), Some("factor"));
/// ```
pub fn deserialize_params<P: DeserializeOwned>(
    params: &serde_json::Value,
) -> Result<P, ParamError> {
    let empty = serde_json::Value::Object(serde_json::Map::new());
    let params = if params.is_null() { &empty } else { params };
    // The plain deserializer first; the path-tracking one only to say where a failure is.
    if let Ok(parsed) = P::deserialize(params) {
        return Ok(parsed);
    }
    serde_path_to_error::deserialize(params).map_err(|err| {
        let path = err.path().to_string();
        ParamError {
            param: (path != ".").then_some(path),
            message: err.into_inner().to_string(),
        }
    })
}
