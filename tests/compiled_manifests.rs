//! `pipeline!(manifest = "...")`: the seed's manifests compiled statically give the dynamic
//! loader's outputs and the hand-written macro's; user types mapped in the invocation; export and
//! round trip.

use pipeline::dynamic::{build, BuildOptions, Registry};
use pipeline::prelude::*;
use pipeline::{manifest, workloads};

fn dynamic(name: &str, inputs: &[Value]) -> Vec<Value> {
    let path = format!("{}/examples/manifests/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let lowered = manifest::load(name, &text, &Registry::with_builtins()).unwrap();
    let mut p = build(lowered, BuildOptions::default());
    let out = p.run(inputs.to_vec()).unwrap();
    out.into_iter().map(|t| t.value).collect()
}

/// Ints, numeric strings, and values the Calculator passes through: the seed's semantics.
fn mixed_inputs() -> Vec<Value> {
    let json = |t: &str| serde_json::from_str::<Value>(t).unwrap();
    (0..1000)
        .map(Value::Int)
        .chain([r#""7""#, r#""2.5""#, r#""x""#, "null", "[1]", "1.5"].map(json))
        .collect()
}

#[test]
fn simple_compiled_equals_dynamic_loader() {
    let mut p = pipeline!(manifest = "examples/manifests/simple.json").unwrap();
    let inputs = mixed_inputs();
    assert_eq!(
        p.run(inputs.clone()).unwrap(),
        dynamic("simple.json", &inputs)
    );
}

#[test]
fn complex_compiled_equals_dynamic_loader() {
    let mut p = pipeline!(manifest = "examples/manifests/complex.json").unwrap();
    let inputs = mixed_inputs();
    assert_eq!(
        p.run(inputs.clone()).unwrap(),
        dynamic("complex.json", &inputs)
    );
}

#[test]
fn other_examples_compiled_equal_dynamic_loader() {
    let inputs = mixed_inputs();
    let mut staged = pipeline!(manifest = "examples/manifests/staged.json").unwrap();
    assert_eq!(staged.describe().stage_count(), 4); // the caller's thread and three stages
    assert_eq!(
        staged.run(inputs.clone()).unwrap(),
        dynamic("staged.json", &inputs)
    );
    let mut echo = pipeline!(manifest = "examples/manifests/echo.json").unwrap();
    assert_eq!(
        echo.run(inputs.clone()).unwrap(),
        dynamic("echo.json", &inputs)
    );
    let mut branches = pipeline!(manifest = "examples/manifests/branches.json").unwrap();
    let out = branches.run((1..=4).map(Value::Int)).unwrap();
    assert_eq!(out.items, (2..=5).map(Value::Int).collect::<Vec<_>>());
    assert_eq!(out.count, [Value::Int(4)]);
}

#[test]
fn typed_items_equal_the_hand_written_macro() {
    let mut simple = pipeline!(manifest = "examples/manifests/simple.json", item = i64).unwrap();
    let mut complex = pipeline!(manifest = "examples/manifests/complex.json", item = i64).unwrap();
    assert_eq!(
        simple.run(0..1000).unwrap(),
        workloads::simple_fused().run(0..1000).unwrap()
    );
    assert_eq!(
        complex.run(0..1000).unwrap(),
        workloads::complex_fused().run(0..1000).unwrap()
    );
    // ...and the Value-typed compile agrees with both on ints.
    let mut values = pipeline!(manifest = "examples/manifests/complex.json").unwrap();
    let as_values: Vec<Value> = values.run((0..1000).map(Value::Int)).unwrap();
    let ints: Vec<i64> = as_values.iter().map(|v| v.as_int().unwrap()).collect();
    assert_eq!(ints, workloads::complex_fused().run(0..1000).unwrap());
}

mod nodes {
    use pipeline::prelude::*;

    /// A user node built straight from its params.
    #[derive(serde::Deserialize)]
    pub struct Scale {
        pub factor: i64,
    }

    impl Node for Scale {
        type Input = Value;
        type Output = Value;
        fn process<E: Emitter<Value> + ?Sized>(&mut self, x: Value, out: &mut E) -> Result<()> {
            let x = x.as_int().ok_or_else(|| Error::msg("not an int"))?;
            out.emit(Value::Int(x * self.factor))
        }
    }

    #[derive(serde::Deserialize)]
    pub struct OffsetParams {
        pub by: i64,
    }
}

#[test]
fn user_types_are_mapped_in_the_invocation() {
    let mut p = pipeline!(
        manifest = "tests/manifests/user_nodes.json",
        nodes {
            Scale = nodes::Scale,
            Offset = |p: nodes::OffsetParams| Map::new(move |x: Value| Value::Int(x.as_int().unwrap_or(0) + p.by)),
        }
    )
    .unwrap();
    // 3x + 1 over 0..4, summed on its own stage.
    assert_eq!(p.run((0..4).map(Value::Int)).unwrap(), [Value::Int(22)]);
    assert_eq!(p.describe().stage_count(), 2);
}

#[test]
fn a_bad_user_param_is_a_build_error_naming_the_node() {
    let err = pipeline!(
        manifest = "tests/manifests/bad_user_param.json",
        nodes { Scale = nodes::Scale }
    )
    .err()
    .unwrap();
    assert_eq!(
        err.to_string(),
        "node `scale`: invalid params for `Scale`: param `factor`: invalid type: string \"three\", expected i64"
    );
}

fn example_manifest(name: &str) -> manifest::Manifest {
    let path = format!("{}/examples/manifests/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Nodes and connections as JSON: what "equivalent manifests" compares.
fn graph_of(m: &manifest::Manifest) -> serde_json::Value {
    serde_json::json!({ "nodes": m.nodes, "connections": m.connections })
}

#[test]
fn manifest_compile_export_round_trips() {
    for (name, exported) in [
        (
            "simple.json",
            pipeline!(manifest = "examples/manifests/simple.json")
                .unwrap()
                .to_manifest("simple"),
        ),
        (
            "complex.json",
            pipeline!(manifest = "examples/manifests/complex.json")
                .unwrap()
                .to_manifest("complex"),
        ),
        (
            "staged.json",
            pipeline!(manifest = "examples/manifests/staged.json")
                .unwrap()
                .to_manifest("staged"),
        ),
        (
            "diamond.json",
            pipeline!(manifest = "examples/manifests/diamond.json")
                .unwrap()
                .to_manifest("diamond"),
        ),
        (
            "branches.json",
            pipeline!(manifest = "examples/manifests/branches.json")
                .unwrap()
                .to_manifest("branches"),
        ),
    ] {
        let exported = exported.unwrap();
        assert_eq!(
            graph_of(&exported),
            graph_of(&example_manifest(name)),
            "{name}"
        );
    }
}

#[test]
fn a_hand_written_pipeline_exports_a_manifest_the_loader_runs() {
    let mut p = pipeline! {
        a = PassThrough::new();
        b = Calculator::multiply(Value::Int(3));
        c = OnValues(Sum::<i64>::new());
        input -> a -> b => c -> output.total;
        b -> output.each;
    };
    let exported = p.to_manifest("hand").unwrap();
    let text = serde_json::to_string(&exported).unwrap();
    let lowered = manifest::load("hand.json", &text, &Registry::with_builtins()).unwrap();
    let mut loaded = build(lowered, BuildOptions::default());
    let dynamic: Vec<Value> = loaded
        .run((1..=3).map(Value::Int))
        .unwrap()
        .into_iter()
        .map(|t| t.value)
        .collect();
    let compiled = p.run((1..=3).map(Value::Int)).unwrap();
    assert_eq!(compiled.total, [Value::Int(18)]);
    assert_eq!(compiled.each, [3, 6, 9].map(Value::Int));
    assert_eq!(dynamic, [3, 6, 9, 18].map(Value::Int));
    assert!(exported.nodes[2].stage);

    let mut closure = pipeline! {
        m = Map::new(|x: i64| x);
        input -> m -> output;
    };
    assert_eq!(closure.run([1_i64]).unwrap(), [1]);
    assert_eq!(
        closure.to_manifest("m").unwrap_err().to_string(),
        "node `m`: `Map` has no manifest form (closures and unregistered types cannot be written as JSON)"
    );
}
