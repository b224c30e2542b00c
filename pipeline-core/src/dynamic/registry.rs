//! Node types by name: a factory per type that builds a node from a manifest's `params`.

use super::dyn_node::{DynNode, Typed};
use crate::builtin_specs::BuiltinSpec;
use crate::graph::fast_hash::FastHash;
use crate::graph::PortType;
use crate::manifest::{deserialize_params, NodeCatalog, ResolvedNode};
use crate::node::Node;
use crate::value::{FromValue, IntoValue};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::Arc;

pub use crate::manifest::ParamError;

/// One documented param of a node type, for `pipeline nodes`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo {
    /// Name.
    pub name: String,
    /// Its type, as the schema says (`number`, `add | subtract`, ...).
    pub kind: String,
    /// Its default, as JSON, if it has one.
    pub default: Option<String>,
    /// Whether it must be given.
    pub required: bool,
}

type Factory =
    Arc<dyn Fn(&serde_json::Value) -> Result<Box<dyn DynNode>, ParamError> + Send + Sync>;

/// A typed node type's factory from the text of its params' JSON object: `None` when they do
/// not deserialise (or validate); the [`Factory`] then says why.
type TextFactory = Arc<dyn Fn(&str) -> Option<Box<dyn DynNode>> + Send + Sync>;

/// A registered node type.
#[derive(Clone)]
pub struct NodeType {
    /// The registered name.
    pub name: String,
    /// Other names it answers to (`CalculatorNode` for `Calculator`).
    pub aliases: Vec<String>,
    /// What its nodes accept.
    pub accepts: PortType,
    /// What its nodes emit.
    pub emits: PortType,
    /// Its params.
    pub params: Vec<ParamInfo>,
    /// One line saying what it does (empty if nobody said).
    pub doc: String,
    /// Its named outputs and their types, as `pipeline nodes` lists them (`true: any, false:
    /// any`); empty for a type with one output.
    pub ports_doc: String,
    factory: Factory,
    /// For typed params: straight from a manifest's text, without a map of JSON values.
    text_factory: Option<TextFactory>,
}

impl NodeType {
    /// Builds a node from `params` (a JSON object, or `null` for none).
    pub fn build(&self, params: &serde_json::Value) -> Result<Box<dyn DynNode>, ParamError> {
        (self.factory)(params)
    }

    /// Builds a node from a manifest node's `params`: typed params are read straight from the
    /// text of their object while it is unparsed (the common case; no map is made), anything
    /// else, and every failure, as by [`build`](NodeType::build), so errors are the same.
    pub(crate) fn build_params(
        &self,
        params: &mut crate::manifest::Params,
    ) -> Result<Box<dyn DynNode>, ParamError> {
        let from_text = match (&self.text_factory, params.text()) {
            (Some(factory), Some(object)) => factory(object),
            // No params are the empty object's text: read as typed params straight away, without
            // a map to lend (~200 instructions a node, callgrind).
            (Some(factory), None) if params.is_empty() => factory("{}"),
            _ => None,
        };
        match from_text {
            Some(node) => Ok(node),
            // Most nodes have none: nothing to lend.
            None if params.is_empty() => self.build(&serde_json::Value::Object(Default::default())),
            None => {
                let value = serde_json::Value::Object(params.take_map());
                let built = self.build(&value);
                if let serde_json::Value::Object(map) = value {
                    *params = crate::manifest::Params::from(map);
                }
                built
            }
        }
    }
}

impl std::fmt::Debug for NodeType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeType")
            .field("name", &self.name)
            .field("accepts", &self.accepts)
            .field("emits", &self.emits)
            .finish_non_exhaustive()
    }
}

