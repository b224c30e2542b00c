//! Which process runs what: the graph cut where the process changes, into segments.
//!
//! A segment is a region of nodes on one process with a single entry, like a stage of the local
//! runtime: the input, or one node into which every edge from outside the segment goes. Walking
//! the nodes in topological order, a node joins the segment of its parents when they all lie in
//! one segment on its own process; otherwise it starts a segment of its own. Nodes fed by `input`
//! on a process share one segment entered at `input`, so the input stream crosses to that process
//! once, not once per node. A `"distribute": true` node spread over several processes is a
//! segment of its own, run on each of them; what follows it starts new segments.

use crate::graph::{ResolvedEdge, Vertex};

use super::dataflow::Assignment;

/// Where a segment's items enter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentEntry {
    /// The pipeline input (a copy of the input stream is sent to the segment's process).
    Input,
    /// A node: every edge from outside the segment goes into it.
    Node(usize),
}

/// One region of the graph run as one pipeline on one process (or, spread, on several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Where items enter.
    pub entry: SegmentEntry,
    /// The processes running it: one, or the spread of a distributed node (each batch goes to
    /// one of them, chosen by its epoch).
    pub processes: Vec<usize>,
    /// Its nodes, in topological order.
    pub nodes: Vec<usize>,
    /// Whether some of its input comes from a spread segment: epochs are then released in
    /// epoch order once every process has sent its part, which restores the input order.
    pub reorder: bool,
    /// Copies of each input batch the segment receives (the edges from `input` into its entry
    /// node, or one for a segment entered at `input`; 0 for one fed by other segments only).
    pub input_copies: usize,
    /// Where the edges leaving it go, each destination once, in edge order.
    pub destinations: Vec<Destination>,
}

impl Segment {
    /// Whether the segment is spread over several processes.
    ///
    /// ```
    /// use pipeline_core::distributed::{Segment, SegmentEntry};
    /// let segment = Segment { entry: SegmentEntry::Node(1), processes: vec![0, 2], nodes: vec![1],
    ///     reorder: false, input_copies: 0, destinations: Vec::new() };
    /// assert!(segment.is_spread());
    /// ```
    pub fn is_spread(&self) -> bool {
        self.processes.len() > 1
    }
}

/// Where items leaving a segment along an edge go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// Into another segment's entry.
    Segment(usize),
    /// To a pipeline output (index as in the local run's outputs), written by process 0.
    Output(usize),
}

/// A graph split into segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segmentation {
    /// The segments, each after every segment that feeds it.
    pub segments: Vec<Segment>,
    /// By node index: its segment.
    pub segment_of: Vec<usize>,
    /// By edge index: where the edge goes when it leaves its segment (`None` for an edge inside
    /// a segment, or from `input`).
    pub leaving: Vec<Option<Destination>>,
    /// By output index: whether some edge into it comes from a spread segment (process 0 then
    /// writes its items in epoch order).
    pub reorder_output: Vec<bool>,
}

/// A parent of a node, for deciding whether the node joins a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ParentKey {
    /// The input, on the node's process.
    Input,
    Segment(usize),
}

