//! What a node learns about itself when it is initialised.

use crate::value::Value;

/// The node's id in its graph and the params it was declared with.
///
/// Nodes built in Rust source usually carry their settings as fields and ignore `params`; nodes built
/// from a manifest see the manifest's `params` object here.
///
/// ```
/// use pipeline_core::{NodeContext, Value};
/// let ctx = NodeContext::new("scale", &Value::Null);
/// assert_eq!(ctx.id(), "scale");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct NodeContext<'a> {
    id: &'a str,
    params: &'a Value,
}

impl<'a> NodeContext<'a> {
    /// A context for node `id` with `params` (`Value::Null` when there are none).
    pub fn new(id: &'a str, params: &'a Value) -> Self {
        NodeContext { id, params }
    }

    /// The node's id, as written in the graph.
    pub fn id(&self) -> &'a str {
        self.id
    }

    /// The node's params (`Value::Null` for nodes built in Rust source).
    pub fn params(&self) -> &'a Value {
        self.params
    }
}
