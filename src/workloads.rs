//! The seed's benchmark workloads, defined once for the criterion benches, `pipeline bench` and the
//! examples: PassThrough → Calculator(add 1) → PassThrough (`simple`) and ten nodes alternating
//! PassThrough and Calculator(add 1) (`complex`), over `i64` items.
//!
//! ```
//! use pipeline::workloads;
//! let mut p = workloads::simple_fused();
//! let out = p.run(0..100)?;
//! assert_eq!(workloads::checksum(&out), workloads::expected_checksum(100, workloads::SIMPLE_ADDS));
//! # Ok::<(), pipeline::Error>(())
//! ```

use crate::dynamic::{BuildOptions, DynamicPipeline, Registry};
use crate::prelude::*;
use crate::runtime::{Pipeline, Stage};

/// Additions the `simple` workload applies to each item.
pub const SIMPLE_ADDS: i64 = 1;
/// Additions the `complex` workload applies to each item (five Calculators among ten nodes).
pub const COMPLEX_ADDS: i64 = 5;

/// `simple`, all fused on the caller's thread.
pub fn simple_fused() -> Pipeline<impl Stage<Input = i64, Output = i64>> {
    pipeline! {
        pass_in  = PassThrough::new();
        add      = Calculator::add(1_i64);
        pass_out = PassThrough::new();
        input -> pass_in -> add -> pass_out -> output;
    }
}

/// `simple` with a stage boundary at every edge: three worker threads.
pub fn simple_threaded() -> Pipeline<impl Stage<Input = i64, Output = i64>> {
    pipeline! {
        pass_in  = PassThrough::new();
        add      = Calculator::add(1_i64);
        pass_out = PassThrough::new();
        input => pass_in => add => pass_out -> output;
    }
}

/// `complex`, all fused.
pub fn complex_fused() -> Pipeline<impl Stage<Input = i64, Output = i64>> {
    pipeline! {
        p0 = PassThrough::new(); c1 = Calculator::add(1_i64);
        p2 = PassThrough::new(); c3 = Calculator::add(1_i64);
        p4 = PassThrough::new(); c5 = Calculator::add(1_i64);
        p6 = PassThrough::new(); c7 = Calculator::add(1_i64);
        p8 = PassThrough::new(); c9 = Calculator::add(1_i64);
        input -> p0 -> c1 -> p2 -> c3 -> p4 -> c5 -> p6 -> c7 -> p8 -> c9 -> output;
    }
}

/// `complex` with a stage boundary at every edge: ten worker threads.
pub fn complex_threaded() -> Pipeline<impl Stage<Input = i64, Output = i64>> {
    pipeline! {
        p0 = PassThrough::new(); c1 = Calculator::add(1_i64);
        p2 = PassThrough::new(); c3 = Calculator::add(1_i64);
        p4 = PassThrough::new(); c5 = Calculator::add(1_i64);
        p6 = PassThrough::new(); c7 = Calculator::add(1_i64);
        p8 = PassThrough::new(); c9 = Calculator::add(1_i64);
        input => p0 => c1 => p2 => c3 => p4 => c5 => p6 => c7 => p8 => c9 -> output;
    }
}

/// `simple` compiled from the seed's manifest, `examples/manifests/simple.json`, at `i64` items:
/// the same code as [`simple_fused`] (develop dynamic, ship static).
pub fn simple_from_manifest() -> Pipeline<impl Stage<Input = i64, Output = i64>> {
    pipeline!(manifest = "examples/manifests/simple.json", item = i64)
        .expect("built-ins only: checked at compile time")
}

/// `complex` compiled from `examples/manifests/complex.json` at `i64` items.
pub fn complex_from_manifest() -> Pipeline<impl Stage<Input = i64, Output = i64>> {
    pipeline!(manifest = "examples/manifests/complex.json", item = i64)
        .expect("built-ins only: checked at compile time")
}

/// `complex` compiled from its manifest at the default `Value` items: the dynamic loader's exact
/// semantics, statically dispatched.
pub fn complex_from_manifest_values() -> Pipeline<impl Stage<Input = Value, Output = Value>> {
    pipeline!(manifest = "examples/manifests/complex.json")
        .expect("built-ins only: checked at compile time")
}

/// The seed's simple pipeline as a manifest (embedded, so benchmarks need no checkout).
pub const SIMPLE_MANIFEST: &str = include_str!("../examples/manifests/simple.json");
/// The seed's complex pipeline as a manifest.
pub const COMPLEX_MANIFEST: &str = include_str!("../examples/manifests/complex.json");

/// `manifest_text` with `"stage": true` on every node: a stage boundary at every edge.
///
/// ```
/// let staged = pipeline::workloads::staged(pipeline::workloads::SIMPLE_MANIFEST);
/// assert_eq!(staged.matches("\"stage\":true").count(), 3);
/// ```
pub fn staged(manifest_text: &str) -> String {
    let mut doc: serde_json::Value =
        serde_json::from_str(manifest_text).expect("the embedded manifests are valid JSON");
    if let Some(nodes) = doc["nodes"].as_array_mut() {
        for node in nodes {
            node["stage"] = serde_json::Value::Bool(true);
        }
    }
    doc.to_string()
}

