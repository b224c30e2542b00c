use pipeline::prelude::*;

fn main() {
    let _p = pipeline! {
        output = PassThrough::<i64>::new();
        a = PassThrough::<i64>::new();
        input -> a -> output;
    };
}
