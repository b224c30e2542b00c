//! The reverse direction: a built pipeline's graph → a [`Manifest`]; and the run-time params of
//! user nodes in compiled manifests.
//!
//! Export writes the seed's style where it can: when every node without an incoming connection
//! takes the input and every node without an outgoing one is an output named by its id, input and
//! outputs are left implicit (so `manifest → compile → export` gives back the original); otherwise
//! they are written as connections from `input` and to `output` / `output.<name>`.

use super::catalog::deserialize_params;
use super::model::{Connection, Manifest, Metadata, NodeSpec, Version};
use crate::error::{Error, Result};
use crate::graph::{Endpoint, GraphExport, Name, INPUT, OUTPUT};
use crate::node::ManifestNode;
use serde::de::DeserializeOwned;

/// `graph` as a manifest named `name`; fails naming the first node a manifest cannot express.
///
/// ```
/// use pipeline_core::graph::{Endpoint, ExportedNode, GraphExport};
/// use pipeline_core::prelude::*;
///
/// let graph = GraphExport {
///     nodes: vec![ExportedNode {
///         id: "add".into(), type_name: "Calculator".into(), stage: false, parallelism: 1,
///         ordered: true, batch_size: None, capacity: None,
///         manifest: Calculator::add(1_i64).manifest_node(),
///     }],
///     edges: vec![
///         (Endpoint::Input, Endpoint::node("add")),
///         (Endpoint::node("add"), Endpoint::output("add")),
///     ],
/// };
/// let manifest = pipeline_core::manifest::export("m", &graph)?;
/// assert_eq!(manifest.nodes[0].params["operand"], 1);
/// assert!(manifest.connections.is_empty()); // input and output are the seed's implicit ones
/// # Ok::<(), pipeline_core::Error>(())
/// ```
pub fn export(name: &str, graph: &GraphExport) -> Result<Manifest> {
    let mut nodes = Vec::with_capacity(graph.nodes.len());
    for node in &graph.nodes {
        let Some(entry) = &node.manifest else {
            return Err(Error::msg(format_args!(
                "`{}` has no manifest form (closures and unregistered types cannot be written as JSON)",
                node.type_name
            ))
            .in_node(&node.id));
        };
        let params = match serde_json::to_value(&entry.params) {
            Ok(serde_json::Value::Object(params)) => params,
            _ => serde_json::Map::new(),
        };
        nodes.push(NodeSpec {
            id: Name::from(node.id.as_str()),
            node_type: Name::from(entry.node_type.as_str()),
            params: params.into(),
            capabilities: None,
            host: None,
            runtime_hint: None,
            execution: None,
            stage: node.stage,
            parallelism: node.parallelism,
            ordered: node.ordered,
            distribute: false,
            batch_size: node.batch_size,
            channel_capacity: node.capacity,
            accepts: None,
            emits: None,
            isolation: None,
            limits: None,
        });
    }
    Ok(Manifest {
        version: Version::V1,
        metadata: Metadata {
            name: name.into(),
            description: None,
            created_at: None,
        },
        nodes,
        connections: connections(graph),
    })
}

fn connections(graph: &GraphExport) -> Vec<Connection> {
    let between_nodes = |(from, to): &&(Endpoint, Endpoint)| {
        matches!((from, to), (Endpoint::Node(_), Endpoint::Node(_)))
    };
    let has_node_edge = |id: &str, incoming: bool| {
        graph.edges.iter().filter(between_nodes).any(|(from, to)| {
            let end = if incoming { to } else { from };
            // A port's edge leaves its node: `split.true` is an edge out of `split`.
            matches!(end, Endpoint::Node(n) if n.split('.').next() == Some(id))
        })
    };
    let ids = || graph.nodes.iter().map(|n| n.id.as_str());
    let implicit_inputs: Vec<Endpoint> = ids()
        .filter(|id| !has_node_edge(id, true))
        .map(Endpoint::node)
        .collect();
    let implicit_outputs: Vec<(Endpoint, Endpoint)> = ids()
        .filter(|id| !has_node_edge(id, false))
        .map(|id| (Endpoint::node(id), Endpoint::output(id)))
        .collect();
    let inputs: Vec<Endpoint> = graph
        .edges
        .iter()
        .filter(|(from, _)| *from == Endpoint::Input)
        .map(|(_, to)| to.clone())
        .collect();
    let outputs: Vec<(Endpoint, Endpoint)> = graph
        .edges
        .iter()
        .filter(|(_, to)| matches!(to, Endpoint::Output(_)))
        .cloned()
        .collect();
    let write_inputs = !same_set(&inputs, &implicit_inputs);
    let write_outputs = !same_set(&outputs, &implicit_outputs);
    graph
        .edges
        .iter()
        .filter(|(from, to)| match (from, to) {
            (Endpoint::Input, _) => write_inputs,
            (_, Endpoint::Output(_)) => write_outputs,
            _ => true,
        })
        .map(|(from, to)| Connection {
            from: Name::from(from.to_string()),
            to: match to {
                Endpoint::Output(name) if &**name == OUTPUT => Name::clone(name),
                Endpoint::Output(name) => Name::from(format!("{OUTPUT}.{name}")),
                Endpoint::Input => Name::from(INPUT),
                Endpoint::Node(id) => Name::clone(id),
            },
        })
        .collect()
}

fn same_set<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

/// A user node's params in a compiled manifest, deserialised at run time (the macro cannot run the
/// user's `Deserialize`): a bad param is an error naming the node, its type and the param.
///
/// ```
/// #[derive(serde::Deserialize, Debug)]
/// struct ScaleParams { factor: i64 }
/// let err = pipeline_core::manifest::node_from_params::<ScaleParams>(
///     "scale", "Scale", r#"{"factor": "two"}"#,
/// ).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "node `scale`: invalid params for `Scale`: param `factor`: invalid type: string \"two\", expected i64"
/// );
/// ```
pub fn node_from_params<P: DeserializeOwned>(
    node: &str,
    node_type: &str,
    params_json: &str,
) -> Result<P> {
    let params: serde_json::Value = serde_json::from_str(params_json)
        .map_err(|e| Error::msg(format_args!("invalid params JSON: {e}")).in_node(node))?;
    deserialize_params(&params).map_err(|e| {
        Error::msg(format_args!("invalid params for `{node_type}`: {e}")).in_node(node)
    })
}

/// A manifest entry from its type name and params as JSON text; what a compiled manifest records so
/// `to_manifest()` writes each node back as the file had it. Invalid JSON gives empty params.
///
/// ```
/// let entry = pipeline_core::manifest::manifest_node_from_json("Scale", r#"{"factor": 2}"#).unwrap();
/// assert_eq!(entry.params.get("factor"), Some(&pipeline_core::Value::Int(2)));
/// ```
pub fn manifest_node_from_json(node_type: &str, params_json: &str) -> Option<ManifestNode> {
    let params: serde_json::Value = serde_json::from_str(params_json).unwrap_or_default();
    Some(ManifestNode {
        node_type: node_type.to_string(),
        params: crate::Value::from(&params),
    })
}
