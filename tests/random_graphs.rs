//! Property tests: random DAGs of built-in nodes (chains, diamonds, fan-out, fan-in, stage
//! boundaries, parallel nodes), written as manifests, give the same outputs in every mode as a plain
//! sequential reference interpreter: the same multiset per output, and the same order where order
//! is promised (an output reached from `input` through nodes of one parent each).
//!
//! Modes: dynamic fused (no `"stage"`, no `"parallelism"`), dynamic threaded (stage boundaries), and
//! threaded with parallel nodes. Static `pipeline!` graphs are fixed at compile time; a set of static
//! shapes is checked against the same reference at the end.

use pipeline::dynamic::{build, BuildOptions, Registry};
use pipeline::manifest;
use pipeline::prelude::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// What a generated node does.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Add(i64),
    Multiply(i64),
    Pass,
    Count,
    Sum,
}

impl Kind {
    /// Stateless kinds can be parallel (a parallel aggregate would aggregate per replica).
    fn stateless(self) -> bool {
        matches!(self, Kind::Add(_) | Kind::Multiply(_) | Kind::Pass)
    }
}

#[derive(Debug, Clone)]
struct GenNode {
    kind: Kind,
    /// Indices of earlier nodes feeding it; empty: fed by the input.
    parents: Vec<usize>,
    stage: bool,
    parallelism: usize,
    batch_size: Option<usize>,
}

#[derive(Debug, Clone)]
struct GenGraph {
    nodes: Vec<GenNode>,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        3 => (-5_i64..5).prop_map(Kind::Add),
        2 => (-2_i64..3).prop_map(Kind::Multiply),
        2 => Just(Kind::Pass),
        1 => Just(Kind::Count),
        1 => Just(Kind::Sum),
    ]
}

fn graph() -> impl Strategy<Value = GenGraph> {
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

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Fused,
    Threaded,
    Parallel,
}

fn id(i: usize) -> String {
    format!("n{i}")
}

impl GenGraph {
    fn has_children(&self, i: usize) -> bool {
        self.nodes.iter().any(|n| n.parents.contains(&i))
    }

