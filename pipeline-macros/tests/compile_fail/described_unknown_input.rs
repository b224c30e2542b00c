use pipeline::prelude::*;

// No node says what the input items are, and no `run` or `push` does either.
fn main() {
    let p = pipeline! {
        pass = PassThrough::new();
        input -> pass -> output;
    };
    println!("{:?}", p.describe());
}
