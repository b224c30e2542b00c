//! Graph errors: one wording for every front end; the location type is the front end's.

use std::fmt;

/// What is wrong with a graph.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GraphErrorKind {
    /// The graph declares no node.
    NoNodes,
    /// Two nodes share an id.
    DuplicateNode {
        /// The id.
        id: String,
    },
    /// A node is named like an endpoint.
    ReservedName {
        /// The id.
        id: String,
    },
    /// An id is not made of letters, digits, `_` and `-`.
    InvalidId {
        /// The id.
        id: String,
    },
    /// An edge names a node that is not declared.
    UnknownNode {
        /// The name used.
        id: String,
        /// The closest declared id, if one is close.
        suggestion: Option<String>,
    },
    /// An edge names an output port its source does not have (`route.evn`, `input.x`, or a port of
    /// a node with one output).
    UnknownPort {
        /// The source as written (`route`).
        from: String,
        /// The port named.
        port: String,
        /// The source's ports (empty: it has one output).
        ports: Vec<String>,
        /// The closest port name, if one is close.
        suggestion: Option<String>,
    },
    /// An edge leaves a node with several output ports without naming one.
    PortRequired {
        /// The node.
        id: String,
        /// Its ports.
        ports: Vec<String>,
    },
    /// No edge leaves `input`.
    MissingInput,
    /// No edge reaches an output.
    MissingOutput,
    /// An edge points into `input`.
    IntoInput,
    /// An edge leaves an output.
    FromOutput {
        /// The output's name.
        name: String,
    },
    /// A stage boundary `=>` points into an output.
    StageIntoOutput {
        /// The output's name.
        name: String,
    },
    /// The same edge is declared twice (it would duplicate every item).
    DuplicateEdge {
        /// Source.
        from: String,
        /// Target.
        to: String,
    },
    /// A node takes part in no edge.
    Unconnected {
        /// The id.
        id: String,
    },
    /// The graph has a cycle; the nodes on it, in order.
    Cycle {
        /// Node ids along the cycle, first repeated at the end.
        path: Vec<String>,
    },
    /// No path leads from `input` to the node.
    Unreachable {
        /// The id.
        id: String,
    },
    /// No path leads from the node to an output: its items would be lost.
    DeadEnd {
        /// The id.
        id: String,
    },
    /// One fused group (nodes joined by `->`) would be entered at several points.
    StageEntries {
        /// The entry points (`input` or node ids).
        entries: Vec<String>,
    },
    /// A node is fed by both `->` and `=>` edges.
    MixedInEdges {
        /// The node.
        id: String,
    },
    /// A `parallelism` of zero.
    ZeroParallelism {
        /// The id.
        id: String,
    },
    /// A batch size or channel capacity of zero.
    ZeroSetting {
        /// The node.
        id: String,
        /// Which setting (`batch size`, `channel capacity`).
        setting: &'static str,
    },
    /// A tuning setting above its limit.
    TooLarge {
        /// The node.
        id: String,
        /// Which setting.
        setting: &'static str,
        /// Its value.
        value: usize,
        /// The limit.
        max: usize,
    },
    /// A channel capacity on a node that no stage boundary leads into: there is no channel.
    CapacityWithoutStage {
        /// The node.
        id: String,
    },
    /// A batch size on a node that is neither entered by a stage boundary nor parallel.
    BatchWithoutStage {
        /// The node.
        id: String,
    },
    /// Unordered output asked of a node that is not parallel.
    UnorderedSequential {
        /// The node.
        id: String,
    },
    /// A path of fused edges within one stage is longer than the limit.
    FusedChainTooLong {
        /// The node where the chain goes past the limit.
        id: String,
        /// The limit.
        max: usize,
    },
    /// The graph has more stages (threads) than the limit.
    TooManyStages {
        /// The node entering the first stage past the limit.
        id: String,
        /// How many stages the graph has.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Connected ports carry incompatible item types.
    PortTypes {
        /// Source node.
        from: String,
        /// What the source emits.
        produced: String,
        /// Target node.
        to: String,
        /// What the target accepts.
        accepted: String,
    },
}

