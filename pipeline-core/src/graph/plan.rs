//! Planning: which nodes fuse into one thread (a stage), and where the stage boundaries are.
//!
//! A stage is a group of nodes joined by `->` edges. It runs on one thread and is entered at exactly
//! one point: the pipeline input (stage 0, the caller's thread) or a node all of whose incoming edges
//! are `=>`. Stages come in topological order, so a stage only sends to later stages.

use super::error::{GraphError, GraphErrorKind};
use super::filled::filled;
use super::limits::GraphLimits;
use super::model::EdgeKind;
use super::validate::{ValidGraph, Vertex};

/// Where a stage receives its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageEntry {
    /// The pipeline input: stage 0, run on the caller's thread.
    Input,
    /// A node fed by `=>` edges through the stage's channel.
    Node(usize),
}

/// One fused group of nodes, run on one thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// Where items enter.
    pub entry: StageEntry,
    /// The stage's nodes in topological order.
    pub nodes: Vec<usize>,
    /// How many `=>` edges feed the entry: end-of-stream arrives once from each.
    pub inbound: usize,
}

/// The execution plan of a valid graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Stages in topological order; stage 0 is entered at the input.
    pub stages: Vec<Stage>,
    /// The stage of each node, by node index.
    pub stage_of: Vec<usize>,
}

impl Plan {
    /// The stage a vertex belongs to (`input` is in stage 0; outputs are in none).
    pub fn stage_of_vertex(&self, v: Vertex) -> Option<usize> {
        match v {
            Vertex::Input => Some(0),
            Vertex::Node(i) => Some(self.stage_of[i]),
            Vertex::Output(_) => None,
        }
    }

    /// Whether every node runs on the caller's thread.
    pub fn is_fused(&self) -> bool {
        self.stages.len() == 1
    }
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

impl<L: Clone, P> ValidGraph<L, P> {
    /// Splits the graph into fused stages.
    ///
    /// ```
    /// use pipeline_core::graph::{Endpoint as E, EdgeKind::*, Graph, StageEntry};
    /// let mut g = Graph::new(());
    /// g.add_node("a", "T", ());
    /// g.add_node("b", "T", ());
    /// g.add_edge(E::Input, E::node("a"), Fused, ());
    /// g.add_edge(E::node("a"), E::node("b"), Stage, ());
    /// g.add_edge(E::node("b"), E::output("output"), Fused, ());
    /// let plan = g.validate().unwrap().plan().unwrap();
    /// assert_eq!(plan.stages[1].entry, StageEntry::Node(1));
    /// assert_eq!(plan.stage_of, vec![0, 1]);
    /// ```
    pub fn plan(&self) -> Result<Plan, Vec<GraphError<L>>> {
        self.plan_with(&GraphLimits::default())
    }

    /// [`plan`](Self::plan), refusing a graph past `limits` (see [`GraphLimits`]).
    pub fn plan_with(&self, limits: &GraphLimits) -> Result<Plan, Vec<GraphError<L>>> {
        let plan = self.plan_unlimited()?;
        let mut errors = Vec::new();
        if let Some(error) = self.fused_chain_error(limits.max_fused_chain) {
            errors.push(error);
        }
        if plan.stages.len() > limits.max_stages {
            let StageEntry::Node(entry) = plan.stages[limits.max_stages].entry else {
                unreachable!("only stage 0 is entered at the input")
            };
            errors.push(
                GraphError::new(
                    GraphErrorKind::TooManyStages {
                        id: self.id(entry).to_string(),
                        count: plan.stages.len(),
                        max: limits.max_stages,
                    },
                    self.graph.nodes[entry].loc.clone(),
                )
                .with_help(
                    "fuse more nodes into each stage (`->` rather than `=>`, no `\"stage\": true`), \
                     or raise the limit (`pipeline --max-stages`)",
                ),
            );
        }
        if errors.is_empty() {
            Ok(plan)
        } else {
            Err(errors)
        }
    }

