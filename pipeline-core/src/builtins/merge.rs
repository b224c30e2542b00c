use crate::error::Result;
use crate::node::{Emitter, Node};
use std::marker::PhantomData;

/// The meeting point of several branches (fan-in): every edge into it feeds one stream out.
///
/// Any node accepts several incoming edges; `Merge` exists to name the point where they meet.
///
/// ```
/// use pipeline_core::prelude::*;
/// let mut merge = Merge::new();
/// let mut out = Vec::new();
/// merge.process("left", &mut out).unwrap();
/// merge.process("right", &mut out).unwrap();
/// assert_eq!(out, ["left", "right"]);
/// ```
pub struct Merge<T> {
    _item: PhantomData<fn(T) -> T>,
}

impl<T> Merge<T> {
    /// A merge of streams of `T`.
    pub fn new() -> Self {
        Merge { _item: PhantomData }
    }
}

impl<T> Default for Merge<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for Merge<T> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<T> Node for Merge<T> {
    type Input = T;
    type Output = T;

    fn manifest_node(&self) -> Option<crate::node::ManifestNode> {
        Some(crate::node::ManifestNode::new("Merge", []))
    }

    #[inline(always)]
    fn process<E: Emitter<T> + ?Sized>(&mut self, item: T, out: &mut E) -> Result<()> {
        out.emit(item)
    }
}
