use pipeline::prelude::*;

fn main() {
    let mut p = pipeline! {
        numbers = PassThrough::<i64>::new();
        words = Map::new(|x: i64| x.to_string());
        input -> numbers -> output;
        input -> words -> output;
    };
    let _ = p.run(vec![1_i64]);
}
