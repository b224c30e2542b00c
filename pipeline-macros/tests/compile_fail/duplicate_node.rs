use pipeline::prelude::*;

fn main() {
    let _p = pipeline! {
        add = Calculator::add(1_i64);
        add = Calculator::add(2_i64);
        input -> add -> output;
    };
}
