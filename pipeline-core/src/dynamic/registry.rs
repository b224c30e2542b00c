//! Node types by name: a factory per type that builds a node from a manifest's `params`.

use super::dyn_node::{DynNode, Typed};
use crate::graph::PortType;
use crate::manifest::{deserialize_params, NodeCatalog, ResolvedNode};
use crate::node::Node;
use crate::value::{FromValue, IntoValue};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
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
    factory: Factory,
}

impl NodeType {
    /// Builds a node from `params` (a JSON object, or `null` for none).
    pub fn build(&self, params: &serde_json::Value) -> Result<Box<dyn DynNode>, ParamError> {
        (self.factory)(params)
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
    types: BTreeMap<String, NodeType>,
    aliases: BTreeMap<String, String>,
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
        let factory: Factory = Arc::new(move |params: &serde_json::Value| {
            let params: P = deserialize_params(params)?;
            Ok(Box::new(Typed::new(factory(params))) as Box<dyn DynNode>)
        });
        self.insert(NodeType {
            name: name.to_string(),
            aliases: Vec::new(),
            accepts: N::Input::PORT,
            emits: N::Output::PORT,
            params: param_infos::<P>(),
            factory,
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
            factory: Arc::new(factory),
        })
    }

    fn insert(&mut self, node_type: NodeType) -> &mut Self {
        self.types.insert(node_type.name.clone(), node_type);
        self
    }

    /// Makes `alias` another name of the registered type `target`.
    ///
    /// # Panics
    /// If `target` is not registered: that is a programming error, not a manifest error.
    pub fn alias(&mut self, alias: &str, target: &str) -> &mut Self {
        let node_type = self
            .types
            .get_mut(target)
            .unwrap_or_else(|| panic!("alias `{alias}` of unregistered node type `{target}`"));
        node_type.aliases.push(alias.to_string());
        self.aliases.insert(alias.to_string(), target.to_string());
        self
    }

    /// The type registered as `name` (or aliased so).
    pub fn get(&self, name: &str) -> Option<&NodeType> {
        let name = self.aliases.get(name).map_or(name, String::as_str);
        self.types.get(name)
    }

    /// Every type, by name.
    pub fn types(&self) -> impl Iterator<Item = &NodeType> {
        self.types.values()
    }

    /// Every name a type can be asked for by, aliases included.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.types
            .keys()
            .chain(self.aliases.keys())
            .map(String::as_str)
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
            node,
        }))
    }

    fn names(&self) -> Vec<String> {
        Registry::names(self).map(str::to_string).collect()
    }
}

/// Reads the params' names, types and defaults off `P`'s JSON Schema.
fn param_infos<P: JsonSchema>() -> Vec<ParamInfo> {
    let schema = schemars::schema_for!(P);
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
