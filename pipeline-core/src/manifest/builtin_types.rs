//! The built-in node types as manifests name them: names, aliases, port types and params, without
//! the runtime. The run-time [`Registry`](crate::dynamic::Registry) builds them from these params;
//! `pipeline!(manifest = "...")` checks params against the same structs at compile time. A test in
//! `dynamic` keeps this table and the registry in agreement.

use crate::builtins::Operation;
use crate::graph::PortType;
use schemars::JsonSchema;
use serde::Deserialize;
use std::num::NonZeroUsize;

/// A built-in node type, as a manifest sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinType {
    /// The registered name.
    pub name: &'static str,
    /// Other names it answers to (the seed's `CalculatorNode`).
    pub aliases: &'static [&'static str],
    /// What it accepts over `Value` items.
    pub accepts: PortType,
    /// What it emits over `Value` items.
    pub emits: PortType,
}

/// Every built-in node type.
///
/// ```
/// use pipeline_core::manifest::builtin_types::{builtin_type, BUILTIN_TYPES};
/// assert_eq!(builtin_type("CalculatorNode").unwrap().name, "Calculator");
/// assert!(BUILTIN_TYPES.iter().any(|t| t.name == "Echo"));
/// ```
pub const BUILTIN_TYPES: &[BuiltinType] = &[
    builtin(
        "PassThrough",
        &["PassThroughNode"],
        PortType::Any,
        PortType::Any,
    ),
    builtin(
        "Calculator",
        &["CalculatorNode"],
        PortType::Any,
        PortType::Any,
    ),
    builtin("Echo", &[], PortType::Any, PortType::Any),
    builtin("Count", &[], PortType::Any, PortType::Number),
    builtin("Sum", &[], PortType::Int, PortType::Int),
    builtin("Batch", &[], PortType::Any, PortType::List),
    builtin("Unbatch", &[], PortType::List, PortType::Any),
    builtin("Merge", &[], PortType::Any, PortType::Any),
];

const fn builtin(
    name: &'static str,
    aliases: &'static [&'static str],
    accepts: PortType,
    emits: PortType,
) -> BuiltinType {
    BuiltinType {
        name,
        aliases,
        accepts,
        emits,
    }
}

/// The built-in type named (or aliased) `name`.
pub fn builtin_type(name: &str) -> Option<&'static BuiltinType> {
    BUILTIN_TYPES
        .iter()
        .find(|t| t.name == name || t.aliases.contains(&name))
}

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