    /// The longest path of fused edges between nodes, if it has more than `max` nodes: an error at
    /// the first node (in topological order) that ends such a path.
    fn fused_chain_error(&self, max: usize) -> Option<GraphError<L>> {
        // A path visits each node once: one longer than `max` needs more than `max` nodes.
        if self.graph.nodes.len() <= max {
            return None;
        }
        let mut depth = filled(1usize, self.graph.nodes.len());
        for &v in &self.topo {
            if depth[v] > max {
                let id = self.id(v);
                return Some(
                    GraphError::new(
                        GraphErrorKind::FusedChainTooLong {
                            id: id.to_string(),
                            max,
                        },
                        self.graph.nodes[v].loc.clone(),
                    )
                    .with_help(format!(
                        "start a stage in the chain (`=>`, or `\"stage\": true` on a node before \
                         `{id}`), or raise the limit (`pipeline --max-fused-chain`)"
                    )),
                );
            }
            for &k in self.leaving.of(v) {
                let edge = &self.edges[k];
                if let (EdgeKind::Fused, Vertex::Node(w)) = (edge.kind, edge.to) {
                    depth[w] = depth[w].max(depth[v] + 1);
                }
            }
        }
        None
    }

    fn plan_unlimited(&self) -> Result<Plan, Vec<GraphError<L>>> {
        if self.edges.iter().all(|e| e.kind == EdgeKind::Fused) {
            self.plan_fused()
        } else {
            self.plan_grouped()
        }
    }

