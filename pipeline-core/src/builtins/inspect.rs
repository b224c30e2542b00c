use crate::error::Result;
use crate::node::{Emitter, Node};
use std::marker::PhantomData;

/// Calls a closure on every item by reference and passes the item on: logging, metrics, taps.
///
/// ```
/// use pipeline_core::prelude::*;
/// let mut seen = Vec::new();
/// let mut out = Vec::new();
/// Inspect::new(|x: &i64| seen.push(*x)).process(3, &mut out).unwrap();
/// assert_eq!(out, [3]);
/// assert_eq!(seen, [3]);
/// ```
pub struct Inspect<F, T> {
    f: F,
    _item: PhantomData<fn(T) -> T>,
}

impl<F: FnMut(&T), T> Inspect<F, T> {
    /// A node calling `f(&item)` before passing the item on.
    pub fn new(f: F) -> Self {
        Inspect {
            f,
            _item: PhantomData,
        }
    }
}

impl<F: Clone, T> Clone for Inspect<F, T> {
    fn clone(&self) -> Self {
        Inspect {
            f: self.f.clone(),
            _item: PhantomData,
        }
    }
}

impl<F: FnMut(&T), T> Node for Inspect<F, T> {
    type Input = T;
    type Output = T;

    #[inline(always)]
    fn process<E: Emitter<T> + ?Sized>(&mut self, item: T, out: &mut E) -> Result<()> {
        (self.f)(&item);
        out.emit(item)
    }
}
