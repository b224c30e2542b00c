use pipeline::prelude::*;

fn main() {
    let mut p = pipeline! {
        add = Map::new(|x: i64| x + 1);
        input -> add;
        add.even -> output;
    };
    let _ = p.run(0..4);
}