/// Loads and builds a manifest with the built-in registry: what `dynamic` and `dynamic_cold`
/// measure.
///
/// ```
/// use pipeline::workloads;
/// let mut p = workloads::dynamic(workloads::SIMPLE_MANIFEST, &pipeline::dynamic::Registry::with_builtins())?;
/// let out = p.run([pipeline::Value::Int(1)])?;
/// assert_eq!(out[0].value, pipeline::Value::Int(2));
/// # Ok::<(), pipeline::Error>(())
/// ```
pub fn dynamic(manifest_text: &str, registry: &Registry) -> Result<DynamicPipeline> {
    let lowered = crate::manifest::load("workload.json", manifest_text, registry)
        .map_err(|e| Error::new(crate::ErrorKind::Graph, e))?;
    Ok(crate::dynamic::build(lowered, BuildOptions::default()))
}

/// The sum of a dynamic pipeline's integer outputs (non-integers poison it).
pub fn checksum_values(outputs: &[Value]) -> i64 {
    outputs
        .iter()
        .map(|value| value.as_int().unwrap_or(i64::MIN))
        .sum()
}

/// The floor: the loop one would write by hand for a workload, with `Calculator`'s semantics
/// (overflow is an error, not a wrap).
///
/// ```
/// assert_eq!(pipeline::workloads::hand_loop(0..3, 5).unwrap(), vec![5, 6, 7]);
/// ```
pub fn hand_loop(items: impl Iterator<Item = i64>, adds: i64) -> Result<Vec<i64>> {
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

/// The checksum every mode's output is verified against: the sum of the outputs.
pub fn checksum(outputs: &[i64]) -> i64 {
    outputs.iter().sum()
}

/// The checksum of a workload over `0..items` applying `adds` additions to each item.
///
/// ```
/// assert_eq!(pipeline::workloads::expected_checksum(100, 1), 5050);
/// ```
pub fn expected_checksum(items: i64, adds: i64) -> i64 {
    items * (items - 1) / 2 + items * adds
}

/// Rounds of [`hash_rounds`] that cost about 10 µs per item on the 2-core machines the figures in
/// the README come from.
pub const HEAVY_ROUNDS: u32 = 4000;

/// A CPU-bound hash loop: `rounds` dependent multiply-xorshift steps over `x`, so the cost per item
/// is fixed and cannot be optimised away. The per-item work of the parallel benchmark.
///
/// ```
/// use pipeline::workloads::hash_rounds;
/// assert_eq!(hash_rounds(7, 10), hash_rounds(7, 10));
/// assert_ne!(hash_rounds(7, 10), hash_rounds(8, 10));
/// ```
pub fn hash_rounds(x: u64, rounds: u32) -> u64 {
    let mut h = x ^ 0xcbf2_9ce4_8422_2325;
    for _ in 0..rounds {
        h = (h ^ (h >> 29))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(17);
    }
    h
}

/// The heavy hash node, sequential, fused on the caller's thread.
pub fn heavy_sequential(rounds: u32) -> Pipeline<impl Stage<Input = u64, Output = u64>> {
    pipeline! {
        heavy = Map::new(move |x: u64| hash_rounds(x, rounds));
        input -> heavy -> output;
    }
}

/// The node type `HashRounds` ([`hash_rounds`] with [`HEAVY_ROUNDS`] over integers), for the
/// dynamic side of the parallel benchmark.
///
/// ```
/// use pipeline::dynamic::Registry;
/// use pipeline::workloads::{heavy_dynamic, register_heavy};
/// let mut registry = Registry::with_builtins();
/// register_heavy(&mut registry);
/// let mut p = heavy_dynamic(2, &registry)?;
/// assert_eq!(p.run_values((0..3).map(pipeline::Value::Int))?.len(), 3);
/// # Ok::<(), pipeline::Error>(())
/// ```
pub fn register_heavy(registry: &mut Registry) {
    registry.register("HashRounds", |_: crate::dynamic::NoParams| {
        Map::new(|x: i64| hash_rounds(x as u64, HEAVY_ROUNDS) as i64)
    });
}

/// A one-node manifest of `HashRounds` with `"parallelism": parallelism` (1: sequential), built
/// with `registry` (see [`register_heavy`]).
pub fn heavy_dynamic(parallelism: usize, registry: &Registry) -> Result<DynamicPipeline> {
    let manifest = format!(
        r#"{{"version": "v1", "metadata": {{"name": "parallel"}},
            "nodes": [{{"id": "heavy", "node_type": "HashRounds", "parallelism": {parallelism}}}],
            "connections": []}}"#
    );
    dynamic(&manifest, registry)
}

/// The heavy hash node with `par(2)`: two replicas on rayon's pool, outputs in input order.
pub fn heavy_par2(rounds: u32) -> Pipeline<impl Stage<Input = u64, Output = u64>> {
    pipeline! {
        heavy = Map::new(move |x: u64| hash_rounds(x, rounds)) @ par(2);
        input -> heavy -> output;
    }
}
