//! A diamond: `split` fans out to two branches (each gets a clone of every item) that meet again
//! in a `Merge` (fan-in).
//!
//! `cargo run --example diamond`

use pipeline::prelude::*;

fn main() -> Result<(), pipeline::Error> {
    let mut p = pipeline! {
        split = PassThrough::new();
        tens = Calculator::multiply(10);
        negate = Map::new(|x: i64| -x);
        join = Merge::new();
        input -> split -> tens -> join -> output;
        split -> negate -> join;
    };
    let out: Vec<i64> = p.run(1..=4)?;
    // Within one fused stage, each item visits the branches in declaration order.
    println!("1..=4 through both branches: {out:?}");
    assert_eq!(out, vec![10, -1, 20, -2, 30, -3, 40, -4]);
    Ok(())
}
