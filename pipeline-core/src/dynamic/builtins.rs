//! The built-in node types of dynamic graphs: the typed built-ins over `Value`, plus the seed's names.

use super::registry::Registry;
use crate::builtins::{
    Batch, Calculator, Count, Echo, Merge, Operation, PassThrough, Sum, Unbatch,
};
use crate::value::Value;
use schemars::JsonSchema;
use serde::Deserialize;
use std::num::NonZeroUsize;

/// Params of a node type that takes none (any given are ignored).
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
pub struct NoParams {}

/// The seed's `CalculatorNode` params.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct CalculatorParams {
    /// What to compute.
    #[serde(default)]
    pub operation: OperationName,
    /// The right-hand side.
    #[serde(default = "zero")]
    pub operand: serde_json::Number,
}

fn zero() -> serde_json::Number {
    serde_json::Number::from(0)
}

/// An operation by its manifest name.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum OperationName {
    #[default]
    Add,
    Subtract,
    Multiply,
    Divide,
}

impl From<OperationName> for Operation {
    fn from(name: OperationName) -> Operation {
        match name {
            OperationName::Add => Operation::Add,
            OperationName::Subtract => Operation::Subtract,
            OperationName::Multiply => Operation::Multiply,
            OperationName::Divide => Operation::Divide,
        }
    }
}

/// `Batch` params.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct BatchParams {
    /// Items per batch.
    pub size: NonZeroUsize,
}

/// Registers every built-in: `PassThrough` (alias `PassThroughNode`), `Calculator` (alias
/// `CalculatorNode`), `Echo`, `Count`, `Sum`, `Batch`, `Unbatch`, `Merge`.
///
/// ```
/// use pipeline_core::dynamic::Registry;
/// let registry = Registry::with_builtins();
/// let names: Vec<&str> = registry.names().collect();
/// assert!(names.contains(&"PassThroughNode") && names.contains(&"Echo"));
/// ```
pub fn register_builtins(registry: &mut Registry) {
    registry
        .register("PassThrough", |_: NoParams| PassThrough::<Value>::new())
        .alias("PassThroughNode", "PassThrough")
        .register("Calculator", |p: CalculatorParams| {
            Calculator::new(
                p.operation.into(),
                Value::from(&serde_json::Value::Number(p.operand)),
            )
        })
        .alias("CalculatorNode", "Calculator")
        .register("Echo", |_: NoParams| Echo::new())
        .register("Count", |_: NoParams| Count::<Value>::new())
        .register("Sum", |_: NoParams| Sum::<i64>::new())
        .register("Batch", |p: BatchParams| Batch::<Value>::new(p.size.get()))
        .register("Unbatch", |_: NoParams| Unbatch::<Vec<Value>>::new())
        .register("Merge", |_: NoParams| Merge::<Value>::new());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::PortType;
    use serde_json::json;

    #[test]
    fn bad_params_name_the_param_and_the_expected_type() {
        let registry = Registry::with_builtins();
        let calc = registry.get("CalculatorNode").unwrap();
        let err = calc.build(&json!({"operation": "modulo"})).err().unwrap();
        assert_eq!(err.param.as_deref(), Some("operation"));
        assert!(
            err.message
                .contains("expected one of `add`, `subtract`, `multiply`, `divide`"),
            "{err}"
        );
        let err = calc.build(&json!({"operand": "five"})).err().unwrap();
        assert_eq!(
            err.to_string(),
            "param `operand`: invalid type: string \"five\", expected a JSON number"
        );
        let err = registry
            .get("Batch")
            .unwrap()
            .build(&json!({}))
            .err()
            .unwrap();
        assert_eq!(err.to_string(), "missing field `size`");
    }

    #[test]
    fn port_types_come_from_the_typed_nodes() {
        let registry = Registry::with_builtins();
        let sum = registry.get("Sum").unwrap();
        assert_eq!((sum.accepts, sum.emits), (PortType::Int, PortType::Int));
        assert_eq!(registry.get("Batch").unwrap().emits, PortType::List);
        assert_eq!(registry.get("Unbatch").unwrap().accepts, PortType::List);
        let calc = registry.get("Calculator").unwrap();
        let names: Vec<_> = calc
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.kind.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("operand", "number"),
                ("operation", "add | subtract | multiply | divide")
            ]
        );
    }
}
