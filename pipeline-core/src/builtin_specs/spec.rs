//! What one built-in node type declares ([`Builtin`], written once per type) and the same facts
//! as plain data ([`BuiltinSpec`]) that the registry, lowering, the `pipeline!` macro's manifest
//! catalog and `pipeline nodes` read from one list.

use super::constructor::{Constructor, ConstructorError, ItemKind};
use crate::graph::{OutputPort, PortType};
use crate::manifest::{deserialize_params, ParamError};
use crate::node::Node;
use crate::value::{FromValue, IntoValue};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// A built-in node type, declared once: names, params, the node the run-time registry builds, and
/// the constructor a compiled manifest (`pipeline!(manifest = "...")`) emits.
///
/// Its port types are those of [`Node`](Builtin::Node) over `Value` items, so the registry, the
/// manifest checks and compiled manifests cannot disagree about them.
///
/// ```
/// use pipeline_core::builtin_specs::{Builtin, BuiltinSpec, Constructor, ConstructorError, ItemKind, NoParams, TypeArg};
/// use pipeline_core::builtins::PassThrough;
/// use pipeline_core::graph::PortType;
/// use pipeline_core::Value;
///
/// struct Identity;
/// impl Builtin for Identity {
///     const NAME: &'static str = "Identity";
///     const DOC: &'static str = "Emits its input unchanged.";
///     type Params = NoParams;
///     type Node = PassThrough<Value>;
///     fn build(_: NoParams) -> PassThrough<Value> {
///         PassThrough::new()
///     }
///     fn constructor(_: &NoParams, _: ItemKind) -> Result<Constructor, ConstructorError> {
///         Ok(Constructor::new("PassThrough", "new").type_args([TypeArg::Item]))
///     }
/// }
///
/// const IDENTITY: BuiltinSpec = BuiltinSpec::of::<Identity>();
/// assert_eq!((IDENTITY.name, IDENTITY.accepts), ("Identity", PortType::Any));
/// assert!(IDENTITY.check(&serde_json::Value::Null).is_ok());
/// ```
pub trait Builtin {
    /// The registered name.
    const NAME: &'static str;
    /// Other names it answers to (the seed's `CalculatorNode`).
    const ALIASES: &'static [&'static str] = &[];
    /// One line saying what it does, for `pipeline nodes`.
    const DOC: &'static str;
    /// Its params as a manifest writes them; the JSON Schema documents them.
    type Params: DeserializeOwned + JsonSchema;
    /// The typed node the run-time registry builds (run on `Value` items through `FromValue` and
    /// `IntoValue`); its input and output types are the type's port types.
    type Node: Node;

    /// The node of a dynamic graph, from checked params.
    fn build(params: Self::Params) -> Self::Node;

    /// Params read by hand from the text of their JSON object (see `plain_params`), for a type
    /// whose construction is hot; `None`, the default, leaves the text to serde. Where it returns
    /// params they are what serde reads from the same text.
    #[doc(hidden)]
    fn params_from_text(object: &str) -> Option<Self::Params> {
        let _ = object;
        None
    }

    /// Checks what serde cannot: params that parse but do not fit together (`ParamError::param`
    /// names the one at fault).
    fn validate(params: &Self::Params) -> Result<(), ParamError> {
        let _ = params;
        Ok(())
    }

    /// The node's named outputs for `params`, each with its type; empty (the default) for a node
    /// with one output. A node with ports says which one each output leaves by in
    /// [`port_of`](Builtin::port_of).
    fn ports(params: &Self::Params) -> Vec<OutputPort> {
        let _ = params;
        Vec::new()
    }

    /// The port (an index into [`ports`](Builtin::ports)) `output` leaves by.
    fn port_of(output: &<Self::Node as Node>::Output) -> usize {
        let _ = output;
        0
    }

    /// The ports as `pipeline nodes` lists them (`true: any, false: any`), for a node with ports.
    const PORTS_DOC: &'static str = "";
    /// Whether an item's output depends on the items before it (a count, a sum, a batch): such a
    /// node cannot be spread over processes (`"distribute": true`), where each would see a share.
    const KEEPS_STATE: bool = false;

    /// The node of a compiled manifest whose items are of kind `item`, as data the macro turns
    /// into a Rust expression; `Err` when the type cannot run on such items.
    fn constructor(params: &Self::Params, item: ItemKind) -> Result<Constructor, ConstructorError>;

    /// The node as a dynamic graph runs it, for a type that is its own [`DynNode`]: one over
    /// `Value`s that needs none of [`Typed`]'s conversion buffers, and, zero-sized, is boxed
    /// without an allocation. `None`, the default, wraps [`build`](Builtin::build)'s node in
    /// [`Typed`].
    ///
    /// [`DynNode`]: crate::dynamic::DynNode
    /// [`Typed`]: crate::dynamic::Typed
    #[cfg(feature = "manifest")]
    #[doc(hidden)]
    fn own_dyn_node(params: &Self::Params) -> Option<Box<dyn crate::dynamic::DynNode>> {
        let _ = params;
        None
    }
}

