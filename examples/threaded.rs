//! Stage boundaries: `=>` puts the node after it (and what is fused to it) on its own thread,
//! behind a bounded channel of batches. The pipeline describes itself as a Mermaid chart.
//!
//! `cargo run --example threaded`

use pipeline::prelude::*;
use std::time::Instant;

fn main() -> Result<(), pipeline::Error> {
    let mut p = pipeline! {
        parse = Map::new(|x: u64| x.wrapping_mul(2_654_435_761) % 1_000);
        square = Map::new(|x: u64| x * x);
        keep_even = Filter::new(|x: &u64| x % 2 == 0);
        total = Sum::new();
        input -> parse => square -> keep_even => total -> output;
    };
    println!("{}", p.describe().to_mermaid());
    println!(
        "threads: {} (stage 0 is the caller's)",
        p.describe().stage_count()
    );

    let started = Instant::now();
    let out: Vec<u64> = p.run(0..1_000_000)?;
    println!("sum of even squares: {:?} in {:?}", out, started.elapsed());
    // The stage threads started once and serve every run.
    let again: Vec<u64> = p.run(0..1_000_000)?;
    assert_eq!(out, again);
    Ok(())
}
