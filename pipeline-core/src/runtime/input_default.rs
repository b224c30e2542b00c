//! The pipeline's input type, when nothing else decides it, is the input type of the first node the
//! input feeds: so a pipeline that is built and only described (`p.describe()`, no `run`) compiles.
//!
//! Generated code checks `input -> a` with the pipeline's input as the *source* type, so that
//! `p.run(items)` decides it and a wrong item type is reported at the arrow, naming `a`. Were the
//! input type instead pinned to `a`'s input type up front, `run` with the wrong items would fail with
//! rustc's generic "type mismatch resolving `<Vec<&str> as IntoIterator>::Item == i64`". The pin
//! therefore waits until type inference has nothing else to go on: it is a trait obligation whose
//! `Self` holds an integer literal's type, which rustc leaves open (two impls match) until its
//! integer fallback makes it `i32`; then the `i32` impl makes the input type the first node's. If
//! `run` decided another type first, only the `u8` impl matches, the literal becomes a `u8`, and
//! the edge check reports the mismatch alone.

use super::fn_stage::Marker;
use super::stage::Stage;

/// Holds for `(i32, T): InputDefault<T>` (the pin) and `(u8, I): InputDefault<T>` (no pin); see the
/// module docs.
#[doc(hidden)]
pub trait InputDefault<T> {}

impl<T> InputDefault<T> for (i32, T) {}

impl<I, T> InputDefault<T> for (u8, I) {}

/// Makes `stage`'s input type `T` (the marker's) if nothing else decides it; `fallback` is an
/// integer literal left to rustc's integer fallback (see the module docs).
///
/// ```
/// use pipeline_core::runtime::{default_input, input_marker, FnStage, Lifecycle};
/// use pipeline_core::prelude::*;
///
/// let add = Calculator::add(1_i64);
/// let first = input_marker(&add);
/// // The stage's input type is written nowhere: `default_input` makes it `add`'s.
/// let stage = FnStage::new(
///     add,
///     |add: &mut Calculator<i64, ops::Add>, x, out: &mut Vec<i64>| add.process(x, out),
///     |_: &mut Calculator<i64, ops::Add>, _: &mut Vec<_>, _: &mut Vec<i64>| Ok(()),
///     |_: &mut Calculator<i64, ops::Add>, _: &mut Vec<i64>| Ok(()),
///     |_: &mut Calculator<i64, ops::Add>, _: Lifecycle, _: &mut Vec<i64>| Ok(()),
/// );
/// default_input(&stage, 0, first);
/// ```
#[doc(hidden)]
#[inline(always)]
pub fn default_input<S: Stage, X, T>(_stage: &S, _fallback: X, _first: Marker<T>)
where
    (X, S::Input): InputDefault<T>,
{
}

/// Names the pipeline's input item type where it cannot be inferred: rustc's "type annotations
/// needed" then reads "cannot infer type of the type parameter `InputItem` declared on the
/// function `pipeline_input`", at `input` (where generated code calls it), instead of quoting the
/// whole pipeline's type at the `let`.
#[doc(hidden)]
#[inline(always)]
pub fn pipeline_input<InputItem>(_items: Marker<InputItem>) {}

/// The marker of `stage`'s input type.
#[doc(hidden)]
#[inline(always)]
pub fn stage_input<S: Stage>(_stage: &S) -> Marker<S::Input> {
    Marker::new()
}
