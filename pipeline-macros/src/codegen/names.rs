//! Names of generated items, taken from the node ids so an expansion (and an error quoting it) reads
//! like the graph: node `double` lives in field `node_double`, its delivery is `deliver_double`, the
//! check of edge `double -> add` is trait `Edge_double_to_add`.
//!
//! All use `Span::mixed_site()`, so generated variables never clash with the user's variables that
//! node expressions capture. (Items such as traits resolve at the call site even so; their names
//! carry a prefix no user item is likely to have.)

use pipeline_core::graph::{ValidGraph, Vertex};
use proc_macro2::{Ident, Span};
use std::collections::{HashMap, HashSet};

pub(crate) struct Names {
    /// Per node, its id as an identifier fragment, unique in the pipeline.
    nodes: Vec<String>,
    /// Per output, its name as an identifier fragment, unique among outputs.
    outputs: Vec<String>,
    /// Per resolved edge, `{from}_to_{to}` (`{from}_{port}_to_{to}` from a port), unique in the
    /// pipeline.
    edges: Vec<String>,
    /// Per fan-out source (the input, a node, a node's port), its name fragment: `input`, the
    /// node's, `{node}_{port}`; unique.
    fans: HashMap<(Option<usize>, Option<usize>), String>,
}

fn ident(name: String) -> Ident {
    Ident::new(&name, Span::mixed_site())
}

/// `id` as an identifier fragment: characters outside `[A-Za-z0-9_]` become `_` (manifest ids may
/// hold any character; `pipeline!` ids are identifiers already, `r#` dropped).
pub(crate) fn fragment(id: &str) -> String {
    let id = id.strip_prefix("r#").unwrap_or(id);
    let cleaned: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "_".into()
    } else {
        cleaned
    }
}

/// `names` made unique: a repeat gets its index appended.
fn unique(names: impl Iterator<Item = String>) -> Vec<String> {
    let names: Vec<String> = names.collect();
    let mut seen: HashSet<String> = names.iter().cloned().collect();
    let mut first: HashSet<&str> = HashSet::new();
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            if first.insert(name) {
                return name.clone();
            }
            let mut candidate = format!("{name}_{i}");
            while !seen.insert(candidate.clone()) {
                candidate.push('_');
            }
            candidate
        })
        .collect()
}

impl Names {
    pub fn new<L, P>(graph: &ValidGraph<L, P>) -> Self {
        let nodes = unique(graph.graph.nodes.iter().map(|n| fragment(&n.id)));
        let outputs = unique(graph.outputs.iter().map(|o| fragment(o)));
        let vertex = |v: Vertex, port: Option<usize>| match (v, port) {
            (Vertex::Node(i), Some(p)) => {
                format!(
                    "{}_{}",
                    nodes[i],
                    fragment(&graph.graph.nodes[i].ports[p].name)
                )
            }
            (Vertex::Input, _) => "input".to_string(),
            (Vertex::Node(i), None) => nodes[i].clone(),
            (Vertex::Output(o), _) => outputs[o].clone(),
        };
        let edges = unique(
            graph
                .edges
                .iter()
                .map(|e| format!("{}_to_{}", vertex(e.from, e.port), vertex(e.to, None))),
        );
        // Nodes first, so a graph without ports keeps the names it always had.
        let mut sources = vec![(None, None)];
        sources.extend((0..nodes.len()).map(|i| (Some(i), None)));
        for (i, node) in graph.graph.nodes.iter().enumerate() {
            sources.extend((0..node.ports.len()).map(|p| (Some(i), Some(p))));
        }
        let fan_names = unique(sources.iter().map(|&(node, port)| match node {
            Some(i) => vertex(Vertex::Node(i), port),
            None => "input".to_string(),
        }));
        let fans = sources.into_iter().zip(fan_names).collect();
        Names {
            nodes,
            outputs,
            edges,
            fans,
        }
    }

