use crate::error::Result;
use crate::node::{Emitter, Node};
use std::marker::PhantomData;

/// Counts the items of a stream and emits the count when the stream ends.
///
/// ```
/// use pipeline_core::prelude::*;
/// let mut count = Count::new();
/// let mut out = Vec::new();
/// for x in ["a", "b"] { count.process(x, &mut out).unwrap(); }
/// count.finish(&mut out).unwrap();
/// assert_eq!(out, [2]);
/// ```
pub struct Count<T> {
    seen: u64,
    _item: PhantomData<fn(T)>,
}

impl<T> Count<T> {
    /// A counter starting at zero.
    pub fn new() -> Self {
        Count {
            seen: 0,
            _item: PhantomData,
        }
    }
}

impl<T> Default for Count<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for Count<T> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<T> Node for Count<T> {
    type Input = T;
    type Output = u64;

    fn manifest_node(&self) -> Option<crate::node::ManifestNode> {
        Some(crate::node::ManifestNode::new("Count", []))
    }

    #[inline]
    fn process<E: Emitter<u64> + ?Sized>(&mut self, _item: T, _out: &mut E) -> Result<()> {
        self.seen += 1;
        Ok(())
    }

    /// Emits the count and starts again at zero for the next stream.
    fn finish<E: Emitter<u64> + ?Sized>(&mut self, out: &mut E) -> Result<()> {
        out.emit(std::mem::take(&mut self.seen))
    }
}
