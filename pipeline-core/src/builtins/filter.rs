use crate::error::Result;
use crate::node::{Emitter, Node};
use std::marker::PhantomData;

/// Keeps the items for which the predicate is true.
///
/// ```
/// use pipeline_core::prelude::*;
/// let mut evens = Filter::new(|x: &i64| x % 2 == 0);
/// let mut out = Vec::new();
/// for x in 0..5 { evens.process(x, &mut out).unwrap(); }
/// assert_eq!(out, [0, 2, 4]);
/// ```
pub struct Filter<F, T> {
    predicate: F,
    _item: PhantomData<fn(T) -> T>,
}

impl<F: FnMut(&T) -> bool, T> Filter<F, T> {
    /// A node keeping items where `predicate(&item)` holds.
    pub fn new(predicate: F) -> Self {
        Filter {
            predicate,
            _item: PhantomData,
        }
    }
}

impl<F: Clone, T> Clone for Filter<F, T> {
    fn clone(&self) -> Self {
        Filter {
            predicate: self.predicate.clone(),
            _item: PhantomData,
        }
    }
}

impl<F: FnMut(&T) -> bool, T> Node for Filter<F, T> {
    type Input = T;
    type Output = T;

    #[inline(always)]
    fn process<E: Emitter<T> + ?Sized>(&mut self, item: T, out: &mut E) -> Result<()> {
        if (self.predicate)(&item) {
            out.emit(item)?;
        }
        Ok(())
    }
}
