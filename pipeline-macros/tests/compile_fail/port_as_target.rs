use pipeline::prelude::*;

fn main() {
    let _p = pipeline! {
        a = PassThrough::<i64>::new();
        input -> a.left -> output;
    };
}
