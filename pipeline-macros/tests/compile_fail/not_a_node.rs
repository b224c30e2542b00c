use pipeline::prelude::*;

fn main() {
    let mut p = pipeline! {
        a = PassThrough::<i64>::new();
        b = 42;
        input -> a -> b -> output;
    };
    let _ = p.run(vec![1_i64]);
}
