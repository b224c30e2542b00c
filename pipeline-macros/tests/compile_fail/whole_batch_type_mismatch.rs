use pipeline::prelude::*;

// One-node stages take batches whole (`process_batch` onto the sender's buffer); a mismatch on
// their edges is still one error at the arrow.
fn main() {
    let mut lengths = pipeline! {
        parse = Map::new(|s: String| s.len());
        add = Calculator::add(1_i64);
        input => parse => add -> output;
    };
    let _ = lengths.run(vec![String::from("x")]);

    let mut adder = pipeline! {
        add = Calculator::add(1_i64);
        input => add -> output;
    };
    let _ = adder.run(vec!["one"]);
}
