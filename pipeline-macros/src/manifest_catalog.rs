//! The node types a compiled manifest can use: the built-ins (params checked at compile time
//! against the same structs the run-time registry deserialises) and the invocation's `nodes { .. }`
//! mappings (params checked when the pipeline is built: the macro cannot run the user's serde).
//!
//! Adding a kind of node (the RustPython bridge's `python`) is one arm in [`resolve`].

use crate::manifest_input::NodeMapping;
use pipeline_core::graph::PortType;
use pipeline_core::manifest::builtin_types::{
    builtin_type, BatchParams, CalculatorParams, NoParams, BUILTIN_TYPES,
};
use pipeline_core::manifest::{deserialize_params, NodeCatalog, ParamError, ResolvedNode};

/// The run-time loader's Python node type.
const PYTHON: &str = "python";

/// Why a compiled manifest refuses `python` nodes: the macro crate never compiles RustPython, and
/// the node must start its interpreter on its stage's thread, which the generated code does not
/// know how to arrange for a manifest entry yet.
const PYTHON_NOT_COMPILED: &str = "`python` nodes are not supported in compiled manifests: load this manifest at run time (`manifest::load`, `pipeline run`), or write the node in a `pipeline!` graph as `Python::<I, O>::class(include_str!(\"node.py\"), \"Class\")`";

/// What a manifest node compiles to.
pub enum CompiledNode {
    /// A built-in, by its registered name, with its params as checked.
    Builtin(Builtin),
    /// A user type: index into the invocation's mappings.
    Mapped(usize),
}

/// A built-in with its params deserialised.
pub enum Builtin {
    PassThrough,
    Calculator(CalculatorParams),
    Echo,
    Count,
    Sum,
    Batch(BatchParams),
    Unbatch,
    Merge,
}

/// The built-ins and the invocation's mappings.
pub struct MacroCatalog<'a> {
    pub mappings: &'a [NodeMapping],
}

impl NodeCatalog for MacroCatalog<'_> {
    type Node = CompiledNode;

    fn resolve(
        &self,
        node_type: &str,
        params: &serde_json::Value,
    ) -> Option<Result<ResolvedNode<CompiledNode>, ParamError>> {
        // A mapping wins over a built-in of the same name: the user asked for it.
        if let Some(i) = self.mappings.iter().position(|m| m.name == node_type) {
            return Some(Ok(ResolvedNode {
                node: CompiledNode::Mapped(i),
                accepts: PortType::Any,
                emits: PortType::Any,
            }));
        }
        if node_type == PYTHON {
            return Some(Err(ParamError {
                param: None,
                message: PYTHON_NOT_COMPILED.to_string(),
            }));
        }
        let builtin = builtin_type(node_type)?;
        let compiled = match builtin.name {
            "Calculator" => deserialize_params(params).map(Builtin::Calculator),
            "Batch" => deserialize_params(params).map(Builtin::Batch),
            name => deserialize_params::<NoParams>(params).and_then(|_| match name {
                "PassThrough" => Ok(Builtin::PassThrough),
                "Echo" => Ok(Builtin::Echo),
                "Count" => Ok(Builtin::Count),
                "Sum" => Ok(Builtin::Sum),
                "Unbatch" => Ok(Builtin::Unbatch),
                "Merge" => Ok(Builtin::Merge),
                other => Err(ParamError {
                    param: None,
                    message: format!("built-in `{other}` cannot be compiled yet"),
                }),
            }),
        };
        Some(compiled.map(|node| ResolvedNode {
            node: CompiledNode::Builtin(node),
            accepts: builtin.accepts,
            emits: builtin.emits,
        }))
    }

    fn names(&self) -> Vec<String> {
        let builtins = BUILTIN_TYPES
            .iter()
            .flat_map(|t| std::iter::once(t.name).chain(t.aliases.iter().copied()));
        let mapped = self.mappings.iter().map(|m| m.name.to_string());
        builtins.map(str::to_string).chain(mapped).collect()
    }

    fn unknown_type_help(&self) -> String {
        "map it to a Rust type in the invocation: `pipeline!(manifest = \"...\", nodes { MyType = crate::MyType })`".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_nodes_are_refused_with_the_alternatives() {
        let catalog = MacroCatalog { mappings: &[] };
        let err = match catalog.resolve("python", &serde_json::json!({"code": "", "function": "f"}))
        {
            Some(Err(err)) => err,
            _ => panic!("python must be refused"),
        };
        assert!(
            err.message.contains("not supported in compiled manifests"),
            "{err}"
        );
        assert!(err.message.contains("Python::<I, O>::class"), "{err}");
    }
}
