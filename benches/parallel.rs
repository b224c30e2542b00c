//! When does `par(n)` pay? A CPU-heavy node (a hash loop of ~10 µs per item) over 10,000 items,
//! sequential vs `par(2)`, and the same for a node of a few nanoseconds per item, where the
//! per-batch overhead (chunking, two channel hops per chunk, waking pool threads) dominates.
//!
//! `cargo bench --bench parallel`

use criterion::{criterion_group, criterion_main, Criterion};
use pipeline::workloads::{hash_rounds, heavy_par2, heavy_sequential, HEAVY_ROUNDS};
use std::hint::black_box;
use std::time::Duration;

const ITEMS: u64 = 10_000;

fn expected(rounds: u32) -> Vec<u64> {
    (0..ITEMS).map(|x| hash_rounds(x, rounds)).collect()
}

fn compare(c: &mut Criterion, name: &str, rounds: u32) {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    let mut sequential = heavy_sequential(rounds);
    let mut parallel = heavy_par2(rounds);
    // Both modes give the same outputs, in the same order.
    assert_eq!(sequential.run(0..ITEMS).unwrap(), expected(rounds));
    assert_eq!(parallel.run(0..ITEMS).unwrap(), expected(rounds));
    group.bench_function("sequential", |b| {
        b.iter(|| sequential.run(black_box(0..ITEMS)).unwrap())
    });
    group.bench_function("par2", |b| {
        b.iter(|| parallel.run(black_box(0..ITEMS)).unwrap())
    });
    group.finish();
}

fn heavy(c: &mut Criterion) {
    compare(c, "heavy_10us_x10k", HEAVY_ROUNDS);
}

fn light(c: &mut Criterion) {
    compare(c, "light_1round_x10k", 1);
}

criterion_group!(benches, heavy, light);
criterion_main!(benches);
