//! Manifests run across processes by `run_process`, as timely workers in one process
//! (`Config::process(3)`: the same exchanges as three processes, without networking), compared
//! with the local run of the same manifest: the same multiset per output, the same order where
//! the local runtime promises it (an output reached from `input` through nodes of one parent
//! each). Also: end of stream (Count and Sum on workers), ports between processes, spread
//! (`"distribute": true`) nodes put back in order, bounded epochs in flight with a slow node or a
//! slow sink (counted, not timed), and failures that stop every process without a hang.

mod support;

use pipeline::distributed::timely;
use pipeline::distributed::{
    run_process, Assignment, DataflowOptions, LocalInput, LocalSink, NextItem, ProcessFailure,
    Role, RunSummary,
};
use pipeline::dynamic::{build, BuildOptions, DynNode, Registry};
use pipeline::graph::PortType;
use pipeline::manifest;
use pipeline::{Error, Result, Value};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use support::random_dag::{graph as dag, GenGraph};

/// Items the input of the slow-node test has handed out so far.
static PULLED: AtomicU64 = AtomicU64::new(0);
/// Items the slow node has taken so far.
static SEEN: AtomicU64 = AtomicU64::new(0);
/// The most items the input was ahead of the slow node.
static MAX_LAG: AtomicU64 = AtomicU64::new(0);

/// Passes items on after a short sleep, recording how far the input ran ahead of it.
struct Slow;

impl DynNode for Slow {
    fn process(&mut self, item: Value, out: &mut Vec<Value>) -> Result<()> {
        std::thread::sleep(std::time::Duration::from_micros(300));
        let seen = SEEN.fetch_add(1, Ordering::SeqCst);
        let lag = PULLED.load(Ordering::SeqCst).saturating_sub(seen);
        MAX_LAG.fetch_max(lag, Ordering::SeqCst);
        out.push(item);
        Ok(())
    }
}

fn registry() -> Registry {
    let mut registry = Registry::with_builtins();
    registry.register_dyn("Slow", PortType::Any, PortType::Any, Vec::new(), |_| {
        Ok(Box::new(Slow) as Box<dyn DynNode>)
    });
    #[cfg(feature = "python")]
    pipeline::python::register_python(&mut registry);
    registry
}

/// What every process of a run returned, and what process 0's sink got, by output index.
struct Run {
    results: Vec<Result<RunSummary>>,
    outputs: Vec<Vec<Value>>,
}

impl Run {
    fn summary(&self) -> &RunSummary {
        match &self.results[0] {
            Ok(summary) => summary,
            Err(err) => panic!("process 0 failed: {err}"),
        }
    }
}

/// Runs `text` split by `assignment` over `items`, the sink failing at item `fail_sink_at`.
fn run_distributed(
    text: &str,
    assignment: &Assignment,
    items: Vec<Value>,
    options: DataflowOptions,
    fail_sink_at: Option<usize>,
) -> Run {
    run_counted(text, assignment, items, options, fail_sink_at, None)
}

