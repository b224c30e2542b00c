use pipeline::prelude::*;

fn main() {
    let _p = pipeline! {
        pass_in = PassThrough::<i64>::new();
        input -> pas_in -> output;
    };
}
