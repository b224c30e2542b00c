//! The built-in node types of dynamic graphs: every spec of [`BUILTIN_SPECS`], registered.

use super::registry::Registry;
use crate::builtin_specs::BUILTIN_SPECS;
pub use crate::builtin_specs::{BatchParams, CalculatorParams, NoParams, OperationName};

/// Registers every built-in of [`BUILTIN_SPECS`]: `PassThrough` (alias `PassThroughNode`),
/// `Calculator` (alias `CalculatorNode`), `Echo`, `Count`, `Sum`, `Batch`, `Unbatch`, `Merge`.
///
/// ```
/// use pipeline_core::dynamic::Registry;
/// let registry = Registry::with_builtins();
/// let names: Vec<&str> = registry.names().collect();
/// assert!(names.contains(&"PassThroughNode") && names.contains(&"Echo"));
/// ```
pub fn register_builtins(registry: &mut Registry) {
    for spec in BUILTIN_SPECS {
        registry.register_spec(spec);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_spec_is_registered_under_its_names_with_its_ports_params_and_doc() {
        let registry = Registry::with_builtins();
        assert_eq!(registry.types().count(), BUILTIN_SPECS.len());
        for spec in BUILTIN_SPECS {
            let registered = registry.get(spec.name).expect(spec.name);
            assert_eq!(registered.aliases, spec.aliases, "{}", spec.name);
            assert_eq!(
                (
                    registered.accepts,
                    registered.emits,
                    registered.doc.as_str()
                ),
                (spec.accepts, spec.emits, spec.doc),
                "{}",
                spec.name
            );
        }
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

    #[test]
    fn a_registered_builtin_builds_its_node_and_refuses_bad_params() {
        let registry = Registry::with_builtins();
        let calc = registry.get("CalculatorNode").unwrap();
        let mut node = calc
            .build(&json!({"operation": "multiply", "operand": 3}))
            .unwrap();
        let mut out = Vec::new();
        node.process(crate::Value::Int(4), &mut out).unwrap();
        assert_eq!(out, [crate::Value::Int(12)]);
        let err = calc.build(&json!({"operand": "five"})).err().unwrap();
        assert_eq!(
            err.to_string(),
            "param `operand`: invalid type: string \"five\", expected a JSON number"
        );
        let batch = registry.get("Batch").unwrap();
        assert_eq!(
            batch.build(&json!({})).err().unwrap().to_string(),
            "missing field `size`"
        );
    }
}
