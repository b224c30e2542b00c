//! A parsed manifest → the shared graph model (`Graph<Location>`), checked by the same validator and
//! planner as `pipeline!`, with every node resolved by a [`NodeCatalog`]: the run-time registry, or
//! the macro's table of Rust types when a manifest is compiled.
//!
//! Seed manifests have no explicit input or output. Nodes with no incoming connection are fed the
//! pipeline input (`input -> node`); nodes with no outgoing connection are outputs named by their
//! id (`node -> output.<id>`; a node with output ports gets one per port, `node.even ->
//! output.<id>.even`). A connection `"from": "node.port"` leaves the node by that port. A manifest may instead write them: a connection from `input`
//! turns off the automatic input edges, one to `output` / `output.<name>` the automatic outputs.
//! A node with `"stage": true` has `=>` edges into it: it starts a stage on its own thread.

use super::catalog::{NodeCatalog, ParamError, ResolvedNode};
use super::error::{ManifestError, Problem, ProblemKind};
#[cfg(feature = "manifest")]
use super::model::NodeSpec;
use super::node_ids::NodeIds;
use super::parse::ParsedManifest;
use super::place::JsonPlace;
#[cfg(feature = "manifest")]
use crate::dynamic::ParallelDyn;
#[cfg(feature = "manifest")]
use crate::dynamic::{DynNode, Registry};
use crate::graph::filled::filled;
#[cfg(feature = "manifest")]
use crate::graph::tuning::{MAX_BATCH_SIZE, MAX_PARALLELISM};
use crate::graph::validate::KnownIds;
use crate::graph::{
    validate::suggest, EdgeDecl, EdgeKind, Endpoint, Graph, GraphLimits, Name, NodeDecl, Plan,
    ValidGraph, INPUT, OUTPUT,
};
use crate::python_params::PYTHON_NODE_TYPE;

/// A manifest turned into a valid, planned graph with its nodes built by the registry.
#[cfg(feature = "manifest")]
pub type LoweredManifest = LoweredGraph<Box<dyn DynNode>>;

/// A manifest turned into a valid, planned graph with its nodes resolved (`N`: what the catalog
/// makes of a node), each carried by the graph as its node's payload.
pub struct LoweredGraph<N> {
    /// The manifest and its source.
    pub parsed: ParsedManifest,
    /// The validated graph; node `i` is manifest node `i`, its payload what the catalog built.
    pub graph: ValidGraph<JsonPlace, N>,
    /// Stages.
    pub plan: Plan,
}

impl<N> LoweredGraph<N> {
    /// Warnings found on the way (unknown fields, notes).
    pub fn warnings(&self) -> &[Problem] {
        &self.parsed.warnings
    }
}

/// A connection's end, naming what the connection names (only `output.<name>` makes a new name).
fn endpoint(name: &Name) -> Endpoint {
    // Most ends are nodes whose ids start otherwise than `input` and `output` do: one byte
    // tells them apart, without comparing the names (callgrind: ~95 instructions an end).
    if !matches!(name.as_bytes().first(), Some(b'i' | b'o')) {
        return Endpoint::Node(Name::clone(name));
    }
    match &**name {
        INPUT => Endpoint::Input,
        OUTPUT => Endpoint::Output(Name::clone(name)),
        _ => match name.strip_prefix("output.") {
            Some(output) => Endpoint::output(output),
            None => Endpoint::Node(Name::clone(name)),
        },
    }
}

/// A connection's source: `route.even` leaves node `route` by its port `even` (node ids cannot
/// hold a `.`, so the first one splits); anything else is an [`endpoint`] with no port.
///
/// Nearly every end is an inline id without a `.` that starts otherwise than `input` and `output`
/// do: a node, told in a few instructions on the name's two words and made in registers (the
/// call it replaces handed its result back through memory, where loading it stalled: `perf
/// annotate` put ~9% of declaring a graph there).
#[inline]
fn source(name: &Name) -> (Endpoint, Option<Name>) {
    if name.inline_without(b'.') && !matches!(name.as_bytes().first(), Some(b'i' | b'o')) {
        return (Endpoint::Node(Name::clone(name)), None);
    }
    source_in_full(name)
}

/// [`source`] of any name. The first `.` is found by a plain byte loop: names are a few bytes
/// long, and `split_once`'s searcher cost ~80 instructions a call (callgrind).
#[inline(never)]
fn source_in_full(name: &Name) -> (Endpoint, Option<Name>) {
    match name.bytes().position(|b| b == b'.') {
        // `output.<name>` is an output, not a port of a node `output`.
        Some(dot) if &name[..dot] != OUTPUT => {
            // `input.x` is the input's (missing) port: the validator says it has one output.
            let (node, port) = (&name[..dot], &name[dot + 1..]);
            (endpoint(&Name::from(node)), Some(Name::from(port)))
        }
        _ => (endpoint(name), None),
    }
}

