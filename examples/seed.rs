//! The seed system's two benchmark pipelines (`pipeline::workloads`), run fused and threaded.
//!
//! `simple`: PassThrough -> Calculator(add 1) -> PassThrough over 100 integers.
//! `complex`: 10 nodes alternating PassThrough and Calculator(add 1) over 100 integers.
//!
//! Prints each run's checksum (sum of outputs, checked against the expected value) and the median
//! time of a run. `cargo run --release --example seed`; `pipeline bench` measures every mode.

use pipeline::workloads::{self, COMPLEX_ADDS, SIMPLE_ADDS};
use pipeline::{Error, Result};
use std::time::{Duration, Instant};

const ITEMS: i64 = 100;
const RUNS: usize = 2_000;

/// Median wall time of `RUNS` calls of `run`, after a warm-up, and the checksum of the last run.
fn measure(mut run: impl FnMut() -> Result<Vec<i64>>) -> Result<(Duration, i64)> {
    for _ in 0..RUNS / 10 {
        run()?;
    }
    let mut times = Vec::with_capacity(RUNS);
    let mut checksum = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = run()?;
        times.push(start.elapsed());
        checksum = workloads::checksum(&out);
    }
    times.sort();
    Ok((times[RUNS / 2], checksum))
}

fn report(name: &str, mode: &str, adds: i64, (median, checksum): (Duration, i64)) -> Result<()> {
    let expected = workloads::expected_checksum(ITEMS, adds);
    let status = if checksum == expected {
        "ok"
    } else {
        "MISMATCH"
    };
    println!(
        "{name:<8} {mode:<9} checksum {checksum:>6} ({status})  median {:>9.2} µs per run of {ITEMS} items",
        median.as_secs_f64() * 1e6
    );
    if checksum != expected {
        return Err(Error::msg(format!(
            "{name} {mode}: expected checksum {expected}"
        )));
    }
    Ok(())
}

fn main() -> Result<()> {
    let mut simple_fused = workloads::simple_fused();
    let mut simple_threaded = workloads::simple_threaded();
    let mut complex_fused = workloads::complex_fused();
    let mut complex_threaded = workloads::complex_threaded();

    println!("seed workloads, {RUNS} runs each (threads start once, before timing)");
    report(
        "simple",
        "fused",
        SIMPLE_ADDS,
        measure(|| simple_fused.run(0..ITEMS))?,
    )?;
    report(
        "simple",
        "threaded",
        SIMPLE_ADDS,
        measure(|| simple_threaded.run(0..ITEMS))?,
    )?;
    report(
        "complex",
        "fused",
        COMPLEX_ADDS,
        measure(|| complex_fused.run(0..ITEMS))?,
    )?;
    report(
        "complex",
        "threaded",
        COMPLEX_ADDS,
        measure(|| complex_threaded.run(0..ITEMS))?,
    )?;
    println!(
        "\nthe threaded simple pipeline:\n{}",
        simple_threaded.describe().to_mermaid()
    );
    Ok(())
}
