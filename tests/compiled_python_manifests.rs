//! `pipeline!(manifest = "...")` with `python` nodes: compiled to the RustPython bridge's typed
//! node (source embedded), they give the run-time loader's outputs and errors, run on their
//! stage's thread, and export back to the manifest they came from.

use pipeline::dynamic::{build, BuildOptions, Registry};
use pipeline::manifest::{self, LoadOptions};
use pipeline::prelude::*;

fn registry() -> Registry {
    let mut registry = Registry::with_builtins();
    pipeline::python::register_python(&mut registry);
    registry
}

/// The manifest at `path` (relative to the crate), loaded and run by the run-time loader.
fn run_time(path: &str, inputs: &[Value]) -> Result<Vec<Value>> {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap();
    let lowered = manifest::load(&full, &text, &registry()).unwrap();
    let mut p = build(lowered, BuildOptions::default());
    let out = p.run(inputs.to_vec());
    p.close().unwrap();
    Ok(out?.into_iter().map(|t| t.value).collect())
}

fn ints(xs: impl IntoIterator<Item = i64>) -> Vec<Value> {
    xs.into_iter().map(Value::Int).collect()
}

#[test]
fn the_python_example_compiled_equals_the_run_time_loader() {
    let mut p = pipeline!(manifest = "examples/manifests/python_node.json").unwrap();
    // `total` is `"stage": true`: its interpreter lives on the stage's thread.
    assert_eq!(p.describe().stage_count(), 2);
    let inputs = ints(1..=5);
    let compiled = p.run(inputs.clone()).unwrap();
    let expected = Value::map([("count", Value::Int(3)), ("total", Value::Int(36))]);
    assert_eq!(compiled, std::slice::from_ref(&expected));
    assert_eq!(
        compiled,
        run_time("examples/manifests/python_node.json", &inputs).unwrap()
    );
    // The started nodes are reused by the next run; `RunningTotal` resets in `finish`.
    assert_eq!(p.run(inputs).unwrap(), [expected]);
    let more = ints(-50..50);
    assert_eq!(
        p.run(more.clone()).unwrap(),
        run_time("examples/manifests/python_node.json", &more).unwrap()
    );
}

#[test]
fn typed_items_cross_into_python_and_equal_the_loader() {
    let path = "tests/manifests/python_typed.json";
    let mut typed = pipeline!(manifest = "tests/manifests/python_typed.json", item = i64).unwrap();
    let mut values = pipeline!(manifest = "tests/manifests/python_typed.json").unwrap();
    assert_eq!(typed.describe().stage_count(), 3);
    let inputs = -20..40_i64;
    let from_typed: Vec<i64> = typed.run(inputs.clone()).unwrap();
    let dynamic = run_time(path, &ints(inputs.clone())).unwrap();
    assert_eq!(ints(from_typed.clone()), dynamic);
    assert_eq!(values.run(ints(inputs.clone())).unwrap(), dynamic);
    // What the nodes compute, by hand: (x + 10) * 2, kept when its tens digit is odd, then it and
    // its successor squared; `Offset.finish` adds -(items seen) * 2 on the same test.
    let mut expected = Vec::new();
    let doubled = inputs.clone().map(|x| (x + 10) * 2).chain([-60 * 2]);
    for x in doubled {
        if (x.div_euclid(10)).rem_euclid(2) == 1 {
            expected.extend([x * x, (x + 1) * (x + 1)]);
        }
    }
    assert!(!expected.is_empty());
    assert_eq!(from_typed, expected);
}

#[test]
fn a_python_exception_in_a_compiled_node_names_the_node() {
    let mut p = pipeline!(manifest = "tests/manifests/python_error.json").unwrap();
    let err = p.run(ints(0..10)).unwrap_err();
    assert_eq!(err.node(), Some("checked"));
    let message = err.to_string();
    assert!(
        message.starts_with("node `checked`: ValueError: bad item 3"),
        "{message}"
    );
    // The traceback names the file as the manifest wrote it, and the line in it.
    assert!(
        message.contains("File \"nodes/numbers.py\", line 22, in check"),
        "{message}"
    );
    let loader = run_time("tests/manifests/python_error.json", &ints(0..10)).unwrap_err();
    assert_eq!(loader.node(), Some("checked"));
    assert!(loader.to_string().contains("ValueError: bad item 3"));
}

