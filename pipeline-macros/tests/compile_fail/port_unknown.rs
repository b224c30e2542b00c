use pipeline::prelude::*;

fn main() {
    let mut p = pipeline! {
        split = Partition::new(|x: &i64| x % 2 == 0);
        input -> split;
        split.true -> output.evens;
        split.maybe -> output.odds;
    };
    let _ = p.run(0..4);
}