/// [`run_distributed`], counting the items the input hands out into `pulled`.
fn run_counted(
    text: &str,
    assignment: &Assignment,
    items: Vec<Value>,
    options: DataflowOptions,
    fail_sink_at: Option<usize>,
    pulled: Option<&'static AtomicU64>,
) -> Run {
    let text = text.to_string();
    let assignment = assignment.clone();
    let guards = timely::execute(
        timely::Config::process(assignment.processes),
        move |worker| {
            let lowered = manifest::load("m.json", &text, &registry()).unwrap();
            let mut outputs = vec![Vec::new(); lowered.graph.outputs.len()];
            let result = if worker.index() == 0 {
                let mut input = items.clone().into_iter().map(|item| {
                    if let Some(pulled) = pulled {
                        pulled.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(item)
                });
                let mut written = 0;
                let mut sink = |output: usize, value: Value| {
                    if fail_sink_at == Some(written) {
                        return Err(Error::new(pipeline::ErrorKind::Io, "the disk is full"));
                    }
                    written += 1;
                    outputs[output].push(value);
                    Ok(())
                };
                let role = Role::Local {
                    input: &mut input,
                    sink: &mut sink,
                };
                run_process(worker, lowered, &assignment, role, &options)
            } else {
                run_process(worker, lowered, &assignment, Role::Remote, &options)
            };
            (result, outputs)
        },
    )
    .unwrap();
    let mut results = Vec::new();
    let mut outputs = Vec::new();
    for (index, joined) in guards.join().into_iter().enumerate() {
        let (result, got) = joined.unwrap_or_else(|err| panic!("worker {index} panicked: {err}"));
        if index == 0 {
            outputs = got;
        }
        results.push(result);
    }
    Run { results, outputs }
}

/// The local run of `text` over `items`: each output's items, by output index.
fn run_local(text: &str, items: Vec<Value>) -> Vec<Vec<Value>> {
    let lowered = manifest::load("m.json", text, &registry()).unwrap();
    let mut p = build(lowered, BuildOptions::default());
    let mut outputs = vec![Vec::new(); p.outputs().len()];
    for tagged in p.run(items).unwrap() {
        outputs[tagged.output].push(tagged.value);
    }
    outputs
}

fn ints(range: std::ops::Range<i64>) -> Vec<Value> {
    range.map(Value::Int).collect()
}

fn small_batches() -> DataflowOptions {
    DataflowOptions {
        batch_items: 7,
        epochs_in_flight: 3,
        ..DataflowOptions::default()
    }
}

const CHAIN: &str = r#"{"version": "v1", "metadata": {"name": "chain"},
  "nodes": [
    {"id": "add", "node_type": "Calculator", "params": {"operand": 1}},
    {"id": "double", "node_type": "Calculator", "params": {"operation": "multiply", "operand": 2}, "stage": true},
    {"id": "pass", "node_type": "PassThrough"},
    {"id": "count", "node_type": "Count"}],
  "connections": [{"from": "add", "to": "double"}, {"from": "double", "to": "pass"},
                  {"from": "add", "to": "count"}]}"#;

#[test]
fn a_chain_over_three_processes_keeps_the_local_order_and_counts_at_the_end() {
    let items = ints(0..500);
    let local = run_local(CHAIN, items.clone());
    for placement in [[0, 0, 0, 0], [1, 2, 0, 1], [2, 1, 1, 2], [0, 1, 2, 0]] {
        let run = run_distributed(
            CHAIN,
            &Assignment::new(3, placement.to_vec()),
            items.clone(),
            small_batches(),
            None,
        );
        assert_eq!(run.outputs, local, "{placement:?}");
        let summary = run.summary();
        assert_eq!(summary.items_read, 500);
        assert_eq!(summary.items_written, 501);
        assert_eq!(summary.epochs, 500_u64.div_ceil(7));
        for result in &run.results {
            assert!(result.is_ok(), "{placement:?}: {result:?}");
        }
    }
}

#[test]
fn an_empty_input_still_ends_every_segment() {
    let local = run_local(CHAIN, Vec::new());
    let run = run_distributed(
        CHAIN,
        &Assignment::new(3, vec![1, 2, 0, 2]),
        Vec::new(),
        small_batches(),
        None,
    );
    assert_eq!(run.outputs, local);
    assert_eq!(local[1], [Value::Int(0)]);
}

const PORTS: &str = r#"{"version": "v1", "metadata": {"name": "ports"},
  "nodes": [
    {"id": "split", "node_type": "Partition", "params": {"op": "even"}},
    {"id": "evens", "node_type": "Calculator", "params": {"operation": "multiply", "operand": 10}},
    {"id": "odds", "node_type": "Sum"},
    {"id": "both", "node_type": "PassThrough", "stage": true}],
  "connections": [{"from": "split.true", "to": "evens"}, {"from": "split.false", "to": "odds"},
                  {"from": "evens", "to": "both"}, {"from": "odds", "to": "both"}]}"#;

#[test]
fn port_edges_and_fan_in_cross_processes() {
    let items = ints(0..300);
    let local = run_local(PORTS, items.clone());
    for placement in [[0, 1, 2, 0], [1, 2, 2, 1], [2, 0, 1, 1]] {
        let run = run_distributed(
            PORTS,
            &Assignment::new(3, placement.to_vec()),
            items.clone(),
            small_batches(),
            None,
        );
        // `both` has two parents: the same items, not necessarily in the same order.
        assert_eq!(sorted(&run.outputs[0]), sorted(&local[0]), "{placement:?}");
        assert_eq!(run.outputs[0].len(), 151);
    }
}

