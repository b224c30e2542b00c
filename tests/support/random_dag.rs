//! Random DAGs of built-in nodes (chains, diamonds, fan-out, fan-in, stage boundaries, parallel
//! nodes) as manifests, with a plain sequential reference interpreter: what every way of running a
//! manifest is checked against (`tests/random_graphs.rs` locally, `tests/distributed_*.rs` across
//! processes).

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::collections::BTreeMap;

/// What a generated node does.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Add(i64),
    Multiply(i64),
    Pass,
    Count,
    Sum,
}

impl Kind {
    /// Stateless kinds can be parallel (a parallel aggregate would aggregate per replica).
    pub fn stateless(self) -> bool {
        matches!(self, Kind::Add(_) | Kind::Multiply(_) | Kind::Pass)
    }
}

#[derive(Debug, Clone)]
pub struct GenNode {
    pub kind: Kind,
    /// Indices of earlier nodes feeding it; empty: fed by the input.
    pub parents: Vec<usize>,
    pub stage: bool,
    pub parallelism: usize,
    pub batch_size: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct GenGraph {
    pub nodes: Vec<GenNode>,
}

pub fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        3 => (-5_i64..5).prop_map(Kind::Add),
        2 => (-2_i64..3).prop_map(Kind::Multiply),
        2 => Just(Kind::Pass),
        1 => Just(Kind::Count),
        1 => Just(Kind::Sum),
    ]
}

pub fn graph() -> impl Strategy<Value = GenGraph> {
    let node = (
        kind(),
        proptest::collection::vec(any::<prop::sample::Index>(), 0..3),
        any::<bool>(),
        1_usize..4,
        prop::option::of(1_usize..40),
    );
    proptest::collection::vec(node, 1..7).prop_map(|specs| {
        let nodes = specs
            .into_iter()
            .enumerate()
            .map(|(i, (kind, picks, stage, parallelism, batch))| {
                let mut parents: Vec<usize> = if i == 0 {
                    Vec::new()
                } else {
                    picks.iter().map(|p| p.index(i)).collect()
                };
                parents.sort_unstable();
                parents.dedup();
                // Fan-in merges fused groups: every node with two parents starts a stage of its
                // own, so each fused group keeps one entry.
                let stage = stage || parents.len() > 1;
                let parallelism = if kind.stateless() { parallelism } else { 1 };
                GenNode {
                    kind,
                    parents,
                    stage,
                    parallelism,
                    batch_size: batch,
                }
            })
            .collect();
        GenGraph { nodes }
    })
}

/// Node `i`'s id.
pub fn id(i: usize) -> String {
    format!("n{i}")
}

impl GenGraph {
    pub fn has_children(&self, i: usize) -> bool {
        self.nodes.iter().any(|n| n.parents.contains(&i))
    }

    /// The graph as a manifest; `extra(i, node)` adds fields to node `i` (each starting with `, `).
    pub fn manifest_with(&self, extra: impl Fn(usize, &GenNode) -> String) -> String {
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let (node_type, params) = match n.kind {
                    Kind::Add(k) => (
                        "Calculator",
                        format!(r#"{{"operation": "add", "operand": {k}}}"#),
                    ),
                    Kind::Multiply(k) => (
                        "Calculator",
                        format!(r#"{{"operation": "multiply", "operand": {k}}}"#),
                    ),
                    Kind::Pass => ("PassThrough", "{}".into()),
                    Kind::Count => ("Count", "{}".into()),
                    Kind::Sum => ("Sum", "{}".into()),
                };
                format!(
                    r#"{{"id": "{}", "node_type": "{node_type}", "params": {params}{}}}"#,
                    id(i),
                    extra(i, n)
                )
            })
            .collect();
        let connections: Vec<String> = self
            .nodes
            .iter()
            .enumerate()
            .flat_map(|(i, n)| {
                n.parents
                    .iter()
                    .map(move |&p| format!(r#"{{"from": "{}", "to": "{}"}}"#, id(p), id(i)))
            })
            .collect();
        format!(
            r#"{{"version": "v1", "metadata": {{"name": "random"}}, "nodes": [{}], "connections": [{}]}}"#,
            nodes.join(", "),
            connections.join(", ")
        )
    }

    /// The outputs (nodes without children), each with no items yet.
    pub fn empty_outputs(&self) -> BTreeMap<String, Vec<i64>> {
        (0..self.nodes.len())
            .filter(|&i| !self.has_children(i))
            .map(|i| (id(i), Vec::new()))
            .collect()
    }

    /// Checks `got` against the reference for `input`: every output the same multiset, and the
    /// same order where order is promised. `context` names the case in a failure.
    pub fn check(
        &self,
        input: &[i64],
        got: &BTreeMap<String, Vec<i64>>,
        context: &str,
    ) -> Result<(), TestCaseError> {
        for (name, want) in &self.reference(input) {
            let have = &got[name];
            let i: usize = name[1..].parse().unwrap();
            if self.ordered(i) {
                prop_assert_eq!(have, want, "{}: output {} in order", context, name);
            } else {
                let (mut have, mut want) = (have.clone(), want.clone());
                have.sort_unstable();
                want.sort_unstable();
                prop_assert_eq!(have, want, "{}: output {} as a multiset", context, name);
            }
        }
        Ok(())
    }

    /// The reference: every node's whole output stream, node by node in index order (a
    /// topological order), fan-in as the concatenation of the parents' streams.
    pub fn reference(&self, input: &[i64]) -> BTreeMap<String, Vec<i64>> {
        let mut streams: Vec<Vec<i64>> = Vec::new();
        for n in &self.nodes {
            let incoming: Vec<i64> = if n.parents.is_empty() {
                input.to_vec()
            } else {
                n.parents
                    .iter()
                    .flat_map(|&p| streams[p].iter().copied())
                    .collect()
            };
            let out = match n.kind {
                Kind::Add(k) => incoming.iter().map(|x| x + k).collect(),
                Kind::Multiply(k) => incoming.iter().map(|x| x * k).collect(),
                Kind::Pass => incoming,
                Kind::Count => vec![incoming.len() as i64],
                Kind::Sum => vec![incoming.iter().sum()],
            };
            streams.push(out);
        }
        (0..self.nodes.len())
            .filter(|&i| !self.has_children(i))
            .map(|i| (id(i), streams[i].clone()))
            .collect()
    }

    /// Whether node `i`'s outputs keep the input order: one parent all the way up.
    pub fn ordered(&self, i: usize) -> bool {
        match self.nodes[i].parents[..] {
            [] => true,
            [p] => self.ordered(p),
            _ => false,
        }
    }
}