/// A built-in node type as data: what [`Builtin`] declares, with its params handled as JSON.
#[derive(Clone, Copy)]
pub struct BuiltinSpec {
    /// The registered name.
    pub name: &'static str,
    /// Other names it answers to.
    pub aliases: &'static [&'static str],
    /// One line saying what it does.
    pub doc: &'static str,
    /// What it accepts over `Value` items.
    pub accepts: PortType,
    /// What it emits over `Value` items.
    pub emits: PortType,
    /// Its named outputs and their types, as `pipeline nodes` lists them; empty for one output.
    pub ports_doc: &'static str,
    /// See [`Builtin::KEEPS_STATE`].
    pub keeps_state: bool,
    ports: fn(&serde_json::Value) -> Result<Vec<OutputPort>, ParamError>,
    params_schema: fn() -> schemars::Schema,
    check: fn(&serde_json::Value) -> Result<(), ParamError>,
    constructor: fn(&serde_json::Value, ItemKind) -> Result<Constructor, ConstructorError>,
    #[cfg(feature = "manifest")]
    build: fn(&serde_json::Value) -> Result<Box<dyn crate::dynamic::DynNode>, ParamError>,
    #[cfg(feature = "manifest")]
    build_from_text: fn(&str) -> Option<Box<dyn crate::dynamic::DynNode>>,
}

impl BuiltinSpec {
    /// The spec of the built-in `B`.
    pub const fn of<B>() -> BuiltinSpec
    where
        B: Builtin,
        B::Node: Send + 'static,
        <B::Node as Node>::Input: FromValue + Send,
        <B::Node as Node>::Output: IntoValue + Send,
    {
        BuiltinSpec {
            name: B::NAME,
            aliases: B::ALIASES,
            doc: B::DOC,
            accepts: <<B::Node as Node>::Input as FromValue>::PORT,
            emits: <<B::Node as Node>::Output as IntoValue>::PORT,
            ports_doc: B::PORTS_DOC,
            keeps_state: B::KEEPS_STATE,
            ports: ports::<B>,
            params_schema: params_schema::<B>,
            check: check::<B>,
            constructor: constructor::<B>,
            #[cfg(feature = "manifest")]
            build: build::<B>,
            #[cfg(feature = "manifest")]
            build_from_text: build_from_text::<B>,
        }
    }

    /// Whether it answers to `name` (its own or an alias).
    pub fn answers_to(&self, name: &str) -> bool {
        self.name == name || self.aliases.contains(&name)
    }

    /// The JSON Schema of its params.
    pub fn params_schema(&self) -> schemars::Schema {
        (self.params_schema)()
    }

    /// Checks `params` (an object, or `null` for none): a wrong param is an error naming it and
    /// the expected type.
    pub fn check(&self, params: &serde_json::Value) -> Result<(), ParamError> {
        (self.check)(params)
    }

    /// Its named outputs with `params` (checked as [`check`](Self::check) does); empty for a
    /// node with one output.
    ///
    /// ```
    /// use pipeline_core::builtin_specs::builtin_spec;
    /// let partition = builtin_spec("Partition").unwrap();
    /// let ports = partition.ports(&serde_json::json!({"op": "even"})).unwrap();
    /// assert_eq!(ports.iter().map(|p| &*p.name).collect::<Vec<_>>(), ["true", "false"]);
    /// assert!(builtin_spec("Sum").unwrap().ports(&serde_json::Value::Null).unwrap().is_empty());
    /// ```
    pub fn ports(&self, params: &serde_json::Value) -> Result<Vec<OutputPort>, ParamError> {
        (self.ports)(params)
    }

    /// What a compiled manifest builds from `params` over items of kind `item`.
    pub fn constructor(
        &self,
        params: &serde_json::Value,
        item: ItemKind,
    ) -> Result<Constructor, ConstructorError> {
        (self.constructor)(params, item)
    }

