//! The seed system's two benchmark pipelines, written with `pipeline!`, run fused and threaded.
//!
//! `simple`: PassThrough -> Calculator(add 1) -> PassThrough over 100 integers.
//! `complex`: 10 nodes alternating PassThrough and Calculator(add 1) over 100 integers.
//!
//! Prints each run's checksum (sum of outputs, checked against the expected value) and the median
//! time of a run. `cargo run --release --example seed`.

use pipeline::prelude::*;
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
        checksum = out.iter().sum();
    }
    times.sort();
    Ok((times[RUNS / 2], checksum))
}

fn report(name: &str, mode: &str, adds: i64, result: (Duration, i64)) -> Result<()> {
    let (median, checksum) = result;
    // Sum of (x + adds) for x in 0..ITEMS.
    let expected = (0..ITEMS).map(|x| x + adds).sum::<i64>();
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
    let mut simple_fused = pipeline! {
        pass_in  = PassThrough::new();
        add      = Calculator::add(1_i64);
        pass_out = PassThrough::new();
        input -> pass_in -> add -> pass_out -> output;
    };
    let mut simple_threaded = pipeline! {
        pass_in  = PassThrough::new();
        add      = Calculator::add(1_i64);
        pass_out = PassThrough::new();
        input => pass_in => add => pass_out -> output;
    };
    let mut complex_fused = pipeline! {
        p0 = PassThrough::new(); c1 = Calculator::add(1_i64);
        p2 = PassThrough::new(); c3 = Calculator::add(1_i64);
        p4 = PassThrough::new(); c5 = Calculator::add(1_i64);
        p6 = PassThrough::new(); c7 = Calculator::add(1_i64);
        p8 = PassThrough::new(); c9 = Calculator::add(1_i64);
        input -> p0 -> c1 -> p2 -> c3 -> p4 -> c5 -> p6 -> c7 -> p8 -> c9 -> output;
    };
    let mut complex_threaded = pipeline! {
        p0 = PassThrough::new(); c1 = Calculator::add(1_i64);
        p2 = PassThrough::new(); c3 = Calculator::add(1_i64);
        p4 = PassThrough::new(); c5 = Calculator::add(1_i64);
        p6 = PassThrough::new(); c7 = Calculator::add(1_i64);
        p8 = PassThrough::new(); c9 = Calculator::add(1_i64);
        input => p0 => c1 => p2 => c3 => p4 => c5 => p6 => c7 => p8 => c9 -> output;
    };

    println!("seed workloads, {RUNS} runs each (threads start once, before timing)");
    report(
        "simple",
        "fused",
        1,
        measure(|| simple_fused.run(0..ITEMS))?,
    )?;
    report(
        "simple",
        "threaded",
        1,
        measure(|| simple_threaded.run(0..ITEMS))?,
    )?;
    report(
        "complex",
        "fused",
        5,
        measure(|| complex_fused.run(0..ITEMS))?,
    )?;
    report(
        "complex",
        "threaded",
        5,
        measure(|| complex_threaded.run(0..ITEMS))?,
    )?;
    println!(
        "\nthe threaded simple pipeline:\n{}",
        simple_threaded.describe().to_mermaid()
    );
    Ok(())
}
