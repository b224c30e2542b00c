//! One million items through the seed's `simple` pipeline, streamed: outputs are summed as they
//! come (`run_with`), never collected, so the figure is the pipeline's rate, not a `Vec`'s growth.
//!
//! `cargo bench --bench throughput` (criterion reports elements per second).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pipeline::dynamic::Registry;
use pipeline::workloads::{self, SIMPLE_ADDS, SIMPLE_MANIFEST};
use pipeline::Value;
use std::time::Duration;

const ITEMS: i64 = 1_000_000;

fn throughput(c: &mut Criterion) {
    let expected = workloads::expected_checksum(ITEMS, SIMPLE_ADDS);
    let mut group = c.benchmark_group("throughput");
    group
        .throughput(Throughput::Elements(ITEMS as u64))
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));

    let mut fused = workloads::simple_fused();
    let mut threaded = workloads::simple_threaded();
    group.bench_function("static_fused", |b| {
        b.iter(|| stream_static(&mut fused, expected))
    });
    group.bench_function("static_threaded", |b| {
        b.iter(|| stream_static(&mut threaded, expected))
    });

    let registry = Registry::with_builtins();
    let staged_text = workloads::staged(SIMPLE_MANIFEST);
    for (mode, text) in [
        ("dynamic", SIMPLE_MANIFEST),
        ("dynamic_threaded", staged_text.as_str()),
    ] {
        let mut p = workloads::dynamic(text, &registry).unwrap();
        group.bench_function(mode, |b| {
            b.iter(|| {
                let mut sum = 0;
                p.run_with((0..ITEMS).map(Value::Int), |t| {
                    sum += t.value.as_int().unwrap_or(i64::MIN);
                    Ok(())
                })
                .unwrap();
                assert_eq!(sum, expected);
            })
        });
    }
    group.finish();
}

fn stream_static<S>(p: &mut pipeline::runtime::Pipeline<S>, expected: i64)
where
    S: pipeline::runtime::Stage<Input = i64, Output = i64>,
{
    let mut sum = 0;
    p.run_with(0..ITEMS, |x| {
        sum += x;
        Ok(())
    })
    .unwrap();
    assert_eq!(sum, expected);
}

criterion_group!(benches, throughput);
criterion_main!(benches);
