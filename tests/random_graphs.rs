//! Property tests: random DAGs of built-in nodes (chains, diamonds, fan-out, fan-in, stage
//! boundaries, parallel nodes), written as manifests, give the same outputs in every mode as a plain
//! sequential reference interpreter: the same multiset per output, and the same order where order
//! is promised (an output reached from `input` through nodes of one parent each).
//!
//! Modes: dynamic fused (no `"stage"`, no `"parallelism"`), dynamic threaded (stage boundaries), and
//! threaded with parallel nodes. Static `pipeline!` graphs are fixed at compile time; a set of static
//! shapes is checked against the same reference at the end.

mod support;

use pipeline::dynamic::{build, BuildOptions, Registry};
use pipeline::manifest;
use pipeline::prelude::*;
use proptest::prelude::*;
use std::collections::BTreeMap;
use support::random_dag::{graph, GenGraph, GenNode, Kind};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Fused,
    Threaded,
    Parallel,
}

/// How the random graphs are run here.
trait RunLocally {
    fn manifest(&self, mode: Mode) -> String;
    fn run(&self, mode: Mode, input: &[i64]) -> BTreeMap<String, Vec<i64>>;
}

impl RunLocally for GenGraph {
    fn manifest(&self, mode: Mode) -> String {
        self.manifest_with(|_, n| {
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
            extra
        })
    }

    fn run(&self, mode: Mode, input: &[i64]) -> BTreeMap<String, Vec<i64>> {
        let text = self.manifest(mode);
        let lowered = manifest::load("random.json", &text, &Registry::with_builtins())
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let mut p = build(lowered, BuildOptions::default());
        let tagged = p
            .run(input.iter().map(|&x| Value::Int(x)))
            .unwrap_or_else(|e| panic!("{mode:?}: {e}\n{text}"));
        let mut outputs = self.empty_outputs();
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
        for mode in [Mode::Fused, Mode::Threaded, Mode::Parallel] {
            let context = format!("{mode:?}\n{}", graph.manifest(mode));
            graph.check(&input, &graph.run(mode, &input), &context)?;
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
