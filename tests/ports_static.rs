//! Named output ports in `pipeline!`: `split.true -> evens;` hands a node's items of one port, typed,
//! to that port's edges; items of ports no edge names are dropped.

use pipeline::graph::{EdgeInfo, EdgeKind, Endpoint};
use pipeline::prelude::*;

/// A demux with a different item type per port.
#[derive(Debug, Clone, PartialEq, Ports)]
enum Token {
    Number(i64),
    Word(String),
    Blank(()),
}

fn tokenize() -> impl Node<Input = String, Output = Token> {
    Map::new(|s: String| match s.trim() {
        "" => Token::Blank(()),
        t => t
            .parse()
            .map_or_else(|_| Token::Word(t.to_string()), Token::Number),
    })
}

fn words(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn partition_sends_each_port_to_its_own_output() {
    let mut p = pipeline! {
        split = Partition::new(|x: &i64| x % 2 == 0);
        input -> split;
        split.true -> output.evens;
        split.false -> output.odds;
    };
    let out = p.run(1..=7).unwrap();
    assert_eq!(out.evens, [2, 4, 6]);
    assert_eq!(out.odds, [1, 3, 5, 7]);
}

#[test]
fn ports_of_a_derived_enum_carry_their_own_types() {
    let mut p = pipeline! {
        tokens = tokenize();
        double = Map::new(|x: i64| x * 2);
        shout = Map::new(|w: String| w.to_uppercase());
        input -> tokens;
        tokens.number -> double -> output.numbers;
        tokens.word -> shout -> output.words;
        tokens.blank -> output.blanks;
    };
    let out = p.run(words(&["1", "a", " ", "20", "bc"])).unwrap();
    assert_eq!(out.numbers, [2, 40]);
    assert_eq!(out.words, ["A", "BC"]);
    assert_eq!(out.blanks, [()]);
}

#[test]
fn a_port_fans_out_and_feeds_fan_in_nodes() {
    let mut p = pipeline! {
        split = Partition::new(|x: &i64| *x >= 0);
        plus = Calculator::add(100);
        minus = Calculator::add(-100);
        merge = PassThrough::new();
        input -> split;
        split.true -> plus -> merge;
        split.true -> minus -> merge;
        split.false -> merge;
        merge -> output;
    };
    let mut out: Vec<i64> = p.run([5, -1]).unwrap();
    out.sort();
    assert_eq!(out, [-95, -1, 105]);
}

#[test]
fn several_ports_enter_one_node() {
    let mut p = pipeline! {
        split = Partition::new(|x: &i64| *x > 2);
        merge = Map::new(|x: i64| x * 10);
        input -> split;
        split.true -> merge;
        split.false -> merge;
        merge -> output;
    };
    let out: Vec<i64> = p.run(1..=4).unwrap();
    assert_eq!(out, [10, 20, 30, 40]);
    let mut p = pipeline! {
        split = Partition::new(|x: &i64| *x > 2);
        merge = PassThrough::new();
        input -> split;
        split.true => merge;
        split.false => merge;
        merge -> output;
    };
    // Each `=>` edge batches on its own, so the two streams arrive a batch at a time.
    let mut out: Vec<i64> = p.run(1..=4).unwrap();
    out.sort();
    assert_eq!(out, [1, 2, 3, 4]);
}

#[test]
fn a_port_crosses_a_stage_boundary() {
    let mut p = pipeline! {
        tokens = tokenize();
        square = Map::new(|x: i64| x * x);
        input -> tokens;
        tokens.number => square -> output.squares;
        tokens.word -> output.words;
    };
    let many: Vec<String> = (0..1000)
        .map(|i| i.to_string())
        .chain(words(&["x"]))
        .collect();
    let out = p.run(many).unwrap();
    assert_eq!(out.squares, (0..1000i64).map(|i| i * i).collect::<Vec<_>>());
    assert_eq!(out.words, ["x"]);
    // A stage fed only by a port, whose node emits ports of its own, into another stage.
    let mut p = pipeline! {
        first = Partition::new(|x: &i64| *x > 0);
        second = Partition::new(|x: &i64| x % 2 == 0);
        input => first;
        first.true => second;
        second.false -> output;
    };
    let out: Vec<i64> = p.run([-3, 1, 2, 3, 4, 5]).unwrap();
    assert_eq!(out, [1, 3, 5]);
}

#[test]
fn fused_nodes_with_ports_feed_each_other() {
    let mut p = pipeline! {
        positive = Partition::new(|x: &i64| *x > 0);
        even = Partition::new(|x: &i64| x % 2 == 0);
        tokens = tokenize();
        show = Map::new(|x: i64| x.to_string());
        input -> positive;
        positive.true -> even;
        positive.true -> output.positive;
        even.true -> show -> tokens;
        tokens.number -> output.even_numbers;
    };
    let out = p.run([-2, 1, 2, 3, 4]).unwrap();
    assert_eq!(out.positive, [1, 2, 3, 4]);
    assert_eq!(out.even_numbers, [2, 4]);
}

#[test]
fn ports_route_items_pushed_one_at_a_time_and_in_batches() {
    let mut p = pipeline! {
        split = Partition::new(|x: &i64| x % 2 == 0);
        input -> split;
        split.true -> output.evens;
        split.false => odds;
        odds = Map::new(|x: i64| -x);
        odds -> output.odds;
    };
    let mut stream = p.start().unwrap();
    stream.push(1).unwrap();
    stream.push(2).unwrap();
    stream.push_batch(&mut vec![3, 4, 5]).unwrap();
    let out = stream.finish().unwrap();
    assert_eq!(out.evens, [2, 4]);
    assert_eq!(out.odds, [-1, -3, -5]);
}

#[test]
fn items_of_unconnected_ports_are_dropped() {
    let mut p = pipeline! {
        tokens = tokenize();
        input -> tokens;
        tokens.word -> output;
    };
    let out: Vec<String> = p.run(words(&["1", "a", "", "b"])).unwrap();
    assert_eq!(out, ["a", "b"]);
}

/// Holds items back and sends them in `finish`: even ones by port `true`, odd by `false`.
struct Deferred(Vec<i64>);

impl Node for Deferred {
    type Input = i64;
    type Output = Partitioned<i64>;
    fn process<E: Emitter<Partitioned<i64>> + ?Sized>(&mut self, x: i64, _: &mut E) -> Result<()> {
        self.0.push(x);
        Ok(())
    }
    fn finish<E: Emitter<Partitioned<i64>> + ?Sized>(&mut self, out: &mut E) -> Result<()> {
        for x in self.0.drain(..) {
            out.emit(if x % 2 == 0 {
                Partitioned::True(x)
            } else {
                Partitioned::False(x)
            })?;
        }
        Ok(())
    }
}

#[test]
fn ports_route_what_a_node_emits_in_finish() {
    let mut p = pipeline! {
        held = Deferred(Vec::new());
        add = Calculator::add(1000);
        input -> held;
        held.true -> add -> output.evens;
        held.false => odds;
        odds = PassThrough::new();
        odds -> output.odds;
    };
    let out = p.run(1..=5).unwrap();
    assert_eq!(out.evens, [1002, 1004]);
    assert_eq!(out.odds, [1, 3, 5]);
}

#[test]
fn parallel_nodes_have_ports_too() {
    let mut p = pipeline! {
        split = Partition::new(|x: &i64| x % 3 == 0) @ par(3);
        input => split;
        split.true -> output.threes;
        split.false -> output.others;
    };
    let out = p.run(1..=2000).unwrap();
    assert_eq!(
        out.threes,
        (1..=2000).filter(|x| x % 3 == 0).collect::<Vec<i64>>()
    );
    assert_eq!(
        out.others,
        (1..=2000).filter(|x| x % 3 != 0).collect::<Vec<i64>>()
    );
    // Fused behind another node, its items flushed at the end of the stream.
    let mut p = pipeline! {
        double = Map::new(|x: i64| x * 2);
        split = Partition::new(|x: &i64| x % 4 == 0) @ par(2), batch(16);
        input -> double -> split;
        split.true -> output.fours;
        split.false -> output.others;
    };
    let out = p.run(1..=100).unwrap();
    let doubled = |start: i64| {
        (start..=100)
            .step_by(2)
            .map(|x| x * 2)
            .collect::<Vec<i64>>()
    };
    assert_eq!((out.fours, out.others), (doubled(2), doubled(1)));
}

#[test]
fn a_whole_enum_still_flows_through_one_output() {
    // A node with ports used without naming one passes its items on whole.
    let mut p = pipeline! {
        split = Partition::new(|x: &i64| *x > 1);
        input -> split -> output;
    };
    let out: Vec<Partitioned<i64>> = p.run([1, 2]).unwrap();
    assert_eq!(out, [Partitioned::False(1), Partitioned::True(2)]);
}

#[test]
fn describe_lists_the_edges_of_each_port() {
    let mut p = pipeline! {
        split = Partition::new(|x: &i64| x % 2 == 0);
        halve = Map::new(|x: i64| x / 2);
        input -> split;
        split.true -> halve -> output.evens;
        split.false => odds;
        odds = PassThrough::new();
        odds -> output.odds;
    };
    let out = p.run([4, 5]).unwrap();
    assert_eq!((out.evens, out.odds), (vec![2], vec![5]));
    let d = p.describe();
    let edge = |from: Endpoint, port: Option<&str>, to: Endpoint, kind| EdgeInfo {
        from,
        port: port.map(Into::into),
        to,
        kind,
    };
    // Declaration order: `input -> split`, `split.true -> halve`, `halve -> output.evens`, ...
    assert_eq!(
        d.edges[1..4],
        [
            edge(
                Endpoint::node("split"),
                Some("true"),
                Endpoint::node("halve"),
                EdgeKind::Fused
            ),
            edge(
                Endpoint::node("halve"),
                None,
                Endpoint::output("evens"),
                EdgeKind::Fused
            ),
            edge(
                Endpoint::node("split"),
                Some("false"),
                Endpoint::node("odds"),
                EdgeKind::Stage
            ),
        ]
    );
    assert_eq!(d.edges[3].source_text(), "split.false");
    let text = d.to_string();
    assert!(
        text.contains("split.true -> halve\n") && text.contains("split.false => odds\n"),
        "{text}"
    );
    let mermaid = d.to_mermaid();
    assert!(mermaid.contains(r#"n0 -->|"true"| n1"#), "{mermaid}");
    assert_eq!(d.nodes[2].stage, 1);
}

/// A generic derived output: the port types follow the type parameters.
#[derive(Debug, Clone, PartialEq, Ports)]
enum Either<L, R> {
    Left(L),
    Right(R),
}

#[test]
fn derived_ports_of_a_generic_enum() {
    assert_eq!(<Either<u8, char> as Ports>::NAMES, ["left", "right"]);
    assert_eq!(Either::<u8, char>::Right('x').port_name(), "right");
    assert_eq!(
        Either::<u8, char>::Left(1).port_right(),
        Err(Either::Left(1))
    );
    let mut p = pipeline! {
        parse = Map::new(|s: &str| s.parse::<i64>().map_or_else(|_| Either::Right(s.len()), Either::Left));
        input -> parse;
        parse.left -> output.numbers;
        parse.right -> output.lengths;
    };
    let out = p.run(["12", "abc", "-4"]).unwrap();
    assert_eq!(out.numbers, [12, -4]);
    assert_eq!(out.lengths, [3usize]);
}

/// Splits even from odd numbers, and says so as a manifest entry (the run-time `Partition`).
struct EvenSplit;

impl Node for EvenSplit {
    type Input = i64;
    type Output = Partitioned<i64>;
    fn process<E: Emitter<Partitioned<i64>> + ?Sized>(
        &mut self,
        x: i64,
        out: &mut E,
    ) -> Result<()> {
        out.emit(if x % 2 == 0 {
            Partitioned::True(x)
        } else {
            Partitioned::False(x)
        })
    }
    fn manifest_node(&self) -> Option<pipeline::node::ManifestNode> {
        Some(pipeline::node::ManifestNode::new(
            "Partition",
            [("op", Value::from("even"))],
        ))
    }
}

#[test]
fn exported_manifests_name_the_port_each_connection_leaves_by() {
    use pipeline::dynamic::{build, BuildOptions, Registry};
    let mut p = pipeline! {
        split = EvenSplit;
        neg = Calculator::multiply(-1_i64);
        input -> split;
        split.true -> neg -> output.evens;
        split.false -> output.odds;
    };
    let compiled = p.run(1..=4).unwrap();
    assert_eq!((compiled.evens, compiled.odds), (vec![-2, -4], vec![1, 3]));
    let manifest = p.to_manifest("split").unwrap();
    let sources: Vec<&str> = manifest.connections.iter().map(|c| &*c.from).collect();
    assert!(
        sources.contains(&"split.true") && sources.contains(&"split.false"),
        "{sources:?}"
    );
    // The run-time loader rebuilds the same graph from it.
    let text = serde_json::to_string(&manifest).unwrap();
    let lowered =
        pipeline::manifest::load("split.json", &text, &Registry::with_builtins()).unwrap();
    let mut loaded = build(lowered, BuildOptions::default());
    let mut by_output: Vec<(String, Value)> = loaded
        .run((1..=4).map(Value::Int))
        .unwrap()
        .into_iter()
        .map(|t| (loaded.output_name(t.output).to_string(), t.value))
        .collect();
    by_output.sort_by_key(|(name, _)| name.clone());
    let expected = [("evens", -2), ("evens", -4), ("odds", 1), ("odds", 3)];
    assert_eq!(
        by_output,
        expected.map(|(name, x)| (name.to_string(), Value::Int(x)))
    );
}