/// Node types by name, including aliases.
///
/// ```
/// use pipeline_core::dynamic::{NoParams, Registry};
/// use pipeline_core::prelude::*;
///
/// let mut registry = Registry::with_builtins();
/// registry.register("Double", |_: NoParams| Map::new(|x: i64| x * 2));
/// let mut node = registry.get("Double").unwrap().build(&serde_json::Value::Null).unwrap();
/// let mut out = Vec::new();
/// node.process(Value::Int(21), &mut out).unwrap();
/// assert_eq!(out, [Value::Int(42)]);
/// assert!(registry.get("CalculatorNode").is_some());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Registry {
    /// Every type, in registration order.
    types: Vec<NodeType>,
    /// Every name a type answers to (its own and its aliases) → its place in `types`: building a
    /// pipeline looks up each node's type here, one hash of the name instead of two ordered-map
    /// searches. The names are the program's own, so the cheap hash is safe: a manifest's type
    /// name can only miss.
    by_name: HashMap<String, usize, FastHash>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// A registry with every built-in node type (see [`register_builtins`](super::register_builtins)).
    pub fn with_builtins() -> Registry {
        let mut registry = Registry::new();
        super::builtins::register_builtins(&mut registry);
        registry
    }

    /// Registers a typed node: `factory` makes it from its params, deserialised into `P` (a wrong
    /// param is an error naming it and the expected type).
    pub fn register<P, N, F>(&mut self, name: &str, factory: F) -> &mut Self
    where
        P: DeserializeOwned + JsonSchema,
        N: Node + Send + 'static,
        N::Input: FromValue + Send,
        N::Output: IntoValue + Send,
        F: Fn(P) -> N + Send + Sync + 'static,
    {
        self.register_typed(name, factory, String::new(), |node: N| {
            Box::new(Typed::new(node))
        })
    }

    /// Registers a typed node with output ports: its `Output` names the port each item leaves
    /// by ([`Ports`](crate::node::Ports)), and manifests connect them as `"from": "<id>.<port>"`.
    ///
    /// ```
    /// use pipeline_core::dynamic::{NoParams, Registry};
    /// use pipeline_core::prelude::*;
    /// let mut registry = Registry::new();
    /// registry.register_with_ports("Sign", |_: NoParams| Partition::new(|x: &i64| *x >= 0));
    /// assert_eq!(registry.get("Sign").unwrap().ports_doc, "true: int, false: int");
    /// let text = r#"{"version": "v1", "metadata": {"name": "m"},
    ///   "nodes": [{"id": "sign", "node_type": "Sign"}],
    ///   "connections": [{"from": "input", "to": "sign"}, {"from": "sign.false", "to": "output"}]}"#;
    /// let lowered = pipeline_core::manifest::load("m.json", text, &registry)?;
    /// let mut p = pipeline_core::dynamic::build(lowered, Default::default());
    /// assert_eq!(p.run_values([3, -1, -2].map(Value::Int))?, [Value::Int(-1), Value::Int(-2)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn register_with_ports<P, N, F>(&mut self, name: &str, factory: F) -> &mut Self
    where
        P: DeserializeOwned + JsonSchema,
        N: Node + Send + 'static,
        N::Input: FromValue + Send,
        N::Output: crate::node::Ports + IntoValue + Send,
        F: Fn(P) -> N + Send + Sync + 'static,
    {
        let ports: Vec<String> = <N::Output as crate::node::Ports>::NAMES
            .iter()
            .map(|name| format!("{name}: {}", <N::Output as IntoValue>::PORT))
            .collect();
        self.register_typed(name, factory, ports.join(", "), |node: N| {
            Box::new(super::TypedPorts::new(node))
        })
    }

    /// What [`register`](Self::register) and [`register_with_ports`](Self::register_with_ports)
    /// share: the params deserialised into `P` (from the manifest's text when they can be, else
    /// from the parsed map, which makes the errors), the node made by `factory` and wrapped by
    /// `wrap` for dynamic dispatch.
    fn register_typed<P, N, F>(
        &mut self,
        name: &str,
        factory: F,
        ports_doc: String,
        wrap: fn(N) -> Box<dyn DynNode>,
    ) -> &mut Self
    where
        P: DeserializeOwned + JsonSchema,
        N: Node + 'static,
        N::Input: FromValue,
        N::Output: IntoValue,
        F: Fn(P) -> N + Send + Sync + 'static,
    {
        let factory = Arc::new(factory);
        let from_text = Arc::clone(&factory);
        let text_factory: TextFactory = Arc::new(move |object: &str| {
            let params: P = serde_json::from_str(object).ok()?;
            Some(wrap(from_text(params)))
        });
        let factory: Factory = Arc::new(move |params: &serde_json::Value| {
            let params: P = deserialize_params(params)?;
            Ok(wrap(factory(params)))
        });
        self.insert(NodeType {
            name: name.to_string(),
            aliases: Vec::new(),
            accepts: N::Input::PORT,
            emits: N::Output::PORT,
            params: param_infos(&schemars::schema_for!(P)),
            doc: String::new(),
            ports_doc,
            factory,
            text_factory: Some(text_factory),
        })
    }

    /// Registers a node type that is dynamic by nature (its factory returns a [`DynNode`]).
    pub fn register_dyn<F>(
        &mut self,
        name: &str,
        accepts: PortType,
        emits: PortType,
        params: Vec<ParamInfo>,
        factory: F,
    ) -> &mut Self
    where
        F: Fn(&serde_json::Value) -> Result<Box<dyn DynNode>, ParamError> + Send + Sync + 'static,
    {
        self.insert(NodeType {
            name: name.to_string(),
            aliases: Vec::new(),
            accepts,
            emits,
            params,
            doc: String::new(),
            ports_doc: String::new(),
            factory: Arc::new(factory),
            text_factory: None,
        })
    }

    /// Registers a built-in node type from its spec, with its aliases and doc.
    ///
    /// ```
    /// use pipeline_core::builtin_specs::builtin_spec;
    /// use pipeline_core::dynamic::Registry;
    /// let mut registry = Registry::new();
    /// registry.register_spec(builtin_spec("Calculator").unwrap());
    /// assert_eq!(registry.get("CalculatorNode").unwrap().name, "Calculator");
    /// ```
    pub fn register_spec(&mut self, spec: &'static BuiltinSpec) -> &mut Self {
        self.insert(NodeType {
            name: spec.name.to_string(),
            aliases: Vec::new(),
            accepts: spec.accepts,
            emits: spec.emits,
            params: param_infos(&spec.params_schema()),
            doc: spec.doc.to_string(),
            ports_doc: spec.ports_doc.to_string(),
            factory: Arc::new(|params: &serde_json::Value| spec.build(params)),
            text_factory: Some(Arc::new(|object: &str| spec.build_from_text(object))),
        });
        // Registering a spec again keeps its aliases (see `insert`): add only the missing ones.
        for alias in spec.aliases {
            if self.get(alias).is_none_or(|t| t.name != spec.name) {
                self.alias(alias, spec.name);
            }
        }
        self
    }

    /// Adds `node_type`; registering a name again replaces that type and keeps its aliases.
    fn insert(&mut self, mut node_type: NodeType) -> &mut Self {
        match self.by_name.get(&node_type.name) {
            Some(&i) => {
                node_type.aliases = std::mem::take(&mut self.types[i].aliases);
                self.types[i] = node_type;
            }
            None => {
                self.by_name
                    .insert(node_type.name.clone(), self.types.len());
                self.types.push(node_type);
            }
        }
        self
    }

    /// Makes `alias` another name of the registered type `target`.
    ///
    /// # Panics
    /// If `target` is not registered: that is a programming error, not a manifest error.
    pub fn alias(&mut self, alias: &str, target: &str) -> &mut Self {
        let &i = self
            .by_name
            .get(target)
            .unwrap_or_else(|| panic!("alias `{alias}` of unregistered node type `{target}`"));
        self.types[i].aliases.push(alias.to_string());
        self.by_name.insert(alias.to_string(), i);
        self
    }

    /// Gives the registered type `name` its one-line doc, which `pipeline nodes` prints.
    ///
    /// # Panics
    /// If `name` is not registered: that is a programming error, not a manifest error.
    ///
    /// ```
    /// use pipeline_core::dynamic::{NoParams, Registry};
    /// use pipeline_core::prelude::*;
    /// let mut registry = Registry::new();
    /// registry
    ///     .register("Double", |_: NoParams| Map::new(|x: i64| x * 2))
    ///     .describe("Double", "Doubles each integer.");
    /// assert_eq!(registry.get("Double").unwrap().doc, "Doubles each integer.");
    /// ```
    pub fn describe(&mut self, name: &str, doc: &str) -> &mut Self {
        let &i = self
            .by_name
            .get(name)
            .unwrap_or_else(|| panic!("doc of unregistered node type `{name}`"));
        self.types[i].doc = doc.to_string();
        self
    }

    /// The type registered as `name` (or aliased so).
    pub fn get(&self, name: &str) -> Option<&NodeType> {
        self.by_name.get(name).map(|&i| &self.types[i])
    }

    /// Every type, by name.
    pub fn types(&self) -> impl Iterator<Item = &NodeType> {
        let mut types: Vec<&NodeType> = self.types.iter().collect();
        types.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        types.into_iter()
    }

    /// Every name a type can be asked for by: the types' own names in order, then the aliases in
    /// order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        let mut aliases: Vec<&str> = self
            .types
            .iter()
            .flat_map(|t| t.aliases.iter().map(String::as_str))
            .collect();
        aliases.sort_unstable();
        self.types().map(|t| t.name.as_str()).chain(aliases)
    }
}

