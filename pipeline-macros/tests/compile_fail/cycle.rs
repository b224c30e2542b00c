use pipeline::prelude::*;

fn main() {
    let _p = pipeline! {
        a = PassThrough::<i64>::new();
        b = PassThrough::<i64>::new();
        c = PassThrough::<i64>::new();
        input -> a -> b -> c -> output;
        c -> a;
    };
}