    /// The node of a dynamic graph, built from `params`.
    #[cfg(feature = "manifest")]
    pub fn build(
        &self,
        params: &serde_json::Value,
    ) -> Result<Box<dyn crate::dynamic::DynNode>, ParamError> {
        (self.build)(params)
    }

    /// [`build`](BuiltinSpec::build) from the text of the params' JSON object (what a manifest
    /// keeps of them, see [`Params`](crate::manifest::Params)); `None` if they do not
    /// deserialise or validate, and [`build`](BuiltinSpec::build) then says why.
    #[cfg(feature = "manifest")]
    pub(crate) fn build_from_text(&self, object: &str) -> Option<Box<dyn crate::dynamic::DynNode>> {
        (self.build_from_text)(object)
    }
}

impl std::fmt::Debug for BuiltinSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltinSpec")
            .field("name", &self.name)
            .field("aliases", &self.aliases)
            .field("accepts", &self.accepts)
            .field("emits", &self.emits)
            .field("ports_doc", &self.ports_doc)
            .finish_non_exhaustive()
    }
}

fn params_schema<B: Builtin>() -> schemars::Schema {
    schemars::schema_for!(B::Params)
}

/// `params` deserialised and validated.
fn checked<B: Builtin>(params: &serde_json::Value) -> Result<B::Params, ParamError> {
    let params = deserialize_params::<B::Params>(params)?;
    B::validate(&params)?;
    Ok(params)
}

fn check<B: Builtin>(params: &serde_json::Value) -> Result<(), ParamError> {
    checked::<B>(params).map(drop)
}

fn ports<B: Builtin>(params: &serde_json::Value) -> Result<Vec<OutputPort>, ParamError> {
    checked::<B>(params).map(|params| B::ports(&params))
}

fn constructor<B: Builtin>(
    params: &serde_json::Value,
    item: ItemKind,
) -> Result<Constructor, ConstructorError> {
    // The macro checks params before it asks for the constructor; a failure here is reported, not
    // assumed away.
    let params = checked::<B>(params).map_err(|err| ConstructorError {
        message: format!("invalid params for `{}`: {err}", B::NAME),
        field: "/params".to_string(),
    })?;
    B::constructor(&params, item)
}

#[cfg(feature = "manifest")]
fn build<B>(params: &serde_json::Value) -> Result<Box<dyn crate::dynamic::DynNode>, ParamError>
where
    B: Builtin,
    B::Node: Send + 'static,
    <B::Node as Node>::Input: FromValue + Send,
    <B::Node as Node>::Output: IntoValue + Send,
{
    Ok(built::<B>(checked::<B>(params)?))
}

/// The node of params read straight from the text of their JSON object; `None` when they do
/// not deserialise or validate ([`build`] then says why).
#[cfg(feature = "manifest")]
fn build_from_text<B>(object: &str) -> Option<Box<dyn crate::dynamic::DynNode>>
where
    B: Builtin,
    B::Node: Send + 'static,
    <B::Node as Node>::Input: FromValue + Send,
    <B::Node as Node>::Output: IntoValue + Send,
{
    let params: B::Params = match B::params_from_text(object) {
        Some(params) => params,
        None => serde_json::from_str(object).ok()?,
    };
    B::validate(&params).ok()?;
    Some(built::<B>(params))
}

#[cfg(feature = "manifest")]
fn built<B>(params: B::Params) -> Box<dyn crate::dynamic::DynNode>
where
    B: Builtin,
    B::Node: Send + 'static,
    <B::Node as Node>::Input: FromValue + Send,
    <B::Node as Node>::Output: IntoValue + Send,
{
    if let Some(node) = B::own_dyn_node(&params) {
        return node;
    }
    let ports = B::ports(&params);
    if ports.is_empty() {
        return Box::new(crate::dynamic::Typed::new(B::build(params)));
    }
    Box::new(crate::dynamic::TypedPorts::with_port_fn(
        B::build(params),
        ports,
        B::port_of,
    ))
}

/// Params of a node type that takes none (any given are ignored).
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
pub struct NoParams {}

impl NoParams {
    /// [`Builtin::params_from_text`] for a type that takes none: serde reads any object as
    /// `NoParams {}` (members are ignored), so the text need not be read. Building the
    /// benchmark's `PassThrough` nodes spent ~250 instructions each in `serde_json` on `{}`
    /// (callgrind).
    pub(crate) fn from_object_text(object: &str) -> Option<NoParams> {
        debug_assert!(serde_json::from_str::<NoParams>(object).is_ok(), "{object}");
        Some(NoParams {})
    }
}
