use crate::error::Result;
use crate::node::{Emitter, Node};
use crate::value::{IntoValue, Value};
use std::marker::PhantomData;
use std::sync::Arc;

/// Sends each [`Value`] to one named output port: by the item's type, or by the text of a field
/// of map items. The dynamic front ends' demultiplexer (`Route`, alias `Demux`, in manifests);
/// items keep their value, only the port differs.
///
/// ```
/// use pipeline_core::builtins::Route;
/// use pipeline_core::prelude::*;
/// let mut by_type = Route::by_type();
/// let mut out = Vec::new();
/// by_type.process(Value::from("hi"), &mut out)?;
/// by_type.process(Value::Int(3), &mut out)?;
/// let ports: Vec<&str> = out.iter().map(|r| Route::TYPE_PORTS[r.port].0).collect();
/// assert_eq!(ports, ["string", "int"]);
/// # Ok::<(), pipeline_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Route {
    rule: RouteRule,
}

/// How a [`Route`] picks a port.
#[derive(Debug, Clone)]
enum RouteRule {
    /// By the item's type: one port per type, in the order of [`Route::TYPE_PORTS`].
    Type,
    /// By the text of `field` of a map item: the port of that name; port `other` (the last)
    /// for anything else.
    Field {
        field: Arc<str>,
        ports: Vec<Arc<str>>,
    },
}

/// An item of a [`Route`] with the index of the port it leaves by.
///
/// ```
/// use pipeline_core::builtins::{Route, Routed};
/// use pipeline_core::prelude::*;
/// let mut out = Vec::new();
/// Route::by_type().process(Value::Null, &mut out)?;
/// assert_eq!(out, [Routed { port: 4, value: Value::Null }]);
/// # Ok::<(), pipeline_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Routed {
    /// The port: an index into the route's ports.
    pub port: usize,
    /// The item, unchanged.
    pub value: Value,
}

impl Route {
    /// The ports of [`by_type`](Route::by_type), in order, with the port type of each.
    ///
    /// ```
    /// use pipeline_core::builtins::Route;
    /// assert_eq!(Route::TYPE_PORTS[2].0, "string");
    /// ```
    pub const TYPE_PORTS: [(&'static str, crate::graph::PortType); 8] = {
        use crate::graph::PortType as P;
        [
            ("int", P::Int),
            ("float", P::Float),
            ("string", P::Str),
            ("bool", P::Bool),
            ("null", P::Null),
            ("list", P::List),
            ("map", P::Map),
            ("bytes", P::Bytes),
        ]
    };

    /// The name of the port a by-field route sends what matches no port to.
    ///
    /// ```
    /// assert_eq!(pipeline_core::builtins::Route::OTHER, "other");
    /// ```
    pub const OTHER: &'static str = "other";

    /// A route by item type (ports [`TYPE_PORTS`](Route::TYPE_PORTS)).
    pub fn by_type() -> Route {
        Route {
            rule: RouteRule::Type,
        }
    }

    /// A route by the text of `field` of map items: an item whose field is one of `ports` leaves
    /// by that port (index in `ports`); any other item (not a map, no such field, not text, or
    /// text that names no port) by [`OTHER`](Route::OTHER), index `ports.len()`.
    ///
    /// ```
    /// use pipeline_core::builtins::Route;
    /// use pipeline_core::prelude::*;
    /// let mut demux = Route::by_field("kind", ["audio", "video"]);
    /// let frame = |kind: &str| Value::map([("kind", Value::from(kind))]);
    /// let mut out = Vec::new();
    /// for item in [frame("video"), frame("text"), Value::Int(1)] {
    ///     demux.process(item, &mut out)?;
    /// }
    /// assert_eq!(out.iter().map(|r| r.port).collect::<Vec<_>>(), [1, 2, 2]);
    /// # Ok::<(), pipeline_core::Error>(())
    /// ```
    pub fn by_field<S: Into<Arc<str>>>(
        field: impl Into<Arc<str>>,
        ports: impl IntoIterator<Item = S>,
    ) -> Route {
        Route {
            rule: RouteRule::Field {
                field: field.into(),
                ports: ports.into_iter().map(Into::into).collect(),
            },
        }
    }

    /// This route with its items as `P`: a port type of the caller's own, made from each
    /// [`Routed`], with a name and an accessor per port. A compiled manifest (`pipeline!(manifest =
    /// "...")`) writes one per `Route` node from its params, so the node's ports are the macro's
    /// ports (`demux.audio -> a;`).
    ///
    /// ```
    /// use pipeline_core::builtins::{Route, Routed};
    /// use pipeline_core::node::Ports;
    /// use pipeline_core::prelude::*;
    ///
    /// /// Frames by their `kind`.
    /// struct Track(Routed);
    /// impl From<Routed> for Track {
    ///     fn from(routed: Routed) -> Track { Track(routed) }
    /// }
    /// impl Ports for Track {
    ///     const NAMES: &'static [&'static str] = &["audio", "other"];
    ///     fn port(&self) -> usize { self.0.port }
    /// }
    ///
    /// let mut demux = Route::by_field("kind", ["audio"]).with_ports::<Track>();
    /// let mut out = Vec::new();
    /// demux.process(Value::Int(1), &mut out)?;
    /// assert_eq!(out[0].port_name(), "other");
    /// # Ok::<(), pipeline_core::Error>(())
    /// ```
    pub fn with_ports<P: From<Routed>>(self) -> RouteAs<P> {
        RouteAs {
            route: self,
            _ports: PhantomData,
        }
    }

    /// The port `item` leaves by.
    fn port_of(&self, item: &Value) -> usize {
        match &self.rule {
            RouteRule::Type => match item {
                Value::Int(_) => 0,
                Value::Float(_) => 1,
                Value::Str(_) => 2,
                Value::Bool(_) => 3,
                Value::Null => 4,
                Value::List(_) => 5,
                Value::Map(_) => 6,
                Value::Bytes(_) => 7,
            },
            RouteRule::Field { field, ports } => {
                let key = match item {
                    Value::Map(map) => match map.get(&**field) {
                        Some(Value::Str(key)) => Some(key),
                        _ => None,
                    },
                    _ => None,
                };
                key.and_then(|key| ports.iter().position(|port| port == key))
                    .unwrap_or(ports.len())
            }
        }
    }
}

impl Node for Route {
    type Input = Value;
    type Output = Routed;

