use pipeline::prelude::*;

fn main() {
    let mut p = pipeline! {
        add = Calculator::add(1_i64);
        input -> add -> output;
    };
    let _ = p.run(vec!["one", "two"]);
}
