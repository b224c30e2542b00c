//! Manifests run on the shared runtime: seed semantics, stages on threads, and the same outputs as
//! the same graph written with `pipeline!`.

use pipeline::dynamic::{build, BuildOptions, DynamicPipeline, Registry};
use pipeline::manifest;
use pipeline::prelude::*;

fn example(name: &str) -> DynamicPipeline {
    let path = format!("{}/examples/manifests/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let lowered = manifest::load(name, &text, &Registry::with_builtins()).unwrap();
    build(lowered, BuildOptions::default())
}

fn values(p: &mut DynamicPipeline, items: impl IntoIterator<Item = Value>) -> Vec<Value> {
    p.run(items).unwrap().into_iter().map(|t| t.value).collect()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn simple_manifest_and_macro_pipeline_agree() {
    let inputs: Vec<Value> = (0..1000)
        .map(Value::Int)
        .chain([r#""7""#, r#""2.5""#, r#""x""#, "null", "[1]"].map(json))
        .collect();
    let mut from_manifest = example("simple.json");
    let mut from_macro = pipeline! {
        pass_0 = PassThrough::new();
        calc_1 = Calculator::add(Value::Int(1));
        pass_2 = PassThrough::new();
        input -> pass_0 -> calc_1 -> pass_2 -> output;
    };
    let expected: Vec<Value> = from_macro.run(inputs.clone()).unwrap();
    assert_eq!(values(&mut from_manifest, inputs), expected);
    assert_eq!(expected[0], Value::Int(1));
    assert_eq!(expected[1000], Value::Int(8));
    assert_eq!(expected[1001], Value::Float(3.5));
}

#[test]
fn staged_manifest_and_threaded_macro_pipeline_agree() {
    let inputs: Vec<Value> = (0..5000).map(Value::Int).collect();
    let mut from_manifest = example("staged.json");
    assert_eq!(from_manifest.describe().stage_count(), 4);
    let mut from_macro = pipeline! {
        pass_0 = PassThrough::new();
        calc_1 = Calculator::add(Value::Int(1));
        pass_2 = PassThrough::new();
        input => pass_0 => calc_1 => pass_2 -> output;
    };
    let expected: Vec<Value> = from_macro.run(inputs.clone()).unwrap();
    // Twice: worker threads persist across runs.
    for _ in 0..2 {
        assert_eq!(values(&mut from_manifest, inputs.clone()), expected);
    }
}

#[test]
fn complex_manifest_adds_five() {
    let mut p = example("complex.json");
    assert_eq!(
        values(&mut p, [Value::Int(1), json("\"1.5\"")]),
        [Value::Int(6), Value::Float(6.5)]
    );
}

#[test]
fn echo_counts_items_per_node() {
    let mut p = example("echo.json");
    let out = values(&mut p, [Value::Int(5), json("\"a\"")]);
    assert_eq!(
        out[0],
        json(r#"{"input": 5, "counter": 1, "node": "Echo"}"#)
    );
    assert_eq!(
        out[1],
        json(r#"{"input": "a", "counter": 2, "node": "Echo"}"#)
    );
}

#[test]
fn diamond_fans_out_and_in_across_threads() {
    let mut p = example("diamond.json");
    let mut out: Vec<i64> = values(&mut p, (1..=3).map(Value::Int))
        .iter()
        .map(|v| v.as_int().unwrap())
        .collect();
    out.sort();
    assert_eq!(out, [2, 4, 6, 11, 12, 13]);
}

#[test]
fn several_outputs_are_tagged_by_leaf_id() {
    let mut p = example("branches.json");
    let out = p.run((0..3).map(Value::Int)).unwrap();
    let named: Vec<(&str, Value)> = out
        .iter()
        .map(|t| (p.output_name(t.output), t.value.clone()))
        .collect();
    assert_eq!(
        named,
        [
            ("items", Value::Int(1)),
            ("items", Value::Int(2)),
            ("items", Value::Int(3)),
            ("count", Value::Int(3))
        ]
    );
}

#[test]
fn division_by_zero_names_the_node() {
    let text = r#"{"version": "v1", "metadata": {"name": "div"},
        "nodes": [{"id": "halve", "node_type": "CalculatorNode", "params": {"operation": "divide", "operand": 0}, "stage": true}],
        "connections": []}"#;
    let lowered = manifest::load("div.json", text, &Registry::with_builtins()).unwrap();
    let mut p = build(lowered, BuildOptions::default());
    let err = p.run([Value::Int(1)]).unwrap_err();
    assert_eq!(err.to_string(), "node `halve`: division by zero");
}

#[test]
fn a_typed_node_registers_in_one_line() {
    let mut registry = Registry::with_builtins();
    registry.register("Square", |_: pipeline::dynamic::NoParams| {
        Map::new(|x: i64| x * x)
    });
    let text = r#"{"version": "v1", "metadata": {"name": "sq"},
        "nodes": [{"id": "sq", "node_type": "Square"}, {"id": "sum", "node_type": "Sum"}],
        "connections": [{"from": "sq", "to": "sum"}]}"#;
    let lowered = manifest::load("sq.json", text, &registry).unwrap();
    let mut p = build(lowered, BuildOptions::default());
    assert_eq!(values(&mut p, (1..=3).map(Value::Int)), [Value::Int(14)]);
    let err = p.run([json("\"x\"")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "node `sq`: expected int, got string `\"x\"`"
    );
}
