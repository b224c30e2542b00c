//! `Calculator` (the seed's `CalculatorNode`): one arithmetic operation with a fixed operand.

use super::plain_params::{integer, read_members};
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

impl OperationName {
    /// The operation a manifest names `name` (serde's names: lowercase).
    fn from_name(name: &str) -> Option<OperationName> {
        Some(match name {
            "add" => OperationName::Add,
            "subtract" => OperationName::Subtract,
            "multiply" => OperationName::Multiply,
            "divide" => OperationName::Divide,
            _ => return None,
        })
    }
}

/// The operand as a [`Value`], as `Value::from` makes it of the JSON number: an `Int` when it fits
/// an `i64`, else a `Float`. Read off the number itself: wrapping it in a JSON value to convert
/// and drop cost ~240 instructions a node (callgrind, the benchmark's 10-node manifest).
fn operand_value(operand: &serde_json::Number) -> Value {
    match operand.as_i64() {
        Some(i) => Value::Int(i),
        None => Value::Float(operand.as_f64().unwrap_or(f64::NAN)),
    }
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

    /// Read by hand: the benchmark's manifests build calculators by the thousand, and serde's
    /// reading was most of building one. Each known member once, an operation by its name and an
    /// integer operand; anything else is left to serde.
    fn params_from_text(object: &str) -> Option<CalculatorParams> {
        let (mut operation, mut operand) = (None, None);
        read_members(object, &[b"\"operation\"", b"\"operand\""], |key, value| {
            match key {
                0 if operation.is_none() => {
                    operation = Some(OperationName::from_name(value.string()?)?);
                }
                1 if operand.is_none() => operand = Some(serde_json::Number::from(integer(value)?)),
                // A repeated member: serde refuses it.
                _ => return None,
            }
            Some(())
        })?;
        Some(CalculatorParams {
            operation: operation.unwrap_or_default(),
            operand: operand.unwrap_or_else(zero),
        })
    }

    fn build(params: CalculatorParams) -> Calculator<Value> {
        Calculator::new(params.operation.into(), operand_value(&params.operand))
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

    #[test]
    fn the_operand_is_the_value_of_its_json_number() {
        for text in [
            "0",
            "-7",
            "9223372036854775807",
            "-9223372036854775808",
            "18446744073709551615",
            "2.5",
            "-1e300",
        ] {
            let number: serde_json::Number = serde_json::from_str(text).unwrap();
            let expected = Value::from(&serde_json::Value::Number(number.clone()));
            let found = operand_value(&number);
            assert_eq!(format!("{found:?}"), format!("{expected:?}"), "{text}");
        }
    }

    /// Objects of the calculator's members (and others), each value one of the shapes serde
    /// reads differently or refuses.
    fn params_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let key = prop::sample::select(vec!["operation", "operand", "other"]);
        let value = prop::sample::select(vec![
            "\"add\"",
            "\"subtract\"",
            "\"multiply\"",
            "\"divide\"",
            "\"Add\"",
            "\"mod\"",
            "\"\"",
            "0",
            "-0",
            "7",
            "-7",
            "1.5",
            "1e2",
            "9223372036854775807",
            "-9223372036854775808",
            "18446744073709551615",
            "true",
            "null",
            "[]",
            "{}",
        ]);
        prop::collection::vec((key, value), 0..4).prop_map(|members| {
            let members: Vec<String> = members
                .iter()
                .map(|(key, value)| format!("\"{key}\": {value}"))
                .collect();
            format!("{{{}}}", members.join(", "))
        })
    }

    proptest::proptest! {
        #[test]
        fn params_read_by_hand_are_what_serde_reads(object in params_text()) {
            let by_hand = CalculatorSpec::params_from_text(&object);
            let by_serde = serde_json::from_str::<CalculatorParams>(&object);
            if let Some(params) = by_hand {
                let expected = by_serde.expect("serde reads what the hand reader read");
                proptest::prop_assert_eq!(format!("{params:?}"), format!("{expected:?}"));
            }
        }
    }

    #[test]
    fn the_benchmark_params_are_read_by_hand() {
        let params =
            CalculatorSpec::params_from_text(r#"{"operation": "multiply", "operand": -3}"#)
                .expect("plain params");
        assert!(matches!(params.operation, OperationName::Multiply));
        assert_eq!(params.operand, serde_json::Number::from(-3));
        let default = CalculatorSpec::params_from_text("{}").expect("no members");
        assert!(matches!(default.operation, OperationName::Add));
        assert_eq!(default.operand, serde_json::Number::from(0));
        // Floats and repeated members go serde's way.
        assert!(CalculatorSpec::params_from_text(r#"{"operand": 2.5}"#).is_none());
        assert!(CalculatorSpec::params_from_text(r#"{"operand": 1, "operand": 2}"#).is_none());
    }
}
