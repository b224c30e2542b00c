//! The rules every graph must pass, whichever front end wrote it.

use super::adjacency::Adjacency;
use super::error::{GraphError, GraphErrorKind};
use super::fast_hash::FastHash;
use super::filled::filled;
use super::id_index::IdIndex;
use super::model::{
    input_name, EdgeDecl, EdgeKind, Endpoint, Graph, Name, OutputPort, INPUT, OUTPUT,
};
use std::cmp::Reverse;
use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap, HashSet};

/// A resolved endpoint: the input, an output by index into [`ValidGraph::outputs`], or a node by
/// index into [`Graph::nodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vertex {
    /// The pipeline input.
    Input,
    /// A pipeline output.
    Output(usize),
    /// A node.
    Node(usize),
}

/// An edge with both ends resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedEdge {
    /// Source.
    pub from: Vertex,
    /// The output port of the source node the edge leaves by: an index into its
    /// [`ports`](super::NodeDecl::ports); `None` for a node with one output and for the input.
    pub port: Option<usize>,
    /// Target.
    pub to: Vertex,
    /// Fused or stage boundary.
    pub kind: EdgeKind,
    /// Index of the declaration in [`Graph::edges`].
    pub decl: usize,
}

/// A graph that passed validation: names resolved, acyclic, every node on a path from the input to
/// an output.
#[derive(Debug, Clone)]
pub struct ValidGraph<L, P = ()> {
    /// The graph as declared.
    pub graph: Graph<L, P>,
    /// Output names in order of first use (`output` for the default one).
    pub outputs: Vec<Name>,
    /// Edges, resolved, in declaration order.
    pub edges: Vec<ResolvedEdge>,
    /// Node indices in a topological order (ties keep declaration order).
    pub topo: Vec<usize>,
    /// The indices into `edges` of the edges leaving each node `i`, and the input as `n`: the
    /// dynamic builder routes items along them (the macro has its own view of the graph).
    #[cfg_attr(not(feature = "manifest"), allow(dead_code))]
    pub(crate) leaving: Adjacency,
}

impl<L: Clone, P> Graph<L, P> {
    /// Checks the graph; returns every error found, in the order of the graph's text where possible.
    ///
    /// ```
    /// use pipeline_core::graph::{Endpoint, EdgeKind, Graph, GraphErrorKind};
    /// let mut g = Graph::new(());
    /// g.add_node("add", "Calculator", ());
    /// g.add_edge(Endpoint::Input, Endpoint::node("ad"), EdgeKind::Fused, ());
    /// let errors = g.validate().unwrap_err();
    /// assert_eq!(errors[0].to_string(), "unknown node `ad` (did you mean `add`?)");
    /// ```
    pub fn validate(self) -> Result<ValidGraph<L, P>, Vec<GraphError<L>>> {
        self.validate_known(None)
    }

    /// [`validate`](Graph::validate), taking the ids its front end already resolved as given.
    pub(crate) fn validate_known(
        self,
        known: Option<KnownIds<'_>>,
    ) -> Result<ValidGraph<L, P>, Vec<GraphError<L>>> {
        let Checked {
            outputs,
            edges,
            topo,
            leaving,
        } = Validator::new(&self, known).run()?;
        Ok(ValidGraph {
            graph: self,
            outputs,
            edges,
            topo,
            leaving,
        })
    }
}

/// Whether `id` is a valid node id: `^[a-zA-Z0-9_-]+$`, the seed manifest's rule.
///
/// ```
/// use pipeline_core::graph::validate::is_valid_id;
/// assert!(is_valid_id("calc_1-b"));
/// assert!(!is_valid_id("calc 1"));
/// assert!(!is_valid_id(""));
/// ```
pub fn is_valid_id(id: &str) -> bool {
    // One table load a byte: the three tests a byte cost ~10 instructions each (callgrind, ~600
    // for the ids of the benchmark's 10-node manifest).
    !id.is_empty() && id.bytes().all(|b| ID_BYTES[usize::from(b)])
}

/// Which bytes an id may hold: ASCII letters and digits, `_` and `-`.
static ID_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-';
        b += 1;
    }
    table
};

/// The candidate closest to `name`, if it is close enough to be a likely typo.
///
/// ```
/// use pipeline_core::graph::validate::suggest;
/// assert_eq!(suggest("pas_in", ["pass_in", "add"]), Some("pass_in".to_string()));
/// assert_eq!(suggest("zzz", ["pass_in", "add"]), None);
/// ```
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}

/// What a front end found out while declaring a graph, given to the validator so that it does not
/// look every id up again: the manifest loader resolves each connection's ends as it declares
/// them (hashing the ids twice was ~4,000 instructions of the benchmark's 10-node manifest,
/// callgrind).
#[derive(Clone, Copy)]
pub(crate) struct KnownIds<'k> {
    /// For each node, the first node declared with its id (itself, unless it repeats one).
    pub(crate) first: &'k [usize],
    /// For each declared edge, the node its `from` and its `to` name, where they are nodes that
    /// exist (`None`: not a node, or not known; looked up then). A node is the first with its id.
    pub(crate) ends: &'k [(Option<usize>, Option<usize>)],
    /// Every node has an edge in and an edge out, from the input or a node and to an output or a
    /// node, wherever it has none of its own (the manifest loader adds them when no connection
    /// names `input` or an output). An acyclic graph of resolved edges then passes the checks of
    /// connection and reachability, which are skipped: every node reaches back to a node the
    /// input feeds and on to one that feeds an output (~450 instructions of the benchmark's
    /// 10-node manifest, callgrind).
    pub(crate) ends_added: bool,
}

/// What the checks of a graph produce, besides the graph itself.
struct Checked {
    outputs: Vec<Name>,
    edges: Vec<ResolvedEdge>,
    topo: Vec<usize>,
    leaving: Adjacency,
}

