use pipeline::prelude::*;

#[derive(Ports)]
enum Token {
    Number(i64),
    Word(String),
}

fn main() {
    let mut p = pipeline! {
        tokens = Map::new(|s: String| s.parse().map_or(Token::Word(s), Token::Number));
        double = Map::new(|x: i64| x * 2);
        input -> tokens;
        tokens.number -> output.numbers;
        tokens.word -> double -> output.doubled;
    };
    let _ = p.run(vec![String::from("1")]);
}
