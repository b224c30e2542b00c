use pipeline::prelude::*;

fn main() {
    let mut p = pipeline! {
        parse = Map::new(|s: String| s.len());
        add = Calculator::add(1_i64);
        input -> parse => add -> output;
    };
    let _ = p.run(vec![String::from("x")]);
}
