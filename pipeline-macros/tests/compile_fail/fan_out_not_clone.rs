use pipeline::prelude::*;

/// Deliberately not `Clone`.
struct Token(i64);

fn main() {
    let mut p = pipeline! {
        wrap = Map::new(Token);
        left = Map::new(|t: Token| t.0);
        right = Map::new(|t: Token| t.0 * 2);
        input -> wrap -> left -> output;
        wrap -> right -> output;
    };
    let _ = p.run(vec![1_i64]);
}
