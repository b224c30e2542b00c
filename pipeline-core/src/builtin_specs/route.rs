//! `Route` (alias `Demux`): each item to one named port, by its type or by a field of map items.

use super::{Arg, Builtin, Constructor, ConstructorError, ItemKind};
use crate::builtins::{Route, Routed};
use crate::graph::{OutputPort, PortType};
use crate::manifest::ParamError;
use schemars::JsonSchema;
use serde::Deserialize;

/// `Route`: the typed [`Route`]; its ports depend on its params.
///
/// ```
/// use pipeline_core::builtin_specs::{Builtin, RouteSpec};
/// let params = serde_json::from_value(serde_json::json!({"field": "kind", "ports": ["a"]})).unwrap();
/// let ports: Vec<String> = RouteSpec::ports(&params).iter().map(|p| p.name.to_string()).collect();
/// assert_eq!(ports, ["a", "other"]);
/// ```
pub struct RouteSpec;

/// `Route` params: `{"by": "type"}`, or `{"field": "kind", "ports": ["audio", "video"]}`.
///
/// ```
/// use pipeline_core::builtin_specs::{RouteBy, RouteParams};
/// let params: RouteParams = serde_json::from_str(r#"{"by": "type"}"#).unwrap();
/// assert_eq!(params.by, Some(RouteBy::Type));
/// ```
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteParams {
    /// `type`: a port per item type (`int`, `float`, `string`, `bool`, `null`, `list`, `map`,
    /// `bytes`); `field` (the default when `field` is given): by the text of `field`.
    #[serde(default)]
    pub by: Option<RouteBy>,
    /// The field of map items whose text names the port.
    #[serde(default)]
    pub field: Option<String>,
    /// The ports a field may name (identifiers); what names none, and items that are not maps
    /// or lack the field, leave by port `other`.
    #[serde(default)]
    pub ports: Option<Vec<String>>,
}

/// What a route goes by.
///
/// ```
/// use pipeline_core::builtin_specs::RouteBy;
/// assert_eq!(serde_json::from_str::<RouteBy>(r#""field""#).unwrap(), RouteBy::Field);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum RouteBy {
    Type,
    Field,
}

fn param_error(param: &str, message: impl Into<String>) -> ParamError {
    ParamError {
        param: Some(param.to_string()),
        message: message.into(),
    }
}

/// Whether `name` can be a port: an identifier (a manifest writes `node.port`, a Python script
/// `node.port`).
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl RouteParams {
    fn by(&self) -> RouteBy {
        self.by.unwrap_or(match self.field {
            Some(_) => RouteBy::Field,
            None => RouteBy::Type,
        })
    }
}

impl Builtin for RouteSpec {
    const NAME: &'static str = "Route";
    const ALIASES: &'static [&'static str] = &["Demux"];
    const DOC: &'static str = "Sends each item to one named port: by its type (`\"by\": \"type\"`), or by the text of a map field (`field`, `ports`; unmatched items leave by `other`).";
    const PORTS_DOC: &'static str = "by type: int: int, float: float, string: string, bool: bool, null: null, list: list, map: map, bytes: bytes; by field: each of `ports`: map, other: any";
    type Params = RouteParams;
    type Node = Route;

    fn build(params: RouteParams) -> Route {
        match (params.by(), params.field, params.ports) {
            (RouteBy::Field, Some(field), Some(ports)) => Route::by_field(field, ports),
            _ => Route::by_type(),
        }
    }

    fn validate(params: &RouteParams) -> Result<(), ParamError> {
        match params.by() {
            RouteBy::Type => {
                for (set, param) in [
                    (params.field.is_some(), "field"),
                    (params.ports.is_some(), "ports"),
                ] {
                    if set {
                        return Err(param_error(
                            param,
                            "a route by type has a port per type; `field` and `ports` are for a route by field",
                        ));
                    }
                }
                Ok(())
            }
            RouteBy::Field => {
                if params.field.is_none() {
                    return Err(param_error(
                        "field",
                        "a route by field needs the `field` whose text names the port",
                    ));
                }
                let Some(ports) = &params.ports else {
                    return Err(param_error(
                        "ports",
                        "a route by field needs its `ports`: the names a field may have",
                    ));
                };
                if ports.is_empty() {
                    return Err(param_error("ports", "give at least one port"));
                }
                for (i, port) in ports.iter().enumerate() {
                    let at = format!("ports[{i}]");
                    if !is_identifier(port) {
                        return Err(param_error(
                            &at,
                            format!("port `{port}` is not an identifier (letters, digits and `_`, not first a digit)"),
                        ));
                    }
                    if port == Route::OTHER {
                        return Err(param_error(
                            &at,
                            "`other` is where unmatched items go; it is always there",
                        ));
                    }
                    if ports[..i].contains(port) {
                        return Err(param_error(&at, format!("port `{port}` is named twice")));
                    }
                }
                Ok(())
            }
        }
    }

    fn ports(params: &RouteParams) -> Vec<OutputPort> {
        match (params.by(), &params.ports) {
            (RouteBy::Field, Some(ports)) => ports
                .iter()
                .map(|port| OutputPort::new(port.as_str(), PortType::Map))
                .chain([OutputPort::new(Route::OTHER, PortType::Any)])
                .collect(),
            _ => Route::TYPE_PORTS
                .iter()
                .map(|&(name, emits)| OutputPort::new(name, emits))
                .collect(),
        }
    }

    fn port_of(output: &Routed) -> usize {
        output.port
    }

    /// The typed [`Route`] over `Value` items, its items given a port type of their own with
    /// an accessor per port its params name ([`Route::with_ports`]): a compiled manifest's ports
    /// are the macro's ports. It routes values only: other item types are refused.
    fn constructor(params: &RouteParams, item: ItemKind) -> Result<Constructor, ConstructorError> {
        if item != ItemKind::Value {
            return Err(ConstructorError {
                message: "`Route` sends `pipeline::Value` items by their type or a field, as at \
                          run time, so it needs the default item type `pipeline::Value` (drop \
                          `item = ...`)"
                    .to_string(),
                field: "/node_type".to_string(),
            });
        }
        let names = Self::ports(params).into_iter().map(|p| p.name.to_string());
        let constructor = match (params.by(), &params.field, &params.ports) {
            (RouteBy::Field, Some(field), Some(ports)) => Constructor::new("Route", "by_field")
                .args([Arg::Str(field.clone()), Arg::Strs(ports.clone())]),
            _ => Constructor::new("Route", "by_type"),
        };
        Ok(constructor.indexed_ports(names))
    }
}