impl fmt::Display for GraphErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use GraphErrorKind::*;
        match self {
            NoNodes => f.write_str("the pipeline has no nodes"),
            DuplicateNode { id } => write!(f, "node `{id}` is declared twice"),
            ReservedName { id } => write!(f, "`{id}` is reserved for the pipeline's endpoint and cannot name a node"),
            InvalidId { id } => write!(f, "invalid node id `{id}`: use letters, digits, `_` and `-`"),
            UnknownNode { id, suggestion: Some(s) } => write!(f, "unknown node `{id}` (did you mean `{s}`?)"),
            UnknownNode { id, suggestion: None } => write!(f, "unknown node `{id}`"),
            UnknownPort { from, port, ports, suggestion } => {
                write!(f, "`{from}` has no output port `{port}`")?;
                match (suggestion, ports.is_empty()) {
                    (Some(s), _) => write!(f, " (did you mean `{from}.{s}`?)"),
                    (None, true) => write!(f, ": it has one output, connect `{from} -> ...`"),
                    (None, false) => write!(f, "; its ports are {}", quoted_list(ports)),
                }
            }
            PortRequired { id, ports } => write!(
                f,
                "`{id}` has several outputs ({}): name the one this edge leaves by, e.g. `{id}.{}`",
                quoted_list(ports),
                ports.first().map(String::as_str).unwrap_or("port")
            ),
            MissingInput => f.write_str("no edge leaves `input`: connect `input -> <node>`"),
            MissingOutput => f.write_str("no edge reaches an output: connect `<node> -> output`"),
            IntoInput => f.write_str("`input` is where items enter; no edge can point into it"),
            FromOutput { name } => write!(f, "`{name}` is an output; no edge can leave it"),
            StageIntoOutput { name } => write!(f, "`=>` into output `{name}`: outputs are collected by the caller, use `->`"),
            DuplicateEdge { from, to } => write!(f, "edge `{from}` to `{to}` is declared twice (every item would be sent twice)"),
            Unconnected { id } => write!(f, "node `{id}` is declared but not connected"),
            Cycle { path } => write!(f, "cycle: {}", path.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" -> ")),
            Unreachable { id } => write!(f, "node `{id}` is not reachable from `input`"),
            DeadEnd { id } => write!(f, "node `{id}` does not lead to any output; its items would be lost"),
            StageEntries { entries } => write!(
                f,
                "one fused group (nodes joined by `->`) is entered at {}: a fused group runs on one thread and needs a single entry",
                entries.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" and ")
            ),
            MixedInEdges { id } => write!(
                f,
                "`{id}` is fed by both `->` and `=>`: every edge into a node must be of one kind"
            ),
            ZeroParallelism { id } => write!(f, "node `{id}` has parallelism 0; use 1 or more"),
            ZeroSetting { id, setting } => write!(f, "node `{id}` has {setting} 0; use 1 or more"),
            TooLarge { id, setting, value, max } => write!(f, "node `{id}` has {setting} {value}; the most is {max}"),
            CapacityWithoutStage { id } => write!(
                f,
                "node `{id}` sets a channel capacity, but no stage boundary leads into it, so it has no channel"
            ),
            BatchWithoutStage { id } => write!(
                f,
                "node `{id}` sets a batch size, but it is neither behind a stage boundary nor parallel, so nothing is batched"
            ),
            UnorderedSequential { id } => write!(
                f,
                "node `{id}` gives up output order, but it is not parallel: its outputs are always in order"
            ),
            FusedChainTooLong { id, max } => write!(
                f,
                "a chain of {} fused nodes ends at `{id}`: the most one stage may call in a row is {max}",
                max + 1
            ),
            TooManyStages { id, count, max } => write!(
                f,
                "the pipeline has {count} stages (one thread each; `{id}` enters stage {}), the most is {max}",
                max
            ),
            PortTypes { from, produced, to, accepted } => write!(
                f,
                "`{from}` emits {produced} but `{to}` accepts {accepted}"
            ),
        }
    }
}

/// `a`, `b` and `c` for messages.
fn quoted_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// A graph error at a front-end location, with related locations and a hint.
///
/// ```
/// use pipeline_core::graph::{GraphError, GraphErrorKind};
/// let err = GraphError::new(GraphErrorKind::Unconnected { id: "x".into() }, "line 3");
/// assert_eq!(err.to_string(), "node `x` is declared but not connected");
/// ```
#[derive(Debug, Clone)]
pub struct GraphError<L> {
    /// What is wrong.
    pub kind: GraphErrorKind,
    /// Where.
    pub loc: L,
    /// Other places that explain it (the first declaration of a duplicate, ...).
    pub related: Vec<(L, String)>,
    /// How to fix it, when there is an obvious way.
    pub help: Option<String>,
}

impl<L> GraphError<L> {
    /// An error with no related locations or hint.
    pub fn new(kind: GraphErrorKind, loc: L) -> Self {
        GraphError {
            kind,
            loc,
            related: Vec::new(),
            help: None,
        }
    }

    /// Adds a hint.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a related location.
    pub fn with_related(mut self, loc: L, note: impl Into<String>) -> Self {
        self.related.push((loc, note.into()));
        self
    }

    /// The same error at another kind of location.
    pub fn map_loc<M>(self, mut f: impl FnMut(L) -> M) -> GraphError<M> {
        GraphError {
            kind: self.kind,
            loc: f(self.loc),
            related: self.related.into_iter().map(|(l, n)| (f(l), n)).collect(),
            help: self.help,
        }
    }
}

impl<L> fmt::Display for GraphError<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

impl<L: fmt::Debug> std::error::Error for GraphError<L> {}
