use crate::error::Result;
use crate::node::{Emitter, Node};
use std::marker::PhantomData;

/// Applies a closure to every item.
///
/// Annotate the closure's argument when its type cannot be inferred from the neighbours.
///
/// ```
/// use pipeline_core::prelude::*;
/// let mut out = Vec::new();
/// Map::new(|x: i64| x.to_string()).process(7, &mut out).unwrap();
/// assert_eq!(out, ["7"]);
/// ```
pub struct Map<F, I, O> {
    f: F,
    _types: PhantomData<fn(I) -> O>,
}

impl<F: FnMut(I) -> O, I, O> Map<F, I, O> {
    /// A node computing `f(item)`.
    pub fn new(f: F) -> Self {
        Map {
            f,
            _types: PhantomData,
        }
    }
}

impl<F: Clone, I, O> Clone for Map<F, I, O> {
    fn clone(&self) -> Self {
        Map {
            f: self.f.clone(),
            _types: PhantomData,
        }
    }
}

impl<F: FnMut(I) -> O, I, O> Node for Map<F, I, O> {
    type Input = I;
    type Output = O;

    #[inline(always)]
    fn process<E: Emitter<O> + ?Sized>(&mut self, item: I, out: &mut E) -> Result<()> {
        out.emit((self.f)(item))
    }
}