fn sorted(values: &[Value]) -> Vec<i64> {
    let mut ints: Vec<i64> = values.iter().map(|v| v.as_int().unwrap()).collect();
    ints.sort_unstable();
    ints
}

const SPREAD: &str = r#"{"version": "v1", "metadata": {"name": "spread"},
  "nodes": [
    {"id": "add", "node_type": "Calculator", "params": {"operand": 1}},
    {"id": "scale", "node_type": "Calculator", "params": {"operation": "multiply", "operand": 3},
     "parallelism": 2, "batch_size": 5, "distribute": true},
    {"id": "pass", "node_type": "PassThrough", "stage": true},
    {"id": "sum", "node_type": "Sum"}],
  "connections": [{"from": "add", "to": "scale"}, {"from": "scale", "to": "pass"},
                  {"from": "scale", "to": "sum"}]}"#;

#[test]
fn a_spread_node_runs_on_every_process_and_its_outputs_come_back_in_order() {
    let items = ints(0..700);
    let local = run_local(SPREAD, items.clone());
    for (placement, spread) in [
        ([0, 0, 1, 0], vec![0, 1, 2]),
        ([1, 1, 2, 0], vec![1, 2]),
        ([2, 0, 0, 2], vec![0, 2]),
    ] {
        let mut assignment = Assignment::new(3, placement.to_vec());
        assignment.spread[1] = spread.clone();
        let run = run_distributed(SPREAD, &assignment, items.clone(), small_batches(), None);
        for (o, (got, want)) in run.outputs.iter().zip(&local).enumerate() {
            if got != want {
                let diff = got.iter().zip(want).position(|(a, b)| a != b);
                panic!(
                    "{placement:?} {spread:?}: output {o}: {} items, {} expected, first difference at {diff:?}: {:?} vs {:?}",
                    got.len(),
                    want.len(),
                    diff.map(|d| &got[d.saturating_sub(2)..(d + 3).min(got.len())]),
                    diff.map(|d| &want[d.saturating_sub(2)..(d + 3).min(want.len())]),
                );
            }
        }
        for (process, result) in run.results.iter().enumerate() {
            let summary = result.as_ref().unwrap();
            // Every process in the spread ran the node, as a segment of its own.
            let expected = placement.iter().filter(|&&p| p == process).count()
                - usize::from(placement[1] == process)
                + usize::from(spread.contains(&process));
            assert_eq!(
                summary.segments, expected,
                "{placement:?} {spread:?} process {process}"
            );
        }
    }
}

#[test]
fn a_slow_node_on_a_worker_keeps_the_input_at_most_the_epochs_in_flight_ahead() {
    let text = r#"{"version": "v1", "metadata": {"name": "slow"},
      "nodes": [{"id": "add", "node_type": "Calculator", "params": {"operand": 1}},
                {"id": "slow", "node_type": "Slow"}],
      "connections": [{"from": "add", "to": "slow"}]}"#;
    let options = DataflowOptions {
        batch_items: 8,
        epochs_in_flight: 2,
        ..DataflowOptions::default()
    };
    PULLED.store(0, Ordering::SeqCst);
    SEEN.store(0, Ordering::SeqCst);
    MAX_LAG.store(0, Ordering::SeqCst);
    let run = run_counted(
        text,
        &Assignment::new(3, vec![0, 2]),
        ints(0..400),
        options,
        None,
        Some(&PULLED),
    );
    assert_eq!(run.outputs[0], ints(1..401));
    let lag = MAX_LAG.load(Ordering::SeqCst);
    // Without the bound the whole input would be read at once (lag 400).
    assert!(
        lag <= 2 * 8,
        "the input ran {lag} items ahead of the slow node"
    );
    assert!(run.summary().max_epochs_in_flight <= 2);
}

