//! `Partition`: items split in two by a predicate written as JSON (`{"op": "gt", "value": 10}`).

use super::{Arg, Builtin, Constructor, ConstructorError, ItemKind, TypeArg};
use crate::builtins::{Partition, Partitioned};
use crate::graph::{OutputPort, PortType};
use crate::manifest::ParamError;
use crate::node::Ports;
use crate::value::Value;
use schemars::JsonSchema;
use serde::Deserialize;
use std::cmp::Ordering;

/// `Partition`: the typed [`Partition`] over values, its predicate a [`ValueTest`]; ports `true`
/// and `false`.
///
/// ```
/// use pipeline_core::builtin_specs::{Builtin, PartitionSpec};
/// use pipeline_core::prelude::*;
/// let params = serde_json::from_value(serde_json::json!({"op": "lt", "value": 0})).unwrap();
/// let mut negative = PartitionSpec::build(params);
/// let mut out = Vec::new();
/// negative.process(Value::Int(-2), &mut out)?;
/// assert_eq!(out, [Partitioned::True(Value::Int(-2))]);
/// # Ok::<(), pipeline_core::Error>(())
/// ```
pub struct PartitionSpec;

/// The predicate of a manifest's `Partition`, boxed so the node's type can be named.
///
/// ```
/// use pipeline_core::builtin_specs::{BoxedTest, CompareOp, ValueTest};
/// use pipeline_core::Value;
/// let test = ValueTest::new(CompareOp::Even, None, None);
/// let boxed: BoxedTest = Box::new(move |item: &Value| test.holds(item));
/// assert!(boxed(&Value::Int(2)));
/// ```
pub type BoxedTest = Box<dyn Fn(&Value) -> bool + Send + Sync>;

/// `Partition` params: `item <op> value`, or `even` / `odd`, of the item or of its `field`.
///
/// ```
/// use pipeline_core::builtin_specs::{CompareOp, PartitionParams};
/// let params: PartitionParams =
///     serde_json::from_str(r#"{"op": "ge", "value": 50, "field": "score"}"#).unwrap();
/// assert_eq!((params.op, params.field.as_deref()), (CompareOp::Ge, Some("score")));
/// ```
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartitionParams {
    /// The test: `eq`, `ne`, `lt`, `le`, `gt`, `ge` (against `value`), or `even` / `odd`.
    pub op: CompareOp,
    /// What `eq` ... `ge` compare with: a number, a string (compared as text) or, for `eq` and
    /// `ne`, a bool.
    #[serde(default)]
    pub value: Option<serde_json::Value>,
    /// Test this field of map items instead of the item; an item that is not a map or lacks the
    /// field leaves by `false`.
    #[serde(default)]
    pub field: Option<String>,
}

/// A comparison by its manifest name.
///
/// ```
/// use pipeline_core::builtin_specs::CompareOp;
/// assert_eq!(serde_json::from_str::<CompareOp>(r#""odd""#).unwrap(), CompareOp::Odd);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Even,
    Odd,
}

impl CompareOp {
    fn name(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Even => "even",
            CompareOp::Odd => "odd",
        }
    }
}

/// A predicate over values, as a manifest writes it: what a `Partition` node tests.
///
/// Numbers compare as numbers (an int with a float too), strings as text; an item of another
/// type than `value` is neither less, greater nor equal (so `ne` holds for it). `even` and `odd`
/// hold for integers only. With a `field`, the test is of that field of a map item, and fails
/// for an item without it.
///
/// ```
/// use pipeline_core::builtin_specs::{CompareOp, ValueTest};
/// use pipeline_core::Value;
/// let big = ValueTest::new(CompareOp::Gt, Some(Value::Int(10)), None);
/// assert!(big.holds(&Value::Float(10.5)) && !big.holds(&Value::Int(3)));
/// assert!(!big.holds(&Value::from("x")));
/// assert!(ValueTest::new(CompareOp::Odd, None, None).holds(&Value::Int(-3)));
/// ```
#[derive(Debug, Clone)]
pub struct ValueTest {
    op: CompareOp,
    value: Value,
    field: Option<std::sync::Arc<str>>,
}

impl ValueTest {
    /// `op` against `value` (ignored by `even` / `odd`), of `field` when given.
    pub fn new(op: CompareOp, value: Option<Value>, field: Option<&str>) -> ValueTest {
        ValueTest {
            op,
            value: value.unwrap_or(Value::Null),
            field: field.map(Into::into),
        }
    }

