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