/// The vertices edges lead to from a source (node `i`, or the input as `n`).
#[derive(Clone, Copy)]
struct Successors<'a> {
    leaving: &'a Adjacency,
    edges: &'a [ResolvedEdge],
}

impl<'a> Successors<'a> {
    fn of(self, source: usize) -> impl Iterator<Item = Vertex> + 'a {
        let edges = self.edges;
        self.leaving.of(source).iter().map(move |&k| edges[k].to)
    }

    /// Only the nodes among them: only edges between nodes order nodes.
    fn nodes(self, source: usize) -> impl Iterator<Item = usize> + 'a {
        self.of(source).filter_map(|to| match to {
            Vertex::Node(w) => Some(w),
            _ => None,
        })
    }
}

/// The checks, borrowing the graph: ids are looked up as `&str` keys into it, so validating copies
/// no name and touches no reference count.
struct Validator<'g, L, P> {
    graph: &'g Graph<L, P>,
    errors: Vec<GraphError<L>>,
    /// What the front end resolved already, if it says.
    known: Option<KnownIds<'g>>,
    /// Ids to nodes, made when the first id not already known is looked up.
    index: Option<IdIndex<'g>>,
    outputs: Vec<Name>,
    /// The first [`FEW_OUTPUTS`] outputs' names, searched while there are no more: most graphs
    /// have one or two outputs, and a table cost an allocation and a hash per output edge.
    few_outputs: [&'g str; FEW_OUTPUTS],
    /// Each output's position in `outputs`, once there are more: a manifest has an output per
    /// unconnected node, and a search of the list per edge was quadratic.
    output_index: HashMap<&'g str, usize, FastHash>,
    /// Unknown node names that still get a "did you mean" (each compares with every node).
    suggestions_left: usize,
    /// The lists the checks need in turn while they run, one after the other in one allocation
    /// (see [`scratch`](Validator::scratch)).
    scratch: Vec<usize>,
}

/// How many unknown node names get a suggestion: each costs a comparison with every node.
const MAX_SUGGESTIONS: usize = 50;

/// Up to how many links resolving the edges keeps on the stack rather than in the scratch list.
const SMALL_LINKS: usize = 128;

/// Up to how many outputs an output is found by searching their names (see `few_outputs`).
const FEW_OUTPUTS: usize = 8;

impl<'g, L: Clone, P> Validator<'g, L, P> {
    fn new(graph: &'g Graph<L, P>, known: Option<KnownIds<'g>>) -> Self {
        debug_assert!(known
            .is_none_or(|known| known.first.len() == graph.nodes.len()
                && known.ends.len() == graph.edges.len()));
        Validator {
            graph,
            errors: Vec::new(),
            known,
            index: None,
            outputs: Vec::new(),
            few_outputs: [""; FEW_OUTPUTS],
            output_index: HashMap::default(),
            suggestions_left: MAX_SUGGESTIONS,
            scratch: Vec::new(),
        }
    }

