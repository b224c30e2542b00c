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