#[test]
fn a_slow_sink_keeps_the_input_at_most_the_epochs_in_flight_ahead() {
    let options = DataflowOptions {
        batch_items: 5,
        epochs_in_flight: 3,
        ..DataflowOptions::default()
    };
    let text = r#"{"version": "v1", "metadata": {"name": "chain"},
      "nodes": [{"id": "add", "node_type": "Calculator", "params": {"operand": 1}}],
      "connections": []}"#;
    let assignment = Assignment::new(2, vec![1]);
    let max_lag = std::sync::Arc::new(AtomicU64::new(0));
    let lag = std::sync::Arc::clone(&max_lag);
    let guards = timely::execute(timely::Config::process(2), move |worker| {
        let lowered = manifest::load("m.json", text, &registry()).unwrap();
        if worker.index() != 0 {
            return run_process(worker, lowered, &assignment, Role::Remote, &options).map(|_| 0);
        }
        let pulled = std::cell::Cell::new(0_u64);
        let mut input = (0..300).map(|i| {
            pulled.set(pulled.get() + 1);
            Ok(Value::Int(i))
        });
        let mut written = 0_u64;
        let mut sink = |_output: usize, _value: Value| {
            std::thread::sleep(std::time::Duration::from_micros(300));
            lag.fetch_max(pulled.get() - written, Ordering::SeqCst);
            written += 1;
            Ok(())
        };
        let role = Role::Local {
            input: &mut input,
            sink: &mut sink,
        };
        run_process(worker, lowered, &assignment, role, &options).map(|s| s.items_written)
    })
    .unwrap();
    let written: Vec<u64> = guards
        .join()
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert_eq!(written[0], 300);
    let lag = max_lag.load(Ordering::SeqCst);
    assert!(lag <= 3 * 5, "the input ran {lag} items ahead of the sink");
}

/// What the paused input and its sink saw, shared between them.
#[derive(Default)]
struct PauseLog {
    written: Vec<Value>,
    /// How many outputs were written at each flush.
    flushes: Vec<usize>,
    /// Whether all outputs of the first items were written and flushed while the input was
    /// paused.
    written_while_paused: bool,
}

/// Hands out 1, 2, 3, then pauses (`Pending`) until their outputs are written and flushed —
/// what a reader at the other end of a pipe sees (30 s at most, so a run that holds them back
/// fails the test instead of hanging it), then 4 and the end. Outputs written but not flushed yet
/// keep it paused: the loop may write them after sending an epoch and flush them on its next
/// paused turn.
struct PausingInput {
    log: std::rc::Rc<std::cell::RefCell<PauseLog>>,
    next: i64,
    paused_since: Option<std::time::Instant>,
}

impl LocalInput for PausingInput {
    fn next_item(&mut self) -> NextItem {
        if self.next <= 3 {
            self.next += 1;
            return NextItem::Ready(Ok(Value::Int(self.next - 1)));
        }
        if self.next == 4 {
            let since = *self
                .paused_since
                .get_or_insert_with(std::time::Instant::now);
            let mut log = self.log.borrow_mut();
            let flushed = log.flushes.last().copied().unwrap_or(0);
            if flushed < 3 && since.elapsed() < std::time::Duration::from_secs(30) {
                return NextItem::Pending;
            }
            log.written_while_paused = flushed == 3;
            self.next += 1;
            return NextItem::Ready(Ok(Value::Int(4)));
        }
        NextItem::Ended
    }
}

struct LoggingSink(std::rc::Rc<std::cell::RefCell<PauseLog>>);

impl LocalSink for LoggingSink {
    fn write(&mut self, _output: usize, value: Value) -> Result<()> {
        self.0.borrow_mut().written.push(value);
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        let mut log = self.0.borrow_mut();
        let written = log.written.len();
        log.flushes.push(written);
        Ok(())
    }
}

