//! A graph moved to another kind of location. `pipeline!(manifest = "...")` validates and plans a
//! manifest's graph once, with JSON locations (errors point into the file), then hands the code
//! generator the same checked graph located at the path literal: validation never reads
//! locations, so the checks still hold and are not run again.

use super::model::{EdgeDecl, Graph, NodeDecl};
use super::validate::ValidGraph;

impl<L> ValidGraph<L> {
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
    pub fn map_locations<M>(self, f: impl FnMut(L) -> M) -> ValidGraph<M> {
        ValidGraph {
            graph: self.graph.map_locations(f),
            outputs: self.outputs,
            edges: self.edges,
            topo: self.topo,
            leaving: self.leaving,
        }
    }
}

impl<L> Graph<L> {
    /// The same graph with every location `l` replaced by `f(l)`: the graph's, then each node's,
    /// then each edge's (its source, its target, itself).
    ///
    /// ```
    /// use pipeline_core::graph::Graph;
    /// let mut graph = Graph::new(1);
    /// graph.add_node("a", "PassThrough", 2);
    /// assert_eq!(graph.map_locations(|l| l * 10).nodes[0].loc, 20);
    /// ```
    pub fn map_locations<M>(self, mut f: impl FnMut(L) -> M) -> Graph<M> {
        let loc = f(self.loc);
        let nodes = self
            .nodes
            .into_iter()
            .map(|node| NodeDecl {
                id: node.id,
                type_name: node.type_name,
                parallelism: node.parallelism,
                ordered: node.ordered,
                batch_size: node.batch_size,
                capacity: node.capacity,
                accepts: node.accepts,
                emits: node.emits,
                loc: f(node.loc),
            })
            .collect();
        let edges = self
            .edges
            .into_iter()
            .map(|edge| EdgeDecl {
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
}
