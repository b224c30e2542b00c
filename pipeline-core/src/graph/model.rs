//! Nodes, endpoints and edges, each tagged with a front-end location `L`.

use super::PortType;
use std::fmt;

pub use super::name::Name;

/// [`INPUT`] as a [`Name`].
pub(crate) fn input_name() -> Name {
    Name::new(INPUT)
}

/// The name of the pipeline's input endpoint.
pub const INPUT: &str = "input";
/// The name of the pipeline's default output endpoint.
pub const OUTPUT: &str = "output";

/// How items cross an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EdgeKind {
    /// `->`: a direct call on the same thread.
    Fused,
    /// `=>`: a stage boundary: a bounded channel carrying batches to another thread.
    Stage,
}

impl EdgeKind {
    /// The arrow as written in the macro.
    pub fn arrow(self) -> &'static str {
        match self {
            EdgeKind::Fused => "->",
            EdgeKind::Stage => "=>",
        }
    }
}

/// One end of an edge, by name: the pipeline input, a named output, or a node.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// The pipeline's input.
    Input,
    /// A pipeline output (`output`, or a named one).
    Output(Name),
    /// A node, by id.
    Node(Name),
}

impl Endpoint {
    /// A node endpoint.
    pub fn node(id: impl Into<Name>) -> Self {
        Endpoint::Node(id.into())
    }
    /// An output endpoint.
    pub fn output(name: impl Into<Name>) -> Self {
        Endpoint::Output(name.into())
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Input => f.write_str(INPUT),
            Endpoint::Output(name) | Endpoint::Node(name) => f.write_str(name),
        }
    }
}

/// A declared node, carrying its front end's payload `P` (the macro's node expression; nothing for
/// a graph that only needs checking).
#[derive(Debug, Clone)]
pub struct NodeDecl<L, P = ()> {
    /// Unique id (`pass_in` in `pass_in = PassThrough::new();`).
    pub id: Name,
    /// The node's type as the front end knows it (a registry name, or Rust source text).
    pub type_name: Name,
    /// Data-parallel degree (`par(n)` / `"parallelism": n`); 1 means sequential.
    pub parallelism: usize,
    /// Whether a parallel node emits in input order (the default); `par(n, unordered)` /
    /// `"ordered": false` opt out.
    pub ordered: bool,
    /// Items per batch (`batch(n)` / `"batch_size": n`): on the `=>` channel into this node, and per
    /// parallel batch of a parallel node. `None`: the runtime's default.
    pub batch_size: Option<usize>,
    /// Batches the `=>` channel into this node holds before senders wait (`capacity(n)` /
    /// `"channel_capacity": n`). `None`: the runtime's default.
    pub capacity: Option<usize>,
    /// What the node accepts (`Any` when the front end checks types itself, as the macro does).
    pub accepts: PortType,
    /// What the node emits, when it has one output.
    pub emits: PortType,
    /// The node's named outputs (`route.even`), in declaration order; empty for a node with one
    /// output (`emits`). Edges from a node with ports must name one; ports no edge names are
    /// allowed, and their items are dropped.
    pub ports: Vec<OutputPort>,
    /// Where the node was declared.
    pub loc: L,
    /// What the front end builds the node from, carried through validation and planning to code
    /// generation.
    pub payload: P,
}

/// One named output of a node with several (`even` of `route.even`).
///
/// ```
/// use pipeline_core::graph::{OutputPort, PortType};
/// let even = OutputPort::new("even", PortType::Int);
/// assert_eq!((&*even.name, even.emits), ("even", PortType::Int));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPort {
    /// The port's name: an identifier, unique among the node's ports.
    pub name: Name,
    /// What the port emits.
    pub emits: PortType,
}

impl OutputPort {
    /// A port named `name` emitting `emits`.
    pub fn new(name: impl Into<Name>, emits: PortType) -> Self {
        OutputPort {
            name: name.into(),
            emits,
        }
    }
}

/// A declared edge.
#[derive(Debug, Clone)]
pub struct EdgeDecl<L> {
    /// Where items come from.
    pub from: Endpoint,
    /// The output port of `from` the edge leaves by (`even` in `route.even -> a`); `None` for a
    /// node's only output and for the pipeline input.
    pub port: Option<Name>,
    /// Where items go.
    pub to: Endpoint,
    /// Fused or stage boundary.
    pub kind: EdgeKind,
    /// Where the source endpoint is written.
    pub from_loc: L,
    /// Where the target endpoint is written.
    pub to_loc: L,
    /// Where the edge itself (the arrow, or the connection object) is written.
    pub loc: L,
}

