//! A manifest node's `params`, as its [`NodeContext`](crate::NodeContext) shows them.
//!
//! Registered node types read their params into typed settings when the registry builds them, so
//! most nodes never look at the context's copy. The JSON object is therefore kept as parsed (moved
//! out of the manifest, not copied; often still its text, see [`Params`]) and turned into a
//! [`Value`] only when a node first reads its context's params; later runs reuse it.

use crate::manifest::Params;
use crate::node::context::LazyParams;
use crate::value::Value;
use std::sync::OnceLock;

/// A node's params: the manifest's JSON object, converted to a [`Value`] on first use.
#[derive(Debug, Default)]
pub(crate) struct NodeParams {
    json: Params,
    value: OnceLock<Value>,
}

impl NodeParams {
    /// Params from a manifest node's `params` object.
    pub(crate) fn new(json: Params) -> Self {
        NodeParams {
            json,
            value: OnceLock::new(),
        }
    }
}

impl LazyParams for NodeParams {
    /// The params as a `Value` map (empty when the node has none).
    fn value(&self) -> &Value {
        // Nodes without params share one empty map instead of allocating one each when read.
        if self.json.is_empty() {
            return empty_map();
        }
        let json = &self.json;
        self.value
            .get_or_init(|| Value::map(json.iter().map(|(k, v)| (k.as_str(), Value::from(v)))))
    }
}

/// The empty map, allocated once per process.
fn empty_map() -> &'static Value {
    static EMPTY: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| Value::map::<&str>([]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_become_a_value_once_and_keep_their_entries() {
        let json = serde_json::json!({"operation": "add", "operand": 1});
        let serde_json::Value::Object(map) = json else {
            unreachable!()
        };
        let params = NodeParams::new(map.into());
        let first = params.value().clone();
        assert_eq!(
            first,
            Value::map([
                ("operand", Value::Int(1)),
                ("operation", Value::from("add"))
            ])
        );
        let (Value::Map(earlier), Value::Map(again)) = (&first, params.value()) else {
            panic!("params are a map")
        };
        assert!(std::sync::Arc::ptr_eq(earlier, again), "converted once");
        assert_eq!(NodeParams::default().value(), &Value::map::<&str>([]));
        let (Value::Map(one), Value::Map(other)) = (
            NodeParams::default().value().clone(),
            NodeParams::new(Params::default()).value().clone(),
        ) else {
            panic!("params are a map")
        };
        assert!(std::sync::Arc::ptr_eq(&one, &other), "one shared empty map");
    }
}