impl Segmentation {
    /// Splits a valid graph (`nodes` nodes, `topo` their topological order, its resolved
    /// `edges` and `outputs` outputs) by `assignment`, which has been checked to cover every node.
    ///
    /// ```
    /// use pipeline_core::distributed::{Assignment, Destination, Segmentation};
    /// use pipeline_core::graph::{EdgeKind::Fused, Endpoint as E, Graph};
    /// let mut g = Graph::new(());
    /// for id in ["a", "b"] { g.add_node(id, "T", ()); }
    /// g.add_edge(E::Input, E::node("a"), Fused, ());
    /// g.add_edge(E::node("a"), E::node("b"), Fused, ());
    /// g.add_edge(E::node("b"), E::output("output"), Fused, ());
    /// let g = g.validate().unwrap();
    /// let assignment = Assignment::new(2, vec![0, 1]);
    /// let split = Segmentation::split(2, &g.topo, &g.edges, g.outputs.len(), &assignment);
    /// assert_eq!(split.segments.len(), 2);
    /// assert_eq!(split.leaving[1], Some(Destination::Segment(1)));
    /// assert_eq!(split.leaving[2], Some(Destination::Output(0)));
    /// ```
    pub fn split(
        nodes: usize,
        topo: &[usize],
        edges: &[ResolvedEdge],
        outputs: usize,
        assignment: &Assignment,
    ) -> Segmentation {
        let mut into: Vec<Vec<usize>> = vec![Vec::new(); nodes];
        for (e, edge) in edges.iter().enumerate() {
            if let Vertex::Node(t) = edge.to {
                into[t].push(e);
            }
        }
        let mut segments: Vec<Segment> = Vec::new();
        let mut segment_of = vec![usize::MAX; nodes];
        // The segment entered at `input` on each process, once one exists.
        let mut input_segment: Vec<Option<usize>> = vec![None; assignment.processes];
        for &i in topo {
            let process = assignment.process_of_node[i];
            let spread = assignment.spread.get(i).filter(|s| s.len() > 1);
            let mut keys: Vec<ParentKey> = into[i]
                .iter()
                .map(|&e| match (edges[e].from, input_segment[process]) {
                    (Vertex::Node(j), _) => ParentKey::Segment(segment_of[j]),
                    (_, Some(s)) => ParentKey::Segment(s),
                    (_, None) => ParentKey::Input,
                })
                .collect();
            keys.sort_by_key(|k| match k {
                ParentKey::Input => (0, 0),
                ParentKey::Segment(s) => (1, *s),
            });
            keys.dedup();
            let joined = match (spread, keys.as_slice()) {
                (None, [ParentKey::Input]) => {
                    Some(*input_segment[process].get_or_insert_with(|| {
                        segments.push(Segment {
                            entry: SegmentEntry::Input,
                            processes: vec![process],
                            nodes: Vec::new(),
                            reorder: false,
                            input_copies: 1,
                            destinations: Vec::new(),
                        });
                        segments.len() - 1
                    }))
                }
                (None, &[ParentKey::Segment(s)])
                    if segments[s].processes == [process] && !segments[s].is_spread() =>
                {
                    Some(s)
                }
                _ => None,
            };
            let s = joined.unwrap_or_else(|| {
                let input_copies = into[i]
                    .iter()
                    .filter(|&&e| edges[e].from == Vertex::Input)
                    .count();
                segments.push(Segment {
                    entry: SegmentEntry::Node(i),
                    processes: spread.cloned().unwrap_or_else(|| vec![process]),
                    nodes: Vec::new(),
                    reorder: false,
                    input_copies,
                    destinations: Vec::new(),
                });
                segments.len() - 1
            });
            segments[s].nodes.push(i);
            segment_of[i] = s;
        }
        let mut leaving = vec![None; edges.len()];
        let mut reorder_output = vec![false; outputs];
        for (e, edge) in edges.iter().enumerate() {
            let Vertex::Node(j) = edge.from else { continue };
            let from = segment_of[j];
            let spread = segments[from].is_spread();
            let destination = match edge.to {
                Vertex::Output(o) => {
                    reorder_output[o] |= spread;
                    Destination::Output(o)
                }
                Vertex::Node(k) if segment_of[k] != from => {
                    segments[segment_of[k]].reorder |= spread;
                    Destination::Segment(segment_of[k])
                }
                _ => continue,
            };
            leaving[e] = Some(destination);
            if !segments[from].destinations.contains(&destination) {
                segments[from].destinations.push(destination);
            }
        }
        Segmentation {
            segments,
            segment_of,
            leaving,
            reorder_output,
        }
    }

    /// The segments of `process` (those it runs, spread ones included).
    ///
    /// ```
    /// use pipeline_core::distributed::{Assignment, Segmentation};
    /// use pipeline_core::graph::{EdgeKind::Fused, Endpoint as E, Graph};
    /// let mut g = Graph::new(());
    /// g.add_node("a", "T", ());
    /// g.add_edge(E::Input, E::node("a"), Fused, ());
    /// g.add_edge(E::node("a"), E::output("output"), Fused, ());
    /// let g = g.validate().unwrap();
    /// let split = Segmentation::split(1, &g.topo, &g.edges, 1, &Assignment::new(2, vec![1]));
    /// assert_eq!(split.on_process(1).collect::<Vec<_>>(), [0]);
    /// assert_eq!(split.on_process(0).count(), 0);
    /// ```
    pub fn on_process(&self, process: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.segments.len()).filter(move |&s| self.segments[s].processes.contains(&process))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{EdgeKind::Fused, Endpoint as E, Graph, OutputPort, PortType, ValidGraph};

