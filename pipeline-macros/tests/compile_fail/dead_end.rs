use pipeline::prelude::*;

fn main() {
    let _p = pipeline! {
        a = PassThrough::<i64>::new();
        log = Inspect::new(|x: &i64| println!("{x}"));
        input -> a -> output;
        a -> log;
    };
}