/// What lowering notes of a node while adding the automatic input and output edges.
#[derive(Clone, Copy, Default)]
struct NodeEnds {
    /// A connection leaves it.
    source: bool,
    /// A connection enters it.
    target: bool,
}

/// `a.b[0]` (a serde path inside params) → `/a/b/0`.
fn param_pointer(path: &str) -> String {
    path.split(['.', '['])
        .filter(|s| !s.is_empty())
        .map(|s| format!("/{}", s.trim_end_matches(']')))
        .collect()
}

/// For `"parallelism": n`, `node` as the first of `n` replicas in a [`ParallelDyn`], the others
/// built by `registry` from its type and params (as `node` was, so they build again); `node`
/// itself for a sequential node. Degrees above the limit are left to the shared validation to
/// reject, without building replicas for them.
#[cfg(feature = "manifest")]
fn parallel(spec: &NodeSpec, registry: &Registry, node: Box<dyn DynNode>) -> Box<dyn DynNode> {
    if !replicated(spec.parallelism) {
        return node;
    }
    let Some(node_type) = registry.get(&spec.node_type) else {
        return node;
    };
    let params = serde_json::Value::Object(spec.params.map().clone());
    let mut replicas = Vec::with_capacity(spec.parallelism);
    replicas.push(node);
    // A failure cannot happen for deterministic factories; it would run with fewer replicas.
    replicas.extend((1..spec.parallelism).map_while(|_| node_type.build(&params).ok()));
    let batch_size = spec
        .batch_size
        .map_or(crate::runtime::DEFAULT_BATCH_SIZE, |n| {
            n.min(MAX_BATCH_SIZE)
        });
    Box::new(ParallelDyn::new(replicas, batch_size, spec.ordered))
}

/// Whether a node of this `parallelism` runs as replicas (degrees above the limit are refused
/// by the shared validation).
#[cfg(feature = "manifest")]
fn replicated(parallelism: usize) -> bool {
    parallelism > 1 && parallelism <= MAX_PARALLELISM
}

/// Lowers, validates and plans `parsed`, building each node with `registry`.
#[cfg(feature = "manifest")]
#[inline]
pub fn lower(
    parsed: ParsedManifest,
    registry: &Registry,
) -> Result<LoweredManifest, ManifestError> {
    lower_limited(parsed, registry, &GraphLimits::default())
}

/// [`lower`], holding the graph to `limits` rather than the default ones.
///
/// ```
/// use pipeline_core::{dynamic::Registry, graph::GraphLimits, manifest};
/// let text = r#"{"version": "v1", "metadata": {"name": "m"},
///   "nodes": [{"id": "a", "node_type": "PassThrough"}, {"id": "b", "node_type": "PassThrough"}],
///   "connections": [{"from": "a", "to": "b"}]}"#;
/// let parsed = manifest::parse("m.json", text).unwrap();
/// let limits = GraphLimits { max_fused_chain: 1, ..GraphLimits::default() };
/// let err = manifest::lower_limited(parsed, &Registry::with_builtins(), &limits).err().unwrap();
/// assert!(err.to_string().starts_with("m.json:2:54 (/nodes/1): error: a chain of 2 fused nodes ends at `b`"), "{err}");
/// ```
#[cfg(feature = "manifest")]
pub fn lower_limited(
    parsed: ParsedManifest,
    registry: &Registry,
    limits: &GraphLimits,
) -> Result<LoweredManifest, ManifestError> {
    let mut lowered = lower_with_limits(parsed, registry, limits)?;
    // A node its entry asks to run otherwise is rebuilt (isolated: a `python` node, which is never
    // replicated) or becomes the first of its replicas; the others stay as built.
    let specs = &lowered.parsed.manifest.nodes;
    #[cfg(feature = "python")]
    let isolation = crate::python::isolate::installed();
    // Most manifests have neither: the graph is then not rebuilt (moving every node declaration
    // cost ~330 instructions a node, callgrind, the benchmark's 10-node manifest).
    #[cfg(feature = "python")]
    let isolates = isolation.is_some() && specs.iter().any(|s| &*s.node_type == PYTHON_NODE_TYPE);
    #[cfg(not(feature = "python"))]
    let isolates = false;
    if !isolates && !specs.iter().any(|s| replicated(s.parallelism)) {
        return Ok(lowered);
    }
    let graph = lowered.graph;
    lowered.graph = graph.map_payloads(|i, node| {
        let spec = &specs[i];
        #[cfg(feature = "python")]
        if let Some(isolated) = isolated(spec, isolation.as_ref()) {
            return isolated;
        }
        parallel(spec, registry, node)
    });
    Ok(lowered)
}

