//! Measures interpreter start and per-item cost of Python nodes (run in release:
//! `cargo run --release --example python_bench`).
//!
//! Pipelines over 100 ints: PassThrough → add 1 → PassThrough, written as three Python classes,
//! fused (`->`, one interpreter shared by the three nodes) and as the native Rust nodes.

use pipeline::prelude::*;
use std::time::{Duration, Instant};

const NODES: &str = "class PassThrough:\n    def process(self, x):\n        return x\n\nclass Add:\n    def __init__(self, n):\n        self.n = n\n    def process(self, x):\n        return x + self.n\n";

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() -> Result<()> {
    let items: Vec<i64> = (0..100).collect();
    let reps = 200;

    // Interpreter start: a fresh pipeline's first run starts one interpreter for its stage.
    let mut starts = Vec::new();
    for _ in 0..30 {
        let mut p = pipeline! {
            f = Python::<i64, i64>::function("def f(x):\n    return x\n", "f");
            input -> f -> output;
        };
        let t = Instant::now();
        p.run([1])?;
        starts.push(t.elapsed());
    }

    let mut py = pipeline! {
        pass_in = Python::<i64, i64>::class(NODES, "PassThrough");
        add = Python::<i64, i64>::class(NODES, "Add").with_args(Value::map([("n", Value::Int(1))]));
        pass_out = Python::<i64, i64>::class(NODES, "PassThrough");
        input -> pass_in -> add -> pass_out -> output;
    };
    py.run(items.clone())?; // start
    let mut py_runs = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        let out = py.run(items.clone())?;
        py_runs.push(t.elapsed());
        assert_eq!(out[99], 100);
    }

    let mut rust = pipeline! {
        pass_in = PassThrough::new();
        add = Calculator::add(1);
        pass_out = PassThrough::new();
        input -> pass_in -> add -> pass_out -> output;
    };
    let mut rust_runs = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        let out: Vec<i64> = rust.run(items.clone())?;
        rust_runs.push(t.elapsed());
        assert_eq!(out[99], 100);
    }

    let start = median(starts);
    let py_run = median(py_runs);
    let rust_run = median(rust_runs);
    println!("interpreter start (first run of a 1-node Python pipeline): median {start:?}");
    println!(
        "3 Python nodes, 100 ints: median {py_run:?} per run = {:?} per item ({:?} per node call)",
        py_run / 100,
        py_run / 300
    );
    println!("3 Rust nodes, 100 ints:   median {rust_run:?} per run");
    Ok(())
}
