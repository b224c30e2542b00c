//! Limits on a graph's shape, checked with the plan so every front end refuses the same graphs.
//!
//! A fused stage passes each batch from node to node by calls, one nested inside the other: a
//! chain of fused nodes is that deep on its thread's stack, and far past a few thousand nodes the
//! thread would overflow its stack and abort the process. Each stage is a thread with its own
//! channel: a graph of 100,000 stages would start 100,000 threads. Both are refused when the graph
//! is planned, with an error at the node that goes past the limit.

/// The default [`GraphLimits::max_fused_chain`].
pub const DEFAULT_MAX_FUSED_CHAIN: usize = 512;

/// The default [`GraphLimits::max_stages`].
pub const DEFAULT_MAX_STAGES: usize = 1024;

/// The default [`GraphLimits::max_ports`].
///
/// ```
/// assert_eq!(pipeline_core::graph::GraphLimits::default().max_ports, pipeline_core::graph::DEFAULT_MAX_PORTS);
/// ```
pub const DEFAULT_MAX_PORTS: usize = 256;

/// Limits on a graph's shape.
///
/// ```
/// use pipeline_core::graph::{Endpoint as E, EdgeKind::Fused, Graph, GraphLimits};
/// let mut g = Graph::new(());
/// let ids = ["a", "b", "c"];
/// for id in ids {
///     g.add_node(id, "T", ());
/// }
/// g.add_edge(E::Input, E::node("a"), Fused, ());
/// g.add_edge(E::node("a"), E::node("b"), Fused, ());
/// g.add_edge(E::node("b"), E::node("c"), Fused, ());
/// g.add_edge(E::node("c"), E::output("output"), Fused, ());
/// let valid = g.validate().unwrap();
/// let tight = GraphLimits { max_fused_chain: 2, ..GraphLimits::default() };
/// let errors = valid.plan_with(&tight).unwrap_err();
/// assert!(errors[0].to_string().starts_with("a chain of 3 fused nodes ends at `c`"), "{}", errors[0]);
/// assert!(valid.plan().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphLimits {
    /// The most nodes on one path of fused (`->`) edges between nodes within a stage: the depth of
    /// nested calls on the stage's thread ([`DEFAULT_MAX_FUSED_CHAIN`] by default: a debug build
    /// overflows a stage thread's 2 MiB stack at about 1,500, so 512 leaves the last node over
    /// 1 MiB of stack for its own work).
    pub max_fused_chain: usize,
    /// The most stages, i.e. threads, one pipeline may start, stage 0 (the caller's thread)
    /// included ([`DEFAULT_MAX_STAGES`] by default).
    pub max_stages: usize,
    /// The most named output ports one node may have ([`DEFAULT_MAX_PORTS`] by default): a
    /// `Route` by field declares one per name it is given, and the stage keeps routes and a buffer
    /// per port. Checked where a manifest's nodes are resolved, at the node's params.
    pub max_ports: usize,
}

impl Default for GraphLimits {
    fn default() -> Self {
        GraphLimits {
            max_fused_chain: DEFAULT_MAX_FUSED_CHAIN,
            max_stages: DEFAULT_MAX_STAGES,
            max_ports: DEFAULT_MAX_PORTS,
        }
    }
}