/// A `python` node rebuilt to run in an isolated worker, when isolation is installed and the node
/// does not ask for `"isolation": "in_process"`; `None` for any other node.
#[cfg(feature = "python")]
fn isolated(
    spec: &NodeSpec,
    config: Option<&std::sync::Arc<crate::python::isolate::IsolationConfig>>,
) -> Option<Box<dyn DynNode>> {
    use super::model::Isolation;
    use crate::python_params::PythonParams;
    let config = config?;
    if &*spec.node_type != PYTHON_NODE_TYPE || spec.isolation == Some(Isolation::InProcess) {
        return None;
    }
    let params = serde_json::Value::Object(spec.params.map().clone());
    // The registry built this node from the same params, so they pass again.
    let python = super::deserialize_params::<PythonParams>(&params)
        .and_then(PythonParams::check)
        .ok()?;
    let limits = config.limits.with(&spec.limits.unwrap_or_default());
    Some(Box::new(crate::python::isolate::IsolatedPython::new(
        python,
        limits,
        std::sync::Arc::clone(config),
    )))
}

/// Lowers, validates and plans `parsed`, resolving each node with `catalog`: the one lowering every
/// manifest goes through, run-time loader and compiled manifests alike.
pub fn lower_with<C: NodeCatalog>(
    parsed: ParsedManifest,
    catalog: &C,
) -> Result<LoweredGraph<C::Node>, ManifestError> {
    lower_with_limits(parsed, catalog, &GraphLimits::default())
}

/// [`lower_with`], holding the graph to `limits`.
#[inline]
pub fn lower_with_limits<C: NodeCatalog>(
    mut parsed: ParsedManifest,
    catalog: &C,
    limits: &GraphLimits,
) -> Result<LoweredGraph<C::Node>, ManifestError> {
    let resolutions = catalog.resolve_nodes(&mut parsed.manifest.nodes);
    let mut problems = Vec::new();
    if resolutions.iter().all(|r| matches!(r, Some(Ok(_)))) {
        // Every node resolved: each becomes its node's payload as the graph is declared.
        let nodes = resolutions
            .into_iter()
            .filter_map(|r| r.and_then(Result::ok))
            .map(|resolved| {
                let (shape, node) = resolved.split();
                (Some(Ok(shape)), node)
            });
        let (graph, ids) = declare(&parsed, catalog, limits, nodes, &mut problems);
        if let Some((graph, plan)) = check(graph, &ids, &parsed, limits, &mut problems) {
            return Ok(LoweredGraph {
                parsed,
                graph,
                plan,
            });
        }
    } else {
        // Some did not: their problems, and the graph's, are reported over a graph without
        // payloads (the nodes that did resolve are dropped).
        let nodes = resolutions
            .into_iter()
            .map(|r| (r.map(|r| r.map(|resolved| resolved.split().0)), ()));
        let (graph, ids) = declare(&parsed, catalog, limits, nodes, &mut problems);
        check(graph, &ids, &parsed, limits, &mut problems);
    }
    problems.sort_by_key(|p| p.location.offset);
    Err(parsed.error(problems))
}

/// What lowering reads of a resolved node: its ports and types, without the node.
type Shape = ResolvedNode<()>;

impl<N> ResolvedNode<N> {
    /// Its ports and types, and the node: moved apart, not copied.
    fn split(self) -> (Shape, N) {
        let ResolvedNode {
            node,
            accepts,
            emits,
            ports,
        } = self;
        let shape = ResolvedNode {
            node: (),
            accepts,
            emits,
            ports,
        };
        (shape, node)
    }
}

/// The ids declaring a graph resolved, handed to its validation (see [`KnownIds`]).
struct DeclaredIds<'a> {
    /// Each node's first node with its id.
    first: NodeIds<'a>,
    /// Each edge's `from` and `to` node, where known.
    ends: Vec<(Option<usize>, Option<usize>)>,
    /// Whether lowering gave every node without a connection in an edge from the input, and
    /// every node without one out its outputs (see [`KnownIds::ends_added`]).
    ends_added: bool,
}

