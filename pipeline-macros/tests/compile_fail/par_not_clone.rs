use pipeline::prelude::*;

/// A node that is deliberately not `Clone`.
struct Counter(u64);

impl Node for Counter {
    type Input = i64;
    type Output = i64;
    fn process<E: Emitter<i64> + ?Sized>(&mut self, item: i64, out: &mut E) -> Result<()> {
        self.0 += 1;
        out.emit(item)
    }
}

fn main() {
    let mut p = pipeline! {
        count = Counter(0) @ par(4);
        input -> count -> output;
    };
    let _ = p.run(vec![1_i64]);
}