    /// `len` copies of `value` in the validator's scratch list, to be put back when done: the
    /// checks' lists of edge links, connected nodes and reachability shared one allocation
    /// rather than one each (~150 instructions each to allocate and free, callgrind).
    fn scratch(&mut self, len: usize, value: usize) -> Vec<usize> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.resize(len, value);
        scratch
    }

    fn fail(&mut self, kind: GraphErrorKind, loc: L) -> &mut GraphError<L> {
        self.errors.push(GraphError::new(kind, loc));
        self.errors.last_mut().expect("just pushed")
    }

    fn run(mut self) -> Result<Checked, Vec<GraphError<L>>> {
        if self.graph.nodes.is_empty() {
            let loc = self.graph.loc.clone();
            self.fail(GraphErrorKind::NoNodes, loc);
            return Err(self.errors);
        }
        self.check_nodes();
        let edges = self.resolve_edges();
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        self.check_port_types(&edges);
        let leaving = self.leaving(&edges);
        let successors = Successors {
            leaving: &leaving,
            edges: &edges,
        };
        // A cycle first: in a graph that is all cycle, it explains the missing input and output.
        let topo = match self.topological_order(successors) {
            Ok(order) => order,
            Err(indegree_left) => {
                let cycle = self.name_cycle(&edges, &indegree_left);
                self.errors.push(cycle);
                return Err(self.errors);
            }
        };
        let proven = self.known.is_some_and(|known| known.ends_added);
        // Debug builds check what the front end promised.
        if !proven || cfg!(debug_assertions) {
            let found = self.errors.len();
            self.check_structure(&edges);
            debug_assert!(
                !proven || self.errors.len() == found,
                "every node is connected"
            );
            if self.errors.is_empty() {
                self.check_reachability(successors, &topo);
                debug_assert!(!proven || self.errors.is_empty(), "every node is reachable");
            }
        }
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        Ok(Checked {
            outputs: self.outputs,
            edges,
            topo,
            leaving,
        })
    }

    /// Every later check walks the edges by source vertex, and so does building a pipeline: one
    /// adjacency of edge indices, each source's in declaration order (placed from the last edge
    /// back), kept in the valid graph.
    fn leaving(&self, edges: &[ResolvedEdge]) -> Adjacency {
        Adjacency::new(
            self.vertex_count(),
            edges
                .iter()
                .enumerate()
                .rev()
                .map(|(k, e)| (self.number(e.from), k)),
        )
    }

    /// Vertices as numbers: nodes `0..n`, then the input, then the outputs.
    fn number(&self, v: Vertex) -> usize {
        let n = self.graph.nodes.len();
        match v {
            Vertex::Node(i) => i,
            Vertex::Input => n,
            Vertex::Output(o) => n + 1 + o,
        }
    }

    fn vertex_count(&self) -> usize {
        self.graph.nodes.len() + 1 + self.outputs.len()
    }

    fn check_nodes(&mut self) {
        let nodes = &self.graph.nodes;
        let repeats = match self.known {
            // Only a repeated id makes a list.
            Some(known) => known
                .first
                .iter()
                .enumerate()
                .filter(|&(i, &first)| i != first)
                .map(|(i, &first)| (i, first))
                .collect(),
            None => {
                let (index, repeats) = IdIndex::new(nodes);
                self.index = Some(index);
                repeats
            }
        };
        #[cfg(debug_assertions)]
        if let Some(known) = self.known {
            // What the front end says is what looking up would find.
            let (index, _) = IdIndex::new(nodes);
            for (i, node) in nodes.iter().enumerate() {
                debug_assert_eq!(index.get(&node.id), Some(known.first[i]), "first of {i}");
            }
            for (edge, &(from, to)) in self.graph.edges.iter().zip(known.ends) {
                for (end, known) in [(&edge.from, from), (&edge.to, to)] {
                    if let (Endpoint::Node(id), Some(i)) = (end, known) {
                        debug_assert_eq!(index.get(id), Some(i), "{id}");
                    }
                }
            }
        }
        let mut repeats = repeats.into_iter().peekable();
        for (i, node) in nodes.iter().enumerate() {
            let id = || node.id.to_string();
            if &*node.id == INPUT || &*node.id == OUTPUT {
                let kind = GraphErrorKind::ReservedName { id: id() };
                self.errors.push(GraphError::new(kind, node.loc.clone()));
            } else if !is_valid_id(&node.id) {
                let kind = GraphErrorKind::InvalidId { id: id() };
                self.errors.push(GraphError::new(kind, node.loc.clone()));
            }
            if node.parallelism == 0 {
                let kind = GraphErrorKind::ZeroParallelism { id: id() };
                self.errors.push(GraphError::new(kind, node.loc.clone()));
            }
            if let Some((_, first)) = repeats.next_if(|&(repeat, _)| repeat == i) {
                let kind = GraphErrorKind::DuplicateNode { id: id() };
                self.errors
                    .push(GraphError::new(kind, node.loc.clone()).with_related(
                        nodes[first].loc.clone(),
                        format!("`{}` is first declared here", node.id),
                    ));
            }
        }
    }

    /// The node named `id`, looked up (an end the front end resolved is not asked here).
    fn resolve_node(&mut self, id: &str, loc: &L) -> Option<Vertex> {
        let nodes = &self.graph.nodes;
        if let Some(i) = self
            .index
            .get_or_insert_with(|| IdIndex::new(nodes).0)
            .get(id)
        {
            return Some(Vertex::Node(i));
        }
        let suggestion = if self.suggestions_left > 0 {
            self.suggestions_left -= 1;
            suggest(id, self.graph.nodes.iter().map(|n| &*n.id))
        } else {
            None
        };
        let help = suggestion.is_none().then(|| {
            format!(
                "declare it first: `{id} = <node expression>;` (or a manifest node with this id)"
            )
        });
        let err = self.fail(
            GraphErrorKind::UnknownNode {
                id: id.to_string(),
                suggestion,
            },
            loc.clone(),
        );
        err.help = help;
        None
    }

    /// The port an edge leaves its resolved source by: `Err` (reported) when it names a port the
    /// source does not have, or names none where the source has several.
    fn resolve_port(&mut self, from: Vertex, edge: &EdgeDecl<L>) -> Result<Option<usize>, ()> {
        let ports: &[OutputPort] = match from {
            Vertex::Node(i) => &self.graph.nodes[i].ports,
            _ => &[],
        };
        let names = || ports.iter().map(|p| p.name.to_string()).collect::<Vec<_>>();
        let kind = match &edge.port {
            None if ports.is_empty() => return Ok(None),
            None => GraphErrorKind::PortRequired {
                id: edge.from.to_string(),
                ports: names(),
            },
            Some(port) => match ports.iter().position(|p| p.name == *port) {
                Some(index) => return Ok(Some(index)),
                None => GraphErrorKind::UnknownPort {
                    from: edge.from.to_string(),
                    port: port.to_string(),
                    ports: names(),
                    suggestion: suggest(port, ports.iter().map(|p| &*p.name)),
                },
            },
        };
        self.fail(kind, edge.from_loc.clone());
        Err(())
    }

    fn output_index(&mut self, name: &'g Name) -> usize {
        if self.output_index.is_empty() {
            let count = self.outputs.len();
            if let Some(o) = self.few_outputs[..count].iter().position(|&k| k == &**name) {
                return o;
            }
            if count < FEW_OUTPUTS {
                self.few_outputs[count] = name;
                self.outputs.push(Name::clone(name));
                return count;
            }
            // A new output past the few: from now on they are found in the table.
            let few = self.few_outputs.iter().enumerate().map(|(o, &k)| (k, o));
            self.output_index.extend(few);
        }
        match self.output_index.entry(&**name) {
            Entry::Occupied(seen) => *seen.get(),
            Entry::Vacant(slot) => {
                slot.insert(self.outputs.len());
                self.outputs.push(Name::clone(name));
                self.outputs.len() - 1
            }
        }
    }

    fn resolve_edges(&mut self) -> Vec<ResolvedEdge> {
        let graph = self.graph;
        let n = graph.nodes.len();
        let mut resolved: Vec<ResolvedEdge> = Vec::with_capacity(graph.edges.len());
        // Repeated edges, found without hashing while a source has few edges: `chain[source]` is
        // the last resolved edge leaving a source (node `i`, or the input as `n`), `chain[n + 1 +
        // k]` the one resolved before edge `k` from the same source; a new edge walks its source's
        // edges. Past `WIDE` edges a source's edges go into a set instead: the input of a manifest
        // with 100,000 unconnected nodes has 100,000 edges, and walking them per edge was quadratic.
        const NONE: usize = usize::MAX;
        const WIDE: usize = 16;
        // One list for both: `chain` first, then each source's `degree`; on the stack for a small
        // graph (the scratch list's allocation and free cost ~220 instructions, callgrind, the
        // benchmark's 10-node manifest, whose valid graph needs no other scratch list).
        let len = n + 1 + graph.edges.len() + n + 1;
        let mut on_stack = [NONE; SMALL_LINKS];
        let mut in_scratch = Vec::new();
        let links: &mut [usize] = if len <= SMALL_LINKS {
            &mut on_stack[..len]
        } else {
            in_scratch = self.scratch(len, NONE);
            &mut in_scratch
        };
        let (chain, degree) = links.split_at_mut(n + 1 + graph.edges.len());
        degree.fill(0);
        let mut wide: HashSet<(usize, Option<usize>, Vertex), FastHash> = HashSet::default();
        for (decl, edge) in graph.edges.iter().enumerate() {
            let (known_from, known_to) = self.known.map_or((None, None), |known| known.ends[decl]);
            let from = match &edge.from {
                Endpoint::Input => Some(Vertex::Input),
                Endpoint::Output(name) => {
                    self.fail(
                        GraphErrorKind::FromOutput {
                            name: name.to_string(),
                        },
                        edge.from_loc.clone(),
                    );
                    None
                }
                // Resolved by the front end: no call (~40 instructions an end, callgrind).
                Endpoint::Node(_) if known_from.is_some() => known_from.map(Vertex::Node),
                Endpoint::Node(id) => self.resolve_node(id, &edge.from_loc),
            };
            let port = match from {
                Some(from) => match self.resolve_port(from, edge) {
                    Ok(port) => port,
                    Err(()) => continue,
                },
                None => None,
            };
            let to = match &edge.to {
                Endpoint::Input => {
                    self.fail(GraphErrorKind::IntoInput, edge.to_loc.clone());
                    None
                }
                Endpoint::Output(name) if edge.kind == EdgeKind::Stage => {
                    self.fail(
                        GraphErrorKind::StageIntoOutput {
                            name: name.to_string(),
                        },
                        edge.loc.clone(),
                    );
                    None
                }
                Endpoint::Output(name) => Some(Vertex::Output(self.output_index(name))),
                Endpoint::Node(_) if known_to.is_some() => known_to.map(Vertex::Node),
                Endpoint::Node(id) => self.resolve_node(id, &edge.to_loc),
            };
            let (Some(from), Some(to)) = (from, to) else {
                continue;
            };
            let source = match from {
                Vertex::Node(i) => i,
                _ => n,
            };
            let repeated = if degree[source] < WIDE {
                let mut earlier = chain[source];
                while earlier != NONE
                    && (resolved[earlier].to, resolved[earlier].port) != (to, port)
                {
                    earlier = chain[n + 1 + earlier];
                }
                earlier != NONE
            } else {
                if degree[source] == WIDE {
                    let mut earlier = chain[source];
                    while earlier != NONE {
                        let e = &resolved[earlier];
                        wide.insert((source, e.port, e.to));
                        earlier = chain[n + 1 + earlier];
                    }
                }
                !wide.insert((source, port, to))
            };
            if repeated {
                self.fail(
                    GraphErrorKind::DuplicateEdge {
                        from: edge.source_text(),
                        to: edge.to.to_string(),
                    },
                    edge.loc.clone(),
                );
                continue;
            }
            degree[source] += 1;
            chain[n + 1 + resolved.len()] = chain[source];
            chain[source] = resolved.len();
            resolved.push(ResolvedEdge {
                from,
                port,
                to,
                kind: edge.kind,
                decl,
            });
        }
        if in_scratch.capacity() > 0 {
            self.scratch = in_scratch;
        }
        resolved
    }

    /// Every node-to-node edge must join compatible port types.
    fn check_port_types(&mut self, edges: &[ResolvedEdge]) {
        for e in edges {
            let (Vertex::Node(a), Vertex::Node(b)) = (e.from, e.to) else {
                continue;
            };
            let (from, to) = (&self.graph.nodes[a], &self.graph.nodes[b]);
            let emits = e.port.map_or(from.emits, |p| from.ports[p].emits);
            if !to.accepts.accepts(emits) {
                let source = self.graph.edges[e.decl].source_text();
                let kind = GraphErrorKind::PortTypes {
                    from: source.clone(),
                    produced: emits.to_string(),
                    to: to.id.to_string(),
                    accepted: to.accepts.to_string(),
                };
                let help = format!(
                    "put a node between them that turns {emits} into {}, or connect `{source}` elsewhere",
                    to.accepts
                );
                let loc = self.graph.edges[e.decl].loc.clone();
                self.fail(kind, loc).help = Some(help);
            }
        }
    }

    fn check_structure(&mut self, edges: &[ResolvedEdge]) {
        let mut connected = self.scratch(self.graph.nodes.len(), 0);
        for e in edges {
            for v in [e.from, e.to] {
                if let Vertex::Node(i) = v {
                    connected[i] = 1;
                }
            }
        }
        for (i, &is_connected) in connected.iter().enumerate() {
            if is_connected == 0 {
                let node = &self.graph.nodes[i];
                let (id, loc) = (node.id.clone(), node.loc.clone());
                self.fail(GraphErrorKind::Unconnected { id: id.to_string() }, loc)
                    .help = Some(format!(
                    "connect it, e.g. `input -> {id} -> output`, or remove it"
                ));
            }
        }
        self.scratch = connected;
        if !edges.iter().any(|e| e.from == Vertex::Input) {
            let (loc, help) = self.missing_end(edges, true);
            self.fail(GraphErrorKind::MissingInput, loc).help = help;
        }
        if !edges.iter().any(|e| matches!(e.to, Vertex::Output(_))) {
            let (loc, help) = self.missing_end(edges, false);
            self.fail(GraphErrorKind::MissingOutput, loc).help = help;
        }
    }

    /// Where a missing `input` (`head`) or output (`!head`) belongs: at the first node nothing feeds,
    /// or the last node that feeds nothing, so the error underlines the place to add the edge rather
    /// than the whole graph. Falls back to the first/last edge, then to the graph.
    fn missing_end(&self, edges: &[ResolvedEdge], head: bool) -> (L, Option<String>) {
        // Which nodes some edge enters (`head`) or leaves: one pass, not a search per edge.
        let mut linked = filled(false, self.graph.nodes.len());
        for e in edges {
            if let Vertex::Node(i) = if head { e.to } else { e.from } {
                linked[i] = true;
            }
        }
        let open = |v: Vertex| match v {
            Vertex::Node(i) => !linked[i],
            _ => false,
        };
        let pick = |e: &ResolvedEdge| {
            let decl = &self.graph.edges[e.decl];
            let (v, loc) = if head {
                (e.from, &decl.from_loc)
            } else {
                (e.to, &decl.to_loc)
            };
            (v, loc.clone())
        };
        let found = if head {
            edges.iter().map(pick).find(|(v, _)| open(*v))
        } else {
            edges.iter().rev().map(pick).find(|(v, _)| open(*v))
        };
        let fallback = if head { edges.first() } else { edges.last() };
        match (found, fallback) {
            (Some((Vertex::Node(i), loc)), _) => {
                let id = &self.graph.nodes[i].id;
                let help = if head {
                    format!("feed it the pipeline's items: `input -> {id}`")
                } else {
                    format!("collect its items: `{id} -> output`")
                };
                (loc, Some(help))
            }
            (_, Some(e)) => (pick(e).1, None),
            (_, None) => (self.graph.loc.clone(), None),
        }
    }

    /// Kahn's algorithm, smallest declaration index first; on a cycle, the in-degrees left (nodes on
    /// or behind a cycle keep a positive one). Only node-to-node edges order nodes.
    fn topological_order(&self, successors: Successors) -> Result<Vec<usize>, Vec<usize>> {
        let n = self.graph.nodes.len();
        // Edges between nodes that all go forward in declaration order (as written, most do)
        // leave the declaration order as it is: Kahn's algorithm would find each node ready in
        // turn, through an in-degree table and a heap.
        if (0..n).all(|v| successors.nodes(v).all(|w| w > v)) {
            return Ok((0..n).collect());
        }
        self.kahn_order(successors)
    }

    /// Kahn's algorithm (see [`topological_order`](Self::topological_order)).
    fn kahn_order(&self, successors: Successors) -> Result<Vec<usize>, Vec<usize>> {
        let n = self.graph.nodes.len();
        let mut indegree = filled(0usize, n);
        for v in 0..n {
            for w in successors.nodes(v) {
                indegree[w] += 1;
            }
        }
        // Lowest index first among the ready nodes: the order is the declaration order wherever
        // the edges allow it.
        let mut ready: BinaryHeap<Reverse<usize>> =
            (0..n).filter(|&i| indegree[i] == 0).map(Reverse).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(Reverse(i)) = ready.pop() {
            order.push(i);
            for j in successors.nodes(i) {
                indegree[j] -= 1;
                if indegree[j] == 0 {
                    ready.push(Reverse(j));
                }
            }
        }
        if order.len() == n {
            Ok(order)
        } else {
            Err(indegree)
        }
    }

    /// Walks back along remaining edges from a node left on a cycle until a node repeats.
    fn name_cycle(&self, edges: &[ResolvedEdge], indegree: &[usize]) -> GraphError<L> {
        let start = indegree
            .iter()
            .position(|&d| d > 0)
            .expect("a node is left on the cycle");
        // For each node left, its first predecessor also left: found in one pass over the edges
        // (a search per step was quadratic on a long cycle).
        const NONE: usize = usize::MAX;
        let mut predecessor = filled(NONE, indegree.len());
        for e in edges {
            if let (Vertex::Node(a), Vertex::Node(b)) = (e.from, e.to) {
                if indegree[a] > 0 && predecessor[b] == NONE {
                    predecessor[b] = a;
                }
            }
        }
        let mut path = vec![start];
        let mut on_path = HashMap::from([(start, 0usize)]);
        let mut current = start;
        loop {
            let pred = predecessor[current];
            assert_ne!(
                pred, NONE,
                "every node left by Kahn's algorithm has a predecessor left"
            );
            if let Some(&pos) = on_path.get(&pred) {
                let mut cycle: Vec<usize> = path[pos..].to_vec();
                cycle.reverse();
                // Start at the first-declared node on it: the edge closing the cycle is then usually
                // the back edge the user added last, which is where the error points.
                let first_declared = (0..cycle.len())
                    .min_by_key(|&p| cycle[p])
                    .expect("non-empty");
                cycle.rotate_left(first_declared);
                // `cycle` runs forward: pred ... current; close it.
                let first = cycle[0];
                cycle.push(first);
                let closing = edges
                    .iter()
                    .find(|e| {
                        e.from == Vertex::Node(cycle[cycle.len() - 2])
                            && e.to == Vertex::Node(first)
                    })
                    .expect("closing edge exists");
                let names = cycle
                    .iter()
                    .map(|&i| self.graph.nodes[i].id.to_string())
                    .collect();
                return GraphError::new(
                    GraphErrorKind::Cycle { path: names },
                    self.graph.edges[closing.decl].loc.clone(),
                )
                .with_help("pipelines are acyclic: remove one edge of the cycle");
            }
            on_path.insert(pred, path.len());
            path.push(pred);
            current = pred;
        }
    }

    /// Every node must be fed from the input and lead to an output. Edges between nodes go forward
    /// in topological order, so one pass forward finds what the input reaches, one pass back what
    /// reaches an output.
    fn check_reachability(&mut self, successors: Successors, topo: &[usize]) {
        let n = self.graph.nodes.len();
        // Per node, two flags: fed from the input, leads to an output.
        const FED: usize = 1;
        const LEADS: usize = 2;
        let mut reach = self.scratch(n, 0);
        for w in successors.nodes(n) {
            reach[w] |= FED; // an `input -> output` edge feeds no node
        }
        for &v in topo {
            if reach[v] & FED != 0 {
                for w in successors.nodes(v) {
                    reach[w] |= FED;
                }
            }
        }
        for &v in topo.iter().rev() {
            let leads = successors.of(v).any(|to| match to {
                Vertex::Output(_) => true,
                Vertex::Node(w) => reach[w] & LEADS != 0,
                Vertex::Input => false,
            });
            if leads {
                reach[v] |= LEADS;
            }
        }
        for (i, &flags) in reach.iter().enumerate() {
            let (from_input, to_output) = (flags & FED != 0, flags & LEADS != 0);
            if from_input && to_output {
                continue;
            }
            let node = &self.graph.nodes[i];
            let (id, loc) = (node.id.clone(), node.loc.clone());
            if !from_input {
                self.fail(GraphErrorKind::Unreachable { id: id.to_string() }, loc)
                    .help = Some(format!("connect `input` (or a node fed by it) to `{id}`"));
            } else if !to_output {
                self.fail(GraphErrorKind::DeadEnd { id: id.to_string() }, loc)
                    .help = Some(format!(
                    "connect `{id}` to an output, e.g. `{id} -> output`"
                ));
            }
        }
        self.scratch = reach;
    }
}

