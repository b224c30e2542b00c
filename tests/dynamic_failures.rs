//! Failures in dynamic (manifest) pipelines: initialisation errors stop before any item and clean
//! up what was initialised; node errors and panics name the node, in fused, threaded and parallel
//! stages; dropping a streaming handle stops and joins every stage thread.

use pipeline::dynamic::{build, BuildOptions, DynNode, DynamicPipeline, Registry};
use pipeline::graph::PortType;
use pipeline::manifest;
use pipeline::prelude::*;
use std::sync::{Arc, Mutex};

/// A shared, ordered event log.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, event: String) {
        self.0.lock().unwrap().push(event);
    }
    fn has(&self, event: &str) -> bool {
        self.0.lock().unwrap().iter().any(|e| e == event)
    }
    fn count(&self, prefix: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.starts_with(prefix))
            .count()
    }
}

/// A pass-through node that logs its lifecycle; params: `fail_init`, `fail_on` (an int), `panic_on`.
struct Probe {
    id: String,
    log: Log,
    params: serde_json::Value,
}

impl DynNode for Probe {
    fn initialize(&mut self, ctx: &NodeContext<'_>) -> Result<()> {
        self.id = ctx.id().to_string();
        if self.params["fail_init"] == true {
            return Err(Error::msg("cannot initialise"));
        }
        self.log.push(format!("{}:init", self.id));
        Ok(())
    }
    fn process(&mut self, item: Value, out: &mut Vec<Value>) -> Result<()> {
        let Value::Int(x) = item else {
            return Err(Error::msg("not an int"));
        };
        self.log.push(format!("{}:process", self.id));
        if self.params["fail_on"] == x {
            return Err(Error::msg(format!("refused {x}")));
        }
        assert!(self.params["panic_on"] != x, "{} blew up on {x}", self.id);
        out.push(Value::Int(x));
        Ok(())
    }
    fn cleanup(&mut self) -> Result<()> {
        self.log.push(format!("{}:cleanup", self.id));
        Ok(())
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.log.push(format!("{}:drop", self.id));
    }
}

fn registry(log: &Log) -> Registry {
    let mut registry = Registry::with_builtins();
    let log = log.clone();
    registry.register_dyn(
        "Probe",
        PortType::Int,
        PortType::Int,
        Vec::new(),
        move |params| {
            Ok(Box::new(Probe {
                id: String::new(),
                log: log.clone(),
                params: params.clone(),
            }) as Box<dyn DynNode>)
        },
    );
    registry
}

/// A chain of probes `(id, extra fields)`, each fed by the one before.
fn chain(log: &Log, nodes: &[(&str, &str)]) -> DynamicPipeline {
    let specs: Vec<String> = nodes
        .iter()
        .map(|(id, extra)| format!(r#"{{"id": "{id}", "node_type": "Probe"{extra}}}"#))
        .collect();
    let connections: Vec<String> = nodes
        .windows(2)
        .map(|w| format!(r#"{{"from": "{}", "to": "{}"}}"#, w[0].0, w[1].0))
        .collect();
    let text = format!(
        r#"{{"version": "v1", "metadata": {{"name": "probes"}}, "nodes": [{}], "connections": [{}]}}"#,
        specs.join(", "),
        connections.join(", ")
    );
    let lowered = manifest::load("probes.json", &text, &registry(log)).unwrap();
    build(lowered, BuildOptions::default())
}

fn ints(n: i64) -> impl Iterator<Item = Value> {
    (0..n).map(Value::Int)
}

#[test]
fn initialize_error_stops_before_any_item_and_cleans_up_what_was_initialised() {
    for staged in ["", r#", "stage": true"#] {
        let log = Log::default();
        let failing = format!(r#", "params": {{"fail_init": true}}{staged}"#);
        let mut p = chain(&log, &[("a", staged), ("b", &failing), ("c", staged)]);
        let err = p.run(ints(10)).unwrap_err();
        assert_eq!(err.node(), Some("b"), "{err}");
        assert_eq!(err.kind(), ErrorKind::Initialize);
        assert_eq!(log.count("a:process") + log.count("c:process"), 0);
        assert!(log.has("a:cleanup"), "staged {staged:?}");
        assert!(!log.has("b:cleanup"));
        drop(p);
    }
}

#[test]
fn node_errors_and_panics_name_the_node_in_every_mode() {
    let modes = [
        ("fused", ""),
        ("threaded", r#", "stage": true"#),
        (
            "parallel",
            r#", "stage": true, "parallelism": 2, "batch_size": 64"#,
        ),
        ("fused parallel", r#", "parallelism": 2, "batch_size": 64"#),
    ];
    for (mode, extra) in modes {
        let log = Log::default();
        let failing = format!(r#", "params": {{"fail_on": 3000}}{extra}"#);
        let mut p = chain(&log, &[("head", ""), ("picky", &failing), ("tail", "")]);
        let err = p.run(ints(100_000)).unwrap_err();
        assert_eq!(err.to_string(), "node `picky`: refused 3000", "{mode}");
        let accepted = err.items_accepted().unwrap();
        assert!((3_001..100_000).contains(&accepted), "{mode}: {accepted}");
        drop(p);
        // Every thread was joined and every node cleaned up and dropped.
        for node in ["head", "picky", "tail"] {
            assert!(log.has(&format!("{node}:cleanup")), "{mode}: {node}");
            assert!(log.has(&format!("{node}:drop")), "{mode}: {node}");
        }

        let log = Log::default();
        let panicking = format!(r#", "params": {{"panic_on": 77}}{extra}"#);
        let mut p = chain(&log, &[("head", ""), ("boom", &panicking), ("tail", "")]);
        let err = p.run(ints(1_000)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Panic, "{mode}");
        assert_eq!(err.node(), Some("boom"), "{mode}: {err}");
        assert!(
            err.message().contains("boom blew up on 77"),
            "{mode}: {err}"
        );
    }
}

/// Names of this process's threads (Linux: `/proc/self/task/*/comm`, 15 characters at most).
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                .map(|name| name.trim().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn dropping_a_handle_mid_stream_stops_and_joins_every_stage_thread() {
    let log = Log::default();
    // Ids unique to this test, short enough to survive the 15-character thread name limit.
    let staged = r#", "stage": true"#;
    let mut p = chain(&log, &[("dq1", staged), ("dq2", staged), ("dq3", staged)]);
    {
        let mut stream = p.start().unwrap();
        for x in ints(10_000) {
            stream.push(x).unwrap();
        }
        let names = thread_names();
        if !names.is_empty() {
            assert!(names.iter().any(|n| n == "pipeline:dq2"), "{names:?}");
        }
        // Dropped mid-stream, without finish.
    }
    // Dropping the handle joined the stage threads: each cleaned up its nodes before it returned.
    for node in ["dq1", "dq2", "dq3"] {
        assert!(log.has(&format!("{node}:cleanup")), "{node}");
    }
    // A joined thread's `/proc` entry can outlast the join by a moment (the kernel reaps it just
    // after waking the joiner): allow it that, not a thread that is still running.
    let outlived = || thread_names().iter().any(|n| n.starts_with("pipeline:dq"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while outlived() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(!outlived(), "a stage thread outlived the dropped handle");
    assert_eq!(p.run(ints(1)).unwrap_err().kind(), ErrorKind::Stopped);
}
