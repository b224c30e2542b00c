//! A node as a manifest entry: the registry type name and params that rebuild it, so a `pipeline!`
//! graph can export its manifest (`Pipeline::to_manifest`).

use crate::value::Value;

/// The registry type name and params of a node.
///
/// ```
/// use pipeline_core::prelude::*;
/// let entry = Calculator::add(2_i64).manifest_node().unwrap();
/// assert_eq!(entry.node_type, "Calculator");
/// assert_eq!(entry.params.get("operation"), Some(&Value::from("add")));
/// assert!(Map::new(|x: i64| x).manifest_node().is_none()); // a closure has no manifest form
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestNode {
    /// The name a registry knows the type by (`Calculator`, or a user type's registered name).
    pub node_type: String,
    /// The params, a map (empty for none).
    pub params: Value,
}

impl ManifestNode {
    /// An entry with the given params.
    pub fn new<'a>(
        node_type: impl Into<String>,
        params: impl IntoIterator<Item = (&'a str, Value)>,
    ) -> ManifestNode {
        ManifestNode {
            node_type: node_type.into(),
            params: Value::map(params),
        }
    }
}