    /// The test as the predicate a `Partition` over values takes: `Clone` (so a compiled
    /// manifest's node can run on parallel replicas) and `Send`.
    ///
    /// ```
    /// use pipeline_core::builtin_specs::{CompareOp, ValueTest};
    /// use pipeline_core::builtins::Partition;
    /// use pipeline_core::Value;
    /// let even = ValueTest::new(CompareOp::Even, None, None).predicate();
    /// assert!(even(&Value::Int(2)));
    /// let _split = Partition::<_, Value>::new(even.clone());
    /// ```
    pub fn predicate(self) -> impl Fn(&Value) -> bool + Clone + Send + Sync + 'static {
        move |item: &Value| self.holds(item)
    }

    /// Whether `item` passes.
    pub fn holds(&self, item: &Value) -> bool {
        let tested = match &self.field {
            None => item,
            Some(field) => match item {
                Value::Map(map) => match map.get(&**field) {
                    Some(value) => value,
                    None => return false,
                },
                _ => return false,
            },
        };
        let order = || compare(tested, &self.value);
        match self.op {
            CompareOp::Eq => order() == Some(Ordering::Equal),
            CompareOp::Ne => order() != Some(Ordering::Equal),
            CompareOp::Lt => order() == Some(Ordering::Less),
            CompareOp::Le => matches!(order(), Some(Ordering::Less | Ordering::Equal)),
            CompareOp::Gt => order() == Some(Ordering::Greater),
            CompareOp::Ge => matches!(order(), Some(Ordering::Greater | Ordering::Equal)),
            CompareOp::Even => matches!(tested, Value::Int(x) if x % 2 == 0),
            CompareOp::Odd => matches!(tested, Value::Int(x) if x % 2 != 0),
        }
    }
}

