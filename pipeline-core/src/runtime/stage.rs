//! What the runtime drives: a fused group of nodes with one entry.

use crate::error::Result;

/// A fused group of nodes run on one thread, entered at one node (or at the pipeline input).
///
/// Implemented by code that `pipeline!` generates and by the dynamic graph builder. Outputs that leave
/// the pipeline are pushed into `out`; items for later stages go through the stage's own
/// [`BatchSender`](super::BatchSender)s.
pub trait Stage {
    /// The item type of the stage's entry.
    type Input;
    /// The pipeline's output item type.
    type Output;

    /// Initialises the stage's nodes in order. On failure, cleans up the nodes already initialised and
    /// returns the error (so `cleanup` is only called after a successful `initialize`).
    fn initialize(&mut self) -> Result<()>;

    /// Pushes one item through the stage.
    fn push(&mut self, item: Self::Input, out: &mut Vec<Self::Output>) -> Result<()>;

    /// Pushes every item of `items` (leaving it empty). Stages override this to run the whole batch
    /// in one call, so the per-item path inlines into one loop.
    fn push_batch(
        &mut self,
        items: &mut Vec<Self::Input>,
        out: &mut Vec<Self::Output>,
    ) -> Result<()> {
        items.drain(..).try_for_each(|item| self.push(item, out))
    }

    /// Pushes one item, the run's input item number `origin` (0-based): stages that trace their
    /// outputs to input items ([`push_traced`](Stage::push_traced)) use it; others ignore it.
    fn push_at(
        &mut self,
        origin: u64,
        item: Self::Input,
        out: &mut Vec<Self::Output>,
    ) -> Result<()> {
        let _ = origin;
        self.push(item, out)
    }

    /// Pushes `items`, the run's input items number `first`, `first + 1`, …: see
    /// [`push_at`](Stage::push_at).
    fn push_batch_at(
        &mut self,
        first: u64,
        items: &mut Vec<Self::Input>,
        out: &mut Vec<Self::Output>,
    ) -> Result<()> {
        let _ = first;
        self.push_batch(items, out)
    }

    /// Pushes `items` that arrived in a [`Message::Traced`](super::Message::Traced) batch:
    /// `origins[i]` is the input item `items[i]` derives from. Both are left empty. A stage that
    /// traces hands the origins on with its outputs, and names the failing item's origin in its
    /// error ([`Error::failed_item`](crate::Error::failed_item)); the default drops them.
    fn push_traced(
        &mut self,
        items: &mut Vec<Self::Input>,
        origins: &mut Vec<u64>,
        out: &mut Vec<Self::Output>,
    ) -> Result<()> {
        origins.clear();
        self.push_batch(items, out)
    }

    /// Drops from `outputs` what derives from input items at or after `cut`: after a failure,
    /// the runtime hands on only the outputs of the items before the failing one. Outputs that
    /// carry no origins (the default) are all kept.
    fn retain_before(outputs: &mut Vec<Self::Output>, cut: u64)
    where
        Self: Sized,
    {
        let _ = (outputs, cut);
    }

    /// How many output entries to reserve for a run of `items` inputs: one per item unless the
    /// stage hands its outputs on in batches.
    fn outputs_hint(&self, items: usize) -> usize {
        items
    }

    /// Processes what parallel nodes hold back for a full batch, then sends partly filled batches on
    /// to later stages. Outputs that leave the pipeline go into `out`.
    fn flush(&mut self, out: &mut Vec<Self::Output>) -> Result<()>;

    /// End of stream: `finish` every node in topological order, then flush and signal end of stream to
    /// later stages.
    fn finish(&mut self, out: &mut Vec<Self::Output>) -> Result<()>;

    /// Whether a call left work pending that [`resume`](Stage::resume) goes on with: a node
    /// (a generator) with more to give than one bounded piece. Stages whose calls always finish
    /// their work (the default, and every `pipeline!` stage) never leave any.
    ///
    /// Callers that want each output to leave as it is produced, in bounded memory, call
    /// `resume` while this is true, handing on `out` after each call. Any other call first
    /// finishes what is pending, so a caller that never resumes still gets every output, in order.
    fn has_pending(&self) -> bool {
        false
    }

    /// Goes on with pending work by one bounded piece, pushing outputs that leave the pipeline
    /// into `out` (items for later stages go through the stage's senders, as always).
    ///
    /// Pending work that derives only from input items at or after `cut` is dropped instead of
    /// continued: after a failure at item `cut` its outputs would be dropped anyway, and an
    /// endless generator must not keep the run alive. `u64::MAX` keeps everything; `0` drops
    /// everything.
    fn resume(&mut self, cut: u64, out: &mut Vec<Self::Output>) -> Result<()> {
        let _ = (cut, out);
        Ok(())
    }

    /// Drops the senders to later stages, so their threads see the stream close.
    fn disconnect(&mut self);

    /// Cleans up every node, reporting the first failure after trying all.
    fn cleanup(&mut self) -> Result<()>;
}

/// Per-stage tuning of a stage boundary.
///
/// ```
/// use pipeline_core::runtime::StageConfig;
/// let config = StageConfig::default();
/// assert_eq!(config.batch_size, 16384);
/// assert_eq!(config.capacity, 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageConfig {
    /// The largest batch sent into the stage, in items. Batches start at
    /// [`DEFAULT_BATCH_SIZE`](super::DEFAULT_BATCH_SIZE) (or this, if smaller) and double while a
    /// stream keeps filling them.
    pub batch_size: usize,
    /// Batches the stage's channel holds before senders wait.
    pub capacity: usize,
}

impl Default for StageConfig {
    fn default() -> Self {
        StageConfig {
            batch_size: super::DEFAULT_MAX_BATCH_SIZE,
            capacity: super::DEFAULT_CHANNEL_CAPACITY,
        }
    }
}
