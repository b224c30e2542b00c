//! The real `pipeline` binary: every subcommand, JSON Lines in and out, bad input, streaming.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use support::cli::{pipeline, text};

fn example(name: &str) -> String {
    format!("{}/examples/manifests/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn run_reads_and_writes_json_lines() {
    let out = pipeline(
        &["run", &example("simple.json")],
        "1\n\n\"2.5\"\n{\"k\": 1}\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "2\n3.5\n{\"k\":1}\n");
}

#[test]
fn run_tags_outputs_and_reports_stats() {
    let out = pipeline(
        &["run", &example("branches.json"), "--tag", "--stats"],
        "1\n2\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "{\"node\":\"items\",\"value\":2}\n{\"node\":\"items\",\"value\":3}\n{\"node\":\"count\",\"value\":2}\n"
    );
    let stats = text(&out.stderr);
    assert!(stats.contains("items in"), "{stats}");
    assert!(
        stats
            .lines()
            .any(|l| l.starts_with("add") && l.split_whitespace().nth(1) == Some("2")),
        "{stats}"
    );
}

#[test]
fn run_uses_input_and_output_files() {
    let dir = std::env::temp_dir().join(format!("pipeline-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input, output) = (dir.join("in.jsonl"), dir.join("out.jsonl"));
    std::fs::write(
        &input,
        (0..3000).map(|i| format!("{i}\n")).collect::<String>(),
    )
    .unwrap();
    let out = pipeline(
        &[
            "run",
            &example("staged.json"),
            "--input",
            input.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&output).unwrap();
    assert_eq!(written.lines().count(), 3000);
    assert_eq!(written.lines().last(), Some("3000"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_bad_input_line_names_its_number() {
    let out = pipeline(&["run", &example("simple.json")], "1\n2\n{oops\n4\n");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("input line 3, column 2: not valid JSON"),
        "{stderr}"
    );
}

#[test]
fn a_node_error_names_the_node() {
    let out = pipeline(&["run", &example("simple.json")], format!("{}\n", i64::MAX));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("node `calc_1`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn run_fails_before_any_item_when_a_required_gpu_is_missing() {
    let out = pipeline(&["run", &example("invalid/gpu_required.json")], "1\n");
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("node `infer`: cannot run here: gpu: needs a cuda GPU"),
        "{stderr}"
    );
    assert!(
        stderr.contains("gpu_required.json:5:21 at /nodes/0/capabilities"),
        "{stderr}"
    );
}

/// `pipeline run manifest` reading the test's pipe and writing to one it reads.
fn run_piped(manifest: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_pipeline"))
        .args(["run", manifest])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn outputs_stream_before_the_input_ends() {
    let mut child = run_piped(&example("staged.json"));
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    for i in 0..3 {
        writeln!(stdin, "{i}").unwrap();
        stdin.flush().unwrap();
        line.clear();
        // Blocks until the item has crossed all three stage threads: stdin is still open.
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line, format!("{}\n", i + 1));
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn outputs_stream_before_the_input_ends_past_the_output_buffer() {
    // 100,000 outputs pass the output buffer (256 KiB) twice over: a pause in the input must still
    // show what came before it, the last full buffer's rest included.
    let mut child = run_piped(&example("simple.json"));
    let mut stdin = child.stdin.take().unwrap();
    let (send_last, last) = std::sync::mpsc::channel::<()>();
    let feeder = std::thread::spawn(move || {
        let bulk: String = (0..100_000).map(|i| format!("{i}\n")).collect();
        stdin.write_all(bulk.as_bytes()).unwrap();
        stdin.flush().unwrap();
        last.recv().unwrap();
        stdin.write_all(b"-7\n").unwrap();
        stdin.flush().unwrap();
        // Open until the last output has been read.
        last.recv().unwrap();
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    for i in 0..100_000 {
        line.clear();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line, format!("{}\n", i + 1));
    }
    send_last.send(()).unwrap();
    line.clear();
    // Blocks until the output shows: stdin is still open.
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "-6\n");
    send_last.send(()).unwrap();
    feeder.join().unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn validate_accepts_examples_and_rejects_with_a_snippet() {
    let out = pipeline(&["validate", &example("diamond.json")], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("valid: pipeline `diamond`, 4 nodes"));
    let out = pipeline(
        &["validate", &example("invalid/unknown_node_type.json")],
        "",
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("node `calc_1`: unknown node type `CalculaterNode`"),
        "{stderr}"
    );
    assert!(stderr.contains("unknown_node_type.json:5:34"), "{stderr}");
    assert!(
        stderr.contains(r#"{"id": "calc_1", "node_type": "CalculaterNode"}"#),
        "snippet: {stderr}"
    );
}

#[test]
fn validate_warns_about_unknown_fields() {
    let out = pipeline(&["validate", &example("capabilities.json")], "");
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("node `count`: unknown field `is_streaming` is ignored"));
}

#[test]
fn graph_prints_mermaid_and_dot() {
    let out = pipeline(&["graph", &example("diamond.json")], "");
    let mermaid = text(&out.stdout);
    assert!(mermaid.starts_with("flowchart LR"), "{mermaid}");
    // Vertices get generated ids; names are labels.
    assert!(mermaid.contains("n0[\"split: PassThrough\"]"), "{mermaid}");
    assert!(
        mermaid.contains("n1[\"double: CalculatorNode\"]"),
        "{mermaid}"
    );
    assert!(mermaid.contains("n0 ==> n1"), "{mermaid}");
    let out = pipeline(&["graph", &example("simple.json"), "--format", "dot"], "");
    let dot = text(&out.stdout);
    assert!(
        dot.contains("n0 [shape=box, label=\"pass_0\\nPassThrough\"];"),
        "{dot}"
    );
    assert!(dot.contains("n0 -> n1;"), "{dot}");
}

#[test]
fn nodes_lists_types_params_and_ports() {
    let out = pipeline(&["nodes"], "");
    let listing = text(&out.stdout);
    assert!(
        listing.contains("Calculator (also CalculatorNode): any -> any"),
        "{listing}"
    );
    assert!(
        listing.contains("operation: add | subtract | multiply | divide"),
        "{listing}"
    );
    assert!(listing.contains("Sum: int -> int"), "{listing}");
    // Each built-in's one-line doc, from its spec, under its name.
    assert!(
        listing.contains("Batch: any -> list\n    Groups items into lists of `size`"),
        "{listing}"
    );
}

#[test]
fn plan_places_nodes_and_fails_on_unsatisfiable_ones() {
    let out = pipeline(&["plan", &example("capabilities.json")], "");
    assert!(out.status.success());
    let plan = text(&out.stdout);
    assert!(
        plan.contains("infer: local (cpu fallback: gpu: needs a cuda GPU with 4 GB"),
        "{plan}"
    );
    assert!(
        plan.contains("stage 0 (caller's thread, entered at input): decode, infer, count"),
        "{plan}"
    );
    let out = pipeline(&["plan", &example("invalid/gpu_required.json")], "");
    assert!(!out.status.success());
    assert!(text(&out.stdout).contains("infer: UNSATISFIABLE"));
}

#[test]
fn schema_prints_the_committed_schema() {
    let out = pipeline(&["schema"], "");
    let committed = std::fs::read_to_string(format!(
        "{}/schema/manifest.v1.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert_eq!(text(&out.stdout), committed);
}
