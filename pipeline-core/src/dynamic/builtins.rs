//! The built-in node types of dynamic graphs: the typed built-ins over `Value`, plus the seed's names.

use super::registry::Registry;
use crate::builtins::{Batch, Calculator, Count, Echo, Merge, PassThrough, Sum, Unbatch};
pub use crate::manifest::builtin_types::{BatchParams, CalculatorParams, NoParams, OperationName};
use crate::value::Value;

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
    fn the_runtime_free_table_agrees_with_the_registry() {
        use crate::manifest::builtin_types::BUILTIN_TYPES;
        let registry = Registry::with_builtins();
        assert_eq!(registry.types().count(), BUILTIN_TYPES.len());
        for builtin in BUILTIN_TYPES {
            let registered = registry.get(builtin.name).expect(builtin.name);
            assert_eq!(registered.aliases, builtin.aliases, "{}", builtin.name);
            assert_eq!(
                (registered.accepts, registered.emits),
                (builtin.accepts, builtin.emits),
                "{}",
                builtin.name
            );
        }
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
