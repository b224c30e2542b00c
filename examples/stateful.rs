//! A user-defined stateful node: an ordinary struct mutated through `&mut self`, which emits a
//! summary in `finish` when the stream ends.
//!
//! `cargo run --example stateful`

use pipeline::prelude::*;

/// Emits the running average after every item, and the final count and average at end of stream.
#[derive(Default)]
struct RunningAverage {
    count: u64,
    sum: f64,
}

impl Node for RunningAverage {
    type Input = f64;
    type Output = String;

    fn process<E: Emitter<String> + ?Sized>(&mut self, x: f64, out: &mut E) -> Result<()> {
        self.count += 1;
        self.sum += x;
        out.emit(format!(
            "after {x:>5}: average {:.2}",
            self.sum / self.count as f64
        ))
    }

    fn finish<E: Emitter<String> + ?Sized>(&mut self, out: &mut E) -> Result<()> {
        let summary = format!(
            "end of stream: {} items, average {:.2}",
            self.count,
            self.sum / self.count.max(1) as f64
        );
        // Reset, so the next run starts afresh.
        *self = RunningAverage::default();
        out.emit(summary)
    }
}

fn main() -> Result<(), pipeline::Error> {
    let mut p = pipeline! {
        to_float = Map::new(|x: i32| f64::from(x));
        average = RunningAverage::default();
        input -> to_float -> average -> output;
    };
    for line in p.run([3, 5, 10, 2])? {
        println!("{line}");
    }
    Ok(())
}
