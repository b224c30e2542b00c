use pipeline::prelude::*;

fn main() {
    let _p = pipeline! {};
}