    fn manifest(&self, mode: Mode) -> String {
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
                let staged = mode != Mode::Fused && n.stage;
                let parallel = mode == Mode::Parallel && n.parallelism > 1;
                let mut extra = String::new();
                if staged {
                    extra += r#", "stage": true, "channel_capacity": 2"#;
                }
                if parallel {
                    extra += &format!(r#", "parallelism": {}"#, n.parallelism);
                }
                if let (Some(b), true) = (n.batch_size, staged || parallel) {
                    extra += &format!(r#", "batch_size": {b}"#);
                }
                format!(
                    r#"{{"id": "{}", "node_type": "{node_type}", "params": {params}{extra}}}"#,
                    id(i)
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

    /// The reference: every node's whole output stream, node by node in index order (a
    /// topological order), fan-in as the concatenation of the parents' streams.
    fn reference(&self, input: &[i64]) -> BTreeMap<String, Vec<i64>> {
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
    fn ordered(&self, i: usize) -> bool {
        match self.nodes[i].parents[..] {
            [] => true,
            [p] => self.ordered(p),
            _ => false,
        }
    }

    fn run(&self, mode: Mode, input: &[i64]) -> BTreeMap<String, Vec<i64>> {
        let text = self.manifest(mode);
        let lowered = manifest::load("random.json", &text, &Registry::with_builtins())
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let mut p = build(lowered, BuildOptions::default());
        let tagged = p
            .run(input.iter().map(|&x| Value::Int(x)))
            .unwrap_or_else(|e| panic!("{mode:?}: {e}\n{text}"));
        let mut outputs: BTreeMap<String, Vec<i64>> = (0..self.nodes.len())
            .filter(|&i| !self.has_children(i))
            .map(|i| (id(i), Vec::new()))
            .collect();
        for t in tagged {
            let Value::Int(x) = t.value else {
                panic!("{mode:?}: not an int: {:?}", t.value)
            };
            outputs
                .get_mut(p.output_name(t.output))
                .expect("a known output")
                .push(x);
        }
        outputs
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn every_mode_matches_the_reference(
        graph in graph(),
        input in proptest::collection::vec(-1000_i64..1000, 0..300),
    ) {
        let expected = graph.reference(&input);
        for mode in [Mode::Fused, Mode::Threaded, Mode::Parallel] {
            let got = graph.run(mode, &input);
            for (name, want) in &expected {
                let have = &got[name];
                let i: usize = name[1..].parse().unwrap();
                if graph.ordered(i) {
                    prop_assert_eq!(have, want, "{:?}, output {} in order\n{}", mode, name, graph.manifest(mode));
                } else {
                    let (mut have, mut want) = (have.clone(), want.clone());
                    have.sort_unstable();
                    want.sort_unstable();
                    prop_assert_eq!(have, want, "{:?}, output {} as a multiset\n{}", mode, name, graph.manifest(mode));
                }
            }
        }
    }
}

/// Static shapes against the same reference: a chain, a diamond, fan-out to two outputs, stage
/// boundaries and parallel nodes; the graphs are fixed, the inputs random.
mod static_shapes {
    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn static_graphs_match_the_reference(input in proptest::collection::vec(-1000_i64..1000, 0..2000)) {
            let chain = GenGraph { nodes: vec![
                node(Kind::Add(3), &[], false, 1),
                node(Kind::Multiply(2), &[0], true, 2),
                node(Kind::Pass, &[1], false, 1),
            ]};
            let mut p = pipeline! {
                a = Calculator::add(3_i64);
                b = Calculator::multiply(2_i64) @ par(2), batch(16);
                c = PassThrough::new();
                input -> a => b -> c -> output;
            };
            prop_assert_eq!(&p.run(input.clone()).unwrap(), &chain.reference(&input)["n2"]);

            let diamond = GenGraph { nodes: vec![
                node(Kind::Pass, &[], false, 1),
                node(Kind::Add(1), &[0], true, 3),
                node(Kind::Multiply(-1), &[0], false, 1),
                node(Kind::Sum, &[1, 2], true, 1),
            ]};
            let mut p = pipeline! {
                top = PassThrough::new();
                left = Calculator::add(1_i64) @ par(3);
                right = Calculator::multiply(-1_i64);
                sum = Sum::new();
                input -> top => left => sum -> output;
                top -> right => sum;
            };
            prop_assert_eq!(&p.run(input.clone()).unwrap(), &diamond.reference(&input)["n3"]);

            let fan_out = GenGraph { nodes: vec![
                node(Kind::Add(-2), &[], true, 2),
                node(Kind::Count, &[0], false, 1),
                node(Kind::Multiply(2), &[0], true, 1),
            ]};
            let mut p = pipeline! {
                shift = Calculator::add(-2_i64) @ par(2, unordered);
                count = Count::new();
                double = Calculator::multiply(2_i64);
                input => shift -> count -> output.count;
                shift => double -> output.doubled;
            };
            let out = p.run(input.clone()).unwrap();
            let expected = fan_out.reference(&input);
            prop_assert_eq!(out.count.iter().map(|&c| c as i64).collect::<Vec<_>>(), expected["n1"].clone());
            let mut doubled = out.doubled.clone();
            doubled.sort_unstable();
            let mut want = expected["n2"].clone();
            want.sort_unstable();
            prop_assert_eq!(doubled, want, "unordered: the same multiset");
        }
    }

    fn node(kind: Kind, parents: &[usize], stage: bool, parallelism: usize) -> GenNode {
        GenNode {
            kind,
            parents: parents.to_vec(),
            stage,
            parallelism,
            batch_size: None,
        }
    }
}