#[cfg(test)]
mod tests {
    use super::super::builtin_spec;
    use serde_json::json;

    fn port_names(params: serde_json::Value) -> Vec<String> {
        let spec = builtin_spec("Demux").unwrap();
        let ports = spec.ports(&params).unwrap();
        ports
            .iter()
            .map(|p| format!("{}: {}", p.name, p.emits))
            .collect()
    }

    #[test]
    fn ports_follow_the_params() {
        assert_eq!(
            port_names(json!({"by": "type"})),
            [
                "int: int",
                "float: float",
                "string: string",
                "bool: bool",
                "null: null",
                "list: list",
                "map: map",
                "bytes: bytes"
            ]
        );
        assert_eq!(
            port_names(json!({"field": "kind", "ports": ["audio", "video"]})),
            ["audio: map", "video: map", "other: any"]
        );
        // Every port is in the listing `pipeline nodes` prints.
        let doc = builtin_spec("Route").unwrap().ports_doc;
        for port in port_names(json!({"by": "type"})) {
            assert!(doc.contains(&port), "{port}");
        }
    }

    #[test]
    fn a_compiled_route_names_its_ports_as_its_params_do() {
        use super::super::{Arg, ItemKind};
        let spec = builtin_spec("Route").unwrap();
        let by_field = spec
            .constructor(
                &json!({"field": "kind", "ports": ["audio", "video"]}),
                ItemKind::Value,
            )
            .unwrap();
        assert_eq!((by_field.path, by_field.function), ("Route", "by_field"));
        assert_eq!(
            by_field.args,
            [
                Arg::Str("kind".into()),
                Arg::Strs(vec!["audio".into(), "video".into()])
            ]
        );
        assert_eq!(by_field.indexed_ports.unwrap(), ["audio", "video", "other"]);
        let by_type = spec
            .constructor(&json!({"by": "type"}), ItemKind::Value)
            .unwrap();
        assert_eq!(by_type.function, "by_type");
        assert_eq!(by_type.indexed_ports.unwrap()[7], "bytes");
        let err = spec
            .constructor(&json!({"by": "type"}), ItemKind::Int)
            .unwrap_err();
        assert_eq!(err.field, "/node_type");
        assert!(err.message.contains("default item type"), "{}", err.message);
    }

    #[test]
    fn bad_params_name_the_param() {
        let spec = builtin_spec("Route").unwrap();
        let err = |params| spec.check(&params).unwrap_err().to_string();
        assert_eq!(
            err(json!({"field": "kind"})),
            "param `ports`: a route by field needs its `ports`: the names a field may have"
        );
        assert_eq!(
            err(json!({"by": "field", "ports": ["a"]})),
            "param `field`: a route by field needs the `field` whose text names the port"
        );
        assert!(err(json!({"field": "k", "ports": ["a", "a"]}))
            .starts_with("param `ports[1]`: port `a` is named twice"));
        assert!(err(json!({"field": "k", "ports": ["a.b"]})).contains("not an identifier"));
        assert!(err(json!({"field": "k", "ports": ["other"]})).contains("always there"));
        assert!(err(json!({"field": "k", "ports": []})).contains("at least one"));
        assert!(err(json!({"by": "type", "ports": ["a"]})).starts_with("param `ports`"));
        assert!(err(json!({"by": "kind"})).starts_with("param `by`"));
    }
}
