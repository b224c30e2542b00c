use pipeline::prelude::*;

// `b` and `d` are each entered by `=>`, then joined by `->` at `c`: the fix is at `c`.
fn main() {
    let _p = pipeline! {
        a = PassThrough::<i64>::new();
        b = PassThrough::<i64>::new();
        c = Merge::<i64>::new();
        d = PassThrough::<i64>::new();
        input -> a => b -> c -> output;
        a => d -> c;
    };
}