    #[inline]
    fn process<E: Emitter<Routed> + ?Sized>(&mut self, item: Value, out: &mut E) -> Result<()> {
        let port = self.port_of(&item);
        out.emit(Routed { port, value: item })
    }

    fn one_to_one(&self) -> bool {
        true
    }
}

/// A [`Route`] whose items leave as `P`, made from each [`Routed`] (see [`Route::with_ports`]).
///
/// ```
/// use pipeline_core::builtins::{Route, RouteAs, Routed};
/// use pipeline_core::prelude::*;
/// // `Routed` itself is a `From<Routed>`: the items as `Route` emits them.
/// let mut by_type: RouteAs<Routed> = Route::by_type().with_ports();
/// let mut out = Vec::new();
/// by_type.process(Value::Bool(true), &mut out)?;
/// assert_eq!(Route::TYPE_PORTS[out[0].port].0, "bool");
/// # Ok::<(), pipeline_core::Error>(())
/// ```
pub struct RouteAs<P> {
    route: Route,
    _ports: PhantomData<fn() -> P>,
}

impl<P> Clone for RouteAs<P> {
    fn clone(&self) -> Self {
        RouteAs {
            route: self.route.clone(),
            _ports: PhantomData,
        }
    }
}

impl<P> std::fmt::Debug for RouteAs<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.route.fmt(f)
    }
}

impl<P: From<Routed>> Node for RouteAs<P> {
    type Input = Value;
    type Output = P;

    #[inline]
    fn process<E: Emitter<P> + ?Sized>(&mut self, item: Value, out: &mut E) -> Result<()> {
        let port = self.route.port_of(&item);
        out.emit(P::from(Routed { port, value: item }))
    }

    fn one_to_one(&self) -> bool {
        true
    }
}

/// In a dynamic graph an item leaves as its plain value; its port travels beside it.
impl IntoValue for Routed {
    fn into_value(self) -> Value {
        self.value
    }
}