/// The graph of `parsed`, node `i` carrying the payload `nodes` gives for it beside its resolution
/// (`None`: an unknown type), with the ids found on the way; every problem of a node or a
/// connection is added to `problems`.
fn declare<'p, C: NodeCatalog, P>(
    parsed: &'p ParsedManifest,
    catalog: &C,
    limits: &GraphLimits,
    nodes: impl Iterator<Item = (Option<Result<Shape, ParamError>>, P)>,
    problems: &mut Vec<Problem>,
) -> (Graph<JsonPlace, P>, DeclaredIds<'p>) {
    let map = &parsed.map;
    let specs = &parsed.manifest.nodes;
    let graph_place = if specs.is_empty() {
        JsonPlace::Nodes
    } else {
        JsonPlace::Connections
    };
    // Graph elements carry their place as indices: pointer, line and column are made only for
    // an error.
    let mut graph = Graph::carrying(graph_place);
    let connections = &parsed.manifest.connections;
    // At most the connections plus an input and an output edge per node.
    graph.nodes.reserve_exact(specs.len());
    graph
        .edges
        .reserve_exact(connections.len() + 2 * specs.len());

    for ((i, spec), (resolution, payload)) in specs.iter().enumerate().zip(nodes) {
        let at = |field: &str| map.locate(&format!("/nodes/{i}{field}"));
        let node_id = || Some(spec.id.to_string()); // for errors only: no copy on success
        let mut accepts = crate::graph::PortType::Any;
        let mut emits = crate::graph::PortType::Any;
        let mut ports = Vec::new();
        match resolution {
            None => {
                let names = catalog.names();
                let suggestion = suggest(&spec.node_type, names.iter().map(String::as_str));
                let help = suggestion.is_none().then(|| catalog.unknown_type_help());
                problems.push(
                    Problem::error(
                        ProblemKind::UnknownNodeType {
                            type_name: spec.node_type.to_string(),
                            suggestion,
                        },
                        node_id(),
                        at("/node_type"),
                    )
                    .with_help(help),
                );
            }
            Some(resolved) => match resolved {
                Ok(resolved) => {
                    accepts = resolved.accepts;
                    emits = resolved.emits;
                    ports = resolved.ports;
                    if ports.len() > limits.max_ports {
                        problems.push(
                            Problem::error(
                                ProblemKind::Params {
                                    node_type: spec.node_type.to_string(),
                                    message: format!(
                                        "{} output ports, more than the limit of {}",
                                        ports.len(),
                                        limits.max_ports
                                    ),
                                },
                                node_id(),
                                at("/params"),
                            )
                            .with_help(Some(
                                "give fewer ports, or raise the limit (`--max-ports`)".to_string(),
                            )),
                        );
                    }
                }
                Err(err) => {
                    let pointer = err.param.as_deref().map_or(String::new(), param_pointer);
                    problems.push(Problem::error(
                        ProblemKind::Params {
                            node_type: spec.node_type.to_string(),
                            message: err.to_string(),
                        },
                        node_id(),
                        at(&format!("/params{pointer}")),
                    ));
                }
            },
        }
        if &*spec.node_type != PYTHON_NODE_TYPE {
            for (set, field) in [
                (spec.isolation.is_some(), "isolation"),
                (spec.limits.is_some(), "limits"),
            ] {
                if set {
                    problems.push(Problem::error(
                        ProblemKind::Schema(format!(
                            "`{field}` applies to `python` nodes only, not to `{}`",
                            spec.node_type
                        )),
                        node_id(),
                        at(&format!("/{field}")),
                    ));
                }
            }
        }
        if spec.parallelism > 1 && &*spec.node_type == PYTHON_NODE_TYPE {
            problems.push(
                Problem::error(
                    ProblemKind::Schema(format!(
                        "a `python` node cannot be replicated (`parallelism` {}): it runs one \
                         interpreter, on its stage's thread",
                        spec.parallelism
                    )),
                    node_id(),
                    at("/parallelism"),
                )
                .with_help(Some(
                    "remove `parallelism`; `\"stage\": true` runs the node on a thread of its own"
                        .to_string(),
                )),
            );
        }
        if spec.distribute {
            let keeps_state = crate::builtin_specs::builtin_spec(&spec.node_type)
                .is_some_and(|builtin| builtin.keeps_state);
            if keeps_state {
                problems.push(
                    Problem::error(
                        ProblemKind::Schema(format!(
                            "`{}` keeps state across items: spread over processes \
                             (`distribute`), each would see only its share",
                            spec.node_type
                        )),
                        node_id(),
                        at("/distribute"),
                    )
                    .with_help(Some("remove `distribute`".to_string())),
                );
            }
        }
        if spec.emits.is_some() && !ports.is_empty() {
            problems.push(Problem::error(
                ProblemKind::Schema(format!(
                    "`{}` has output ports, each with its own type: `emits` applies to a node \
                     with one output",
                    spec.node_type
                )),
                node_id(),
                at("/emits"),
            ));
        }
        for (declared, actual, field) in [
            (spec.accepts, &mut accepts, "accepts"),
            (spec.emits, &mut emits, "emits"),
        ] {
            let Some(declared) = declared else { continue };
            if actual.accepts(declared) {
                *actual = declared;
            } else {
                problems.push(Problem::error(
                    ProblemKind::Schema(format!(
                        "declares `{field}: {declared}` but `{}` {field} {actual}",
                        spec.node_type
                    )),
                    node_id(),
                    at(&format!("/{field}")),
                ));
            }
        }
        // Written whole, not declared and then filled in: the fields are stored where they go
        // instead of a finished declaration being copied there.
        graph.nodes.push(NodeDecl {
            id: Name::clone(&spec.id),
            type_name: Name::clone(&spec.node_type),
            parallelism: spec.parallelism,
            ordered: spec.ordered,
            batch_size: spec.batch_size,
            capacity: spec.channel_capacity,
            accepts,
            emits,
            ports,
            loc: JsonPlace::Node(JsonPlace::index(i)),
            payload,
        });
    }

    // Each id's first node, and whether connections leave or enter it (for the automatic input
    // and output edges): one table and flags per node instead of a set per question.
    let first_of = NodeIds::new(specs);
    let mut ends = filled(NodeEnds::default(), specs.len());
    // Edge by edge, the nodes its ends name (as `graph.edges` grows).
    let mut known_ends = Vec::with_capacity(graph.edges.capacity());
    let any_staged = specs.iter().any(|s| s.stage);
    let kind_into = |to: &Endpoint| match to {
        Endpoint::Node(id) if any_staged && first_of.get(id).is_some_and(|i| specs[i].stage) => {
            EdgeKind::Stage
        }
        _ => EdgeKind::Fused,
    };
    let (mut explicit_input, mut explicit_output) = (false, false);
    // The last connection's target and its node: a chain written in order names it as the next
    // connection's source, found then without a lookup (~70 instructions a connection, callgrind).
    let mut last_target: Option<(&Name, Option<usize>)> = None;
    for (c, connection) in connections.iter().enumerate() {
        let (from, port) = source(&connection.from);
        let source_id = match &from {
            Endpoint::Node(id) => id,
            _ => &connection.from,
        };
        let source_index = match last_target {
            // Two words compared for a short name, as the lookup would for each node.
            Some((last, index)) if last == source_id => index,
            _ => first_of.get(source_id),
        };
        // In a chain written in order a connection enters the node declared after its source.
        let target = first_of.get_near(&connection.to, source_index.map_or(0, |s| s + 1));
        let (to, known_to) = match source(&connection.to) {
            // `"to": "split.true"`: ports are where items leave. Reported here, with the edge
            // taken as into the node, so the validator does not report it again as unknown.
            (node @ Endpoint::Node(_), Some(port)) => {
                problems.push(
                    Problem::error(
                        ProblemKind::Schema(format!(
                            "`{}` names output port `{port}` of `{node}` as a target: a connection \
                             enters a node by its one input, and leaves by a port",
                            connection.to
                        )),
                        Some(node.to_string()),
                        map.locate(&format!("/connections/{c}/to")),
                    )
                    .with_help(Some(format!(
                        "write `\"to\": \"{node}\"`; `\"from\": \"{node}.{port}\"` leaves `{node}` by `{port}`"
                    ))),
                );
                let known = first_of.get(&Name::from(node.to_string()));
                (node, known)
            }
            // A node end names the node as written: `target` is its node. Without a port, the end
            // `source` read is the name's own endpoint.
            (node @ Endpoint::Node(_), None) => (node, target),
            (end, None) => (end, None),
            // `input.x`: the input has no port to enter by; the whole name is taken as a node's.
            (_, Some(_)) => match endpoint(&connection.to) {
                node @ Endpoint::Node(_) => (node, target),
                end => (end, None),
            },
        };
        explicit_input |= from == Endpoint::Input;
        explicit_output |= matches!(to, Endpoint::Output(_));
        last_target = Some((&connection.to, target));
        if let Some(i) = source_index {
            ends[i].source = true;
        }
        if let Some(i) = target {
            ends[i].target = true;
        }
        let known_from = match from {
            Endpoint::Node(_) => source_index,
            _ => None,
        };
        known_ends.push((known_from, known_to));
        graph.edges.push(EdgeDecl {
            kind: kind_into(&to),
            from,
            port,
            to,
            from_loc: JsonPlace::ConnectionFrom(JsonPlace::index(c)),
            to_loc: JsonPlace::ConnectionTo(JsonPlace::index(c)),
            loc: JsonPlace::Connection(JsonPlace::index(c)),
        });
    }
    for (i, spec) in specs.iter().enumerate() {
        if first_of.first()[i] != i {
            continue; // a duplicate id: reported once by the validator, without echoes on its edges
        }
        let node = Endpoint::Node(Name::clone(&spec.id));
        let loc = JsonPlace::Node(JsonPlace::index(i));
        if !explicit_input && !ends[i].target {
            graph.add_edge(Endpoint::Input, node.clone(), kind_into(&node), loc);
            known_ends.push((None, Some(i)));
        }
        if !explicit_output && !ends[i].source {
            // A node with ports gets an output per port, `<id>.<port>`.
            let ports: Vec<Name> = graph.nodes[i]
                .ports
                .iter()
                .map(|p| Name::clone(&p.name))
                .collect();
            if ports.is_empty() {
                graph.add_edge(
                    node,
                    Endpoint::Output(Name::clone(&spec.id)),
                    EdgeKind::Fused,
                    loc,
                );
                known_ends.push((Some(i), None));
            } else {
                for port in ports {
                    let output = Endpoint::output(format!("{}.{port}", spec.id));
                    graph.add_port_edge(Name::clone(&spec.id), port, output, EdgeKind::Fused, loc);
                    known_ends.push((Some(i), None));
                }
            }
        }
    }

    let ids = DeclaredIds {
        first: first_of,
        ends: known_ends,
        ends_added: !explicit_input && !explicit_output,
    };
    (graph, ids)
}

