//! A linear chain, fused: every node runs on the calling thread as direct calls.
//!
//! `cargo run --example linear`

use pipeline::prelude::*;

fn main() -> Result<(), pipeline::Error> {
    let mut p = pipeline! {
        pass_in = PassThrough::new();
        add = Calculator::add(1);
        double = Map::new(|x: i64| x * 2);
        pass_out = PassThrough::new();
        input -> pass_in -> add -> double -> pass_out -> output;
    };
    let out: Vec<i64> = p.run(0..10)?;
    println!("(x + 1) * 2 for x in 0..10: {out:?}");
    let total: i64 = p.run(0..100)?.iter().sum();
    println!("sum over 0..100: {total}");
    Ok(())
}