/// The registry as lowering sees it: a type resolves to a built node with its port types.
impl NodeCatalog for Registry {
    type Node = Box<dyn DynNode>;

    fn resolve(
        &self,
        node_type: &str,
        params: &serde_json::Value,
    ) -> Option<Result<ResolvedNode<Box<dyn DynNode>>, ParamError>> {
        let node_type = self.get(node_type)?;
        Some(node_type.build(params).map(|node| ResolvedNode {
            accepts: node.accepts(),
            emits: node.emits(),
            ports: node.ports().to_vec(),
            node,
        }))
    }

    fn resolve_params(
        &self,
        node_type: &str,
        params: &mut crate::manifest::Params,
    ) -> Option<Result<ResolvedNode<Box<dyn DynNode>>, ParamError>> {
        Some(resolved(self.get(node_type)?, params))
    }

    /// Manifests repeat a few types (the benchmark's alternates two): a node whose type name is
    /// that of one of the last two looked up takes its type without hashing the name again
    /// (~110 instructions a node, callgrind). Names the manifest reader shares are compared by
    /// address first.
    fn resolve_nodes(
        &self,
        specs: &mut [crate::manifest::model::NodeSpec],
    ) -> Vec<Option<Result<ResolvedNode<Box<dyn DynNode>>, ParamError>>> {
        let mut recent: [Option<(&str, &NodeType)>; 2] = [None, None];
        let mut resolutions = Vec::with_capacity(specs.len());
        for spec in specs {
            let crate::manifest::model::NodeSpec {
                node_type: name,
                params,
                ..
            } = spec;
            let name: &str = name;
            let same = |&&(seen, _): &&(&str, &NodeType)| std::ptr::eq(seen, name) || seen == name;
            let node_type = match recent.iter().flatten().find(same) {
                Some(&(_, node_type)) => Some(node_type),
                None => self.get(name).inspect(|&node_type| {
                    recent = [recent[1], Some((name, node_type))];
                }),
            };
            resolutions.push(node_type.map(|node_type| resolved(node_type, params)));
        }
        resolutions
    }