impl<L, P> ValidGraph<L, P> {
    /// The node's id.
    pub fn id(&self, node: usize) -> &str {
        &self.graph.nodes[node].id
    }

    /// The node's payload: what its front end builds it from.
    ///
    /// ```
    /// use pipeline_core::graph::{EdgeKind, Endpoint, Graph};
    /// let mut graph = Graph::carrying(());
    /// graph.add_node_with("add", "Calculator", (), "Calculator::add(1)");
    /// graph.add_edge(Endpoint::Input, Endpoint::node("add"), EdgeKind::Fused, ());
    /// graph.add_edge(Endpoint::node("add"), Endpoint::output("output"), EdgeKind::Fused, ());
    /// assert_eq!(*graph.validate().unwrap().payload(0), "Calculator::add(1)");
    /// ```
    pub fn payload(&self, node: usize) -> &P {
        &self.graph.nodes[node].payload
    }

    /// The name of a vertex: `input`, an output's name, or a node id.
    pub fn vertex_name(&self, v: Vertex) -> &str {
        match v {
            Vertex::Input => INPUT,
            Vertex::Output(i) => &self.outputs[i],
            Vertex::Node(i) => self.id(i),
        }
    }

    /// The name of a vertex, shared rather than copied (`input` is one name for every graph).
    pub fn vertex_name_shared(&self, v: Vertex) -> Name {
        match v {
            Vertex::Input => input_name(),
            Vertex::Output(i) => Name::clone(&self.outputs[i]),
            Vertex::Node(i) => Name::clone(&self.graph.nodes[i].id),
        }
    }

