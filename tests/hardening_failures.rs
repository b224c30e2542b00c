//! Issue #15, item 7: a failure mid-stream loses no output, in every mode, and names the failing
//! item's input line. Each test runs the real `pipeline` binary over 100,000 lines whose item at
//! one line cannot be processed, and checks exactly what was written before the error.

mod support;

use support::cli::{pipeline, text};

/// Input lines: one-item lists `[x]` for x in 1..=100,000, with blank lines here and there (the
/// reader skips them, so item numbers and line numbers differ), and a bare `50000` in place of
/// `[50000]`: the `Unbatch` node (`n0`) fails on it, and on nothing else.
const ITEMS: i64 = 100_000;
const FAILING: i64 = 50_000;

/// The input, and the 1-based line the failing item is on.
fn input() -> (String, usize) {
    let mut lines = Vec::new();
    let mut failing_line = 0;
    for x in 1..=ITEMS {
        if x % 7_919 == 0 {
            lines.push(String::new());
        }
        if x == FAILING {
            lines.push(x.to_string());
            failing_line = lines.len();
        } else {
            lines.push(format!("[{x}]"));
        }
    }
    (lines.join("\n") + "\n", failing_line)
}

/// Writes `manifest` into a fresh folder; returns its path.
fn manifest(name: &str, manifest: &str) -> String {
    let dir = std::env::temp_dir().join(format!(
        "pipeline-hardening-failures-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, manifest).unwrap();
    path.to_str().unwrap().to_string()
}

/// A one-output manifest of `nodes` chained in order.
fn chain(name: &str, nodes: &[&str]) -> String {
    let ids: Vec<String> = (0..nodes.len()).map(|i| format!("n{i}")).collect();
    let nodes: Vec<String> = nodes
        .iter()
        .zip(&ids)
        .map(|(node, id)| format!(r#"{{"id": "{id}", {node}}}"#))
        .collect();
    let connections: Vec<String> = ids
        .windows(2)
        .map(|pair| format!(r#"{{"from": "{}", "to": "{}"}}"#, pair[0], pair[1]))
        .collect();
    manifest(
        name,
        &format!(
            r#"{{"version": "v1", "metadata": {{"name": "{name}"}}, "nodes": [{}], "connections": [{}]}}"#,
            nodes.join(", "),
            connections.join(", ")
        ),
    )
}

const ADD_ONE: &str = r#""node_type": "CalculatorNode", "params": {"operand": 1}"#;
const TIMES_TWO: &str =
    r#""node_type": "CalculatorNode", "params": {"operation": "multiply", "operand": 2}"#;
const PASS: &str = r#""node_type": "PassThroughNode""#;
const UNBATCH: &str = r#""node_type": "Unbatch""#;

/// What `(x + 1) * 2` writes for every item before the failing one, one per line.
fn expected_before_failure() -> String {
    (1..FAILING).map(|x| format!("{}\n", (x + 1) * 2)).collect()
}

/// Runs `manifest` over the input; checks the exit, that the error names `node` and the failing
/// line, and returns stdout.
fn run_failing(manifest: &str, node: &str, args: &[&str]) -> String {
    let (input, failing_line) = input();
    let mut all_args = vec!["run", manifest];
    all_args.extend_from_slice(args);
    let out = pipeline(&all_args, input);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{manifest}: {stderr}");
    assert!(
        stderr.contains(&format!("node `{node}`")),
        "{manifest}: {stderr}"
    );
    assert!(
        stderr.contains(&format!("stopped at input line {failing_line}:")),
        "{manifest} should name line {failing_line}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{manifest}: {stderr}");
    text(&out.stdout)
}

#[test]
fn fused_nodes_write_every_output_before_the_failing_line() {
    let m = chain("fused", &[UNBATCH, ADD_ONE, TIMES_TWO]);
    assert_eq!(run_failing(&m, "n0", &[]), expected_before_failure());
}

#[test]
fn staged_nodes_write_every_output_before_the_failing_line() {
    let staged = |node: &str| format!(r#"{node}, "stage": true"#);
    let (unbatch, add, times) = (staged(UNBATCH), staged(ADD_ONE), staged(TIMES_TWO));
    // The failing node on the caller's thread with stage threads after it, then on a stage
    // thread of its own with stage threads after it, then alone on its thread.
    for (name, nodes) in [
        ("staged_after", vec![UNBATCH, &add, &times]),
        ("staged_failing", vec![&unbatch, &add, &times]),
        ("staged_alone", vec![&unbatch, ADD_ONE, TIMES_TWO]),
    ] {
        let m = chain(name, &nodes);
        assert_eq!(
            run_failing(&m, "n0", &[]),
            expected_before_failure(),
            "{name}"
        );
    }
}

#[test]
fn a_small_batch_size_changes_nothing() {
    let unbatch = format!(r#"{UNBATCH}, "stage": true"#);
    let times = format!(r#"{TIMES_TWO}, "stage": true"#);
    let m = chain("small_batches", &[&unbatch, ADD_ONE, &times]);
    let stdout = run_failing(&m, "n0", &["--batch-size", "7"]);
    assert_eq!(stdout, expected_before_failure());
}

#[test]
fn parallel_nodes_write_every_output_before_the_failing_line() {
    for (name, ordered) in [("parallel_ordered", true), ("parallel_unordered", false)] {
        for staged in [false, true] {
            let unbatch = format!(
                r#"{UNBATCH}, "parallelism": 3, "ordered": {ordered}, "batch_size": 1000, "stage": {staged}"#
            );
            let m = chain(&format!("{name}_{staged}"), &[&unbatch, ADD_ONE, TIMES_TWO]);
            let stdout = run_failing(&m, "n0", &[]);
            if ordered {
                assert_eq!(
                    stdout,
                    expected_before_failure(),
                    "{name}, staged: {staged}"
                );
            } else {
                let mut got: Vec<i64> = stdout.lines().map(|l| l.parse().unwrap()).collect();
                got.sort_unstable();
                let want: Vec<i64> = (1..FAILING).map(|x| (x + 1) * 2).collect();
                assert_eq!(got, want, "{name}, staged: {staged}");
            }
        }
    }
}

#[test]
fn a_staged_diamond_writes_every_output_of_both_branches_before_the_failing_line() {
    // `split` feeds two branches on threads of their own: `checked` (an `Unbatch`) fails on the
    // bare number, `passed` takes anything. Both outputs are tagged.
    let m = manifest(
        "diamond",
        r#"{"version": "v1", "metadata": {"name": "diamond"},
           "nodes": [
             {"id": "split", "node_type": "PassThroughNode", "stage": true},
             {"id": "passed", "node_type": "PassThroughNode", "stage": true},
             {"id": "checked", "node_type": "Unbatch", "stage": true}],
           "connections": [{"from": "split", "to": "passed"}, {"from": "split", "to": "checked"}]}"#,
    );
    let stdout = run_failing(&m, "checked", &["--tag"]);
    let (mut passed, mut checked) = (Vec::new(), Vec::new());
    for line in stdout.lines() {
        let tagged: serde_json::Value = serde_json::from_str(line).unwrap();
        match tagged["node"].as_str().unwrap() {
            "passed" => passed.push(tagged["value"].clone()),
            "checked" => checked.push(tagged["value"].as_i64().unwrap()),
            other => panic!("unexpected output {other}"),
        }
    }
    // The failing branch: exactly the items before the failing one.
    assert_eq!(checked, (1..FAILING).collect::<Vec<_>>());
    // The other branch: every item before the failing one, in order. It may have run ahead of
    // the failure before it was known (the documented limit for parallel branches): what it
    // wrote beyond is the input itself, in order.
    let item = |x: i64| match x {
        FAILING => serde_json::Value::from(x),
        x => serde_json::json!([x]),
    };
    let before: Vec<serde_json::Value> = (1..FAILING).map(item).collect();
    assert!(passed.len() >= before.len(), "{} passed", passed.len());
    assert_eq!(passed[..before.len()], before[..]);
    for (k, value) in passed[before.len()..].iter().enumerate() {
        assert_eq!(value, &item(FAILING + k as i64));
    }
}

#[test]
fn a_failure_on_the_last_line_surfacing_at_the_end_loses_no_output() {
    // The staged `Unbatch` meets the bare number on the last line: the caller has pushed every
    // item and learns of the failure while it waits for the stages to finish.
    let mut input: String = (1..=1000).map(|x| format!("[{x}]\n")).collect();
    input.push_str("7\n");
    let unbatch = format!(r#"{UNBATCH}, "stage": true"#);
    let m = chain("last_line", &[PASS, &unbatch, ADD_ONE]);
    let out = pipeline(&["run", &m], input);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("stopped at input line 1001:"), "{stderr}");
    let want: String = (2..=1001).map(|x| format!("{x}\n")).collect();
    assert_eq!(text(&out.stdout), want);
}

#[cfg(feature = "python")]
mod python {
    use super::*;

    const RAISES: &str = r#""node_type": "python", "params": {"code": "def check(x):\n    if x == 50001:\n        raise ValueError(f'bad item {x}')\n    return x * 2\n", "function": "check"}"#;
    const TIMES_ONE: &str =
        r#""node_type": "CalculatorNode", "params": {"operation": "multiply", "operand": 1}"#;

    /// `(x + 1) * 2` for the numbers before 50,000: the input has no string here, the Python
    /// node raises on the item whose `x + 1` is 50,001.
    fn numbers() -> (String, usize) {
        let mut lines = Vec::new();
        let mut failing_line = 0;
        for x in 1..=ITEMS {
            if x % 7_919 == 0 {
                lines.push(String::new());
            }
            lines.push(x.to_string());
            if x == FAILING {
                failing_line = lines.len();
            }
        }
        (lines.join("\n") + "\n", failing_line)
    }

    #[test]
    fn a_raising_python_node_writes_every_output_before_the_failing_line() {
        let staged = format!(r#"{RAISES}, "stage": true"#);
        for (name, checked) in [("python_fused", RAISES), ("python_staged", &staged)] {
            let m = chain(name, &[ADD_ONE, checked, TIMES_ONE]);
            let (input, failing_line) = numbers();
            let out = pipeline(&["run", &m], input);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
            assert!(stderr.contains("bad item 50001"), "{name}: {stderr}");
            assert!(stderr.contains("node `n1`"), "{name}: {stderr}");
            assert!(
                stderr.contains(&format!("stopped at input line {failing_line}:")),
                "{name} should name line {failing_line}: {stderr}"
            );
            assert_eq!(text(&out.stdout), expected_before_failure(), "{name}");
        }
    }
}
