use crate::error::Result;
use crate::node::{Emitter, Node};
use std::marker::PhantomData;

/// Emits every element of each incoming collection (the inverse of [`Batch`](super::Batch)); a
/// flat-map.
///
/// ```
/// use pipeline_core::prelude::*;
/// let mut out = Vec::new();
/// Unbatch::new().process(vec![1, 2, 3], &mut out).unwrap();
/// assert_eq!(out, [1, 2, 3]);
/// ```
pub struct Unbatch<C> {
    _collection: PhantomData<fn(C)>,
}

impl<C> Unbatch<C> {
    /// Flattens collections of type `C`.
    pub fn new() -> Self {
        Unbatch {
            _collection: PhantomData,
        }
    }
}

impl<C> Default for Unbatch<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C> Clone for Unbatch<C> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<C: IntoIterator> Node for Unbatch<C> {
    type Input = C;
    type Output = C::Item;

    fn manifest_node(&self) -> Option<crate::node::ManifestNode> {
        Some(crate::node::ManifestNode::new("Unbatch", []))
    }

    fn process<E: Emitter<C::Item> + ?Sized>(&mut self, items: C, out: &mut E) -> Result<()> {
        items.into_iter().try_for_each(|item| out.emit(item))
    }
}