    /// The edges leaving `v`, in declaration order.
    pub fn out_edges(&self, v: Vertex) -> impl Iterator<Item = &ResolvedEdge> + '_ {
        self.edges.iter().filter(move |e| e.from == v)
    }

    /// The edges entering `v`, in declaration order.
    pub fn in_edges(&self, v: Vertex) -> impl Iterator<Item = &ResolvedEdge> + '_ {
        self.edges.iter().filter(move |e| e.to == v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::model::Endpoint as E;

    /// A graph from `a->b` / `a=>b` pairs; names `input`/`output` are the endpoints. Each element's
    /// location is its own text, so tests can check where an error points.
    fn graph(nodes: &[&str], edges: &[&str]) -> Graph<String> {
        let mut g = Graph::new("graph".to_string());
        for n in nodes {
            g.add_node(*n, "T", format!("decl {n}"));
        }
        for e in edges {
            let (kind, arrow) = if e.contains("=>") {
                (EdgeKind::Stage, "=>")
            } else {
                (EdgeKind::Fused, "->")
            };
            let (a, b) = e.split_once(arrow).unwrap();
            let end = |s: &str| match s {
                "input" => E::Input,
                s if s.starts_with("output") => E::output(s.trim_start_matches("output.")),
                s => E::node(s),
            };
            // `a.port` leaves node `a` by `port` (and `input.x` names a port of the input).
            let (source, port) = match a.split_once('.') {
                Some((node, port)) if !a.starts_with("output") => (node, Some(port.into())),
                _ => (a, None),
            };
            g.edges.push(crate::graph::EdgeDecl {
                from: end(source),
                port,
                to: end(b),
                kind,
                from_loc: format!("from {a}"),
                to_loc: format!("to {b}"),
                loc: format!("edge {e}"),
            });
        }
        g
    }

    fn errors(nodes: &[&str], edges: &[&str]) -> Vec<(String, String)> {
        graph(nodes, edges)
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| (e.to_string(), e.loc))
            .collect()
    }

    #[test]
    fn a_chain_validates_in_order() {
        let v = graph(&["c", "a", "b"], &["input->a", "a->b", "b->c", "c->output"])
            .validate()
            .unwrap();
        assert_eq!(v.topo, vec![1, 2, 0]);
        assert_eq!(v.outputs, [Name::from("output")]);
    }

    #[test]
    fn unknown_node_points_at_the_name_and_suggests() {
        let errs = errors(&["add"], &["input->add", "add->ad", "add->output"]);
        assert_eq!(
            errs,
            vec![(
                "unknown node `ad` (did you mean `add`?)".to_string(),
                "to ad".to_string()
            )]
        );
    }

    #[test]
    fn ids_hold_ascii_letters_digits_underscores_and_dashes_only() {
        for b in 0..=255u8 {
            let id = [b'a', b];
            let expected = b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
            let text = String::from_utf8_lossy(&id);
            assert_eq!(is_valid_id(&text), expected, "byte {b}");
        }
        assert!(is_valid_id("Z-9_a") && !is_valid_id("é") && !is_valid_id(""));
    }

    #[test]
    fn duplicates_and_reserved_names() {
        let g = graph(&["a", "a", "input"], &["input->a", "a->output"]);
        let errs = g.validate().unwrap_err();
        // In the order of the declarations: the second `a`, then `input`.
        assert_eq!(errs[0].to_string(), "node `a` is declared twice");
        assert_eq!(errs[0].related[0].0, "decl a");
        assert_eq!(
            errs[1].to_string(),
            "`input` is reserved for the pipeline's endpoint and cannot name a node"
        );
    }

    #[test]
    fn cycles_are_named_at_the_closing_edge() {
        let errs = errors(
            &["a", "b", "c"],
            &["input->a", "a->b", "b->c", "c->a", "c->output"],
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].0, "cycle: `a` -> `b` -> `c` -> `a`");
        assert_eq!(errs[0].1, "edge c->a");
    }

    #[test]
    fn self_loop_is_a_cycle() {
        let errs = errors(&["a"], &["input->a", "a->a", "a->output"]);
        assert_eq!(errs[0].0, "cycle: `a` -> `a`");
    }

    #[test]
    fn unconnected_unreachable_and_dead_ends() {
        let errs = errors(
            &["a", "b", "c", "d"],
            &["input->a", "a->output", "c->a", "a->d"],
        );
        assert_eq!(
            errs,
            vec![(
                "node `b` is declared but not connected".to_string(),
                "decl b".to_string()
            )]
        );
        let errs = errors(&["a", "c", "d"], &["input->a", "a->output", "c->a", "a->d"]);
        assert_eq!(errs[0].0, "node `c` is not reachable from `input`");
        assert_eq!(
            errs[1].0,
            "node `d` does not lead to any output; its items would be lost"
        );
    }

    #[test]
    fn input_straight_to_output_feeds_no_node() {
        // The manifest fuzzer's case: the input's only edge goes to an output.
        let errs = errors(&["a", "b"], &["input->output", "a->b", "b->output"]);
        assert_eq!(errs[0].0, "node `a` is not reachable from `input`");
        assert_eq!(errs[1].0, "node `b` is not reachable from `input`");
        assert!(graph(&["a"], &["input->output", "input->a", "a->output"])
            .validate()
            .is_ok());
    }

    #[test]
    fn endpoints_are_required_and_directed() {
        let errs = errors(&["a", "b"], &["a->b"]);
        let msgs: Vec<_> = errs.iter().map(|e| e.0.as_str()).collect();
        assert!(msgs.contains(&"no edge leaves `input`: connect `input -> <node>`"));
        assert!(msgs.contains(&"no edge reaches an output: connect `<node> -> output`"));
        // Each points where the missing edge belongs, not at the whole graph.
        let g = graph(&["a", "b", "c"], &["a->b", "b->c"])
            .validate()
            .unwrap_err();
        assert_eq!(g[0].loc, "from a");
        assert_eq!(
            g[0].help.as_deref(),
            Some("feed it the pipeline's items: `input -> a`")
        );
        assert_eq!(g[1].loc, "to c");
        assert_eq!(
            g[1].help.as_deref(),
            Some("collect its items: `c -> output`")
        );
        let errs = errors(&["a", "b"], &["input->a", "a->b"]);
        assert_eq!(
            errs,
            vec![(
                "no edge reaches an output: connect `<node> -> output`".to_string(),
                "to b".to_string()
            )]
        );
        let errs = errors(&["a"], &["input->a", "a->input", "a->output", "output->a"]);
        assert_eq!(
            errs[0].0,
            "`input` is where items enter; no edge can point into it"
        );
        assert_eq!(errs[1].0, "`output` is an output; no edge can leave it");
        let errs = errors(&["a"], &["input->a", "a=>output"]);
        assert!(errs[0].0.starts_with("`=>` into output `output`"));
    }

    #[test]
    fn incompatible_ports_fail_at_the_edge() {
        let mut g = graph(
            &["batch", "sum"],
            &["input->batch", "batch->sum", "sum->output"],
        );
        g.nodes[0].emits = crate::graph::PortType::List;
        g.nodes[1].accepts = crate::graph::PortType::Int;
        let errs = g.validate().unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(
            errs[0].to_string(),
            "`batch` emits list but `sum` accepts int"
        );
        assert_eq!(errs[0].loc, "edge batch->sum");
    }

    /// `route` with ports `even` (int) and `odd` (string), fed by the input.
    fn routed(edges: &[&str]) -> Result<ValidGraph<String>, Vec<GraphError<String>>> {
        let mut all = vec!["input->route"];
        all.extend_from_slice(edges);
        let uses_b = edges.iter().any(|e| e.contains('b'));
        let nodes: &[&str] = if uses_b {
            &["route", "a", "b"]
        } else {
            &["route", "a"]
        };
        let mut g = graph(nodes, &all);
        g.nodes[0].ports = vec![
            OutputPort::new("even", crate::graph::PortType::Int),
            OutputPort::new("odd", crate::graph::PortType::Str),
        ];
        g.validate()
    }

    fn routed_errors(edges: &[&str]) -> Vec<(String, String)> {
        let errs = routed(edges).unwrap_err();
        errs.into_iter().map(|e| (e.to_string(), e.loc)).collect()
    }

    #[test]
    fn edges_leave_named_ports_and_unconnected_ports_are_allowed() {
        let valid = routed(&["route.even->a", "route.odd->b", "a->output", "b->output"]).unwrap();
        let ports: Vec<_> = valid.edges.iter().map(|e| e.port).collect();
        assert_eq!(ports, [None, Some(0), Some(1), None, None]);
        let valid = routed(&["route.odd->a", "a->output"]).unwrap();
        assert_eq!(valid.edges[1].port, Some(1));
        // Two ports into one target are two edges; the same port twice is a duplicate.
        assert!(routed(&["route.even->a", "route.odd->a", "a->output"]).is_ok());
        let errs = routed_errors(&["route.even->a", "route.even->a", "a->output"]);
        assert_eq!(
            errs[0].0,
            "edge `route.even` to `a` is declared twice (every item would be sent twice)"
        );
    }

    #[test]
    fn unknown_and_missing_ports_are_named_at_the_source() {
        let errs = routed_errors(&["route.evn->a", "a->output"]);
        assert_eq!(
            errs[0],
            (
                "`route` has no output port `evn` (did you mean `route.even`?)".into(),
                "from route.evn".into()
            )
        );
        let errs = routed_errors(&["route.left->a", "a->output"]);
        assert_eq!(
            errs[0].0,
            "`route` has no output port `left`; its ports are `even` and `odd`"
        );
        let errs = routed_errors(&["route->a", "a->output"]);
        assert_eq!(errs[0].0, "`route` has several outputs (`even` and `odd`): name the one this edge leaves by, e.g. `route.even`");
        let errs = routed_errors(&["route.even->a", "a.x->output"]);
        assert_eq!(
            errs[0].0,
            "`a` has no output port `x`: it has one output, connect `a -> ...`"
        );
        let errs = routed_errors(&["input.x->a", "route.even->output", "a->output"]);
        assert_eq!(
            errs[0].0,
            "`input` has no output port `x`: it has one output, connect `input -> ...`"
        );
    }

    #[test]
    fn each_port_is_type_checked_against_its_target() {
        let mut g = graph(
            &["route", "a"],
            &["input->route", "route.even->a", "route.odd->a", "a->output"],
        );
        g.nodes[0].ports = vec![
            OutputPort::new("even", crate::graph::PortType::Int),
            OutputPort::new("odd", crate::graph::PortType::Str),
        ];
        g.nodes[1].accepts = crate::graph::PortType::Number;
        let errs = g.validate().unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(
            errs[0].to_string(),
            "`route.odd` emits string but `a` accepts number"
        );
        assert_eq!(errs[0].loc, "edge route.odd->a");
    }

    #[test]
    fn duplicate_edges_are_rejected() {
        let errs = errors(&["a"], &["input->a", "a->output", "a->output"]);
        assert_eq!(
            errs[0].0,
            "edge `a` to `output` is declared twice (every item would be sent twice)"
        );
    }

    #[test]
    fn duplicate_edges_are_found_from_sources_with_many_edges() {
        // Past 16 edges a source's edges are kept in a set: the repeat is found either way.
        let ids: Vec<String> = (0..40).map(|i| format!("n{i}")).collect();
        let nodes: Vec<&str> = ids.iter().map(String::as_str).collect();
        let mut edges: Vec<String> = ids.iter().map(|id| format!("input->{id}")).collect();
        edges.extend(ids.iter().map(|id| format!("{id}->output")));
        for repeat in ["input->n3", "input->n39"] {
            let mut with_repeat = edges.clone();
            with_repeat.push(repeat.to_string());
            let edges: Vec<&str> = with_repeat.iter().map(String::as_str).collect();
            let errs = errors(&nodes, &edges);
            assert_eq!(errs.len(), 1, "{errs:?}");
            assert_eq!(errs[0].1, format!("edge {repeat}"));
        }
        let edges: Vec<&str> = edges.iter().map(String::as_str).collect();
        assert!(graph(&nodes, &edges).validate().is_ok());
    }

    #[test]
    fn named_outputs_are_collected_in_order() {
        let v = graph(
            &["a", "b"],
            &["input->a", "input->b", "b->output.odd", "a->output.even"],
        )
        .validate()
        .unwrap();
        assert_eq!(v.outputs, [Name::from("odd"), Name::from("even")]);
    }

    proptest::proptest! {
        /// Graphs whose node-to-node edges all go forward in declaration order: the order taken
        /// as it is, is the one Kahn's algorithm finds.
        #[test]
        fn forward_edges_keep_the_order_kahns_algorithm_finds(
            pairs in proptest::collection::vec((0usize..12, 0usize..12), 0..30),
        ) {
            let n = 12;
            let mut g = Graph::new(());
            for i in 0..n {
                g.add_node(format!("n{i}"), "T", ());
            }
            let node = |i: usize| Endpoint::node(format!("n{i}"));
            for i in 0..n {
                g.add_edge(Endpoint::Input, node(i), EdgeKind::Fused, ());
            }
            let mut seen = std::collections::HashSet::new();
            for (a, b) in pairs {
                if a < b && seen.insert((a, b)) {
                    g.add_edge(node(a), node(b), EdgeKind::Fused, ());
                }
            }
            let mut validator = Validator::new(&g, None);
            validator.check_nodes();
            let edges = validator.resolve_edges();
            proptest::prop_assert!(validator.errors.is_empty());
            let leaving = validator.leaving(&edges);
            let successors = Successors { leaving: &leaving, edges: &edges };
            let kahn = validator.kahn_order(successors);
            proptest::prop_assert_eq!(kahn, Ok((0..n).collect::<Vec<_>>()));
            proptest::prop_assert_eq!(
                validator.topological_order(successors),
                Ok((0..n).collect::<Vec<_>>())
            );
        }
    }
}