    /// Nodes grouped by their `->` edges, a stage per group, each group checked for one entry.
    fn plan_grouped(&self) -> Result<Plan, Vec<GraphError<L>>> {
        let into = self.in_edge_counts();
        let mixed = self.mixed_in_edges(&into);
        if !mixed.is_empty() {
            return Err(mixed);
        }
        let tuning = self.tuning_errors_with(|i| into[i].staged > 0);
        if !tuning.is_empty() {
            return Err(tuning);
        }
        let n = self.graph.nodes.len();
        let input = n; // union-find slot of the input vertex
        let mut parent: Vec<usize> = (0..=n).collect();
        let slot = |v: Vertex| match v {
            Vertex::Input => Some(input),
            Vertex::Node(i) => Some(i),
            Vertex::Output(_) => None,
        };
        for e in self.edges.iter().filter(|e| e.kind == EdgeKind::Fused) {
            if let (Some(a), Some(b)) = (slot(e.from), slot(e.to)) {
                let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                parent[ra] = rb;
            }
        }
        let root_of_input = find(&mut parent, input);

        // Entry points of every group, in topological order of the nodes; `group_of[root]` is the
        // group's position in `entries` (a search of `entries` per node was quadratic).
        const NONE: usize = usize::MAX;
        let mut group_of = filled(NONE, n + 1);
        let mut entries: Vec<(usize, Vec<StageEntry>)> = Vec::new();
        let mut group_entries = |root: usize, entry: StageEntry| match group_of[root] {
            NONE => {
                group_of[root] = entries.len();
                entries.push((root, vec![entry]));
            }
            g => entries[g].1.push(entry),
        };
        group_entries(root_of_input, StageEntry::Input);
        for &i in &self.topo {
            if into[i].staged > 0 {
                group_entries(find(&mut parent, i), StageEntry::Node(i));
            }
        }

        let mut errors = Vec::new();
        for (_, list) in &entries {
            if list.len() > 1 {
                let names: Vec<String> = list
                    .iter()
                    .map(|e| match e {
                        StageEntry::Input => "input".to_string(),
                        StageEntry::Node(i) => self.id(*i).to_string(),
                    })
                    .collect();
                // Point at the `=>` edge into the second entry: that is what split the group.
                let StageEntry::Node(second) = list[1] else {
                    unreachable!("only the first entry can be the input")
                };
                let edge = &self.edges[into[second]
                    .first_staged
                    .expect("a node entry has a `=>` edge")];
                let help = match self.meeting_point(list) {
                    Some(meet) => format!(
                        "the `->` edges from {} meet at `{meet}`: use `=>` for every edge into \
                         `{meet}` (it then runs on its own thread)",
                        and_list(&names),
                        meet = self.id(meet),
                    ),
                    None => format!(
                        "use `->` for every edge into `{}`, or `=>` between the nodes it reaches",
                        self.id(second)
                    ),
                };
                errors.push(
                    GraphError::new(
                        GraphErrorKind::StageEntries { entries: names },
                        self.graph.edges[edge.decl].loc.clone(),
                    )
                    .with_help(help),
                );
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }

        let mut stage_of = filled(usize::MAX, n);
        // A fused graph is one stage of every node: its list is allocated once, at its size.
        let one_stage = entries.len() == 1;
        let mut stages: Vec<Stage> = entries
            .iter()
            .map(|(_, list)| Stage {
                entry: list[0],
                nodes: Vec::with_capacity(if one_stage { n } else { 0 }),
                inbound: match list[0] {
                    StageEntry::Input => 0,
                    StageEntry::Node(i) => into[i].staged,
                },
            })
            .collect();
        for &i in &self.topo {
            let root = find(&mut parent, i);
            let s = group_of[root];
            assert_ne!(
                s, NONE,
                "every node's group has an entry: the graph is reachable from input"
            );
            stage_of[i] = s;
            stages[s].nodes.push(i);
        }
        Ok(Plan { stages, stage_of })
    }
}

impl<L: Clone, P> ValidGraph<L, P> {
    /// The plan of a graph without `=>` edges: one stage, entered at the input, of every node in
    /// topological order (validation leaves no node the input does not reach). What the general
    /// grouping finds too, without its tables (~2,000 instructions of the benchmark's 10-node
    /// manifest, callgrind); no node can be fed by both arrows.
    fn plan_fused(&self) -> Result<Plan, Vec<GraphError<L>>> {
        let tuning = self.tuning_errors_with(|_| false);
        if !tuning.is_empty() {
            return Err(tuning);
        }
        let stage = Stage {
            entry: StageEntry::Input,
            nodes: self.topo.clone(),
            inbound: 0,
        };
        Ok(Plan {
            stages: vec![stage],
            stage_of: filled(0, self.graph.nodes.len()),
        })
    }
}

/// `a`, `a` and `b`, or `a`, `b` and `c`, each name in backquotes.
fn and_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

impl<L: Clone, P> ValidGraph<L, P> {
    /// The first node (in topological order of discovery) that `->` edges reach from two of a
    /// fused group's `entries`: where the group's separate entries join, so the edges into it are
    /// the ones to make `=>` (a new stage entered there is what fixes the group).
    fn meeting_point(&self, entries: &[StageEntry]) -> Option<usize> {
        const NONE: usize = usize::MAX;
        let n = self.graph.nodes.len();
        // Per node, which entry (by position in `entries`) reaches it through `->` edges.
        let mut reached = filled(NONE, n);
        let mut sources = Vec::with_capacity(entries.len());
        for (k, entry) in entries.iter().enumerate() {
            match *entry {
                StageEntry::Input => sources.push((n, k)),
                StageEntry::Node(i) => reached[i] = k,
            }
        }
        sources.extend(self.topo.iter().map(|&v| (v, NONE)));
        for (slot, entry) in sources {
            let from = if slot == n { entry } else { reached[slot] };
            if from == NONE {
                continue;
            }
            for &k in self.leaving.of(slot) {
                let edge = &self.edges[k];
                if let (EdgeKind::Fused, Vertex::Node(w)) = (edge.kind, edge.to) {
                    match reached[w] {
                        NONE => reached[w] = from,
                        other if other != from => return Some(w),
                        _ => {}
                    }
                }
            }
        }
        None
    }