#[test]
fn a_paused_input_sends_what_it_read_and_gets_its_outputs_written_and_flushed() {
    let text = r#"{"version": "v1", "metadata": {"name": "chain"},
      "nodes": [{"id": "add", "node_type": "Calculator", "params": {"operand": 1}}],
      "connections": []}"#;
    // The default batch of 4096 items: the three items go as a partial batch.
    let options = DataflowOptions::default();
    let assignment = Assignment::new(2, vec![1]);
    let guards = timely::execute(timely::Config::process(2), move |worker| {
        let lowered = manifest::load("m.json", text, &registry()).unwrap();
        if worker.index() != 0 {
            run_process(worker, lowered, &assignment, Role::Remote, &options).unwrap();
            return None;
        }
        let log = std::rc::Rc::new(std::cell::RefCell::new(PauseLog::default()));
        let mut input = PausingInput {
            log: std::rc::Rc::clone(&log),
            next: 1,
            paused_since: None,
        };
        let mut sink = LoggingSink(std::rc::Rc::clone(&log));
        let role = Role::Local {
            input: &mut input,
            sink: &mut sink,
        };
        run_process(worker, lowered, &assignment, role, &options).unwrap();
        let log = log.borrow();
        Some((
            log.written.clone(),
            log.flushes.clone(),
            log.written_while_paused,
        ))
    })
    .unwrap();
    let results: Vec<_> = guards.join().into_iter().map(|r| r.unwrap()).collect();
    let (written, flushes, written_while_paused) = results[0].clone().unwrap();
    assert_eq!(written, ints(2..6));
    assert!(
        written_while_paused,
        "the outputs of 1, 2, 3 were not written while the input paused"
    );
    assert_eq!(flushes.first(), Some(&3), "flushes at {flushes:?} outputs");
}

const FAILING: &str = r#"{"version": "v1", "metadata": {"name": "failing"},
  "nodes": [
    {"id": "add", "node_type": "Calculator", "params": {"operand": -100}},
    {"id": "div", "node_type": "Calculator", "params": {"operation": "divide", "operand": 0}},
    {"id": "pass", "node_type": "PassThrough"}],
  "connections": [{"from": "add", "to": "div"}, {"from": "add", "to": "pass"}]}"#;

#[test]
fn a_node_error_on_a_worker_stops_every_process_and_names_the_node() {
    let run = run_distributed(
        FAILING,
        &Assignment::new(3, vec![1, 2, 0]),
        ints(0..10_000),
        small_batches(),
        None,
    );
    let on_worker = run.results[2].as_ref().unwrap_err();
    assert_eq!(on_worker.node(), Some("div"), "{on_worker}");
    let local = run.results[0].as_ref().unwrap_err();
    assert_eq!(local.node(), Some("div"), "{local}");
    assert!(local.to_string().contains("on process 2"), "{local}");
    let failure = local
        .source_error()
        .and_then(|e| e.downcast_ref::<ProcessFailure>())
        .expect("a failure elsewhere says where");
    assert_eq!((failure.process, failure.node.as_deref()), (2, Some("div")));
    assert_eq!(on_worker.message(), failure.message);
    assert!(run.results[1].is_err());
    // The input stopped early: far fewer than 10 000 items went through `pass`.
    assert!(run.outputs[1].len() < 10_000);
}

#[test]
fn a_failing_sink_stops_the_run() {
    let run = run_distributed(
        CHAIN,
        &Assignment::new(3, vec![1, 2, 1, 2]),
        ints(0..5_000),
        small_batches(),
        Some(20),
    );
    let err = run.results[0].as_ref().unwrap_err();
    assert_eq!(err.to_string(), "the disk is full");
    assert!(run.results[1].is_err() && run.results[2].is_err());
    assert_eq!(run.outputs.iter().map(Vec::len).sum::<usize>(), 20);
}

#[test]
fn an_assignment_that_does_not_fit_is_refused_on_every_process() {
    let run = run_distributed(
        CHAIN,
        &Assignment::new(3, vec![0, 5, 0, 0]),
        ints(0..5),
        small_batches(),
        None,
    );
    for result in &run.results {
        let err = result.as_ref().unwrap_err();
        assert!(
            err.to_string()
                .contains("node `double` is placed on a process beyond the 3"),
            "{err}"
        );
    }
}