/// A node graph as a front end wrote it: not yet checked. Each node carries a payload `P`.
#[derive(Debug, Clone)]
pub struct Graph<L, P = ()> {
    /// Nodes in declaration order.
    pub nodes: Vec<NodeDecl<L, P>>,
    /// Edges in declaration order.
    pub edges: Vec<EdgeDecl<L>>,
    /// The location of the whole graph, for errors that belong to no element.
    pub loc: L,
}

impl<L: Clone> Graph<L> {
    /// An empty graph located at `loc`, its nodes without payloads.
    pub fn new(loc: L) -> Self {
        Graph::carrying(loc)
    }
}

impl<L: Clone, P> Graph<L, P> {
    /// An empty graph located at `loc` whose nodes carry payloads of type `P` (see
    /// [`add_node_with`](Graph::add_node_with)).
    pub fn carrying(loc: L) -> Self {
        Graph {
            nodes: Vec::new(),
            edges: Vec::new(),
            loc,
        }
    }

    /// Declares a node with its payload.
    ///
    /// ```
    /// use pipeline_core::graph::{EdgeKind, Endpoint, Graph};
    /// let mut graph = Graph::carrying(());
    /// graph.add_node_with("add", "Calculator", (), "Calculator::add(1)");
    /// graph.add_edge(Endpoint::Input, Endpoint::node("add"), EdgeKind::Fused, ());
    /// graph.add_edge(Endpoint::node("add"), Endpoint::output("output"), EdgeKind::Fused, ());
    /// let valid = graph.validate().unwrap();
    /// assert_eq!(valid.graph.nodes[0].payload, "Calculator::add(1)");
    /// ```
    pub fn add_node_with(
        &mut self,
        id: impl Into<Name>,
        type_name: impl Into<Name>,
        loc: L,
        payload: P,
    ) {
        self.nodes.push(NodeDecl {
            id: id.into(),
            type_name: type_name.into(),
            parallelism: 1,
            ordered: true,
            batch_size: None,
            capacity: None,
            accepts: PortType::Any,
            emits: PortType::Any,
            ports: Vec::new(),
            loc,
            payload,
        });
    }

    /// Declares a node with the default payload (none, for `P = ()`).
    pub fn add_node(&mut self, id: impl Into<Name>, type_name: impl Into<Name>, loc: L)
    where
        P: Default,
    {
        self.add_node_with(id, type_name, loc, P::default());
    }

    /// Declares an edge from output port `port` of node `from`, located at `loc`.
    ///
    /// ```
    /// use pipeline_core::graph::{EdgeKind, Endpoint, Graph, OutputPort, PortType};
    /// let mut graph = Graph::new(());
    /// graph.add_node("route", "Partition", ());
    /// graph.nodes[0].ports = vec![
    ///     OutputPort::new("even", PortType::Int),
    ///     OutputPort::new("odd", PortType::Int),
    /// ];
    /// graph.add_edge(Endpoint::Input, Endpoint::node("route"), EdgeKind::Fused, ());
    /// graph.add_port_edge("route", "even", Endpoint::output("output"), EdgeKind::Fused, ());
    /// let valid = graph.validate().unwrap();
    /// assert_eq!(valid.edges[1].port, Some(0));
    /// assert_eq!(valid.graph.edges[1].source_text(), "route.even");
    /// ```
    pub fn add_port_edge(
        &mut self,
        from: impl Into<Name>,
        port: impl Into<Name>,
        to: Endpoint,
        kind: EdgeKind,
        loc: L,
    ) {
        self.add_edge(Endpoint::Node(from.into()), to, kind, loc);
        let edge = self.edges.last_mut().expect("just pushed");
        edge.port = Some(port.into());
    }

    /// Declares an edge located at `loc` (both endpoints get the same location).
    pub fn add_edge(&mut self, from: Endpoint, to: Endpoint, kind: EdgeKind, loc: L) {
        self.edges.push(EdgeDecl {
            from,
            port: None,
            to,
            kind,
            from_loc: loc.clone(),
            to_loc: loc.clone(),
            loc,
        });
    }
}

impl<L> EdgeDecl<L> {
    /// The source as written: `route.even` for a port, else the endpoint's name.
    ///
    /// ```
    /// use pipeline_core::graph::{EdgeKind, Endpoint, Graph};
    /// let mut graph = Graph::new(());
    /// graph.add_edge(Endpoint::Input, Endpoint::node("a"), EdgeKind::Fused, ());
    /// assert_eq!(graph.edges[0].source_text(), "input");
    /// ```
    pub fn source_text(&self) -> String {
        match &self.port {
            Some(port) => format!("{}.{port}", self.from),
            None => self.from.to_string(),
        }
    }
}