    /// Nodes fed by both `->` and `=>`, each an error at its first `=>` edge.
    ///
    /// The general rule (a fused group has one entry) would also catch them, but would talk about
    /// fused groups; naming the node and the two arrows says what to change.
    fn mixed_in_edges(&self, into: &[InEdges]) -> Vec<GraphError<L>> {
        (0..self.graph.nodes.len())
            .filter(|&i| into[i].staged > 0 && into[i].fused > 0)
            .map(|i| {
                let staged = &self.edges[into[i]
                    .first_staged
                    .expect("counted a `=>` edge into the node")];
                let id = self.id(i);
                GraphError::new(
                    GraphErrorKind::MixedInEdges { id: id.to_string() },
                    self.graph.edges[staged.decl].loc.clone(),
                )
                .with_help(format!(
                    "use `=>` for every edge into `{id}` (it then runs on its own thread), or `->` for all of them"
                ))
            })
            .collect()
    }

    /// How many `->` and `=>` edges enter each node, counted in one pass over the edges: planning
    /// asks this of every node, and scanning all edges per node was most of its time.
    pub(crate) fn in_edge_counts(&self) -> Vec<InEdges> {
        let mut into = filled(InEdges::default(), self.graph.nodes.len());
        for (k, e) in self.edges.iter().enumerate() {
            if let Vertex::Node(i) = e.to {
                match e.kind {
                    EdgeKind::Fused => into[i].fused += 1,
                    EdgeKind::Stage => {
                        into[i].staged += 1;
                        into[i].first_staged.get_or_insert(k);
                    }
                }
            }
        }
        into
    }
}

/// The edges entering a node, by kind.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct InEdges {
    /// `->` edges.
    pub(crate) fused: usize,
    /// `=>` edges.
    pub(crate) staged: usize,
    /// The first `=>` edge (an index into the resolved edges), where errors about it point.
    pub(crate) first_staged: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{EdgeKind::*, Endpoint as E, Graph};

    fn plan(nodes: &[&str], edges: &[(&str, &str, EdgeKind)]) -> Result<Plan, Vec<String>> {
        let mut g = Graph::new(());
        for n in nodes {
            g.add_node(*n, "T", ());
        }
        let end = |s: &str| match s {
            "input" => E::Input,
            "output" => E::output("output"),
            s => E::node(s),
        };
        for (a, b, k) in edges {
            g.add_edge(end(a), end(b), *k, ());
        }
        g.validate()
            .unwrap()
            .plan()
            .map_err(|es| es.iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn a_fused_chain_is_one_stage() {
        let p = plan(
            &["a", "b"],
            &[
                ("input", "a", Fused),
                ("a", "b", Fused),
                ("b", "output", Fused),
            ],
        )
        .unwrap();
        assert!(p.is_fused());
        assert_eq!(p.stages[0].nodes, vec![0, 1]);
    }

    #[test]
    fn every_boundary_starts_a_stage() {
        let p = plan(
            &["a", "b", "c"],
            &[
                ("input", "a", Stage),
                ("a", "b", Stage),
                ("b", "c", Fused),
                ("c", "output", Fused),
            ],
        )
        .unwrap();
        assert_eq!(p.stages.len(), 3);
        assert!(p.stages[0].nodes.is_empty());
        assert_eq!(p.stages[2].nodes, vec![1, 2]);
        assert_eq!(p.stage_of, vec![1, 2, 2]);
    }

    #[test]
    fn fan_in_across_stages_counts_inbound_edges() {
        let p = plan(
            &["a", "b", "c", "d"],
            &[
                ("input", "a", Fused),
                ("a", "b", Stage),
                ("a", "c", Stage),
                ("b", "d", Stage),
                ("c", "d", Stage),
                ("d", "output", Fused),
            ],
        )
        .unwrap();
        assert_eq!(p.stages.len(), 4);
        assert_eq!(p.stages[3].entry, StageEntry::Node(3));
        assert_eq!(p.stages[3].inbound, 2);
    }

    #[test]
    fn limits_refuse_long_fused_chains_and_many_stages() {
        let ids: Vec<String> = (0..6).map(|i| format!("n{i}")).collect();
        let mut g = Graph::new(());
        for id in &ids {
            g.add_node(id.as_str(), "T", ());
        }
        g.add_edge(E::Input, E::node("n0"), Fused, ());
        for pair in ids.windows(2) {
            // n0 -> n1 -> n2 => n3 -> n4 -> n5: two stages, the longest fused chain 3 nodes.
            let kind = if pair[1] == "n3" { Stage } else { Fused };
            g.add_edge(
                E::node(pair[0].as_str()),
                E::node(pair[1].as_str()),
                kind,
                (),
            );
        }
        g.add_edge(E::node("n5"), E::output("output"), Fused, ());
        let valid = g.validate().unwrap();
        let limits = |max_fused_chain, max_stages| GraphLimits {
            max_fused_chain,
            max_stages,
            ..GraphLimits::default()
        };
        assert!(valid.plan_with(&limits(3, 2)).is_ok());
        let errs = valid.plan_with(&limits(2, 2)).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0]
                .to_string()
                .starts_with("a chain of 3 fused nodes ends at `n2`"),
            "{}",
            errs[0]
        );
        let errs = valid.plan_with(&limits(3, 1)).unwrap_err();
        assert_eq!(
            errs[0].to_string(),
            "the pipeline has 2 stages (one thread each; `n3` enters stage 1), the most is 1"
        );
    }

