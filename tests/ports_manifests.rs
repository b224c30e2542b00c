//! Named output ports through the real `pipeline` binary: manifests (and a Python script) whose
//! `Partition` and `Route` nodes send each item along the edges of one port.

mod support;

use std::path::PathBuf;
use support::cli::{self, pipeline, text, values_of};

/// Writes a manifest with these nodes and connections to a file of its own; returns its path.
fn manifest(name: &str, nodes: &str, connections: &str) -> String {
    let text = format!(
        "{{\"version\": \"v1\",\n \"metadata\": {{\"name\": \"{name}\"}},\n \"nodes\": [\n{nodes}\n ],\n \"connections\": [\n{connections}\n ]}}\n"
    );
    write(&format!("{name}.json"), &text)
}

fn write(file: &str, text: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ports_manifests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Runs `manifest` with `--tag` over `items` (one JSON value each); the `(output, value)` pairs.
fn run_tagged(manifest: &str, extra: &[&str], items: &str) -> Vec<(String, String)> {
    let mut args = vec!["run", manifest, "--tag"];
    args.extend_from_slice(extra);
    cli::run_tagged(&args, items)
}

fn numbers(range: std::ops::RangeInclusive<i64>) -> String {
    range.map(|i| format!("{i}\n")).collect()
}

fn strings(values: impl IntoIterator<Item = i64>) -> Vec<String> {
    values.into_iter().map(|v| v.to_string()).collect()
}

const SPLIT: &str = r#"   {"id": "split", "node_type": "Partition", "params": {"op": "even"}}"#;

#[test]
fn each_port_feeds_only_its_own_edges_and_a_port_fans_out() {
    let path = manifest(
        "fan_out",
        &format!(
            r#"{SPLIT},
   {{"id": "half", "node_type": "Calculator", "params": {{"operation": "divide", "operand": 2}}}},
   {{"id": "neg", "node_type": "Calculator", "params": {{"operation": "multiply", "operand": -1}}}}"#
        ),
        r#"   {"from": "input", "to": "split"},
   {"from": "split.true", "to": "half"},
   {"from": "split.false", "to": "neg"},
   {"from": "split.true", "to": "output.raw_evens"},
   {"from": "half", "to": "output.halves"},
   {"from": "neg", "to": "output.negated_odds"}"#,
    );
    let tagged = run_tagged(&path, &[], &numbers(1..=9));
    assert_eq!(values_of(&tagged, "raw_evens"), strings([2, 4, 6, 8]));
    assert_eq!(values_of(&tagged, "halves"), strings([1, 2, 3, 4]));
    assert_eq!(
        values_of(&tagged, "negated_odds"),
        strings([-1, -3, -5, -7, -9])
    );
    assert_eq!(tagged.len(), 13);
}

#[test]
fn a_node_with_ports_and_no_connection_out_has_an_output_per_port() {
    let path = manifest("implicit", SPLIT, "");
    let tagged = run_tagged(&path, &[], &numbers(1..=4));
    assert_eq!(values_of(&tagged, "split.true"), strings([2, 4]));
    assert_eq!(values_of(&tagged, "split.false"), strings([1, 3]));
}

#[test]
fn unconnected_ports_are_dropped_and_several_ports_can_meet_in_one_node() {
    // Only `true` is connected: odd items are dropped.
    let path = manifest(
        "dropped",
        SPLIT,
        r#"   {"from": "input", "to": "split"}, {"from": "split.true", "to": "output"}"#,
    );
    let out = pipeline(&["run", &path], numbers(1..=6));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "2\n4\n6\n");

    // Both ports into one `Merge`: every item arrives once, each port's items in order.
    let path = manifest(
        "merged",
        &format!(r#"{SPLIT}, {{"id": "both", "node_type": "Merge"}}"#),
        r#"   {"from": "input", "to": "split"},
   {"from": "split.true", "to": "both"},
   {"from": "split.false", "to": "both"},
   {"from": "both", "to": "output"}"#,
    );
    let out = pipeline(&["run", &path], numbers(1..=6));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut values: Vec<i64> = text(&out.stdout)
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    let evens: Vec<i64> = values.iter().copied().filter(|v| v % 2 == 0).collect();
    let odds: Vec<i64> = values.iter().copied().filter(|v| v % 2 != 0).collect();
    assert_eq!((evens, odds), (vec![2, 4, 6], vec![1, 3, 5]));
    values.sort_unstable();
    assert_eq!(values, (1..=6).collect::<Vec<_>>());
}

#[test]
fn a_port_crosses_into_a_stage_of_its_own() {
    let path = manifest(
        "staged",
        &format!(
            r#"{SPLIT},
   {{"id": "slow", "node_type": "Calculator", "params": {{"operand": 100}}, "stage": true}},
   {{"id": "count", "node_type": "Count"}}"#
        ),
        r#"   {"from": "input", "to": "split"},
   {"from": "split.true", "to": "slow"},
   {"from": "split.false", "to": "count"},
   {"from": "slow", "to": "output.evens"},
   {"from": "count", "to": "output.odds"}"#,
    );
    let tagged = run_tagged(&path, &["--batch-size", "3"], &numbers(1..=1000));
    let expected: Vec<String> = strings((1..=500).map(|i| 2 * i + 100));
    assert_eq!(values_of(&tagged, "evens"), expected);
    assert_eq!(values_of(&tagged, "odds"), strings([500]));
    let graph = pipeline(&["graph", &path], "");
    let mermaid = text(&graph.stdout);
    assert!(mermaid.contains(r#"n0 ==>|"true"| n1"#), "{mermaid}");
    assert!(mermaid.contains(r#"n0 -->|"false"| n2"#), "{mermaid}");
}

#[test]
fn a_parallel_partition_keeps_each_ports_order_and_is_counted() {
    let path = manifest(
        "parallel",
        r#"   {"id": "big", "node_type": "Partition", "params": {"op": "gt", "value": 500},
    "parallelism": 3, "batch_size": 16}"#,
        r#"   {"from": "input", "to": "big"},
   {"from": "big.true", "to": "output.big"},
   {"from": "big.false", "to": "output.small"}"#,
    );
    let tagged = run_tagged(&path, &[], &numbers(1..=2000));
    assert_eq!(values_of(&tagged, "big"), strings(501..=2000));
    assert_eq!(values_of(&tagged, "small"), strings(1..=500));
    // With per-node stats: every item in, every item out, whichever port it left by.
    let out = pipeline(&["run", &path, "--stats"], numbers(1..=2000));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stats = text(&out.stderr);
    let line = stats.lines().find(|l| l.starts_with("big ")).unwrap();
    let counts: Vec<&str> = line.split_whitespace().take(3).collect();
    assert_eq!(counts, ["big", "2000", "2000"], "{stats}");
}

#[test]
fn route_by_field_sends_unmatched_items_to_other() {
    let path = manifest(
        "demux",
        r#"   {"id": "demux", "node_type": "Demux", "params": {"field": "kind", "ports": ["audio", "video"]}}"#,
        r#"   {"from": "input", "to": "demux"},
   {"from": "demux.audio", "to": "output.audio"},
   {"from": "demux.video", "to": "output.video"},
   {"from": "demux.other", "to": "output.other"}"#,
    );
    let items = r#"{"kind": "video", "n": 1}
{"kind": "audio", "n": 2}
{"kind": "text", "n": 3}
{"n": 4}
5
{"kind": "video", "n": 6}
"#;
    let tagged = run_tagged(&path, &[], items);
    let n = |output| -> Vec<i64> {
        values_of(&tagged, output)
            .iter()
            .map(|v| {
                let v: serde_json::Value = serde_json::from_str(v).unwrap();
                v.get("n")
                    .and_then(|n| n.as_i64())
                    .unwrap_or_else(|| v.as_i64().unwrap())
            })
            .collect()
    };
    assert_eq!(n("video"), [1, 6]);
    assert_eq!(n("audio"), [2]);
    assert_eq!(n("other"), [3, 4, 5]);
}

#[test]
fn route_by_type_gives_each_type_a_typed_port() {
    let path = manifest(
        "by_type",
        r#"   {"id": "kind", "node_type": "Route", "params": {"by": "type"}},
   {"id": "sum", "node_type": "Sum"}"#,
        r#"   {"from": "input", "to": "kind"},
   {"from": "kind.int", "to": "sum"},
   {"from": "kind.string", "to": "output.text"},
   {"from": "sum", "to": "output.total"}"#,
    );
    let tagged = run_tagged(&path, &[], "1\n\"a\"\n2.5\n3\nnull\n\"b\"\n");
    assert_eq!(values_of(&tagged, "text"), ["\"a\"", "\"b\""]);
    assert_eq!(values_of(&tagged, "total"), ["4"]);
}

#[test]
fn an_unknown_port_is_an_error_at_its_json_location() {
    let path = manifest(
        "unknown_port",
        &format!(r#"{SPLIT}, {{"id": "a", "node_type": "Echo"}}"#),
        r#"   {"from": "input", "to": "split"},
   {"from": "split.ture", "to": "a"},
   {"from": "a", "to": "output"}"#,
    );
    for command in ["run", "validate"] {
        let out = pipeline(&[command, &path], "1\n");
        assert!(!out.status.success());
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("`split` has no output port `ture` (did you mean `split.true`?)"),
            "{stderr}"
        );
        assert!(stderr.contains("unknown_port.json:8:13"), "{stderr}");
        assert!(stderr.contains("/connections/1/from"), "{stderr}");
    }
    // An edge from a node with ports must name one.
    let path = manifest(
        "port_required",
        SPLIT,
        r#"   {"from": "input", "to": "split"}, {"from": "split", "to": "output"}"#,
    );
    let out = pipeline(&["validate", &path], "");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("`split` has several outputs (`true` and `false`): name the one this edge leaves by, e.g. `split.true`"),
        "{stderr}"
    );
}

#[test]
fn a_port_of_the_wrong_type_is_an_error_at_its_connection() {
    let path = manifest(
        "wrong_type",
        r#"   {"id": "kind", "node_type": "Route", "params": {"by": "type"}},
   {"id": "sum", "node_type": "Sum"}"#,
        r#"   {"from": "input", "to": "kind"},
   {"from": "kind.list", "to": "sum"},
   {"from": "sum", "to": "output"}"#,
    );
    let out = pipeline(&["validate", &path], "");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("`kind.list` emits list but `sum` accepts int"),
        "{stderr}"
    );
    assert!(stderr.contains("wrong_type.json:9:4"), "{stderr}");
}

#[test]
fn bad_partition_params_name_the_node_and_the_param() {
    let path = manifest(
        "bad_params",
        r#"   {"id": "split", "node_type": "Partition", "params": {"op": "gt"}}"#,
        "",
    );
    let out = pipeline(&["validate", &path], "");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("node `split`: invalid params for `Partition`: param `value`: `gt` compares with a `value`"),
        "{stderr}"
    );
    assert!(stderr.contains("/nodes/0/params"), "{stderr}");
}

#[test]
fn the_port_limit_has_a_flag() {
    let ports: Vec<String> = (0..300).map(|i| format!("\"p{i}\"")).collect();
    let path = manifest(
        "many_ports",
        &format!(
            r#"   {{"id": "demux", "node_type": "Route", "params": {{"field": "k", "ports": [{}]}}}}"#,
            ports.join(", ")
        ),
        "",
    );
    let out = pipeline(&["validate", &path], "");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("301 output ports, more than the limit of 256"),
        "{stderr}"
    );
    assert!(stderr.contains("--max-ports"), "{stderr}");
    let out = pipeline(&["validate", &path, "--max-ports", "301"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn nodes_lists_ports_and_graph_labels_port_edges() {
    let out = pipeline(&["nodes"], "");
    let listing = text(&out.stdout);
    assert!(listing.contains("Partition: any -> any\n"), "{listing}");
    assert!(
        listing.contains("    ports: true: as input, false: as input\n"),
        "{listing}"
    );
    assert!(listing.contains("Route (also Demux)"), "{listing}");
    assert!(listing.contains("other: any"), "{listing}");
    let path = manifest("dot", SPLIT, "");
    let out = pipeline(&["graph", &path, "--format", "dot"], "");
    let dot = text(&out.stdout);
    assert!(dot.contains("n0 -> out0 [label=\"true\"];"), "{dot}");
    assert!(dot.contains("label=\"output.split.false\""), "{dot}");
}

#[test]
fn a_python_script_leaves_a_node_by_a_port_attribute() {
    let script = write(
        "ports_script.py",
        r#"import pipeline

def main():
    p = pipeline.Pipeline("split")
    split = p.node("Partition", op="even")
    "input" >> split
    split.true >> p.node("CalculatorNode", operation="divide", operand=2) >> "output.halves"
    split.port("false") >> "output.odds"
    return p
"#,
    );
    let tagged = run_tagged(&script, &[], &numbers(1..=6));
    assert_eq!(values_of(&tagged, "halves"), strings([1, 2, 3]));
    assert_eq!(values_of(&tagged, "odds"), strings([1, 3, 5]));

    // A misspelt port is an error at the script's line.
    let misspelt = write(
        "ports_misspelt.py",
        "import pipeline\np = pipeline.Pipeline(\"m\")\nsplit = p.node(\"Partition\", op=\"odd\")\n\"input\" >> split\nsplit.flase >> \"output\"\n",
    );
    let out = pipeline(&["run", &misspelt], "1\n");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("`Partition` has no output port `flase` (did you mean `Partition.false`?)"),
        "{stderr}"
    );
    assert!(stderr.contains("ports_misspelt.py:5:"), "{stderr}");

    // A port is a source: connecting into one says so.
    let into_port = write(
        "ports_into.py",
        "import pipeline\np = pipeline.Pipeline(\"m\")\nsplit = p.node(\"Partition\", op=\"odd\")\n\"input\" >> split.true\n",
    );
    let out = pipeline(&["run", &into_port], "1\n");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("is an output port"), "{stderr}");
    assert!(stderr.contains("line 4"), "{stderr}");
}

#[test]
fn isolated_python_nodes_behind_a_port_still_run_as_one_chain_in_order() {
    // `split.true -> double -> inc`: the two Python nodes may share one worker; the odd items
    // bypass them.
    let path = manifest(
        "python_port",
        &format!(
            r#"{SPLIT},
   {{"id": "double", "node_type": "python", "params": {{"code": "def f(x):\n    return x * 2\n", "function": "f"}}}},
   {{"id": "inc", "node_type": "python", "params": {{"code": "def g(x):\n    return x + 1\n", "function": "g"}}}}"#
        ),
        r#"   {"from": "input", "to": "split"},
   {"from": "split.true", "to": "double"},
   {"from": "double", "to": "inc"},
   {"from": "inc", "to": "output.evens"},
   {"from": "split.false", "to": "output.odds"}"#,
    );
    let tagged = run_tagged(&path, &[], &numbers(1..=200));
    assert_eq!(
        values_of(&tagged, "evens"),
        strings((1..=100).map(|i| 4 * i + 1))
    );
    assert_eq!(
        values_of(&tagged, "odds"),
        strings((0..100).map(|i| 2 * i + 1))
    );
}

#[test]
fn a_parallel_partition_may_start_a_stage_whose_ports_cross_into_another() {
    let path = manifest(
        "staged_partition",
        r#"   {"id": "a", "node_type": "PassThrough"},
   {"id": "split", "node_type": "Partition", "params": {"op": "even"}, "stage": true, "parallelism": 2},
   {"id": "count", "node_type": "Count", "stage": true}"#,
        r#"   {"from": "input", "to": "a"},
   {"from": "a", "to": "split"},
   {"from": "split.true", "to": "count"},
   {"from": "split.false", "to": "output.odds"},
   {"from": "count", "to": "output.evens"}"#,
    );
    let tagged = run_tagged(&path, &[], &numbers(1..=10_001));
    assert_eq!(values_of(&tagged, "evens"), ["5000"]);
    assert_eq!(
        values_of(&tagged, "odds"),
        strings((0..5001).map(|i| 2 * i + 1))
    );
}
