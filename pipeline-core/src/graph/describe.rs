//! A running pipeline's picture of itself: nodes, types, edges, stages; rendered as Mermaid or DOT.

use super::model::{EdgeKind, Name};
use std::fmt::Write;

/// A node in a [`Description`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// Node id.
    pub id: Name,
    /// The node's type (`Calculator`, `python`, ...).
    pub type_name: Name,
    /// The stage (thread) it runs on; 0 is the caller's thread.
    pub stage: usize,
}

/// An edge in a [`Description`]; endpoints are node ids, `input`, or output names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeInfo {
    /// Source.
    pub from: Name,
    /// Target.
    pub to: Name,
    /// Fused or stage boundary.
    pub kind: EdgeKind,
}

/// What a pipeline is made of: what `pipeline graph` prints and generated pipelines return from
/// `describe()`.
///
/// ```
/// use pipeline_core::graph::{Description, EdgeInfo, EdgeKind, NodeInfo};
/// let d = Description {
///     nodes: vec![NodeInfo { id: "add".into(), type_name: "Calculator".into(), stage: 0 }],
///     edges: vec![
///         EdgeInfo { from: "input".into(), to: "add".into(), kind: EdgeKind::Fused },
///         EdgeInfo { from: "add".into(), to: "output".into(), kind: EdgeKind::Fused },
///     ],
///     outputs: vec!["output".into()],
/// };
/// assert!(d.to_mermaid().contains("input --> add"));
/// assert!(d.to_dot().contains("\"input\" -> \"add\""));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Description {
    /// Nodes in declaration order.
    pub nodes: Vec<NodeInfo>,
    /// Edges in declaration order.
    pub edges: Vec<EdgeInfo>,
    /// Output names.
    pub outputs: Vec<Name>,
}

impl Description {
    /// How many threads the pipeline uses: stage 0 is the caller's own.
    pub fn stage_count(&self) -> usize {
        self.nodes.iter().map(|n| n.stage + 1).max().unwrap_or(1)
    }

    /// A Mermaid flowchart, one subgraph per stage; `=>` edges are thick.
    pub fn to_mermaid(&self) -> String {
        let mut s = String::from("flowchart LR\n    input([input])\n");
        for stage in 0..self.stage_count() {
            let members: Vec<_> = self.nodes.iter().filter(|n| n.stage == stage).collect();
            if members.is_empty() {
                continue;
            }
            let _ = writeln!(s, "    subgraph stage_{stage} [\"stage {stage}\"]");
            for n in members {
                let _ = writeln!(
                    s,
                    "        {}[\"{}: {}\"]",
                    mermaid_id(&n.id),
                    n.id,
                    n.type_name
                );
            }
            s.push_str("    end\n");
        }
        for o in &self.outputs {
            let _ = writeln!(s, "    {}([{o}])", mermaid_id(&format!("out_{o}")));
        }
        for e in &self.edges {
            let to = if self.outputs.contains(&e.to) && !self.nodes.iter().any(|n| n.id == e.to) {
                format!("out_{}", e.to)
            } else {
                e.to.to_string()
            };
            let arrow = match e.kind {
                EdgeKind::Fused => "-->",
                EdgeKind::Stage => "==>",
            };
            let _ = writeln!(s, "    {} {arrow} {}", mermaid_id(&e.from), mermaid_id(&to));
        }
        s
    }

    /// A Graphviz digraph, one cluster per stage; `=>` edges are bold.
    pub fn to_dot(&self) -> String {
        let mut s =
            String::from("digraph pipeline {\n    rankdir=LR;\n    \"input\" [shape=oval];\n");
        for stage in 0..self.stage_count() {
            let members: Vec<_> = self.nodes.iter().filter(|n| n.stage == stage).collect();
            if members.is_empty() {
                continue;
            }
            let _ = writeln!(
                s,
                "    subgraph cluster_{stage} {{\n        label=\"stage {stage}\";"
            );
            for n in members {
                let _ = writeln!(
                    s,
                    "        \"{}\" [shape=box, label=\"{}\\n{}\"];",
                    n.id, n.id, n.type_name
                );
            }
            s.push_str("    }\n");
        }
        for o in &self.outputs {
            let _ = writeln!(s, "    \"out_{o}\" [shape=oval, label=\"{o}\"];");
        }
        for e in &self.edges {
            let to = if self.outputs.contains(&e.to) && !self.nodes.iter().any(|n| n.id == e.to) {
                format!("out_{}", e.to)
            } else {
                e.to.to_string()
            };
            let style = match e.kind {
                EdgeKind::Fused => "",
                EdgeKind::Stage => " [style=bold, label=\"=>\"]",
            };
            let _ = writeln!(s, "    \"{}\" -> \"{to}\"{style};", e.from);
        }
        s.push_str("}\n");
        s
    }
}

/// Mermaid ids cannot contain `-`.
fn mermaid_id(id: &str) -> String {
    id.replace('-', "_")
}