    /// A graph of nodes `ids` and edges `(from, to)` (`input`, `output`, `node.port` allowed).
    fn graph(ids: &[&str], edges: &[(&str, &str)]) -> ValidGraph<()> {
        let mut g = Graph::new(());
        for id in ids {
            g.add_node(*id, "T", ());
        }
        for (from, to) in edges {
            let to = match *to {
                "output" => E::output("output"),
                t if t.starts_with("output.") => E::output(&t["output.".len()..]),
                t => E::node(t),
            };
            match *from {
                "input" => g.add_edge(E::Input, to, Fused, ()),
                f => match f.split_once('.') {
                    Some((node, port)) => {
                        let decl = g.nodes.iter_mut().find(|n| &*n.id == node).unwrap();
                        if !decl.ports.iter().any(|p| &*p.name == port) {
                            decl.ports.push(OutputPort::new(port, PortType::Any));
                        }
                        g.add_port_edge(node, port, to, Fused, ());
                    }
                    None => g.add_edge(E::node(f), to, Fused, ()),
                },
            }
        }
        g.validate().unwrap()
    }

    fn split(g: &ValidGraph<()>, assignment: &Assignment) -> Segmentation {
        Segmentation::split(
            g.graph.nodes.len(),
            &g.topo,
            &g.edges,
            g.outputs.len(),
            assignment,
        )
    }

    /// Each segment as (processes, entry, node list).
    fn shape(s: &Segmentation) -> Vec<(Vec<usize>, SegmentEntry, Vec<usize>)> {
        s.segments
            .iter()
            .map(|seg| (seg.processes.clone(), seg.entry, seg.nodes.clone()))
            .collect()
    }

    #[test]
    fn a_chain_on_one_process_is_one_segment() {
        let g = graph(
            &["a", "b", "c"],
            &[("input", "a"), ("a", "b"), ("b", "c"), ("c", "output")],
        );
        let s = split(&g, &Assignment::new(3, vec![1, 1, 1]));
        assert_eq!(shape(&s), [(vec![1], SegmentEntry::Input, vec![0, 1, 2])]);
        assert_eq!(s.leaving, [None, None, None, Some(Destination::Output(0))]);
    }

    #[test]
    fn a_chain_is_cut_where_the_process_changes_and_back() {
        let g = graph(
            &["a", "b", "c"],
            &[("input", "a"), ("a", "b"), ("b", "c"), ("c", "output")],
        );
        let s = split(&g, &Assignment::new(2, vec![0, 1, 0]));
        assert_eq!(
            shape(&s),
            [
                (vec![0], SegmentEntry::Input, vec![0]),
                (vec![1], SegmentEntry::Node(1), vec![1]),
                (vec![0], SegmentEntry::Node(2), vec![2]),
            ]
        );
        assert_eq!(
            s.leaving,
            [
                None,
                Some(Destination::Segment(1)),
                Some(Destination::Segment(2)),
                Some(Destination::Output(0))
            ]
        );
        assert_eq!(s.segments[1].input_copies, 0);
    }

    #[test]
    fn a_diamond_on_one_process_stays_whole_and_splits_when_a_branch_moves() {
        let edges = [
            ("input", "a"),
            ("a", "b"),
            ("a", "c"),
            ("b", "d"),
            ("c", "d"),
            ("d", "output"),
        ];
        let g = graph(&["a", "b", "c", "d"], &edges);
        let whole = split(&g, &Assignment::new(2, vec![0, 0, 0, 0]));
        assert_eq!(whole.segments.len(), 1);
        // `c` elsewhere: `d`'s parents are in two segments, so it starts its own.
        let s = split(&g, &Assignment::new(2, vec![0, 0, 1, 0]));
        assert_eq!(
            shape(&s),
            [
                (vec![0], SegmentEntry::Input, vec![0, 1]),
                (vec![1], SegmentEntry::Node(2), vec![2]),
                (vec![0], SegmentEntry::Node(3), vec![3]),
            ]
        );
    }