    /// The value a node's expression evaluates to, and its stage's field holding it.
    pub fn node_value(&self, node: usize) -> Ident {
        ident(format!("node_{}", self.nodes[node]))
    }
    /// The `&mut` binding of a node inside stage code.
    pub fn node_ref(&self, node: usize) -> Ident {
        ident(format!("n_{}", self.nodes[node]))
    }
    /// The guard of a node's cell borrowed inside a delivery closure.
    pub fn guard(&self, node: usize) -> Ident {
        ident(format!("guard_{}", self.nodes[node]))
    }
    /// The closure delivering one item into a node (and on downstream).
    pub fn deliver(&self, node: usize) -> Ident {
        ident(format!("deliver_{}", self.nodes[node]))
    }
    /// An emitter closure's argument: the item `node` emitted.
    pub fn emitted(&self, node: usize) -> Ident {
        ident(format!("from_{}", self.nodes[node]))
    }
    /// The input-type marker of a node, taken before the node moves into its stage.
    pub fn input_marker(&self, node: usize) -> Ident {
        ident(format!("input_of_{}", self.nodes[node]))
    }
    /// The item-type marker of output `index`, shared by every edge into it.
    pub fn output_item_marker(&self, index: usize) -> Ident {
        ident(format!("items_of_{}", self.outputs[index]))
    }
    /// The sender of a `=>` edge.
    pub fn exit(&self, edge: usize) -> Ident {
        ident(format!("send_{}", self.edges[edge]))
    }
    pub fn stage_tx(&self, stage: usize) -> Ident {
        ident(format!("__tx{stage}"))
    }
    pub fn stage_rx(&self, stage: usize) -> Ident {
        ident(format!("__rx{stage}"))
    }
    /// The struct of stage `k`'s state: one field per node (the node and its `=>` senders).
    pub fn stage_struct(&self, stage: usize) -> Ident {
        ident(format!("__PipelineStage{stage}"))
    }
    /// The field of stage 0's state holding the senders of `input => ...` edges.
    pub fn input_exits(&self) -> Ident {
        ident("input_senders".into())
    }
    /// The identity-cast trait that type-checks an edge.
    pub fn edge_trait(&self, edge: usize) -> Ident {
        ident(format!("Edge_{}", self.edges[edge]))
    }
    /// The clone check of a fan-out source: a node (`None`: the input), or one of its ports.
    pub fn fan_trait(&self, node: Option<usize>, port: Option<usize>) -> Ident {
        ident(format!("FanOut_{}", self.fans[&(node, port)]))
    }
    /// The trait checking that a node with ports emits a `Ports` type.
    pub fn ports_trait(&self, node: usize) -> Ident {
        ident(format!("Ports_{}", self.nodes[node]))
    }
    /// The check that a `par(n)` node is `Clone`.
    pub fn par_clone_trait(&self, node: usize) -> Ident {
        ident(format!("Par_{}_clone", self.nodes[node]))
    }
    /// The check that a `par(n)` node and its items are `Send`; it wraps the node in `Parallel`.
    pub fn par_send_trait(&self, node: usize) -> Ident {
        ident(format!("Par_{}_send", self.nodes[node]))
    }
    /// An item and its target's type marker, about to be checked.
    pub fn pair(&self) -> Ident {
        ident("__pair".into())
    }
    /// An item after its edge's type check.
    pub fn checked(&self) -> Ident {
        ident("__checked".into())
    }
    /// An item a port accessor took, about to go along that port's edges.
    pub fn port_item(&self) -> Ident {
        ident("__port_item".into())
    }
    /// An item about to enter a node.
    pub fn item(&self) -> Ident {
        ident("__item".into())
    }
    /// A node's emitter, bound before the call that uses it.
    pub fn emit(&self) -> Ident {
        ident("__emit".into())
    }
    /// The batch a stage's `push_batch` gets.
    pub fn items(&self) -> Ident {
        ident("__items".into())
    }
    /// The batch a `=>` sender is filling, lent to a node's `process_batch`.
    pub fn buffer(&self) -> Ident {
        ident("__buffer".into())
    }
    pub fn input(&self) -> Ident {
        ident("__input".into())
    }
    pub fn out(&self) -> Ident {
        ident("__out".into())
    }
    pub fn state(&self) -> Ident {
        ident("__state".into())
    }
    /// The enum tagging items of several outputs.
    pub fn item_enum(&self) -> Ident {
        ident("__PipelineItem".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_are_identifiers_and_unique() {
        assert_eq!(fragment("calc-1"), "calc_1");
        assert_eq!(fragment("r#type"), "type");
        assert_eq!(fragment(""), "_");
        let names = unique(["a", "a", "a_1", "b"].into_iter().map(String::from));
        assert_eq!(names.len(), 4);
        let set: HashSet<&String> = names.iter().collect();
        assert_eq!(set.len(), 4, "{names:?}");
        assert_eq!(names[0], "a");
    }
}
