use crate::error::Result;
use crate::node::{Emitter, Node};
use crate::value::Value;

/// Wraps each item as `{"input": item, "counter": n, "node": "Echo"}`, where `n` counts the items
/// this node has seen, from 1 (the seed's `Echo`).
///
/// ```
/// use pipeline_core::prelude::*;
/// let mut echo = Echo::new();
/// let mut out = Vec::new();
/// echo.process(Value::Int(7), &mut out).unwrap();
/// assert_eq!(out[0].to_string(), r#"{"counter": 1, "input": 7, "node": "Echo"}"#);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Echo {
    counter: i64,
}

impl Echo {
    /// An echo that has seen nothing yet.
    pub fn new() -> Self {
        Echo::default()
    }
}

impl Node for Echo {
    type Input = Value;
    type Output = Value;

    fn manifest_node(&self) -> Option<crate::node::ManifestNode> {
        Some(crate::node::ManifestNode::new("Echo", []))
    }

    fn process<E: Emitter<Value> + ?Sized>(&mut self, item: Value, out: &mut E) -> Result<()> {
        self.counter += 1;
        out.emit(Value::map([
            ("input", item),
            ("counter", Value::Int(self.counter)),
            ("node", Value::from("Echo")),
        ]))
    }
}
