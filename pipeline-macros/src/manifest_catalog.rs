//! The node types a compiled manifest can use: the built-ins of `BUILTIN_SPECS` (params checked at
//! compile time by the same specs the run-time registry builds from) and the invocation's `nodes { .. }`
//! mappings (params checked when the pipeline is built: the macro cannot run the user's serde).
//!
//! `python` nodes are checked by the run-time loader's own rules (`PythonParams::check`; their
//! `file` has already been read into `code` by `manifest::read_python_files`) and compile to the
//! RustPython bridge's typed node, see `manifest_nodes`.

use crate::manifest_input::NodeMapping;
use pipeline_core::builtin_specs::{builtin_spec, BuiltinSpec, BUILTIN_SPECS};
use pipeline_core::graph::PortType;
use pipeline_core::manifest::{deserialize_params, NodeCatalog, ParamError, ResolvedNode};
use pipeline_core::python_params::{PythonParams, PythonSpec, PYTHON_NODE_TYPE};

/// What a manifest node compiles to.
pub enum CompiledNode {
    /// A built-in, its params checked against its spec.
    Builtin(CheckedBuiltin),
    /// A user type: index into the invocation's mappings.
    Mapped(usize),
    /// A `python` node, its params checked.
    Python(PythonSpec),
}

/// A built-in whose params its spec accepted.
pub struct CheckedBuiltin {
    pub spec: &'static BuiltinSpec,
    pub params: serde_json::Value,
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
                ports: Vec::new(),
            }));
        }
        if node_type == PYTHON_NODE_TYPE {
            // The registry's `python` type: any items in, any out.
            let checked = deserialize_params::<PythonParams>(params).and_then(PythonParams::check);
            return Some(checked.map(|spec| ResolvedNode {
                node: CompiledNode::Python(spec),
                accepts: PortType::Any,
                emits: PortType::Any,
                ports: Vec::new(),
            }));
        }
        let spec = builtin_spec(node_type)?;
        // Ports are declared so edges that name them validate; the node's typed output has an
        // accessor per port (`port_true`) unless its spec refuses to compile (`Route`).
        Some(spec.ports(params).map(|ports| ResolvedNode {
            node: CompiledNode::Builtin(CheckedBuiltin {
                spec,
                params: params.clone(),
            }),
            accepts: spec.accepts,
            emits: spec.emits,
            ports,
        }))
    }

    fn names(&self) -> Vec<String> {
        let builtins = BUILTIN_SPECS
            .iter()
            .flat_map(|spec| std::iter::once(spec.name).chain(spec.aliases.iter().copied()))
            .chain([PYTHON_NODE_TYPE]);
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
    use pipeline_core::python_params::PythonEntry;
    use serde_json::json;

    fn resolve(params: serde_json::Value) -> Result<PythonSpec, ParamError> {
        let catalog = MacroCatalog { mappings: &[] };
        match catalog.resolve("python", &params) {
            Some(Ok(ResolvedNode {
                node: CompiledNode::Python(spec),
                accepts: PortType::Any,
                emits: PortType::Any,
                ..
            })) => Ok(spec),
            Some(Ok(_)) => panic!("python must compile to a python node of any items"),
            Some(Err(err)) => Err(err),
            None => panic!("python must be known"),
        }
    }

    #[test]
    fn python_nodes_compile_with_the_loaders_param_rules() {
        let spec =
            resolve(json!({"code": "class A: ...", "class": "A", "args": {"n": 2}})).unwrap();
        assert_eq!(spec.entry, PythonEntry::Class("A".into()));
        assert_eq!(spec.code, "class A: ...");
        assert_eq!(spec.args.unwrap()["n"], 2);
        // `file` read by `read_python_files` arrives as `code` and `filename`.
        let spec =
            resolve(json!({"code": "def f(x): ...", "filename": "f.py", "function": "f"})).unwrap();
        assert_eq!(spec.entry, PythonEntry::Function("f".into()));
        assert_eq!(spec.filename.as_deref(), Some("f.py"));

        let err = resolve(json!({"code": "x", "class": "A", "function": "f"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "param `function`: give either `class` or `function`, not both"
        );
        let err = resolve(json!({"code": "x"})).unwrap_err();
        assert!(err.message.contains("needs `class`"), "{err}");
        let err = resolve(json!({"class": "A"})).unwrap_err();
        assert!(err.message.contains("needs `file`"), "{err}");
        let err = resolve(json!({"code": "x", "class": "A", "clas": "B"})).unwrap_err();
        assert!(err.message.contains("unknown field `clas`"), "{err}");
    }

    #[test]
    fn a_mapping_named_python_wins() {
        let mapping: crate::manifest_input::ManifestInput =
            syn::parse2(quote::quote!(manifest = "m.json", nodes { python = crate::Mine }))
                .unwrap();
        let catalog = MacroCatalog {
            mappings: &mapping.nodes,
        };
        let resolved = catalog.resolve("python", &json!({"anything": 1}));
        assert!(matches!(
            resolved,
            Some(Ok(ResolvedNode {
                node: CompiledNode::Mapped(0),
                ..
            }))
        ));
    }
}
