//! A data-parallel node: `n` replicas of a `Clone` node share its items, batch by batch, on rayon's
//! pool. What `par(n)` in `pipeline!` wraps a node in.

use super::parallel_batch::{first_failure, process_in_parallel};
use crate::error::Result;
use crate::node::{Emitter, Node, NodeContext};

/// Runs `degree` replicas of a node over batches of items in parallel.
///
/// Items are buffered until `batch_size` of them are waiting (or the stage flushes, or the stream
/// finishes); the batch is then split into chunks that the replicas process on rayon's global pool
/// (see the module docs of the runtime), and the outputs are emitted on the calling thread, **in input
/// order** unless [`unordered`](Parallel::unordered) was asked for.
///
/// Each replica is a clone of the node, initialised, finished and cleaned up like a node of its
/// own: so a parallel node should be stateless, or hold state that is right per replica (a cache,
/// a scratch buffer). A replica's `finish` outputs follow the last batch, replica by replica.
///
/// It pays when a node's per-item cost is well above the per-batch overhead (tens of µs per batch):
/// see `benches/parallel.rs` and the README for figures.
///
/// ```
/// use pipeline_core::prelude::*;
/// use pipeline_core::runtime::Parallel;
///
/// let mut square = Parallel::new(Map::new(|x: u64| x * x), 2);
/// let mut out = Vec::new();
/// for x in 0..10 {
///     square.process(x, &mut out).unwrap();
/// }
/// square.finish(&mut out).unwrap();
/// assert_eq!(out, (0..10).map(|x| x * x).collect::<Vec<_>>());
/// ```
pub struct Parallel<N: Node> {
    replicas: Vec<N>,
    pending: Vec<N::Input>,
    batch_size: usize,
    ordered: bool,
}

impl<N: Node + Clone> Parallel<N> {
    /// `degree` replicas of `node` (at least one), ordered, in batches of
    /// [`DEFAULT_BATCH_SIZE`](super::DEFAULT_BATCH_SIZE) items.
    pub fn new(node: N, degree: usize) -> Self {
        let mut replicas = Vec::with_capacity(degree.max(1));
        for _ in 1..degree.max(1) {
            replicas.push(node.clone());
        }
        replicas.push(node);
        Parallel {
            replicas,
            pending: Vec::new(),
            batch_size: super::DEFAULT_BATCH_SIZE,
            ordered: true,
        }
    }
}

impl<N: Node> Parallel<N> {
    /// Emits each chunk's outputs as soon as it is done, instead of in input order.
    ///
    /// ```
    /// use pipeline_core::prelude::*;
    /// use pipeline_core::runtime::Parallel;
    /// let node = Parallel::new(Map::new(|x: u8| x), 2).unordered();
    /// assert!(!node.is_ordered());
    /// ```
    pub fn unordered(mut self) -> Self {
        self.ordered = false;
        self
    }

    /// Sets how many items are processed in parallel at once (at least one).
    pub fn batch_size(mut self, items: usize) -> Self {
        self.batch_size = items.max(1);
        self
    }

    /// Whether outputs keep the input order.
    pub fn is_ordered(&self) -> bool {
        self.ordered
    }

    /// How many replicas share the items.
    pub fn degree(&self) -> usize {
        self.replicas.len()
    }

    /// Processes the items waiting for a full batch now (a stage calls it when it flushes).
    pub fn flush<E: Emitter<N::Output> + ?Sized>(&mut self, out: &mut E) -> Result<()>
    where
        N: Send,
        N::Input: Send,
        N::Output: Send,
    {
        if self.pending.is_empty() {
            return Ok(());
        }
        let process = |replica: &mut N, item: N::Input, outputs: &mut Vec<N::Output>| {
            replica.process(item, outputs)
        };
        process_in_parallel(
            &mut self.replicas,
            &mut self.pending,
            self.ordered,
            &process,
            &mut |item, _| out.emit(item),
        )
        .map_err(|(err, _)| err)
    }
}

impl<N> Node for Parallel<N>
where
    N: Node + Send,
    N::Input: Send,
    N::Output: Send,
{
    type Input = N::Input;
    type Output = N::Output;

    fn initialize(&mut self, ctx: &NodeContext<'_>) -> Result<()> {
        for k in 0..self.replicas.len() {
            if let Err(err) = self.replicas[k].initialize(ctx) {
                for earlier in &mut self.replicas[..k] {
                    let _ = earlier.cleanup();
                }
                return Err(err);
            }
        }
        Ok(())
    }

    #[inline]
    fn process<E: Emitter<N::Output> + ?Sized>(
        &mut self,
        item: N::Input,
        out: &mut E,
    ) -> Result<()> {
        self.pending.push(item);
        if self.pending.len() >= self.batch_size {
            return self.flush(out);
        }
        Ok(())
    }

    fn finish<E: Emitter<N::Output> + ?Sized>(&mut self, out: &mut E) -> Result<()> {
        self.flush(out)?;
        self.replicas
            .iter_mut()
            .try_for_each(|replica| replica.finish(out))
    }

    fn cleanup(&mut self) -> Result<()> {
        first_failure(self.replicas.iter_mut().map(|replica| replica.cleanup()))
    }

    fn type_name(&self) -> &'static str {
        self.replicas[0].type_name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::Map;
    use crate::error::Error;

    #[test]
    fn batches_run_when_full_and_the_rest_on_finish() {
        let mut node = Parallel::new(Map::new(|x: i32| x + 1), 3).batch_size(4);
        let mut out = Vec::new();
        for x in 0..6 {
            node.process(x, &mut out).unwrap();
        }
        assert_eq!(out, [1, 2, 3, 4], "one full batch so far");
        node.finish(&mut out).unwrap();
        assert_eq!(out, [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn downstream_errors_stop_the_batch() {
        let mut node = Parallel::new(crate::builtins::Filter::new(|x: &i32| *x != 2), 2);
        let mut out = crate::node::EmitFn(|x: i32| {
            if x == 3 {
                Err(Error::msg("downstream refused 3"))
            } else {
                Ok(())
            }
        });
        for x in 0..5 {
            node.process(x, &mut out).unwrap();
        }
        let err = node.finish(&mut out).unwrap_err();
        assert_eq!(err.message(), "downstream refused 3");
    }
}
