//! `Calculator` (the seed's `CalculatorNode`): one arithmetic operation with a fixed operand.

use super::{Arg, Builtin, Constructor, ConstructorError, ItemKind, TypeArg};
use crate::builtins::{Calculator, Operation};
use crate::value::Value;
use schemars::JsonSchema;
use serde::Deserialize;

/// `Calculator`: `item <operation> operand`. Compiled manifests fix the operation at compile time
/// (a zero-sized kind, as `Calculator::add(1)` written by hand).
pub struct CalculatorSpec;

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

impl Builtin for CalculatorSpec {
    const NAME: &'static str = "Calculator";
    const ALIASES: &'static [&'static str] = &["CalculatorNode"];
    const DOC: &'static str = "Computes `item <operation> operand` for each item.";
    type Params = CalculatorParams;
    type Node = Calculator<Value>;

    fn build(params: CalculatorParams) -> Calculator<Value> {
        let operand = Value::from(&serde_json::Value::Number(params.operand));
        Calculator::new(params.operation.into(), operand)
    }

    fn constructor(
        params: &CalculatorParams,
        _: ItemKind,
    ) -> Result<Constructor, ConstructorError> {
        let (kind, function) = match params.operation {
            OperationName::Add => ("ops::Add", "add"),
            OperationName::Subtract => ("ops::Subtract", "subtract"),
            OperationName::Multiply => ("ops::Multiply", "multiply"),
            OperationName::Divide => ("ops::Divide", "divide"),
        };
        Ok(Constructor::new("Calculator", function)
            .type_args([TypeArg::Item, TypeArg::Builtin(kind)])
            .args([Arg::ItemNumber {
                param: "operand",
                value: params.operand.clone(),
            }]))
    }
}

#[cfg(test)]
mod tests {
    use super::super::builtin_spec;
    use super::*;
    use serde_json::json;

    #[test]
    fn bad_params_name_the_param_and_the_expected_type() {
        let calc = builtin_spec("CalculatorNode").unwrap();
        let err = calc.check(&json!({"operation": "modulo"})).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("operation"));
        assert!(
            err.message
                .contains("expected one of `add`, `subtract`, `multiply`, `divide`"),
            "{err}"
        );
        let err = calc.check(&json!({"operand": "five"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "param `operand`: invalid type: string \"five\", expected a JSON number"
        );
    }

    #[test]
    fn a_compiled_calculator_fixes_its_operation_and_takes_the_operand_as_an_item() {
        let calc = builtin_spec("Calculator").unwrap();
        let constructor = calc
            .constructor(
                &json!({"operation": "divide", "operand": 2.5}),
                ItemKind::Float,
            )
            .unwrap();
        assert_eq!(constructor.function, "divide");
        assert_eq!(
            constructor.type_args,
            [TypeArg::Item, TypeArg::Builtin("ops::Divide")]
        );
        assert_eq!(
            constructor.args,
            [Arg::ItemNumber {
                param: "operand",
                value: serde_json::Number::from_f64(2.5).unwrap()
            }]
        );
        // No params: add zero, as the registry builds it.
        let default = calc.constructor(&json!(null), ItemKind::Value).unwrap();
        assert_eq!((default.function, default.on_values), ("add", false));
    }
}
