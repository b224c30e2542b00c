//! `python` nodes in manifests and pipelines described by Python scripts, through the library API.

use pipeline::dynamic::{build, BuildOptions, Registry};
use pipeline::manifest::{self, LoadOptions};
use pipeline::python::describe_script;
use pipeline::Value;

fn registry() -> Registry {
    let mut registry = Registry::with_builtins();
    pipeline::python::register_python(&mut registry);
    registry
}

fn run(lowered: manifest::LoweredManifest, items: impl IntoIterator<Item = i64>) -> Vec<Value> {
    let mut p = build(lowered, BuildOptions::default());
    let out = p.run(items.into_iter().map(Value::Int)).unwrap();
    p.close().unwrap();
    out.into_iter().map(|t| t.value).collect()
}

#[test]
fn file_params_resolve_against_the_given_base_dir() {
    let text = r#"{"version": "v1", "metadata": {"name": "m"},
      "nodes": [{"id": "scale", "node_type": "python",
                 "params": {"file": "nodes/scale.py", "class": "Scale", "args": {"factor": 5}}}],
      "connections": []}"#;
    let base = format!("{}/examples/manifests", env!("CARGO_MANIFEST_DIR"));
    let options = LoadOptions::with_base_dir(&base);
    let lowered = manifest::load_with_options("inline.json", text, &registry(), &options).unwrap();
    assert_eq!(run(lowered, [1, 2]), [Value::Int(5), Value::Int(10)]);
    // Without a base dir, relative to the file name's folder: here the working directory, which
    // has no `nodes/scale.py`.
    let err = manifest::load("inline.json", text, &registry())
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("cannot read `nodes/scale.py`"),
        "{err}"
    );
}

#[test]
fn python_nodes_each_on_their_own_thread() {
    // Every node a stage: four threads, four interpreters, items crossing three channels.
    let code = "class Add:\n    def __init__(self, n):\n        self.n = n\n    def process(self, x):\n        return x + self.n\n";
    let nodes: Vec<serde_json::Value> = (0..4)
        .map(|i| {
            serde_json::json!({"id": format!("n{i}"), "node_type": "python", "stage": true,
            "params": {"code": code, "class": "Add", "args": {"n": i}}})
        })
        .collect();
    let text = serde_json::json!({"version": "v1", "metadata": {"name": "t"}, "nodes": nodes,
        "connections": [{"from": "n0", "to": "n1"}, {"from": "n1", "to": "n2"}, {"from": "n2", "to": "n3"}]})
    .to_string();
    let lowered = manifest::load("t.json", &text, &registry()).unwrap();
    assert_eq!(lowered.plan.stages.len(), 5);
    let out = run(lowered, 0..3000);
    assert_eq!(out.len(), 3000);
    assert_eq!(out[2999], Value::Int(2999 + 6));
}

#[test]
fn a_replicated_python_node_is_refused_at_load_naming_the_node() {
    // Replicas would run on rayon's threads, and an interpreter lives on one thread: refused
    // before any item, where the manifest says it, rather than failing mid-run.
    let text = r#"{"version": "v1", "metadata": {"name": "m"},
      "nodes": [{"id": "double", "node_type": "python", "parallelism": 4,
                 "params": {"code": "def double(x):\n    return 2 * x\n", "function": "double"}}],
      "connections": []}"#;
    let err = manifest::load("par.json", text, &registry()).err().unwrap();
    let problem = err.errors().next().unwrap();
    assert_eq!(problem.node.as_deref(), Some("double"));
    assert_eq!(problem.location.pointer, "/nodes/0/parallelism");
    assert_eq!(problem.location.line, 2);
    assert!(
        problem
            .message()
            .contains("`python` node cannot be replicated"),
        "{}",
        problem.message()
    );
    let one = text.replace(r#""parallelism": 4"#, r#""parallelism": 1"#);
    let lowered = manifest::load("par.json", &one, &registry()).unwrap();
    assert_eq!(run(lowered, [1, 2]), [Value::Int(2), Value::Int(4)]);
}

#[test]
fn a_script_main_returns_its_pipeline() {
    let script = r#"
import pipeline

class Offset:
    def __init__(self, by):
        self.by = by
    def process(self, x):
        return x + self.by

def main():
    pipeline.Pipeline("ignored").node("Echo")   # not returned: not the script's pipeline
    p = pipeline.Pipeline("chosen")
    "input" >> p.node(Offset, id="off", by=10) >> "output.result"
    return p
"#;
    let described = describe_script("main.py", script).unwrap();
    assert_eq!(described.manifest.metadata.name, "chosen");
    assert_eq!(described.manifest.nodes.len(), 1);
    let lowered = described.load(&registry()).unwrap();
    assert_eq!(
        lowered.graph.outputs,
        [pipeline::graph::Name::from("result")]
    );
    assert_eq!(run(lowered, [1]), [Value::Int(11)]);
}

