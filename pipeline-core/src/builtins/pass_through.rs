use crate::error::Result;
use crate::node::{Emitter, Node};
use std::marker::PhantomData;

/// Emits its input unchanged (the seed's `PassThrough` / `PassThroughNode`).
///
/// ```
/// use pipeline_core::prelude::*;
/// let mut out = Vec::new();
/// PassThrough::new().process(5_i64, &mut out).unwrap();
/// assert_eq!(out, [5]);
/// ```
pub struct PassThrough<T> {
    _item: PhantomData<fn(T) -> T>,
}

impl<T> PassThrough<T> {
    /// A pass-through for items of type `T` (usually inferred from its neighbours).
    pub fn new() -> Self {
        PassThrough { _item: PhantomData }
    }
}

impl<T> Default for PassThrough<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for PassThrough<T> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<T> Node for PassThrough<T> {
    type Input = T;
    type Output = T;

    fn manifest_node(&self) -> Option<crate::node::ManifestNode> {
        Some(crate::node::ManifestNode::new("PassThrough", []))
    }

    #[inline(always)]
    fn process<E: Emitter<T> + ?Sized>(&mut self, item: T, out: &mut E) -> Result<()> {
        out.emit(item)
    }

    fn one_to_one(&self) -> bool {
        true
    }

    /// The batch changes hands without a per-item step.
    fn process_batch(&mut self, items: &mut Vec<T>, out: &mut Vec<T>) -> Result<()> {
        crate::node::move_all(items, out);
        Ok(())
    }
}
