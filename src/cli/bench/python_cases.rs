//! The two Python modes of the benchmark:
//!
//! - `python`: every node a Python class — the very classes of `benches/python_baseline.py`
//!   (PassThrough, Calculator with a real add) — run in RustPython through the pipeline, as a
//!   manifest of `python` nodes (the interpreter starts on the unmeasured checking run);
//! - `python_sdl`: the pipeline written as a Python script of built-in nodes (the script is only
//!   the description: the nodes run natively).

use pipeline::workloads::{COMPLEX_ADDS, SIMPLE_ADDS};

/// The node classes of the CPython baseline, verbatim (a test checks the baseline still has them).
pub const BASELINE_CLASSES: &str = r#"class PassThrough:
    def process(self, item):
        return item


class Calculator:
    def __init__(self, operation="add", operand=0):
        self.operation = operation
        self.operand = operand

    def process(self, item):
        if self.operation == "add":
            return item + self.operand
        if self.operation == "subtract":
            return item - self.operand
        if self.operation == "multiply":
            return item * self.operand
        if self.operand == 0:
            raise ZeroDivisionError("division by zero")
        return item / self.operand
"#;

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

/// The workload as a manifest whose nodes are the baseline's Python classes.
pub fn python_manifest(adds: i64) -> String {
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
            serde_json::json!({"id": format!("n{i}"), "node_type": "python",
                "params": {"code": BASELINE_CLASSES, "class": class, "args": args}})
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
    fn the_classes_are_the_baselines() {
        let baseline = include_str!("../../../benches/python_baseline.py");
        assert!(baseline.contains(BASELINE_CLASSES));
    }
}