    #[test]
    fn roots_fed_by_input_on_one_process_share_the_input_segment() {
        let g = graph(
            &["a", "b", "c"],
            &[
                ("input", "a"),
                ("input", "b"),
                ("input", "c"),
                ("a", "output.a"),
                ("b", "output.b"),
                ("c", "output.c"),
            ],
        );
        let s = split(&g, &Assignment::new(3, vec![1, 2, 1]));
        assert_eq!(
            shape(&s),
            [
                (vec![1], SegmentEntry::Input, vec![0, 2]),
                (vec![2], SegmentEntry::Input, vec![1]),
            ]
        );
        assert!(s.segments.iter().all(|seg| seg.input_copies == 1));
    }

    #[test]
    fn fan_in_across_processes_starts_a_segment_at_the_meeting_node() {
        let g = graph(
            &["a", "b", "c"],
            &[
                ("input", "a"),
                ("input", "b"),
                ("a", "c"),
                ("b", "c"),
                ("c", "output"),
            ],
        );
        let s = split(&g, &Assignment::new(3, vec![1, 2, 2]));
        assert_eq!(
            shape(&s),
            [
                (vec![1], SegmentEntry::Input, vec![0]),
                (vec![2], SegmentEntry::Input, vec![1]),
                (vec![2], SegmentEntry::Node(2), vec![2]),
            ]
        );
    }

    #[test]
    fn a_node_fed_by_input_and_a_node_elsewhere_gets_its_own_input_copy() {
        let g = graph(
            &["a", "b"],
            &[("input", "a"), ("input", "b"), ("a", "b"), ("b", "output")],
        );
        let s = split(&g, &Assignment::new(2, vec![0, 1]));
        assert_eq!(s.segments[1].entry, SegmentEntry::Node(1));
        assert_eq!(s.segments[1].input_copies, 1);
    }

    #[test]
    fn a_port_edge_between_processes_leaves_the_segment() {
        let g = graph(
            &["split", "t", "f"],
            &[
                ("input", "split"),
                ("split.true", "t"),
                ("split.false", "f"),
                ("t", "output.t"),
                ("f", "output.f"),
            ],
        );
        let s = split(&g, &Assignment::new(2, vec![0, 1, 0]));
        assert_eq!(
            shape(&s),
            [
                (vec![0], SegmentEntry::Input, vec![0, 2]),
                (vec![1], SegmentEntry::Node(1), vec![1]),
            ]
        );
        assert_eq!(s.leaving[1], Some(Destination::Segment(1)));
        assert_eq!(s.leaving[2], None);
    }

    #[test]
    fn outputs_on_a_worker_leave_for_process_zero() {
        let g = graph(&["a"], &[("input", "a"), ("a", "output")]);
        let s = split(&g, &Assignment::new(2, vec![1]));
        assert_eq!(s.segments[0].processes, [1]);
        assert_eq!(s.leaving[1], Some(Destination::Output(0)));
        assert_eq!(s.reorder_output, [false]);
    }

    #[test]
    fn a_spread_node_is_a_segment_of_its_own_and_what_follows_reorders() {
        let g = graph(
            &["a", "p", "b"],
            &[
                ("input", "a"),
                ("a", "p"),
                ("p", "b"),
                ("b", "output"),
                ("p", "output.p"),
            ],
        );
        let mut assignment = Assignment::new(3, vec![0, 0, 0]);
        assignment.spread[1] = vec![0, 1, 2];
        let s = split(&g, &assignment);
        assert_eq!(
            shape(&s),
            [
                (vec![0], SegmentEntry::Input, vec![0]),
                (vec![0, 1, 2], SegmentEntry::Node(1), vec![1]),
                (vec![0], SegmentEntry::Node(2), vec![2]),
            ]
        );
        assert!(s.segments[2].reorder && !s.segments[1].reorder);
        let p_output = g.outputs.iter().position(|o| &**o == "p").unwrap();
        assert!(s.reorder_output[p_output]);
        assert_eq!(s.on_process(1).collect::<Vec<_>>(), [1]);
    }
}