#[test]
fn a_bad_python_source_fails_the_build_as_the_loader_fails_the_load() {
    let err = pipeline!(manifest = "tests/manifests/python_bad_source.json")
        .err()
        .unwrap();
    let expected = "node `offset`: invalid params for `python`: param `class`: the source (nodes/numbers.py) defines no class `Ofset` at its top level (it defines: Offset, check)";
    assert_eq!(err.to_string(), expected);
    assert_eq!(err.node(), Some("offset"));
    // The loader says the same, located in the file.
    let full = format!(
        "{}/tests/manifests/python_bad_source.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&full).unwrap();
    let loader = manifest::load(&full, &text, &registry()).err().unwrap();
    assert!(
        loader
            .to_string()
            .ends_with(&format!("(/nodes/0/params/class): error: {expected}")),
        "{loader}"
    );
}

fn manifest_at(path: &str) -> manifest::Manifest {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(full).unwrap()).unwrap()
}

/// Nodes and connections as JSON: what "equivalent manifests" compares.
fn graph_of(m: &manifest::Manifest) -> serde_json::Value {
    serde_json::json!({ "nodes": m.nodes, "connections": m.connections })
}

#[test]
fn compile_export_round_trips_python_nodes() {
    let p = pipeline!(manifest = "examples/manifests/python_node.json").unwrap();
    let exported = p.to_manifest("python_node").unwrap();
    assert_eq!(
        graph_of(&exported),
        graph_of(&manifest_at("examples/manifests/python_node.json"))
    );
    // `file` came back as written: the export loads next to the original and runs the same.
    assert_eq!(exported.nodes[1].params["file"], "nodes/scale.py");
    assert!(!exported.nodes[1].params.contains_key("code"));
    let text = serde_json::to_string(&exported).unwrap();
    let base = format!("{}/examples/manifests", env!("CARGO_MANIFEST_DIR"));
    let options = LoadOptions::with_base_dir(base);
    let lowered =
        manifest::load_with_options("exported.json", &text, &registry(), &options).unwrap();
    let mut reloaded = build(lowered, BuildOptions::default());
    let out: Vec<Value> = reloaded
        .run(ints(1..=5))
        .unwrap()
        .into_iter()
        .map(|t| t.value)
        .collect();
    assert_eq!(
        out,
        [Value::map([
            ("count", Value::Int(3)),
            ("total", Value::Int(36))
        ])]
    );

    let typed = pipeline!(manifest = "tests/manifests/python_typed.json", item = i64).unwrap();
    assert_eq!(
        graph_of(&typed.to_manifest("python_typed").unwrap()),
        graph_of(&manifest_at("tests/manifests/python_typed.json"))
    );
}

#[test]
fn a_hand_written_python_node_exports_its_code() {
    let source = "class Add:\n    def __init__(self, n):\n        self.n = n\n    def process(self, x):\n        return x + self.n\n";
    let mut p = pipeline! {
        add = Python::<i64, i64>::class(source, "Add").with_args(Value::map([("n", Value::Int(5))]));
        half = Python::<i64, f64>::function("def half(x):\n    return x / 2\n", "half").with_filename("half.py");
        input -> add => half -> output;
    };
    let exported = p.to_manifest("hand").unwrap();
    let add = &exported.nodes[0];
    assert_eq!(&*add.node_type, "python");
    assert_eq!(add.params["code"], source);
    assert_eq!(add.params["class"], "Add");
    assert_eq!(add.params["args"], serde_json::json!({"n": 5}));
    assert!(!add.params.contains_key("filename"));
    let half = &exported.nodes[1];
    assert_eq!(half.params["function"], "half");
    assert_eq!(half.params["filename"], "half.py");
    assert!(!half.params.contains_key("args"));
    assert!(half.stage);

    // The loader rebuilds the same pipeline from it.
    let text = serde_json::to_string(&exported).unwrap();
    let lowered = manifest::load("hand.json", &text, &registry()).unwrap();
    let mut loaded = build(lowered, BuildOptions::default());
    let dynamic: Vec<Value> = loaded
        .run(ints(0..4))
        .unwrap()
        .into_iter()
        .map(|t| t.value)
        .collect();
    let compiled: Vec<f64> = p.run(0..4).unwrap();
    assert_eq!(compiled, [2.5, 3.0, 3.5, 4.0]);
    assert_eq!(
        dynamic,
        compiled.into_iter().map(Value::Float).collect::<Vec<_>>()
    );
}
