use crate::error::{Error, Result};
use crate::node::{Emitter, Node, NodeContext};

/// Groups items into `Vec`s of `size`; the last, shorter group is emitted by `finish`.
///
/// ```
/// use pipeline_core::prelude::*;
/// let mut batch = Batch::new(2);
/// let mut out = Vec::new();
/// for x in 1..=3 { batch.process(x, &mut out).unwrap(); }
/// batch.finish(&mut out).unwrap();
/// assert_eq!(out, [vec![1, 2], vec![3]]);
/// ```
#[derive(Debug, Clone)]
pub struct Batch<T> {
    size: usize,
    pending: Vec<T>,
}

/// The most items a batch reserves room for up front: a huge `size` (from a manifest, say) must not
/// allocate, or abort on, memory the stream may never fill.
const MAX_RESERVED: usize = 4096;

impl<T> Batch<T> {
    /// Groups of `size` items (`size` 0 is rejected when the node is initialised).
    ///
    /// ```
    /// use pipeline_core::prelude::*;
    /// let mut batch = Batch::new(usize::MAX); // reserves a little, grows as items come
    /// let mut out = Vec::new();
    /// batch.process(1, &mut out).unwrap();
    /// batch.finish(&mut out).unwrap();
    /// assert_eq!(out, [vec![1]]);
    /// ```
    pub fn new(size: usize) -> Self {
        Batch {
            size,
            pending: Vec::with_capacity(size.min(MAX_RESERVED)),
        }
    }
}

impl<T> Node for Batch<T> {
    type Input = T;
    type Output = Vec<T>;

    fn manifest_node(&self) -> Option<crate::node::ManifestNode> {
        let size = i64::try_from(self.size).ok()?;
        Some(crate::node::ManifestNode::new(
            "Batch",
            [("size", crate::Value::Int(size))],
        ))
    }

    fn initialize(&mut self, _ctx: &NodeContext<'_>) -> Result<()> {
        if self.size == 0 {
            return Err(Error::msg("batch size must be at least 1"));
        }
        Ok(())
    }

    fn process<E: Emitter<Vec<T>> + ?Sized>(&mut self, item: T, out: &mut E) -> Result<()> {
        self.pending.push(item);
        if self.pending.len() >= self.size {
            let full = std::mem::replace(
                &mut self.pending,
                Vec::with_capacity(self.size.min(MAX_RESERVED)),
            );
            out.emit(full)?;
        }
        Ok(())
    }

    fn finish<E: Emitter<Vec<T>> + ?Sized>(&mut self, out: &mut E) -> Result<()> {
        if !self.pending.is_empty() {
            out.emit(std::mem::take(&mut self.pending))?;
        }
        Ok(())
    }
}
