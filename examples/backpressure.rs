//! Backpressure: a fast source, two threaded stages and a deliberately slow sink. Every channel is
//! bounded (stage channels hold 4 batches of 1024 items, the output channel 4 batches per stage), so
//! the source is held back to the sink's pace and memory stays flat however many items flow.
//!
//! ```sh
//! cargo build --release --example backpressure
//! /usr/bin/time -v target/release/examples/backpressure 10000000   # see "Maximum resident set size"
//! ```

use pipeline::prelude::*;
use std::hint::black_box;
use std::time::Instant;

/// Work the sink does per item (a short spin), so it is the slowest part of the pipeline.
fn slow_sink_work(x: i64) -> i64 {
    (0..40).fold(x, |h, i| black_box(h.wrapping_mul(31).wrapping_add(i)))
}

fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), pipeline::Error> {
    let items: i64 = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("the item count is a whole number"))
        .unwrap_or(10_000_000);
    let mut p = pipeline! {
        widen = Map::new(|x: i64| vec![x; 4]);          // 32 bytes of heap per item in flight
        total = Map::new(|v: Vec<i64>| v.iter().sum::<i64>());
        add = Calculator::add(1_i64);
        input => widen => total -> add -> output;
    };
    let started = Instant::now();
    let (mut count, mut checksum) = (0_u64, 0_i64);
    p.run_with(0..items, |x| {
        checksum = checksum.wrapping_add(slow_sink_work(x));
        count += 1;
        Ok(())
    })?;
    println!(
        "{count} items in {:.2?} (checksum {checksum}); peak RSS {} kB",
        started.elapsed(),
        peak_rss_kb().map_or("?".to_string(), |kb| kb.to_string())
    );
    assert_eq!(count, items as u64);
    Ok(())
}
