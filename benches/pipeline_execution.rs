//! The seed's benchmark (`runtime/benches/pipeline_execution.rs` there), made honest: every mode runs
//! the same workload with a real add, and a hand-written loop with the same semantics is the floor.
//!
//! `cargo bench --bench pipeline_execution`. The Python modes and CPython are measured by
//! `pipeline bench`, which launches the CPython baseline in the same run.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use pipeline::dynamic::{build, BuildOptions, Registry};
use pipeline::manifest;
use pipeline::workloads::{self, COMPLEX_ADDS, COMPLEX_MANIFEST, SIMPLE_ADDS, SIMPLE_MANIFEST};
use pipeline::Value;
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

/// The manifest modes: built once (`dynamic`), with a stage boundary at every node
/// (`dynamic_threaded`), and parsed, validated and built on every run (`dynamic_cold`, what the seed
/// timed). Checksums are checked once before timing.
fn dynamic(c: &mut Criterion) {
    let registry = Registry::with_builtins();
    for (name, text, adds) in [
        ("simple", SIMPLE_MANIFEST, SIMPLE_ADDS),
        ("complex", COMPLEX_MANIFEST, COMPLEX_ADDS),
    ] {
        let mut group = c.benchmark_group(name);
        let input: Vec<Value> = (0..100).map(Value::Int).collect();
        let expected = workloads::expected_checksum(100, adds);
        let mut built = workloads::dynamic(text, &registry).unwrap();
        let staged_text = workloads::staged(text);
        let mut threaded = workloads::dynamic(&staged_text, &registry).unwrap();
        for p in [&mut built, &mut threaded] {
            let out = p.run_values(input.iter().cloned()).unwrap();
            assert_eq!(workloads::checksum_values(&out), expected);
        }
        group.bench_function("dynamic", |b| {
            b.iter(|| built.run_values(black_box(&input).iter().cloned()).unwrap())
        });
        group.bench_function("dynamic_threaded", |b| {
            b.iter(|| {
                threaded
                    .run_values(black_box(&input).iter().cloned())
                    .unwrap()
            })
        });
        group.bench_function("dynamic_cold", |b| {
            b.iter(|| {
                workloads::dynamic(black_box(text), &registry)
                    .unwrap()
                    .run_values(input.iter().cloned())
                    .unwrap()
            })
        });
        group.finish();
    }
}

/// The complex manifest from JSON text to a runnable pipeline, and from an already parsed manifest
/// (the seed's 4.12 µs figure measured the latter).
fn construction(c: &mut Criterion) {
    let registry = Registry::with_builtins();
    let mut group = c.benchmark_group("construction");
    group.bench_function("from_json", |b| {
        b.iter(|| workloads::dynamic(black_box(COMPLEX_MANIFEST), &registry).unwrap())
    });
    let parsed = manifest::parse("complex.json", COMPLEX_MANIFEST).unwrap();
    group.bench_function("from_parsed", |b| {
        b.iter_batched(
            || parsed.clone(),
            |parsed| {
                build(
                    manifest::lower(parsed, &registry).unwrap(),
                    BuildOptions::default(),
                )
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, simple, complex, dynamic, construction);
criterion_main!(benches);