#[cfg(feature = "python")]
#[test]
fn python_nodes_run_in_segments_on_workers() {
    let code = "class Add:\n    def __init__(self, n):\n        self.n = n\n    def process(self, x):\n        return x + self.n\n";
    let python = |id: &str, n: i64, stage: bool| {
        let mut node = serde_json::json!({"id": id, "node_type": "python",
            "isolation": "in_process", "params": {"code": code, "class": "Add", "args": {"n": n}}});
        node["stage"] = stage.into();
        node.to_string()
    };
    let text = format!(
        r#"{{"version": "v1", "metadata": {{"name": "py"}},
          "nodes": [{}, {}, {{"id": "sum", "node_type": "Sum"}}],
          "connections": [{{"from": "one", "to": "ten"}}, {{"from": "ten", "to": "sum"}}]}}"#,
        python("one", 1, false),
        python("ten", 10, true),
    );
    let items = ints(0..100);
    let local = run_local(&text, items.clone());
    let run = run_distributed(
        &text,
        &Assignment::new(3, vec![1, 2, 0]),
        items,
        small_batches(),
        None,
    );
    assert_eq!(run.outputs, local);
    assert_eq!(local[0], [Value::Int((0..100).map(|i| i + 11).sum())]);
}

#[test]
fn limits_of_zero_are_refused_on_every_process() {
    for (batch_items, epochs_in_flight) in [(0, 4), (16, 0)] {
        let options = DataflowOptions {
            batch_items,
            epochs_in_flight,
            ..DataflowOptions::default()
        };
        let run = run_distributed(
            CHAIN,
            &Assignment::new(3, vec![0; 4]),
            ints(0..5),
            options,
            None,
        );
        for result in &run.results {
            let err = result.as_ref().unwrap_err();
            assert!(
                err.to_string()
                    .contains("at least 1 item per batch and 1 epoch"),
                "{err}"
            );
        }
    }
}

// Random DAGs (tests/support/random_dag.rs, as tests/random_graphs.rs runs them) over random
// placements: node i on `processes[i]`, spread (if stateless) when `spreads[i]`.

/// The graph as a manifest with its stages, replicas and spread nodes.
fn manifest_of(graph: &GenGraph, spreads: &[bool]) -> String {
    graph.manifest_with(|i, n| {
        let mut extra = String::new();
        if n.stage {
            extra += r#", "stage": true, "channel_capacity": 2"#;
        }
        if n.parallelism > 1 {
            extra += &format!(r#", "parallelism": {}"#, n.parallelism);
        }
        if let (Some(b), true) = (n.batch_size, n.stage || n.parallelism > 1) {
            extra += &format!(r#", "batch_size": {b}"#);
        }
        if spreads[i] && n.kind.stateless() {
            extra += r#", "distribute": true"#;
        }
        extra
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_graphs_over_three_processes_give_the_local_outputs(
        graph in dag(),
        processes in proptest::collection::vec(0_usize..3, 7),
        spreads in proptest::collection::vec(prop::bool::weighted(0.25), 7),
        items in proptest::collection::vec(-50_i64..50, 0..60),
        batch_items in 1_usize..9,
        epochs_in_flight in 1_usize..4,
    ) {
        let text = manifest_of(&graph, &spreads);
        let nodes = &graph.nodes;
        let items: Vec<Value> = items.into_iter().map(Value::Int).collect();
        let local = run_local(&text, items.clone());
        let mut assignment = Assignment::new(3, processes[..nodes.len()].to_vec());
        for (i, n) in nodes.iter().enumerate() {
            if spreads[i] && n.kind.stateless() {
                assignment.spread[i] = vec![processes[i], (processes[i] + 1) % 3];
            }
        }
        let options = DataflowOptions { batch_items, epochs_in_flight, ..DataflowOptions::default() };
        let run = run_distributed(&text, &assignment, items, options, None);
        for result in &run.results {
            prop_assert!(result.is_ok(), "{:?}", result);
        }
        let lowered = manifest::load("m.json", &text, &registry()).unwrap();
        let names: BTreeMap<String, usize> = lowered
            .graph
            .outputs
            .iter()
            .enumerate()
            .map(|(o, name)| (name.to_string(), o))
            .collect();
        for (name, &o) in &names {
            let i: usize = name[1..].parse().unwrap();
            prop_assert_eq!(sorted(&run.outputs[o]), sorted(&local[o]), "output {}", name);
            if graph.ordered(i) {
                prop_assert_eq!(&run.outputs[o], &local[o], "order of output {}", name);
            }
        }
    }
}
