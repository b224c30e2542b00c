//! A checked graph carried over to another front end's terms: its locations mapped, its payloads
//! replaced. `pipeline!(manifest = "...")` validates and plans a manifest's graph once, with JSON
//! locations (errors point into the file), then hands the code generator the same checked graph
//! located at the path literal and carrying each node's expression: validation reads neither
//! locations nor payloads, so its checks still hold and are not run again.

use super::model::{EdgeDecl, Graph, NodeDecl};
use super::validate::ValidGraph;
use std::convert::Infallible;

impl<L, P> ValidGraph<L, P> {
    /// The same checked graph with every location `l` replaced by `f(l)`.
    ///
    /// ```
    /// use pipeline_core::graph::{Endpoint, EdgeKind, Graph};
    /// let mut graph = Graph::new("whole");
    /// graph.add_node("add", "Calculator", "line 1");
    /// graph.add_edge(Endpoint::Input, Endpoint::node("add"), EdgeKind::Fused, "line 2");
    /// graph.add_edge(Endpoint::node("add"), Endpoint::output("output"), EdgeKind::Fused, "line 3");
    /// let valid = graph.validate().unwrap();
    /// let lengths = valid.map_locations(str::len);
    /// assert_eq!((lengths.graph.loc, lengths.graph.nodes[0].loc), (5, 6));
    /// assert_eq!(lengths.topo, [0]);
    /// ```
    pub fn map_locations<M>(self, f: impl FnMut(L) -> M) -> ValidGraph<M, P> {
        ValidGraph {
            graph: self.graph.map_locations(f),
            outputs: self.outputs,
            edges: self.edges,
            topo: self.topo,
            leaving: self.leaving,
        }
    }

    /// The same checked graph with node `i`'s payload `p` replaced by `f(i, p)`, or the first
    /// error `f` returns.
    ///
    /// ```
    /// use pipeline_core::graph::{Endpoint, EdgeKind, Graph};
    /// let mut graph = Graph::new(());
    /// graph.add_node("add", "Calculator", ());
    /// graph.add_edge(Endpoint::Input, Endpoint::node("add"), EdgeKind::Fused, ());
    /// graph.add_edge(Endpoint::node("add"), Endpoint::output("output"), EdgeKind::Fused, ());
    /// let valid = graph.validate().unwrap();
    /// let built = valid.try_map_payloads(|i, ()| Ok::<_, String>(format!("node {i}"))).unwrap();
    /// assert_eq!(built.graph.nodes[0].payload, "node 0");
    /// ```
    pub fn try_map_payloads<Q, E>(
        self,
        f: impl FnMut(usize, P) -> Result<Q, E>,
    ) -> Result<ValidGraph<L, Q>, E> {
        Ok(ValidGraph {
            graph: self.graph.try_map_payloads(f)?,
            outputs: self.outputs,
            edges: self.edges,
            topo: self.topo,
            leaving: self.leaving,
        })
    }

    /// The same checked graph with node `i`'s payload `p` replaced by `f(i, p)`.
    ///
    /// ```
    /// use pipeline_core::graph::{Endpoint, EdgeKind, Graph};
    /// let mut graph = Graph::carrying(());
    /// graph.add_node_with("add", "Calculator", (), 1);
    /// graph.add_edge(Endpoint::Input, Endpoint::node("add"), EdgeKind::Fused, ());
    /// graph.add_edge(Endpoint::node("add"), Endpoint::output("output"), EdgeKind::Fused, ());
    /// let valid = graph.validate().unwrap().map_payloads(|_, n| n * 10);
    /// assert_eq!(*valid.payload(0), 10);
    /// ```
    pub fn map_payloads<Q>(self, mut f: impl FnMut(usize, P) -> Q) -> ValidGraph<L, Q> {
        match self.try_map_payloads(|i, p| Ok::<Q, Infallible>(f(i, p))) {
            Ok(graph) => graph,
            Err(never) => match never {},
        }
    }
}

impl<L, P> Graph<L, P> {
    /// The same graph with every location `l` replaced by `f(l)`: the graph's, then each node's,
    /// then each edge's (its source, its target, itself).
    ///
    /// ```
    /// use pipeline_core::graph::Graph;
    /// let mut graph = Graph::new(1);
    /// graph.add_node("a", "PassThrough", 2);
    /// assert_eq!(graph.map_locations(|l| l * 10).nodes[0].loc, 20);
    /// ```
    pub fn map_locations<M>(self, mut f: impl FnMut(L) -> M) -> Graph<M, P> {
        let loc = f(self.loc);
        let nodes = self
            .nodes
            .into_iter()
            .map(|node| match node.remap(&mut f, Ok::<P, Infallible>) {
                Ok(node) => node,
                Err(never) => match never {},
            })
            .collect();
        let edges = self
            .edges
            .into_iter()
            .map(|edge| EdgeDecl {
                port: edge.port,
                from: edge.from,
                to: edge.to,
                kind: edge.kind,
                from_loc: f(edge.from_loc),
                to_loc: f(edge.to_loc),
                loc: f(edge.loc),
            })
            .collect();
        Graph { nodes, edges, loc }
    }

    /// The same graph with node `i`'s payload `p` replaced by `f(i, p)`, or the first error `f`
    /// returns.
    pub fn try_map_payloads<Q, E>(
        self,
        mut f: impl FnMut(usize, P) -> Result<Q, E>,
    ) -> Result<Graph<L, Q>, E> {
        let nodes = self
            .nodes
            .into_iter()
            .enumerate()
            .map(|(i, node)| node.remap(|loc| loc, |payload| f(i, payload)))
            .collect::<Result<_, E>>()?;
        Ok(Graph {
            nodes,
            edges: self.edges,
            loc: self.loc,
        })
    }
}

impl<L, P> NodeDecl<L, P> {
    /// The same declaration with its location and payload mapped (or the payload's error).
    fn remap<M, Q, E>(
        self,
        loc: impl FnOnce(L) -> M,
        payload: impl FnOnce(P) -> Result<Q, E>,
    ) -> Result<NodeDecl<M, Q>, E> {
        Ok(NodeDecl {
            id: self.id,
            type_name: self.type_name,
            parallelism: self.parallelism,
            ordered: self.ordered,
            batch_size: self.batch_size,
            capacity: self.capacity,
            accepts: self.accepts,
            emits: self.emits,
            ports: self.ports,
            loc: loc(self.loc),
            payload: payload(self.payload)?,
        })
    }
}
