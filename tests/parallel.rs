//! Data-parallel nodes (`par(n)`, `"parallelism": n`) on real rayon threads: the same outputs as the
//! sequential node, in input order unless opted out, with errors and panics naming the node.

mod support;

use pipeline::dynamic::{build, BuildOptions, Registry};
use pipeline::manifest;
use pipeline::prelude::*;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use support::{Log, Probe};

fn square(x: i64) -> i64 {
    x.wrapping_mul(x)
}

#[test]
fn fused_par_keeps_input_order() {
    let mut p = pipeline! {
        sq = Map::new(square) @ par(4);
        inc = Calculator::add(1_i64);
        input -> sq -> inc -> output;
    };
    let expected: Vec<i64> = (0..10_000).map(|x| square(x) + 1).collect();
    assert_eq!(p.run(0..10_000).unwrap(), expected);
    // Runs again on the same replicas.
    assert_eq!(p.run(0..10_000).unwrap(), expected);
}

#[test]
fn par_behind_a_stage_boundary_with_small_batches_keeps_order() {
    let mut p = pipeline! {
        sq = Map::new(square) @ par(3), batch(7), capacity(2); // every field of StageConfig set
        input => sq -> output;
    };
    let expected: Vec<i64> = (0..5_000).map(square).collect();
    assert_eq!(p.run(0..5_000).unwrap(), expected);
}

#[test]
fn par_really_runs_on_several_threads() {
    let threads = Arc::new(Mutex::new(HashSet::new()));
    let seen = threads.clone();
    let mut p = pipeline! {
        spin = Map::new(move |x: u64| {
            seen.lock().unwrap().insert(std::thread::current().id());
            (0..20_000u64).fold(x, |h, i| h.wrapping_mul(31).wrapping_add(i))
        }) @ par(2);
        input -> spin -> output;
    };
    assert_eq!(p.run(0..4096).unwrap().len(), 4096);
    assert!(
        threads.lock().unwrap().len() >= 2,
        "replicas ran on one thread only"
    );
}

#[test]
fn unordered_par_gives_every_output() {
    let mut p = pipeline! {
        sq = Map::new(square) @ par(2, unordered), batch(100);
        input -> sq -> output;
    };
    let mut got = p.run(0..3_000).unwrap();
    got.sort_unstable();
    let mut expected: Vec<i64> = (0..3_000).map(square).collect();
    expected.sort_unstable();
    assert_eq!(got, expected);
}

#[test]
fn streaming_flush_processes_what_a_par_node_holds() {
    let mut p = pipeline! {
        sq = Map::new(square) @ par(2);
        input -> sq -> output;
    };
    let mut stream = p.start().unwrap();
    stream.push(3).unwrap();
    assert_eq!(stream.try_next().unwrap(), None, "held for a full batch");
    stream.flush().unwrap();
    assert_eq!(stream.try_next().unwrap(), Some(9));
    assert_eq!(stream.finish().unwrap(), Vec::<i64>::new());
}

#[test]
fn a_replica_error_names_the_node_and_counts_accepted_items() {
    let log = Log::default();
    let mut p = pipeline! {
        picky = Probe::new("picky", &log).failing_on(1_500) @ par(2);
        input -> picky -> output;
    };
    let err = p.run(0..100_000).unwrap_err();
    assert_eq!(err.to_string(), "node `picky`: refused 1500");
    let accepted = err
        .items_accepted()
        .expect("a run error counts accepted items");
    assert!((1_501..100_000).contains(&accepted), "{accepted}");
    // Every replica was initialised and cleaned up.
    assert_eq!(log.count_prefix("picky:init"), 2);
    assert_eq!(log.count_prefix("picky:cleanup"), 2);
}

#[test]
fn a_replica_panic_names_the_node_and_the_message_in_every_mode() {
    let boom = |x: i64| {
        assert!(x != 777, "no sevens");
        x
    };
    let mut fused = pipeline! {
        pass = PassThrough::new();
        boomer = Map::new(boom) @ par(2);
        input -> pass -> boomer -> output;
    };
    let mut threaded = pipeline! {
        pass = PassThrough::new();
        boomer = Map::new(boom) @ par(2);
        input => pass -> boomer -> output;
    };
    for err in [
        fused.run(0..10_000).unwrap_err(),
        threaded.run(0..10_000).unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::Panic);
        assert_eq!(err.node(), Some("boomer"));
        assert!(err.message().contains("no sevens"), "{err}");
    }
}

fn manifest(nodes: &str, connections: &str) -> pipeline::dynamic::DynamicPipeline {
    let text = format!(
        r#"{{"version": "v1", "metadata": {{"name": "par"}}, "nodes": [{nodes}], "connections": [{connections}]}}"#
    );
    let lowered = manifest::load("par.json", &text, &Registry::with_builtins()).unwrap();
    assert!(lowered.warnings().is_empty(), "{:?}", lowered.warnings());
    build(lowered, BuildOptions::default())
}

#[test]
fn manifest_parallelism_runs_in_parallel_in_order() {
    for staged in [false, true] {
        let mut p = manifest(
            &format!(
                r#"{{"id": "mul", "node_type": "Calculator", "params": {{"operation": "multiply", "operand": 3}},
                    "parallelism": 2, "batch_size": 64, "stage": {staged}}},
                   {{"id": "inc", "node_type": "Calculator", "params": {{"operand": 1}}}}"#
            ),
            r#"{"from": "mul", "to": "inc"}"#,
        );
        let out: Vec<Value> = p
            .run((0..5_000).map(Value::Int))
            .unwrap()
            .into_iter()
            .map(|t| t.value)
            .collect();
        let expected: Vec<Value> = (0..5_000).map(|x| Value::Int(x * 3 + 1)).collect();
        assert_eq!(out, expected, "staged: {staged}");
    }
}

#[test]
fn manifest_tuning_errors_name_the_node_and_where() {
    let text = r#"{"version": "v1", "metadata": {"name": "bad"},
  "nodes": [{"id": "a", "node_type": "PassThrough", "channel_capacity": 8}],
  "connections": []}"#;
    let err = manifest::load("bad.json", text, &Registry::with_builtins())
        .err()
        .unwrap();
    let report = err.to_string();
    assert!(
        report.contains("node `a` sets a channel capacity"),
        "{report}"
    );
    assert!(report.contains("bad.json:2:13 (/nodes/0)"), "{report}");
}
