//! The seed's benchmark (`runtime/benches/pipeline_execution.rs` there), made honest: every mode runs
//! the same workload with a real add, and a hand-written loop with the same semantics is the floor.
//!
//! `cargo bench --bench pipeline_execution`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use pipeline::workloads::{self, COMPLEX_ADDS, SIMPLE_ADDS};
use std::hint::black_box;

fn simple(c: &mut Criterion) {
    let mut group = c.benchmark_group("simple");
    let mut fused = workloads::simple_fused();
    let mut threaded = workloads::simple_threaded();
    let mut from_manifest = workloads::simple_from_manifest();
    for items in [10_i64, 100, 1000] {
        group.bench_with_input(BenchmarkId::new("hand_loop", items), &items, |b, &n| {
            b.iter(|| workloads::hand_loop(black_box(0..n), SIMPLE_ADDS).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("static_fused", items), &items, |b, &n| {
            b.iter(|| fused.run(black_box(0..n)).unwrap())
        });
        group.bench_with_input(
            BenchmarkId::new("static_from_manifest", items),
            &items,
            |b, &n| b.iter(|| from_manifest.run(black_box(0..n)).unwrap()),
        );
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
    let mut fused = workloads::complex_fused();
    let mut threaded = workloads::complex_threaded();
    let mut from_manifest = workloads::complex_from_manifest();
    let mut from_manifest_values = workloads::complex_from_manifest_values();
    let values: Vec<pipeline::Value> = (0..100).map(pipeline::Value::Int).collect();
    group.bench_function("hand_loop", |b| {
        b.iter(|| workloads::hand_loop(black_box(0..100), COMPLEX_ADDS).unwrap())
    });
    group.bench_function("static_fused", |b| {
        b.iter(|| fused.run(black_box(0..100)).unwrap())
    });
    group.bench_function("static_from_manifest", |b| {
        b.iter(|| from_manifest.run(black_box(0..100)).unwrap())
    });
    group.bench_function("static_from_manifest_values", |b| {
        b.iter(|| from_manifest_values.run(black_box(values.clone())).unwrap())
    });
    group.bench_function("static_threaded", |b| {
        b.iter(|| threaded.run(black_box(0..100)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, simple, complex);
criterion_main!(benches);
