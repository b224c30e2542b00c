//! The Python modes of the benchmark:
//!
//! - `python`: every node a Python class — the very classes of `benches/python_baseline.py`
//!   (PassThrough, Calculator with a real add) — run in RustPython through the pipeline, as a
//!   manifest of `python` nodes, isolated in a worker process as the CLI runs manifests (the
//!   worker starts on the unmeasured checking run);
//! - `python_in_process`: the same nodes with `"isolation": "in_process"`;
//! - `python_batch`, `python_batch_in_process`: the same nodes written with `process_batch` as
//!   list comprehensions (one call per batch instead of one per item), against the same
//!   per-item CPython loop;
//! - `python_sdl`: the pipeline written as a Python script of built-in nodes (the script is only
//!   the description: the nodes run natively).

use pipeline::workloads::{COMPLEX_ADDS, SIMPLE_ADDS};

/// The node classes of the CPython baseline, cut from the script itself (so there is one copy):
/// from `class PassThrough:` to the first function after the classes.
fn baseline_classes() -> &'static str {
    let script = super::cpython::SCRIPT;
    let start = script.find("class PassThrough:").unwrap_or(0);
    let end = script[start..]
        .find("\n\ndef ")
        .map_or(script.len(), |end| start + end);
    &script[start..end]
}

/// Nodes of a workload: alternating PassThrough and add-1 Calculator, `len` of them (3 for
/// `simple`, 10 for `complex`), as in the baseline.
fn node_count(adds: i64) -> usize {
    if adds == SIMPLE_ADDS {
        3
    } else {
        debug_assert_eq!(adds, COMPLEX_ADDS);
        10
    }
}

/// The baseline's node classes with a `process_batch` written as a comprehension: what a user
/// writes to pay the interpreter's call overhead once per batch (the `python_batch` mode).
const BATCH_CLASSES: &str = r#"class PassThrough:
    def process_batch(self, items):
        return items


class Calculator:
    def __init__(self, operation="add", operand=0):
        self.operation = operation
        self.operand = operand

    def process_batch(self, items):
        operand = self.operand
        if self.operation == "add":
            return [item + operand for item in items]
        if self.operation == "subtract":
            return [item - operand for item in items]
        if self.operation == "multiply":
            return [item * operand for item in items]
        if operand == 0:
            raise ZeroDivisionError("division by zero")
        return [item / operand for item in items]
"#;

/// How the Python nodes of a benchmark manifest are written and where they run.
#[derive(Debug, Clone, Copy)]
pub struct PythonMode {
    /// `process_batch` comprehensions instead of the baseline's per-item `process`.
    pub batch: bool,
    /// `"isolation": "in_process"` instead of a worker process per node.
    pub in_process: bool,
}

/// The workload as a manifest whose nodes are the baseline's Python classes (or their batch
/// versions), isolated in a worker (when the CLI installed isolation) or in this process's
/// interpreter.
pub fn python_manifest(adds: i64, mode: PythonMode) -> String {
    let code = if mode.batch {
        BATCH_CLASSES
    } else {
        baseline_classes()
    };
    let nodes: Vec<serde_json::Value> = (0..node_count(adds))
        .map(|i| {
            let (class, args) = if i % 2 == 0 {
                ("PassThrough", serde_json::json!({}))
            } else {
                (
                    "Calculator",
                    serde_json::json!({"operation": "add", "operand": 1}),
                )
            };
            let mut node = serde_json::json!({"id": format!("n{i}"), "node_type": "python",
                "params": {"code": code, "class": class, "args": args}});
            if mode.in_process {
                node["isolation"] = "in_process".into();
            }
            node
        })
        .collect();
    let connections: Vec<serde_json::Value> = (1..nodes.len())
        .map(|i| serde_json::json!({"from": format!("n{}", i - 1), "to": format!("n{i}")}))
        .collect();
    serde_json::json!({"version": "v1", "metadata": {"name": "python"},
        "nodes": nodes, "connections": connections})
    .to_string()
}

/// The workload as a Python pipeline script of built-in nodes.
pub fn sdl_script(adds: i64) -> String {
    format!(
        r#"import pipeline

p = pipeline.Pipeline("python_sdl")
last = None
for i in range({n}):
    if i % 2 == 0:
        node = p.node("PassThrough")
    else:
        node = p.node("CalculatorNode", operation="add", operand=1)
    if last is not None:
        last >> node
    last = node
"#,
        n = node_count(adds)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classes_are_cut_from_the_baseline() {
        let classes = baseline_classes();
        assert!(classes.starts_with("class PassThrough:"), "{classes}");
        assert!(classes.contains("class Calculator:"), "{classes}");
        assert!(
            classes.trim_end().ends_with("return item / self.operand"),
            "{classes}"
        );
        assert!(!classes.contains("def simple"), "{classes}");
    }
}
