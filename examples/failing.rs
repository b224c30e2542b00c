//! A node that fails: the run stops at the first error, which names the node, and the process
//! exits with status 1.
//!
//! `cargo run --example failing`

use pipeline::prelude::*;

/// Parses text into a number; text that is not a number is an error, not a panic.
struct ParseNumber;

impl Node for ParseNumber {
    type Input = &'static str;
    type Output = i64;

    fn process<E: Emitter<i64> + ?Sized>(&mut self, text: &'static str, out: &mut E) -> Result<()> {
        let n = text
            .trim()
            .parse()
            .map_err(|e| Error::msg(format!("cannot parse {text:?}: {e}")))?;
        out.emit(n)
    }
}

fn main() {
    let mut p = pipeline! {
        parse = ParseNumber;
        halve = Calculator::divide(2);
        input -> parse => halve -> output;
    };
    match p.run(["10", "42", "forty-two", "7"]) {
        Ok(out) => println!("unexpectedly succeeded: {out:?}"),
        Err(err) => {
            eprintln!("pipeline failed: {err}");
            eprintln!("  failing node: {:?}, kind: {:?}", err.node(), err.kind());
            std::process::exit(1);
        }
    }
}
