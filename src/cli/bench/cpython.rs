//! The CPython baseline, run in the same session: `benches/python_baseline.py` (embedded, so the
//! binary needs no checkout) under `python3`. If there is no `python3`, the mode is reported missing.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

/// The baseline script, as committed.
pub(super) const SCRIPT: &str = include_str!("../../../benches/python_baseline.py");

/// One workload's CPython result.
#[derive(Debug, Clone, PartialEq)]
pub struct CpythonResult {
    /// Median µs per run (absent for throughput).
    pub micros: Option<f64>,
    /// Items per second (throughput only).
    pub items_per_s: Option<f64>,
    /// Sum of the outputs, checked against the reference.
    pub checksum: i64,
}

/// CPython's results by workload, and its version; or why there are none.
pub fn run(quick: bool) -> Result<(String, BTreeMap<String, CpythonResult>), String> {
    let mut child = Command::new("python3")
        .arg("-")
        .args(quick.then_some("--quick"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("python3 not available: {e}"))?;
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(SCRIPT.as_bytes())
        .map_err(|e| format!("cannot send the baseline to python3: {e}"))?;
    let output = child
        .wait_with_output()
        .map_err(|e| format!("python3 failed: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "python3 failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    parse(&String::from_utf8_lossy(&output.stdout))
}

/// Per workload, the faster of two CPython runs (lower µs, higher items/s): on a shared machine a
/// baseline that happened to run in a slow moment would flatter every ratio against it.
pub fn fastest(
    first: BTreeMap<String, CpythonResult>,
    mut second: BTreeMap<String, CpythonResult>,
) -> BTreeMap<String, CpythonResult> {
    let mut best: BTreeMap<String, CpythonResult> = first
        .into_iter()
        .map(|(name, a)| {
            let Some(b) = second.remove(&name) else {
                return (name, a);
            };
            let pick = |x: Option<f64>, y: Option<f64>, better: fn(f64, f64) -> f64| match (x, y) {
                (Some(x), Some(y)) => Some(better(x, y)),
                (x, y) => x.or(y),
            };
            let result = CpythonResult {
                micros: pick(a.micros, b.micros, f64::min),
                items_per_s: pick(a.items_per_s, b.items_per_s, f64::max),
                // Both runs are checked; a disagreement poisons the checksum rather than hiding.
                checksum: if a.checksum == b.checksum {
                    a.checksum
                } else {
                    i64::MIN
                },
            };
            (name, result)
        })
        .collect();
    best.extend(second);
    best
}

fn parse(stdout: &str) -> Result<(String, BTreeMap<String, CpythonResult>), String> {
    let doc: serde_json::Value = serde_json::from_str(stdout.trim())
        .map_err(|e| format!("unreadable baseline output: {e}"))?;
    let version = doc["python"].as_str().unwrap_or("?").to_string();
    let workloads = doc["workloads"]
        .as_object()
        .ok_or("baseline output has no workloads")?;
    let results = workloads
        .iter()
        .map(|(name, w)| {
            let result = CpythonResult {
                micros: w["us"].as_f64(),
                items_per_s: w["items_per_s"].as_f64(),
                checksum: w["checksum"].as_i64().unwrap_or(i64::MIN),
            };
            (name.clone(), result)
        })
        .collect();
    Ok((version, results))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_baseline_document() {
        let (version, results) = parse(
            r#"{"python": "3.11.7", "workloads": {"simple": {"checksum": 5050, "items": 100, "us": 12.5},
               "throughput": {"checksum": 7, "items": 1, "items_per_s": 1000.0}}}"#,
        )
        .unwrap();
        assert_eq!(version, "3.11.7");
        assert_eq!(results["simple"].micros, Some(12.5));
        assert_eq!(results["simple"].checksum, 5050);
        assert_eq!(results["throughput"].items_per_s, Some(1000.0));
    }

    #[test]
    fn the_faster_of_two_runs_is_kept_and_checksums_must_agree() {
        let result = |micros, items_per_s, checksum| CpythonResult {
            micros,
            items_per_s,
            checksum,
        };
        let first = BTreeMap::from([
            ("simple".to_string(), result(Some(90.0), None, 5050)),
            ("complex".to_string(), result(Some(250.0), None, 7)),
            ("throughput".to_string(), result(None, Some(1e6), 3)),
        ]);
        let second = BTreeMap::from([
            ("simple".to_string(), result(Some(300.0), None, 5050)),
            ("complex".to_string(), result(Some(240.0), None, 8)),
            ("throughput".to_string(), result(None, Some(2e6), 3)),
        ]);
        let best = fastest(first, second);
        assert_eq!(best["simple"], result(Some(90.0), None, 5050));
        assert_eq!(best["complex"], result(Some(240.0), None, i64::MIN));
        assert_eq!(best["throughput"], result(None, Some(2e6), 3));
    }

    #[test]
    fn garbage_is_an_error_not_a_figure() {
        assert!(parse("Traceback (most recent call last)").is_err());
    }
}