/// `graph` validated and planned, when neither that nor lowering found a problem; the graph's
/// errors are added to `problems`, located in the file.
fn check<P>(
    graph: Graph<JsonPlace, P>,
    ids: &DeclaredIds<'_>,
    parsed: &ParsedManifest,
    limits: &GraphLimits,
    problems: &mut Vec<Problem>,
) -> Option<(ValidGraph<JsonPlace, P>, Plan)> {
    let node_at = |pointer: &str| {
        parsed
            .node_at(pointer)
            .or_else(|| connection_node(parsed, pointer))
    };
    let known = KnownIds {
        first: ids.first.first(),
        ends: &ids.ends,
        ends_added: ids.ends_added,
    };
    let validated = graph
        .validate_known(Some(known))
        .and_then(|valid| valid.plan_with(limits).map(|plan| (valid, plan)));
    match validated {
        Err(errors) => {
            problems.extend(errors.into_iter().map(|e| {
                Problem::from_graph(e.map_loc(|p| parsed.map.locate(&p.pointer())), node_at)
            }));
            None
        }
        Ok(_) if !problems.is_empty() => None,
        Ok(checked) => Some(checked),
    }
}

/// For a pointer into a connection, the node it comes from.
fn connection_node(parsed: &ParsedManifest, pointer: &str) -> Option<String> {
    let index: usize = pointer
        .strip_prefix("/connections/")?
        .split('/')
        .next()?
        .parse()
        .ok()?;
    let connection = parsed.manifest.connections.get(index)?;
    let field = pointer.rsplit('/').next();
    Some(match field {
        Some("to") => connection.to.to_string(),
        // `route.even` is node `route`'s port.
        _ => source(&connection.from).0.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::StageEntry;
    use crate::manifest::parse;

    fn load(nodes: &str, connections: &str) -> Result<LoweredManifest, ManifestError> {
        let text = format!(
            r#"{{"version": "v1", "metadata": {{"name": "t"}}, "nodes": [{nodes}], "connections": [{connections}]}}"#
        );
        lower(parse("t.json", &text)?, &Registry::with_builtins())
    }

    #[test]
    fn sources_split_at_the_first_dot_except_outputs() {
        let cases = [
            ("a", "a", None),
            ("input", "input", None),
            ("output", "output", None),
            ("split.true", "split", Some("true")),
            ("split.a.b", "split", Some("a.b")),
            ("input.x", "input", Some("x")),
            // An output shows its own name.
            ("output.x", "x", None),
            ("output.x.y", "x.y", None),
            ("outputs.x", "outputs", Some("x")),
            (".x", "", Some("x")),
            ("inputs", "inputs", None),
            ("o", "o", None),
        ];
        for (name, end, port) in cases {
            let (endpoint, found) = source(&Name::from(name));
            assert_eq!(
                (endpoint.to_string().as_str(), found.as_deref()),
                (end, port),
                "{name}"
            );
        }
        assert_eq!(source(&Name::from("input")).0, Endpoint::Input);
        for node in ["a", "inputs", "in", "o", "outputs", "pass_0"] {
            assert_eq!(endpoint(&Name::from(node)), Endpoint::node(node), "{node}");
        }
        assert_eq!(
            endpoint(&Name::from("output")),
            Endpoint::Output(Name::from("output"))
        );
        assert_eq!(
            source(&Name::from("output.x")).0,
            Endpoint::Output(Name::from("x"))
        );
    }

    #[test]
    fn roots_and_leaves_become_input_and_outputs() {
        let lowered = load(
            r#"{"id": "a", "node_type": "PassThrough"}, {"id": "b", "node_type": "Echo"}, {"id": "c", "node_type": "Echo"}"#,
            r#"{"from": "a", "to": "b"}, {"from": "a", "to": "c"}"#,
        )
        .unwrap();
        assert_eq!(lowered.graph.outputs, [Name::from("b"), Name::from("c")]);
        assert!(lowered.plan.is_fused());
    }

    #[test]
    fn only_nodes_without_state_across_items_are_distributed() {
        let err = load(
            r#"{"id": "a", "node_type": "Calculator", "distribute": true, "parallelism": 2},
               {"id": "n", "node_type": "Count", "distribute": true}"#,
            r#"{"from": "a", "to": "n"}"#,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            err.contains("node `n`") && err.contains("`Count` keeps state across items"),
            "{err}"
        );
        assert!(!err.contains("node `a`"), "{err}");
        assert!(err.contains(":2:"), "located at the line of `n`: {err}");
    }

    #[test]
    fn each_node_is_the_payload_of_its_graph_node_as_the_registry_built_it() {
        let mut lowered = load(
            r#"{"id": "triple", "node_type": "Calculator", "params": {"operation": "multiply", "operand": 3}}, {"id": "split", "node_type": "Partition", "params": {"op": "odd"}}"#,
            r#"{"from": "triple", "to": "split"}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        let triple = &mut lowered.graph.graph.nodes[0].payload;
        triple.process(crate::Value::Int(2), &mut out).unwrap();
        assert_eq!(out, [crate::Value::Int(6)]);
        let ports: Vec<&str> = lowered
            .graph
            .payload(1)
            .ports()
            .iter()
            .map(|p| &*p.name)
            .collect();
        assert_eq!(ports, ["true", "false"]);
    }

    #[test]
    fn stage_nodes_start_stages() {
        let lowered = load(
            r#"{"id": "a", "node_type": "PassThrough"}, {"id": "b", "node_type": "Echo", "stage": true}"#,
            r#"{"from": "a", "to": "b"}"#,
        )
        .unwrap();
        assert_eq!(lowered.plan.stages.len(), 2);
        assert_eq!(lowered.plan.stages[1].entry, StageEntry::Node(1));
    }

    #[test]
    fn unknown_types_and_missing_nodes_are_all_reported() {
        let err = load(
            r#"{"id": "a", "node_type": "PasThrough"}, {"id": "b", "node_type": "Echo"}"#,
            r#"{"from": "a", "to": "bb"}"#,
        )
        .err()
        .unwrap();
        let messages: Vec<String> = err.errors().map(|p| p.message()).collect();
        assert_eq!(
            messages,
            [
                "node `a`: unknown node type `PasThrough` (did you mean `PassThrough`?)",
                "unknown node `bb` (did you mean `b`?)"
            ]
        );
        assert_eq!(err.errors().nth(1).unwrap().node.as_deref(), Some("bb"));
    }

    #[test]
    fn param_errors_point_into_params() {
        let err = load(
            r#"{"id": "c", "node_type": "CalculatorNode", "params": {"operation": "mod"}}"#,
            "",
        )
        .err()
        .unwrap();
        let problem = err.errors().next().unwrap();
        assert_eq!(problem.location.pointer, "/nodes/0/params/operation");
        assert!(problem.message().starts_with("node `c`: invalid params for `CalculatorNode`: param `operation`: unknown variant `mod`"));
    }

    #[test]
    fn incompatible_ports_are_a_build_error() {
        let err = load(
            r#"{"id": "batch", "node_type": "Batch", "params": {"size": 2}}, {"id": "sum", "node_type": "Sum"}"#,
            r#"{"from": "batch", "to": "sum"}"#,
        )
        .err()
        .unwrap();
        let problem = err.errors().next().unwrap();
        assert_eq!(
            problem.message(),
            "`batch` emits list but `sum` accepts int"
        );
        assert_eq!(problem.location.pointer, "/connections/0");
    }

    #[test]
    fn a_dotted_source_leaves_by_that_port_and_lowering_declares_the_ports() {
        let lowered = load(
            r#"{"id": "split", "node_type": "Partition", "params": {"op": "odd"}}, {"id": "a", "node_type": "Echo"}"#,
            r#"{"from": "input", "to": "split"}, {"from": "split.false", "to": "a"}, {"from": "a", "to": "output"}"#,
        )
        .unwrap();
        let split = &lowered.graph.graph.nodes[0];
        let ports: Vec<&str> = split.ports.iter().map(|p| &*p.name).collect();
        assert_eq!(ports, ["true", "false"]);
        let edge = &lowered.graph.graph.edges[1];
        assert_eq!(
            (edge.from.to_string(), edge.port.as_deref()),
            ("split".into(), Some("false"))
        );
        assert_eq!(lowered.graph.edges[1].port, Some(1));
    }

    #[test]
    fn a_node_with_ports_and_no_connection_out_gets_an_output_per_port() {
        let lowered = load(
            r#"{"id": "split", "node_type": "Partition", "params": {"op": "even"}}"#,
            "",
        )
        .unwrap();
        assert_eq!(
            lowered.graph.outputs,
            [Name::from("split.true"), Name::from("split.false")]
        );
    }

    #[test]
    fn a_port_of_an_unknown_node_names_the_node() {
        let err = load(
            r#"{"id": "split", "node_type": "Partition", "params": {"op": "even"}}"#,
            r#"{"from": "spilt.true", "to": "output"}"#,
        )
        .err()
        .unwrap();
        let problem = err.errors().next().unwrap();
        assert_eq!(
            problem.message(),
            "unknown node `spilt` (did you mean `split`?)"
        );
        assert_eq!(problem.node.as_deref(), Some("spilt"));
        assert_eq!(problem.location.pointer, "/connections/0/from");
    }

    #[test]
    fn ports_past_the_limit_are_refused_at_the_params() {
        let ports: Vec<String> = (0..5).map(|i| format!("\"p{i}\"")).collect();
        let text = format!(
            r#"{{"version": "v1", "metadata": {{"name": "t"}}, "nodes": [{{"id": "r", "node_type": "Route", "params": {{"field": "k", "ports": [{}]}}}}], "connections": []}}"#,
            ports.join(",")
        );
        // Five named ports and `other`.
        let limits = GraphLimits {
            max_ports: 6,
            ..GraphLimits::default()
        };
        let parsed = || parse("t.json", &text).unwrap();
        assert!(lower_limited(parsed(), &Registry::with_builtins(), &limits).is_ok());
        let limits = GraphLimits {
            max_ports: 5,
            ..GraphLimits::default()
        };
        let err = lower_limited(parsed(), &Registry::with_builtins(), &limits)
            .err()
            .unwrap();
        let problem = err.errors().next().unwrap();
        assert_eq!(problem.location.pointer, "/nodes/0/params");
        assert!(
            problem
                .message()
                .ends_with("6 output ports, more than the limit of 5"),
            "{}",
            problem.message()
        );
    }

    #[test]
    fn a_bad_port_param_points_at_its_element() {
        let err = load(
            r#"{"id": "r", "node_type": "Demux", "params": {"field": "k", "ports": ["a", "a"]}}"#,
            "",
        )
        .err()
        .unwrap();
        let problem = err.errors().next().unwrap();
        assert_eq!(problem.location.pointer, "/nodes/0/params/ports/1");
    }

    #[test]
    fn a_port_as_a_target_is_one_error_at_the_target() {
        let err = load(
            r#"{"id": "split", "node_type": "Partition", "params": {"op": "even"}}, {"id": "a", "node_type": "Echo"}"#,
            r#"{"from": "input", "to": "a"}, {"from": "a", "to": "split.true"}, {"from": "split.true", "to": "output"}"#,
        )
        .err()
        .unwrap();
        assert_eq!(err.errors().count(), 1);
        let problem = err.errors().next().unwrap();
        assert_eq!(problem.location.pointer, "/connections/1/to");
        assert_eq!(problem.node.as_deref(), Some("split"));
        assert!(
            problem
                .message()
                .contains("`split.true` names output port `true` of `split` as a target"),
            "{}",
            problem.message()
        );
    }

    #[test]
    fn emits_is_refused_on_a_node_with_ports() {
        let err = load(
            r#"{"id": "split", "node_type": "Partition", "params": {"op": "odd"}, "emits": "int"}"#,
            "",
        )
        .err()
        .unwrap();
        let problem = err.errors().next().unwrap();
        assert_eq!(problem.location.pointer, "/nodes/0/emits");
        assert!(problem
            .message()
            .contains("`emits` applies to a node with one output"));
    }

    #[test]
    fn a_port_of_the_input_is_refused_as_the_graph_refuses_it() {
        let err = load(
            r#"{"id": "a", "node_type": "Echo"}"#,
            r#"{"from": "input.x", "to": "a"}, {"from": "a", "to": "output"}"#,
        )
        .err()
        .unwrap();
        let problem = err.errors().next().unwrap();
        assert!(
            problem
                .message()
                .contains("`input` has no output port `x`: it has one output"),
            "{}",
            problem.message()
        );
        assert_eq!(problem.location.pointer, "/connections/0/from");
    }

    #[test]
    fn a_replicated_node_is_built_once_per_replica() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        #[derive(serde::Deserialize, schemars::JsonSchema)]
        struct NoParams {}
        let built = Arc::new(AtomicUsize::new(0));
        let mut registry = Registry::with_builtins();
        let count = Arc::clone(&built);
        registry.register("Counted", move |_: NoParams| {
            count.fetch_add(1, Ordering::SeqCst);
            crate::builtins::PassThrough::<crate::Value>::default()
        });
        let text = r#"{"version": "v1", "metadata": {"name": "t"},
            "nodes": [{"id": "a", "node_type": "Counted", "parallelism": 3}], "connections": []}"#;
        let lowered = lower(parse("t.json", text).unwrap(), &registry).unwrap();
        assert_eq!(built.load(Ordering::SeqCst), 3);
        let mut pipeline = crate::dynamic::build(lowered, Default::default());
        let out = pipeline.run((1..=5).map(crate::Value::Int)).unwrap();
        let values: Vec<_> = out.into_iter().map(|tagged| tagged.value).collect();
        assert_eq!(values, (1..=5).map(crate::Value::Int).collect::<Vec<_>>());
    }
}
