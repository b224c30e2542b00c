//! Output ports in compiled manifests: a `Partition` compiled by `pipeline!(manifest = "...")`
//! sends each item along the edges of one port, exactly as `pipeline run` of the same file does.

mod support;

use pipeline::prelude::*;
use support::cli::{self, values_of};

/// `pipeline run <manifest> --tag` over `lines`: the values of each output, in order, as JSON.
fn run_tagged(manifest: &str, lines: &[&str]) -> Vec<(String, String)> {
    let path = format!("{}/{manifest}", env!("CARGO_MANIFEST_DIR"));
    let stdin: String = lines.iter().map(|line| format!("{line}\n")).collect();
    cli::run_tagged(&["run", &path, "--tag"], stdin)
}

fn json(values: &[Value]) -> Vec<String> {
    values
        .iter()
        .map(|v| serde_json::to_string(v).unwrap())
        .collect()
}

fn values(lines: &[&str]) -> Vec<Value> {
    lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn a_compiled_partition_sends_items_where_pipeline_run_does() {
    // Above 10 is divided by 10 (`big`), the rest pass (`small`); items of other kinds than
    // numbers are never greater, so they leave by `false`, as at run time.
    let mut lines: Vec<String> = (-5..40).map(|i| i.to_string()).collect();
    lines.extend(["10.5", "10", "\"11\"", "null", "[12]", "true"].map(String::from));
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();

    let mut compiled = pipeline!(manifest = "examples/manifests/partition.json").unwrap();
    let out = compiled.run(values(&lines)).unwrap();
    let tagged = run_tagged("examples/manifests/partition.json", &lines);
    assert_eq!(json(&out.big), values_of(&tagged, "big"));
    assert_eq!(json(&out.small), values_of(&tagged, "small"));
    assert_eq!(out.big.len() + out.small.len(), lines.len());
    assert_eq!(out.big.len(), 30, "the 29 ints 11..=39 and 10.5");
    assert_eq!(tagged.len(), lines.len());
}

#[test]
fn field_tests_chained_and_parallel_partitions_and_an_unconnected_port_match_pipeline_run() {
    let lines = [
        r#"{"name": "ada", "score": 90}"#,
        r#"{"name": "bob", "score": 70}"#,
        r#"{"name": "ada", "score": 10}"#,
        r#"{"name": "ada", "score": 50.0}"#,
        r#"{"name": "eve"}"#,
        r#"7"#,
        r#"{"name": "ada", "score": "99"}"#,
    ];
    let manifest = "tests/manifests/partition_fields.json";
    let mut compiled = pipeline!(manifest = "tests/manifests/partition_fields.json").unwrap();
    let out = compiled.run(values(&lines)).unwrap();
    let tagged = run_tagged(manifest, &lines);
    assert_eq!(json(&out.ada), values_of(&tagged, "ada"));
    assert_eq!(json(&out.failed), values_of(&tagged, "failed"));
    // ada at 90 and at 50.0 pass both tests; bob leaves by `named.false`, which nothing takes.
    assert_eq!(out.ada.len(), 2, "{:?}", out.ada);
    // 10, no score, not a map, and a score that is text: four fail.
    assert_eq!(out.failed, [Value::Int(4)]);
}

#[test]
fn a_compiled_partition_exports_its_ports_parallelism_and_params_as_written() {
    let graph_of = |text: &str| {
        let m: pipeline::manifest::Manifest = serde_json::from_str(text).unwrap();
        serde_json::json!({ "nodes": m.nodes, "connections": m.connections })
    };
    let compiled = pipeline!(manifest = "tests/manifests/partition_fields.json").unwrap();
    let exported = compiled.to_manifest("partition_fields").unwrap();
    let written = include_str!("manifests/partition_fields.json");
    assert_eq!(
        graph_of(&serde_json::to_string(&exported).unwrap()),
        graph_of(written)
    );
}

#[test]
fn a_compiled_route_by_field_sends_items_where_pipeline_run_does() {
    let lines = [
        r#"{"kind": "audio", "n": 1}"#,
        r#"{"kind": "video", "n": 2}"#,
        r#"{"kind": "text", "n": 3}"#,
        r#"{"kind": "video", "n": 4}"#,
        r#"{"n": 5}"#,
        r#"{"kind": 7}"#,
        r#"12"#,
        r#""audio""#,
        r#"{"kind": "audio", "n": 9}"#,
    ];
    let manifest = "examples/manifests/demux.json";
    let mut compiled = pipeline!(manifest = "examples/manifests/demux.json").unwrap();
    let out = compiled.run(values(&lines)).unwrap();
    let tagged = run_tagged(manifest, &lines);
    assert_eq!(json(&out.audio), values_of(&tagged, "audio"));
    assert_eq!(json(&out.videos), values_of(&tagged, "videos"));
    assert_eq!(json(&out.other), values_of(&tagged, "other"));
    assert_eq!(out.audio.len(), 2, "{:?}", out.audio);
    assert_eq!(out.videos, [Value::Int(2)]);
    // No kind, a kind that is not text, a kind no port names, and items that are not maps.
    assert_eq!(out.other.len(), 5, "{:?}", out.other);
}

#[test]
fn a_compiled_route_by_type_on_replicas_and_with_unconnected_ports_matches_pipeline_run() {
    let lines = [
        "1",
        "2.5",
        "\"x\"",
        "[1, 2]",
        "null",
        "true",
        "-4",
        "{\"a\": 1}",
        "\"y\"",
        "7",
    ];
    let manifest = "tests/manifests/route_types.json";
    let mut compiled = pipeline!(manifest = "tests/manifests/route_types.json").unwrap();
    let out = compiled.run(values(&lines)).unwrap();
    let tagged = run_tagged(manifest, &lines);
    assert_eq!(json(&out.ints), values_of(&tagged, "ints"));
    assert_eq!(json(&out.strings), values_of(&tagged, "strings"));
    assert_eq!(json(&out.lists), values_of(&tagged, "lists"));
    assert_eq!(out.ints, [Value::Int(3), Value::Int(-12), Value::Int(21)]);
    assert_eq!(out.strings, [Value::from("x"), Value::from("y")]);
    assert_eq!(out.lists.len(), 1);
    // The float, null, bool and map leave by ports nothing takes: dropped, as at run time.
    assert_eq!(tagged.len(), 6);
}
