//! The seed document's own figures (`BENCHMARK_RESULTS.md`, 2025-10-22), shown beside ours for
//! reference only: another machine, and a different workload (its Python Calculator never added).

/// The seed's (Python, Rust) mean µs for a workload, where it reported one.
pub fn figures(workload: &str) -> Option<(Option<f64>, f64)> {
    match workload {
        "simple" => Some((Some(79.25), 38.04)),
        "complex" => Some((Some(773.66), 313.48)),
        "scaling_10" => Some((Some(13.31), 5.12)),
        "scaling_1000" => Some((Some(774.59), 258.28)),
        "construction" => Some((None, 4.12)),
        _ => None,
    }
}
