//! The real `pipeline` binary with Python: manifests with `python` nodes and Python pipeline
//! scripts through `run`, `validate`, `graph`, `plan` and `export`, and their errors.

mod support;

use std::path::{Path, PathBuf};
use support::cli::{pipeline, text};

fn example(path: &str) -> String {
    format!("{}/examples/{path}", env!("CARGO_MANIFEST_DIR"))
}

/// A fresh folder for this test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pipeline-py-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.display().to_string()
}

#[test]
fn run_a_manifest_with_file_inline_and_staged_python_nodes() {
    // add 1 -> x3 (file) -> evens (inline) -> running total (file, own thread, `finish`)
    let out = pipeline(
        &["run", &example("manifests/python_node.json")],
        "1\n2\n3\n4\n5\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "{\"count\":3,\"total\":36}\n");
}

#[test]
fn run_a_script_mixing_builtin_and_python_nodes() {
    let out = pipeline(&["run", &example("python/pipeline.py")], "1\n2\n3\n4\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    // (x + 1) * 3, odd ones: 9, 15 -> count 2, sum 24
    assert_eq!(text(&out.stdout), "{\"count\":2,\"sum\":24}\n");
    assert!(
        text(&out.stderr).contains("[python Stats] stats: 2 items"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn validate_graph_and_plan_accept_a_script() {
    let script = example("python/pipeline.py");
    let out = pipeline(&["validate", &script], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("valid: pipeline `mixed`, 4 nodes, 3 connections, 2 stage(s)"),
        "{}",
        text(&out.stdout)
    );
    let out = pipeline(&["graph", &script, "--format", "dot"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dot = text(&out.stdout);
    assert!(
        dot.contains("digraph")
            && dot.contains("add\\nCalculatorNode")
            && dot.contains("Scale\\npython"),
        "{dot}"
    );
    let out = pipeline(&["plan", &script], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("stage 1 (own thread, entered at Stats): Stats"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_script_and_its_exported_manifest_give_the_same_outputs() {
    let dir = scratch("export");
    let script = example("python/pipeline.py");
    let exported = dir.join("exported.json").display().to_string();
    let out = pipeline(&["export", &script, "-o", &exported], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&exported).unwrap()).unwrap();
    let scale = &manifest["nodes"][1];
    assert_eq!(scale["node_type"], "python");
    assert_eq!(scale["params"]["class"], "Scale");
    assert!(scale["params"]["code"]
        .as_str()
        .unwrap()
        .contains("class Scale:"));
    let stats = manifest["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == "Stats")
        .unwrap();
    assert_eq!(stats["stage"], true);

    let input: String = (0..50).map(|i| format!("{i}\n")).collect();
    let from_script = pipeline(&["run", &script, "--tag"], &input);
    let from_manifest = pipeline(&["run", &exported, "--tag"], &input);
    assert!(
        from_script.status.success(),
        "{}",
        text(&from_script.stderr)
    );
    assert!(
        from_manifest.status.success(),
        "{}",
        text(&from_manifest.stderr)
    );
    assert_eq!(text(&from_script.stdout), text(&from_manifest.stdout));
    assert_eq!(
        text(&from_script.stdout),
        "{\"node\":\"Stats\",\"value\":{\"count\":25,\"sum\":1875}}\n"
    );

    // Without -o the manifest goes to stdout.
    let out = pipeline(&["export", &script], "");
    assert_eq!(
        text(&out.stdout),
        std::fs::read_to_string(&exported).unwrap()
    );
}

#[test]
fn a_syntax_error_in_a_script_shows_the_line_and_caret() {
    let dir = scratch("syntax");
    let script = write(
        &dir,
        "bad.py",
        "import pipeline\n\ndef f(x)\n    return x\n",
    );
    let out = pipeline(&["validate", &script], "");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.py") && err.contains("SyntaxError"),
        "{err}"
    );
    assert!(
        err.contains("line 3") && err.contains("def f(x)") && err.contains('^'),
        "{err}"
    );
}

#[test]
fn an_unknown_node_type_in_a_script_reads_like_a_manifest_error_at_the_script_line() {
    let dir = scratch("unknown");
    let script = write(
        &dir,
        "typo.py",
        "import pipeline\n\na = pipeline.node(\"PassThrough\")\nb = pipeline.node(\"CalculatorNod\", operand=1)\na >> b\n",
    );
    let out = pipeline(&["run", &script], "1\n");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("unknown node type `CalculatorNod` (did you mean `CalculatorNode`?)"),
        "{err}"
    );
    assert!(err.contains("typo.py:4:"), "{err}");
}

#[test]
fn a_cycle_built_in_a_script_reads_like_the_same_cycle_in_a_manifest() {
    let dir = scratch("cycle");
    let script = write(
        &dir,
        "cycle.py",
        "import pipeline\n\np = pipeline.Pipeline(\"c\")\na = p.node(\"PassThrough\", id=\"a\")\nb = p.node(\"PassThrough\", id=\"b\")\na >> b\nb >> a\n",
    );
    let manifest = write(
        &dir,
        "cycle.json",
        r#"{"version": "v1", "metadata": {"name": "c"},
 "nodes": [{"id": "a", "node_type": "PassThrough"}, {"id": "b", "node_type": "PassThrough"}],
 "connections": [{"from": "a", "to": "b"}, {"from": "b", "to": "a"}]}"#,
    );
    let from_script = text(&pipeline(&["validate", &script], "").stderr);
    let from_manifest = text(&pipeline(&["validate", &manifest], "").stderr);
    let cycle_line = |s: &str| {
        s.lines()
            .find(|l| l.contains("cycle"))
            .map(|l| l.split(" (").next().unwrap().trim().to_string())
    };
    let wording = cycle_line(&from_manifest).expect(&from_manifest);
    assert_eq!(
        cycle_line(&from_script).as_ref(),
        Some(&wording),
        "{from_script}"
    );
    assert!(from_script.contains("cycle.py:"), "{from_script}");
}

#[test]
fn python_manifest_errors_name_the_node_and_the_json_location() {
    let dir = scratch("manifest-errors");
    write(
        &dir,
        "ok.py",
        "class Scale:\n    def process(self, x):\n        return x\n",
    );
    write(
        &dir,
        "broken.py",
        "class Scale:\n    def process(self, x)\n        return x\n",
    );
    let cases = [
        (
            r#"{"file": "missing.py", "class": "Scale"}"#,
            "cannot read `missing.py`",
            "/nodes/0/params/file",
        ),
        (
            r#"{"file": "ok.py", "code": "x", "class": "Scale"}"#,
            "give either `file` or `code`, not both",
            "/nodes/0/params/file",
        ),
        (r#"{"class": "Scale"}"#, "needs `file`", "/nodes/0/params"),
        (
            r#"{"file": "ok.py", "class": "Scal"}"#,
            "defines no class `Scal` at its top level (it defines: Scale)",
            "/nodes/0/params/class",
        ),
        (
            r#"{"file": "broken.py", "class": "Scale"}"#,
            "SyntaxError",
            "/nodes/0/params/code",
        ),
    ];
    for (params, message, pointer) in cases {
        let manifest = write(
            &dir,
            "m.json",
            &format!(
                r#"{{"version": "v1", "metadata": {{"name": "m"}},
 "nodes": [{{"id": "scale", "node_type": "python", "params": {params}}}], "connections": []}}"#
            ),
        );
        let out = pipeline(&["validate", &manifest], "");
        assert!(!out.status.success(), "{params}");
        let err = text(&out.stderr);
        assert!(
            err.contains("node `scale`: invalid params for `python`"),
            "{err}"
        );
        assert!(err.contains(message), "{params}: {err}");
        assert!(err.contains(&format!("at {pointer})")), "{params}: {err}");
    }
    // The syntax error quotes the line of the file with a caret.
    let err = text(&pipeline(&["validate", &dir.join("m.json").display().to_string()], "").stderr);
    assert!(
        err.contains("File \"broken.py\", line 2") && err.contains("def process(self, x)"),
        "{err}"
    );
}

#[test]
fn process_batch_classes_run_isolated_and_in_process_and_a_failing_batch_names_its_line() {
    let dir = scratch("process-batch");
    let code = "class Double:\n    def process_batch(self, items):\n        return [x * 2 for x in items]\n\nclass Boom:\n    def process_batch(self, items):\n        if 8642 in items:\n            raise ValueError('boom')\n        yield from items\n";
    let input: String = (0..10_000).map(|i| format!("{i}\n")).collect();
    for isolation in ["isolated", "in_process"] {
        let node = |id: &str, class: &str| {
            let mut node = serde_json::json!({"id": id, "node_type": "python",
                "params": {"code": code, "class": class}});
            if isolation == "in_process" {
                node["isolation"] = "in_process".into();
            }
            node
        };
        let doc = serde_json::json!({"version": "v1", "metadata": {"name": "batch"},
            "nodes": [node("double", "Double"), node("boom", "Boom")],
            "connections": [{"from": "double", "to": "boom"}]});
        let manifest = write(&dir, &format!("{isolation}.json"), &doc.to_string());
        let out = pipeline(&["run", &manifest], &input);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{isolation}: {stderr}");
        assert!(stderr.contains("node `boom`"), "{isolation}: {stderr}");
        assert!(stderr.contains("ValueError: boom"), "{isolation}: {stderr}");
        // The failing batch's first line is named; every earlier line's output was written.
        let line: usize = stderr
            .split("stopped at input line ")
            .nth(1)
            .and_then(|rest| rest.split(':').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{isolation}: no failing line in {stderr}"));
        assert!((1..=4322).contains(&line), "{isolation}: line {line}");
        let written: Vec<&str> = stdout.lines().collect();
        assert_eq!(written.len(), line - 1, "{isolation}: {stderr}");
        assert!(written
            .iter()
            .enumerate()
            .all(|(i, v)| *v == (2 * i).to_string()));
    }
}
