use pipeline::prelude::*;

fn main() {
    let _p = pipeline! {
        add = Calculator::add(1_i64);
        input -> add -> scale -> output;
    };
}
