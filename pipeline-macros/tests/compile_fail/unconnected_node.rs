use pipeline::prelude::*;

fn main() {
    let _p = pipeline! {
        add = Calculator::add(1_i64);
        forgotten = PassThrough::<i64>::new();
        input -> add -> output;
    };
}
