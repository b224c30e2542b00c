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
    params: ContextParams<'a>,
}

/// Where a context's params come from.
#[derive(Debug, Clone, Copy)]
enum ContextParams<'a> {
    /// Made already.
    Made(&'a Value),
    /// Made when a node first asks: most nodes read their settings when they are built and never
    /// do (a manifest's params turned into a `Value` for every node cost ~500 instructions a
    /// node with params, callgrind, a cold run of the benchmark's 3-node manifest).
    #[cfg_attr(not(feature = "manifest"), allow(dead_code))]
    Lazy(&'a dyn LazyParams),
}

/// Params made into a [`Value`] on first use, and kept.
#[cfg_attr(not(feature = "manifest"), allow(dead_code))]
pub(crate) trait LazyParams: std::fmt::Debug + Sync {
    /// The params; the same `Value` each time.
    fn value(&self) -> &Value;
}

impl<'a> NodeContext<'a> {
    /// A context for node `id` with `params` (`Value::Null` when there are none).
    pub fn new(id: &'a str, params: &'a Value) -> Self {
        NodeContext {
            id,
            params: ContextParams::Made(params),
        }
    }

    /// A context for node `id` whose params are made from `params` if the node reads them.
    #[cfg_attr(not(feature = "manifest"), allow(dead_code))]
    pub(crate) fn lazy(id: &'a str, params: &'a dyn LazyParams) -> Self {
        NodeContext {
            id,
            params: ContextParams::Lazy(params),
        }
    }

    /// The node's id, as written in the graph.
    pub fn id(&self) -> &'a str {
        self.id
    }

    /// The node's params (`Value::Null` for nodes built in Rust source).
    pub fn params(&self) -> &'a Value {
        match self.params {
            ContextParams::Made(params) => params,
            ContextParams::Lazy(params) => params.value(),
        }
    }
}
