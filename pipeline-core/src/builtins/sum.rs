use super::{Arithmetic, Operation};
use crate::error::Result;
use crate::node::{Emitter, Node};

/// Sums the items of a stream (overflow is an error) and emits the total when the stream ends.
///
/// ```
/// use pipeline_core::prelude::*;
/// let mut sum = Sum::new();
/// let mut out = Vec::new();
/// for x in 1..=4_i64 { sum.process(x, &mut out).unwrap(); }
/// sum.finish(&mut out).unwrap();
/// assert_eq!(out, [10]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Sum<T> {
    total: T,
}

impl<T: Default> Sum<T> {
    /// A sum starting at `T::default()` (zero).
    pub fn new() -> Self {
        Sum {
            total: T::default(),
        }
    }
}

impl<T: Arithmetic + Default> Node for Sum<T> {
    type Input = T;
    type Output = T;

    fn manifest_node(&self) -> Option<crate::node::ManifestNode> {
        Some(crate::node::ManifestNode::new("Sum", []))
    }

    #[inline]
    fn process<E: Emitter<T> + ?Sized>(&mut self, item: T, _out: &mut E) -> Result<()> {
        self.total = std::mem::take(&mut self.total).apply(Operation::Add, &item)?;
        Ok(())
    }

    /// Emits the total and starts again at zero for the next stream.
    fn finish<E: Emitter<T> + ?Sized>(&mut self, out: &mut E) -> Result<()> {
        out.emit(std::mem::take(&mut self.total))
    }
}