    fn names(&self) -> Vec<String> {
        Registry::names(self).map(str::to_string).collect()
    }
}

/// A node of `node_type` built from `params`, with its port types.
fn resolved(
    node_type: &NodeType,
    params: &mut crate::manifest::Params,
) -> Result<ResolvedNode<Box<dyn DynNode>>, ParamError> {
    node_type.build_params(params).map(|node| ResolvedNode {
        accepts: node.accepts(),
        emits: node.emits(),
        ports: node.ports().to_vec(),
        node,
    })
}

/// Reads the params' names, types and defaults off their JSON Schema.
fn param_infos(schema: &schemars::Schema) -> Vec<ParamInfo> {
    let root = schema.as_value();
    let required: Vec<&str> = root
        .get("required")
        .and_then(|r| r.as_array())
        .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let Some(properties) = root.get("properties").and_then(|p| p.as_object()) else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, prop)| ParamInfo {
            name: name.clone(),
            kind: describe_type(root, prop),
            default: prop.get("default").map(|d| d.to_string()),
            required: required.contains(&name.as_str()),
        })
        .collect()
}

fn describe_type(root: &serde_json::Value, prop: &serde_json::Value) -> String {
    let resolved = prop
        .get("$ref")
        .and_then(|r| r.as_str())
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| root.get("$defs")?.get(name))
        .unwrap_or(prop);
    let consts: Vec<String> = resolved
        .get("enum")
        .and_then(|e| e.as_array())
        .map(|e| {
            e.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .or_else(|| {
            resolved.get("oneOf").and_then(|o| o.as_array()).map(|o| {
                o.iter()
                    .filter_map(|v| v.get("const").and_then(|c| c.as_str()).map(str::to_string))
                    .collect()
            })
        })
        .unwrap_or_default();
    if !consts.is_empty() {
        return consts.join(" | ");
    }
    match resolved.get("type") {
        Some(serde_json::Value::String(t)) => t.clone(),
        Some(serde_json::Value::Array(ts)) => ts
            .iter()
            .filter_map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "any".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::Registry;
    use crate::dynamic::NoParams;
    use crate::manifest::Params;
    use crate::prelude::*;
    use std::sync::Arc;

    /// Params as the parser's plain reader keeps them: the text of their object.
    fn unparsed(object: &str) -> Params {
        Params::unparsed(Arc::from(object), 0..object.len())
    }

    #[test]
    fn nodes_sharing_a_type_resolve_as_each_does_alone() {
        use crate::manifest::NodeCatalog;
        let registry = Registry::with_builtins();
        let text = r#"{"version": "v1", "metadata": {"name": "m"}, "nodes": [
            {"id": "a", "node_type": "PassThrough"},
            {"id": "b", "node_type": "CalculatorNode", "params": {"operation": "multiply", "operand": 3}},
            {"id": "c", "node_type": "PassThrough"},
            {"id": "d", "node_type": "Calculator", "params": {"operand": 2}},
            {"id": "e", "node_type": "Nope"},
            {"id": "f", "node_type": "CalculatorNode", "params": {"operation": "mod"}},
            {"id": "g", "node_type": "Partition", "params": {"op": "odd"}},
            {"id": "h", "node_type": "CalculatorNode", "params": {"operation": "subtract", "operand": 1}}
        ], "connections": []}"#;
        let parsed = || {
            crate::manifest::parse("m.json", text)
                .unwrap()
                .manifest
                .nodes
        };
        let mut together = parsed();
        let mut alone = parsed();
        let describe = |r: Option<
            Result<
                crate::manifest::ResolvedNode<Box<dyn crate::dynamic::DynNode>>,
                super::ParamError,
            >,
        >| {
            r.map(|r| {
                r.map(|mut r| {
                    let mut out = Vec::new();
                    let _ = r.node.process(Value::Int(7), &mut out);
                    (r.accepts, r.emits, r.ports, out)
                })
                .map_err(|e| e.to_string())
            })
        };
        let together: Vec<_> = registry
            .resolve_nodes(&mut together)
            .into_iter()
            .map(describe)
            .collect();
        let alone: Vec<_> = alone
            .iter_mut()
            .map(|spec| describe(registry.resolve_params(&spec.node_type, &mut spec.params)))
            .collect();
        assert_eq!(together, alone);
        assert!(together[4].is_none() && together[5].as_ref().unwrap().is_err());
        assert_eq!(
            together[7].as_ref().unwrap().as_ref().unwrap().3,
            [Value::Int(6)]
        );
    }

    #[test]
    fn typed_params_are_built_from_their_text_and_fail_as_from_a_map() {
        let registry = Registry::with_builtins();
        let calculator = registry.get("CalculatorNode").unwrap();
        let mut params = unparsed(r#"{"operation": "multiply", "operand": 3}"#);
        let mut node = calculator.build_params(&mut params).unwrap();
        // Built from the text: nothing parsed the params into a map.
        assert!(params.text().is_some());
        let mut out = Vec::new();
        node.process(Value::Int(2), &mut out).unwrap();
        assert_eq!(out, [Value::Int(6)]);
        // A bad param: the error the map gives, and the params kept, as a map.
        let object = r#"{"operation": "mod", "operand": 3}"#;
        let mut params = unparsed(object);
        let err = calculator.build_params(&mut params).err().unwrap();
        let value: serde_json::Value = serde_json::from_str(object).unwrap();
        assert_eq!(Some(err), calculator.build(&value).err());
        assert_eq!(params["operation"], "mod");
        // A typed registration, and one with no params.
        let mut registry = Registry::new();
        registry.register("Scale", |p: ScaleParams| {
            Map::new(move |x: i64| x * p.factor)
        });
        let mut node = registry
            .get("Scale")
            .unwrap()
            .build_params(&mut unparsed(r#"{"factor": 5}"#))
            .unwrap();
        let mut out = Vec::new();
        node.process(Value::Int(2), &mut out).unwrap();
        assert_eq!(out, [Value::Int(10)]);
        let pass = Registry::with_builtins();
        let mut none = Params::default();
        assert!(pass
            .get("PassThrough")
            .unwrap()
            .build_params(&mut none)
            .is_ok());
        assert!(none.is_empty());
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct ScaleParams {
        factor: i64,
    }

    fn doubling() -> Registry {
        let mut registry = Registry::new();
        registry
            .register("Double", |_: NoParams| Map::new(|x: i64| x * 2))
            .alias("Twice", "Double")
            .register("Echo", |_: NoParams| crate::builtins::Echo::new());
        registry
    }

    fn run(registry: &Registry, name: &str) -> Value {
        let mut node = registry
            .get(name)
            .unwrap()
            .build(&serde_json::Value::Null)
            .unwrap();
        let mut out = Vec::new();
        node.process(Value::Int(5), &mut out).unwrap();
        out.remove(0)
    }

    #[test]
    fn an_alias_finds_its_type() {
        let registry = doubling();
        assert_eq!(run(&registry, "Twice"), Value::Int(10));
        assert!(registry.get("Thrice").is_none());
    }

    #[test]
    fn registering_a_name_again_replaces_the_type_and_keeps_its_aliases() {
        let mut registry = doubling();
        registry.register("Double", |_: NoParams| Map::new(|x: i64| x * 3));
        assert_eq!(run(&registry, "Double"), Value::Int(15));
        assert_eq!(run(&registry, "Twice"), Value::Int(15));
        assert_eq!(registry.get("Double").unwrap().aliases, ["Twice"]);
        assert_eq!(registry.types().count(), 2);
    }

    #[test]
    fn registering_a_spec_again_keeps_one_copy_of_its_aliases() {
        let calculator = crate::builtin_specs::builtin_spec("Calculator").unwrap();
        let mut registry = Registry::new();
        registry.register_spec(calculator).register_spec(calculator);
        assert_eq!(
            registry.get("CalculatorNode").unwrap().aliases,
            ["CalculatorNode"]
        );
        let names: Vec<&str> = registry.names().collect();
        assert_eq!(names, ["Calculator", "CalculatorNode"]);
    }

    #[test]
    fn names_list_types_in_order_then_aliases() {
        let registry = doubling();
        let names: Vec<&str> = registry.names().collect();
        assert_eq!(names, ["Double", "Echo", "Twice"]);
    }
}