#[test]
fn script_mistakes_are_errors_with_the_reason() {
    let cases = [
        ("import pipeline\n", "the script builds no pipeline"),
        (
            "import pipeline\n\ndef make():\n    def inner(x):\n        return x\n    return inner\n\npipeline.node(make())\n",
            "function 'inner' must be defined at the top level of the script",
        ),
        (
            "import pipeline\n\ndef f(x):\n    return x\n\npipeline.node(f, factor=2)\n",
            "function node 'f' takes no arguments (got factor)",
        ),
        ("import pipeline\npipeline.node(42)\n", "node() takes a node type name, a class or a function"),
        ("import os\n", "import of 'os' is not allowed"),
    ];
    for (script, message) in cases {
        let err = describe_script("s.py", script)
            .err()
            .unwrap_or_else(|| panic!("{script}"));
        assert!(err.to_string().contains(message), "{script}: {err}");
    }
}

#[test]
fn a_script_error_carries_the_traceback_of_the_script() {
    let err = describe_script("t.py", "import pipeline\n\nx = 1\ny = x / 0\n")
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(text.contains("ZeroDivisionError"), "{text}");
    assert!(
        text.contains("File \"t.py\", line 4") && text.contains("y = x / 0"),
        "{text}"
    );
}

#[test]
fn python_node_tracebacks_show_script_lines() {
    let script = "import pipeline\n\ndef check(x):\n    if x > 1:\n        raise ValueError('too big')\n    return x\n\npipeline.node(check)\n";
    let lowered = describe_script("check.py", script)
        .unwrap()
        .load(&registry())
        .unwrap();
    let mut p = build(lowered, BuildOptions::default());
    let err = p.run([Value::Int(1), Value::Int(2)]).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("node `check`"), "{text}");
    assert!(
        text.contains("File \"check.py\", line 5, in check"),
        "{text}"
    );
}

/// A manifest of `python` class nodes from one source, chained in order.
fn chain(code: &str, classes: &[&str]) -> String {
    let nodes: Vec<serde_json::Value> = classes
        .iter()
        .map(|class| {
            serde_json::json!({"id": class.to_lowercase(), "node_type": "python",
                "params": {"code": code, "class": class}})
        })
        .collect();
    let connections: Vec<serde_json::Value> = classes
        .windows(2)
        .map(|w| serde_json::json!({"from": w[0].to_lowercase(), "to": w[1].to_lowercase()}))
        .collect();
    serde_json::json!({"version": "v1", "metadata": {"name": "batch"}, "nodes": nodes,
        "connections": connections})
    .to_string()
}

const BATCH_NODES: &str = "class Double:\n    def __init__(self):\n        self.calls = 0\n    def process_batch(self, items):\n        self.calls += 1\n        return [x * 2 for x in items]\n    def finish(self):\n        yield {'calls': self.calls}\n\nclass Evens:\n    def process_batch(self, items):\n        for x in items:\n            if isinstance(x, int) and x % 4 == 0:\n                yield x\n\nclass Boom:\n    def process_batch(self, items):\n        if 8642 in items:\n            raise ValueError('boom')\n        return items\n\nclass Both:\n    def process(self, x):\n        raise ValueError('process is not used when process_batch exists')\n    def process_batch(self, items):\n        return tuple(items)\n";

#[test]
fn process_batch_is_called_once_per_batch_not_per_item() {
    let text = chain(BATCH_NODES, &["Double", "Both", "Evens"]);
    let lowered = manifest::load("batch.json", &text, &registry()).unwrap();
    let out = run(lowered, 0..10_000);
    // Doubled: 0, 2, ..., 19998; multiples of 4 are kept: 5,000 of them; then Double's count.
    assert_eq!(out.len(), 5_000);
    assert_eq!(out[1], Value::Int(4));
    assert_eq!(out[4_999], Value::Int(19_996));

    let text = chain(BATCH_NODES, &["Double"]);
    let lowered = manifest::load("batch.json", &text, &registry()).unwrap();
    let out = run(lowered, 0..10_000);
    assert_eq!(out.len(), 10_001);
    let calls = out[10_000].get("calls").and_then(Value::as_int).unwrap();
    // The run hands the stage chunks of a few hundred items: one call each.
    assert!(
        (1..=10_000 / 128).contains(&calls),
        "{calls} calls for 10,000 items"
    );
}

#[test]
fn a_failing_batch_names_the_batchs_first_item_and_keeps_earlier_batches() {
    // One-to-one batches (a list as long as the batch) keep each output's own origin.
    let text = chain(BATCH_NODES, &["Double", "Boom"]);
    let lowered = manifest::load("batch.json", &text, &registry()).unwrap();
    let mut p = build(lowered, BuildOptions::default());
    let mut delivered = Vec::new();
    // The batch with 4321 (doubled: 8642) fails in `boom`.
    let err = p
        .run_with((0..10_000).map(Value::Int), |tagged| {
            delivered.push(tagged.value);
            Ok(())
        })
        .unwrap_err();
    assert_eq!(err.node(), Some("boom"), "{err}");
    assert!(err.message().contains("ValueError: boom"), "{err}");
    let failed = err.failed_item().expect("the failure is traced to an item");
    assert!(failed <= 4321, "{failed}");
    // Every output of the items before the failing batch was delivered, in order, none after.
    assert_eq!(delivered.len() as u64, failed);
    assert!(delivered
        .iter()
        .enumerate()
        .all(|(i, v)| *v == Value::Int(2 * i as i64)));
}
