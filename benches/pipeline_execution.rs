//! The seed's benchmark (`runtime/benches/pipeline_execution.rs` there), made honest: every mode runs
//! the same workload with a real add, and a hand-written loop with the same semantics is the floor.
//!
//! `cargo bench --bench pipeline_execution`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use pipeline::prelude::*;
use std::hint::black_box;

/// The floor: what one would write by hand for PassThrough -> add 1 -> PassThrough, with the same
/// semantics as `Calculator` (overflow is an error, not a wrap).
fn hand_loop(items: impl Iterator<Item = i64>, adds: i64) -> Result<Vec<i64>> {
    let mut out = Vec::with_capacity(items.size_hint().0);
    for x in items {
        let mut v = x;
        for _ in 0..adds {
            v = v.checked_add(1).ok_or_else(|| Error::msg("overflow"))?;
        }
        out.push(v);
    }
    Ok(out)
}

fn simple(c: &mut Criterion) {
    let mut group = c.benchmark_group("simple");
    for items in [10_i64, 100, 1000] {
        let mut fused = pipeline! {
            pass_in = PassThrough::new();
            add = Calculator::add(1_i64);
            pass_out = PassThrough::new();
            input -> pass_in -> add -> pass_out -> output;
        };
        let mut threaded = pipeline! {
            pass_in = PassThrough::new();
            add = Calculator::add(1_i64);
            pass_out = PassThrough::new();
            input => pass_in => add => pass_out -> output;
        };
        group.bench_with_input(BenchmarkId::new("hand_loop", items), &items, |b, &n| {
            b.iter(|| hand_loop(black_box(0..n), 1).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("static_fused", items), &items, |b, &n| {
            b.iter(|| fused.run(black_box(0..n)).unwrap())
        });
        group.bench_with_input(
            BenchmarkId::new("static_threaded", items),
            &items,
            |b, &n| b.iter(|| threaded.run(black_box(0..n)).unwrap()),
        );
    }
    group.finish();
}

fn complex(c: &mut Criterion) {
    let mut group = c.benchmark_group("complex");
    let mut fused = pipeline! {
        p0 = PassThrough::new(); c1 = Calculator::add(1_i64);
        p2 = PassThrough::new(); c3 = Calculator::add(1_i64);
        p4 = PassThrough::new(); c5 = Calculator::add(1_i64);
        p6 = PassThrough::new(); c7 = Calculator::add(1_i64);
        p8 = PassThrough::new(); c9 = Calculator::add(1_i64);
        input -> p0 -> c1 -> p2 -> c3 -> p4 -> c5 -> p6 -> c7 -> p8 -> c9 -> output;
    };
    let mut threaded = pipeline! {
        p0 = PassThrough::new(); c1 = Calculator::add(1_i64);
        p2 = PassThrough::new(); c3 = Calculator::add(1_i64);
        p4 = PassThrough::new(); c5 = Calculator::add(1_i64);
        p6 = PassThrough::new(); c7 = Calculator::add(1_i64);
        p8 = PassThrough::new(); c9 = Calculator::add(1_i64);
        input => p0 => c1 => p2 => c3 => p4 => c5 => p6 => c7 => p8 => c9 -> output;
    };
    group.bench_function("hand_loop", |b| {
        b.iter(|| hand_loop(black_box(0..100), 5).unwrap())
    });
    group.bench_function("static_fused", |b| {
        b.iter(|| fused.run(black_box(0..100)).unwrap())
    });
    group.bench_function("static_threaded", |b| {
        b.iter(|| threaded.run(black_box(0..100)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, simple, complex);
criterion_main!(benches);
