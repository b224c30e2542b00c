use pipeline::prelude::*;

fn main() {
    let _p = pipeline! {
        split = PassThrough::<i64>::new();
        slow = Calculator::multiply(2_i64);
        join = Merge::<i64>::new();
        input -> split => slow => join -> output;
        split -> join;
    };
}