/// How `a` compares with `b`: numbers as numbers, strings as text, bools as bools; `None` for
/// values of different kinds (and NaN).
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            a.as_f64()?.partial_cmp(&b.as_f64()?)
        }
        (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

fn param_error(param: &str, message: String) -> ParamError {
    ParamError {
        param: Some(param.to_string()),
        message,
    }
}

impl Builtin for PartitionSpec {
    const NAME: &'static str = "Partition";
    const DOC: &'static str = "Splits items in two by a test (`op`, `value`, `field`): those it holds for leave by port `true`, the rest by `false`.";
    const PORTS_DOC: &'static str = "true: as input, false: as input";
    type Params = PartitionParams;
    type Node = Partition<BoxedTest, Value>;

    fn build(params: PartitionParams) -> Self::Node {
        let value = params.value.as_ref().map(Value::from);
        let test = ValueTest::new(params.op, value, params.field.as_deref());
        Partition::new(Box::new(test.predicate()) as BoxedTest)
    }

    fn validate(params: &PartitionParams) -> Result<(), ParamError> {
        let op = params.op.name();
        match (params.op, &params.value) {
            (CompareOp::Even | CompareOp::Odd, Some(_)) => Err(param_error(
                "value",
                format!("`{op}` takes no `value`: it tests integers for parity"),
            )),
            (CompareOp::Even | CompareOp::Odd, None) => Ok(()),
            (_, None) => Err(param_error(
                "value",
                format!("`{op}` compares with a `value`: give a number or a string"),
            )),
            (_, Some(serde_json::Value::Number(_) | serde_json::Value::String(_))) => Ok(()),
            (CompareOp::Eq | CompareOp::Ne, Some(serde_json::Value::Bool(_))) => Ok(()),
            (_, Some(other)) => Err(param_error(
                "value",
                format!(
                    "`{op}` cannot compare with {other}: give a number or a string{}",
                    if matches!(params.op, CompareOp::Eq | CompareOp::Ne) {
                        " (or a bool); `Route` with `\"by\": \"type\"` sends nulls, lists and maps to ports of their own"
                    } else {
                        ""
                    }
                ),
            )),
        }
    }

    fn ports(_: &PartitionParams) -> Vec<OutputPort> {
        <Partitioned<Value> as Ports>::NAMES
            .iter()
            .map(|&name| OutputPort::new(name, PortType::Any))
            .collect()
    }

    fn port_of(output: &Partitioned<Value>) -> usize {
        output.port()
    }

    /// The typed node over `Value` items (its predicate a cloneable closure, so `parallelism`
    /// replicates it), its output `Partitioned<Value>` with `port_true` and
    /// `port_false`, so a compiled manifest's ports are the macro's ports. Its test reads values
    /// only: other item types are refused.
    fn constructor(
        params: &PartitionParams,
        item: ItemKind,
    ) -> Result<Constructor, ConstructorError> {
        if item != ItemKind::Value {
            return Err(ConstructorError {
                message: "`Partition` tests `pipeline::Value` items, as at run time, so it \
                          needs the default item type `pipeline::Value` (drop `item = ...`)"
                    .to_string(),
                field: "/node_type".to_string(),
            });
        }
        let test = Arg::ValueTest {
            op: params.op,
            value: params.value.clone(),
            field: params.field.clone(),
        };
        Ok(Constructor::new("Partition", "new")
            .type_args([TypeArg::Inferred, TypeArg::Item])
            .args([test]))
    }
}

#[cfg(test)]
mod tests {
    use super::super::builtin_spec;
    use super::*;
    use serde_json::json;

    fn holds(params: serde_json::Value, item: Value) -> bool {
        let spec = builtin_spec("Partition").unwrap();
        spec.check(&params).unwrap();
        let params: PartitionParams = serde_json::from_value(params).unwrap();
        let value = params.value.as_ref().map(Value::from);
        ValueTest::new(params.op, value, params.field.as_deref()).holds(&item)
    }

    #[test]
    fn comparisons_hold_for_numbers_and_text_and_never_across_types() {
        assert!(holds(json!({"op": "gt", "value": 10}), Value::Int(11)));
        assert!(!holds(json!({"op": "gt", "value": 10}), Value::Int(10)));
        assert!(holds(json!({"op": "ge", "value": 10}), Value::Float(10.0)));
        assert!(holds(json!({"op": "lt", "value": 2.5}), Value::Int(2)));
        assert!(holds(json!({"op": "le", "value": "b"}), Value::from("abc")));
        assert!(holds(json!({"op": "eq", "value": "x"}), Value::from("x")));
        assert!(holds(json!({"op": "eq", "value": true}), Value::Bool(true)));
        assert!(!holds(json!({"op": "lt", "value": 5}), Value::from("1")));
        assert!(holds(json!({"op": "ne", "value": 5}), Value::from("5")));
        assert!(!holds(
            json!({"op": "gt", "value": 0}),
            Value::Float(f64::NAN)
        ));
        assert!(holds(json!({"op": "even"}), Value::Int(-4)));
        assert!(!holds(json!({"op": "even"}), Value::Float(4.0)));
        assert!(!holds(json!({"op": "odd"}), Value::Int(4)));
    }

    #[test]
    fn a_field_test_reads_map_items_and_fails_for_others() {
        let item = |score: i64| Value::map([("score", Value::Int(score))]);
        let params = json!({"op": "ge", "value": 50, "field": "score"});
        assert!(holds(params.clone(), item(50)));
        assert!(!holds(params.clone(), item(49)));
        assert!(!holds(params.clone(), Value::Int(99)));
        let other = Value::map([("x", Value::Int(99))]);
        assert!(!holds(params, other));
    }

    #[test]
    fn bad_params_name_the_param() {
        let spec = builtin_spec("Partition").unwrap();
        let err = spec.check(&json!({"op": "gt"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "param `value`: `gt` compares with a `value`: give a number or a string"
        );
        let err = spec.check(&json!({"op": "even", "value": 2})).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("value"));
        let err = spec.check(&json!({"op": "lt", "value": [1]})).unwrap_err();
        assert!(err.message.contains("cannot compare with [1]"), "{err}");
        let err = spec.check(&json!({"op": "between"})).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("op"), "{err}");
        assert!(err.message.contains("`even`"), "{err}");
        let err = spec.check(&json!({"op": "eq", "vaule": 1})).unwrap_err();
        assert!(err.message.contains("unknown field `vaule`"), "{err}");
        assert!(spec.check(&json!({})).is_err());
    }

    #[test]
    fn ports_are_true_and_false_and_it_compiles_over_values_only() {
        let spec = builtin_spec("Partition").unwrap();
        let ports = spec.ports(&json!({"op": "odd"})).unwrap();
        assert_eq!(
            ports,
            [
                OutputPort::new("true", PortType::Any),
                OutputPort::new("false", PortType::Any)
            ]
        );
        let built = spec
            .constructor(
                &json!({"op": "gt", "value": 3, "field": "n"}),
                ItemKind::Value,
            )
            .unwrap();
        assert_eq!(
            built.args,
            [Arg::ValueTest {
                op: CompareOp::Gt,
                value: Some(json!(3)),
                field: Some("n".to_string())
            }]
        );
        assert_eq!(built.type_args, [TypeArg::Inferred, TypeArg::Item]);
        let err = spec
            .constructor(&json!({"op": "odd"}), ItemKind::Int)
            .unwrap_err();
        assert!(err.message.contains("drop `item = ...`"), "{}", err.message);
    }
}