    #[test]
    fn many_stages_plan_in_linear_time() {
        // 20,000 stages: a search per node through the stages found so far took seconds.
        let n = 20_000;
        let ids: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
        let mut g = Graph::new(());
        for id in &ids {
            g.add_node(id.as_str(), "T", ());
            g.add_edge(E::Input, E::node(id.as_str()), Stage, ());
            g.add_edge(E::node(id.as_str()), E::output("output"), Fused, ());
        }
        let plan = g.validate().unwrap().plan_unlimited().unwrap();
        assert_eq!(plan.stages.len(), n + 1);
    }

    #[test]
    fn mixed_edges_into_a_node_are_rejected() {
        let errs = plan(
            &["a", "b", "d"],
            &[
                ("input", "a", Fused),
                ("a", "b", Stage),
                ("a", "d", Fused),
                ("b", "d", Stage),
                ("d", "output", Fused),
            ],
        )
        .unwrap_err();
        assert_eq!(
            errs,
            vec!["`d` is fed by both `->` and `=>`: every edge into a node must be of one kind"]
        );
    }

    #[test]
    fn two_entries_into_one_fused_group_are_rejected() {
        // `b` and `c` are both entered by `=>` yet joined by `->`: one thread, two entries.
        let errs = plan(
            &["a", "b", "c"],
            &[
                ("input", "a", Fused),
                ("a", "b", Stage),
                ("a", "c", Stage),
                ("b", "output", Fused),
                ("c", "output", Fused),
            ],
        );
        assert!(errs.is_ok(), "separate groups are fine: {errs:?}");
        let errs = plan(
            &["a", "b", "c", "d"],
            &[
                ("input", "a", Fused),
                ("a", "b", Stage),
                ("a", "c", Stage),
                ("b", "d", Fused),
                ("c", "d", Fused),
                ("d", "output", Fused),
            ],
        )
        .unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].contains("is entered at `b` and `c`"), "{}", errs[0]);
    }

    #[test]
    fn two_entries_help_names_where_they_meet() {
        // `input -> a => b -> c; a => d -> c;`: every edge into `b` and `d` is a `=>` already; the
        // fix is at `c`, where their `->` edges meet.
        let mut g = Graph::new(());
        for id in ["a", "b", "c", "d"] {
            g.add_node(id, "T", ());
        }
        for (from, to, kind) in [
            (E::Input, E::node("a"), Fused),
            (E::node("a"), E::node("b"), Stage),
            (E::node("b"), E::node("c"), Fused),
            (E::node("a"), E::node("d"), Stage),
            (E::node("d"), E::node("c"), Fused),
            (E::node("c"), E::output("output"), Fused),
        ] {
            g.add_edge(from, to, kind, ());
        }
        let errs = g.validate().unwrap().plan().unwrap_err();
        assert_eq!(
            errs[0].help.as_deref(),
            Some(
                "the `->` edges from `b` and `d` meet at `c`: use `=>` for every edge into `c` \
                 (it then runs on its own thread)"
            )
        );
        // The suggested fix plans.
        let mut fixed = Graph::new(());
        for id in ["a", "b", "c", "d"] {
            fixed.add_node(id, "T", ());
        }
        for (from, to, kind) in [
            (E::Input, E::node("a"), Fused),
            (E::node("a"), E::node("b"), Stage),
            (E::node("b"), E::node("c"), Stage),
            (E::node("a"), E::node("d"), Stage),
            (E::node("d"), E::node("c"), Stage),
            (E::node("c"), E::output("output"), Fused),
        ] {
            fixed.add_edge(from, to, kind, ());
        }
        assert!(fixed.validate().unwrap().plan().is_ok());
    }

    #[test]
    fn input_and_a_node_entry_meet_too() {
        // `input -> a -> c; a => b -> c;`: the input's group is also entered at `b`.
        let mut g = Graph::new(());
        for id in ["a", "b", "c"] {
            g.add_node(id, "T", ());
        }
        for (from, to, kind) in [
            (E::Input, E::node("a"), Fused),
            (E::node("a"), E::node("c"), Fused),
            (E::node("a"), E::node("b"), Stage),
            (E::node("b"), E::node("c"), Fused),
            (E::node("c"), E::output("output"), Fused),
        ] {
            g.add_edge(from, to, kind, ());
        }
        let errs = g.validate().unwrap().plan().unwrap_err();
        let help = errs[0].help.as_deref().unwrap();
        assert!(
            help.starts_with("the `->` edges from `input` and `b` meet at `c`"),
            "{help}"
        );
    }

    proptest::proptest! {
        /// Random DAGs of `->` edges (each node fed by the input or an earlier node, sometimes
        /// two; nodes feeding nothing, and some others, led to the output), some with a setting
        /// that is a tuning error: the fused plan is the general grouping's, errors included.
        #[test]
        fn a_fused_graph_plans_as_the_general_grouping_does(
            feeds in proptest::collection::vec((0usize..8, 0usize..8, proptest::bool::ANY), 1..8),
            capacity_on in proptest::option::of(0usize..8),
        ) {
            let n = feeds.len();
            let mut g = Graph::new(());
            for i in 0..n {
                g.add_node(format!("n{i}"), "T", ());
            }
            if let Some(i) = capacity_on.filter(|&i| i < n) {
                g.nodes[i].capacity = Some(4);
            }
            let node = |i: usize| E::node(format!("n{i}"));
            let mut feeds_a_node = vec![false; n];
            for (i, &(from, extra, _)) in feeds.iter().enumerate() {
                if i == 0 || from == 0 {
                    g.add_edge(E::Input, node(i), Fused, ());
                } else {
                    g.add_edge(node(from % i), node(i), Fused, ());
                    feeds_a_node[from % i] = true;
                }
                if i > 0 && extra % i != from % i {
                    g.add_edge(node(extra % i), node(i), Fused, ());
                    feeds_a_node[extra % i] = true;
                }
            }
            for (i, &(_, _, out)) in feeds.iter().enumerate() {
                if out || !feeds_a_node[i] {
                    g.add_edge(node(i), E::output("output"), Fused, ());
                }
            }
            let valid = g.validate().expect("every node is fed and leads to the output");
            let text = |r: Result<Plan, Vec<GraphError<()>>>| {
                r.map_err(|es| es.iter().map(|e| e.to_string()).collect::<Vec<_>>())
            };
            proptest::prop_assert_eq!(text(valid.plan_fused()), text(valid.plan_grouped()));
        }
    }
}
