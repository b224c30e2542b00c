use pipeline::prelude::*;
use std::rc::Rc;

// `Rc` items cannot cross to the threads the replicas run on.
fn main() {
    let mut p = pipeline! {
        wrap = Map::new(|x: i64| Rc::new(x)) @ par(2);
        unwrap = Map::new(|x: Rc<i64>| *x);
        input -> wrap -> unwrap -> output;
    };
    let _ = p.run(vec![1_i64]);
}
