//! A stream fed item by item into a dynamic pipeline, handing back tagged items.

use super::output_spares::OutputReturn;
use super::stage::{DynStage, OutputBatch, Tagged};
use crate::error::Result;
use crate::runtime::Handle;
use crate::value::Value;

/// A stream in progress on a [`DynamicPipeline`](super::DynamicPipeline), from
/// [`start`](super::DynamicPipeline::start): the runtime's [`Handle`], with the stages' output
/// batches handed back one tagged item at a time.
///
/// ```
/// use pipeline_core::dynamic::{build, BuildOptions, Registry};
/// use pipeline_core::{manifest, Value};
/// let text = r#"{"version": "v1", "metadata": {"name": "m"},
///   "nodes": [{"id": "add", "node_type": "CalculatorNode", "params": {"operand": 1}}],
///   "connections": []}"#;
/// let mut p = build(manifest::load("m.json", text, &Registry::with_builtins())?, BuildOptions::default());
/// let mut stream = p.start()?;
/// stream.push(Value::Int(1))?;
/// assert_eq!(stream.try_next()?.map(|t| t.value), Some(Value::Int(2)));
/// stream.push(Value::Int(2))?;
/// let rest = stream.finish()?;
/// assert_eq!(rest.iter().map(|t| t.value.clone()).collect::<Vec<_>>(), [Value::Int(3)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct DynamicStream<'p> {
    handle: Handle<'p, DynStage, Vec<OutputBatch>>,
    /// The batch being handed out, with its output index and its items' origins.
    current: Option<(usize, std::vec::IntoIter<Value>, Vec<u64>)>,
    /// Where [`give_back`](Self::give_back) sends written output batches.
    output_return: &'p OutputReturn,
}

impl<'p> DynamicStream<'p> {
    pub(crate) fn new(
        handle: Handle<'p, DynStage, Vec<OutputBatch>>,
        output_return: &'p OutputReturn,
    ) -> Self {
        DynamicStream {
            handle,
            current: None,
            output_return,
        }
    }

    /// Feeds one item.
    pub fn push(&mut self, item: Value) -> Result<()> {
        self.handle.push(item)
    }

    /// Feeds a batch of items at once, leaving `items` empty (see [`Handle::push_batch`]).
    pub fn push_batch(&mut self, items: &mut Vec<Value>) -> Result<()> {
        self.handle.push_batch(items)
    }

    /// Pushes partly filled batches on to later stages (see [`Handle::flush`]).
    pub fn flush(&mut self) -> Result<()> {
        self.handle.flush()
    }

    /// The next output that is ready, without waiting for other threads (see
    /// [`Handle::try_next`]: a generator on the caller's thread goes on here, piece by piece).
    pub fn try_next(&mut self) -> Result<Option<Tagged>> {
        self.next_with(Handle::try_next)
    }

    /// The next output, waiting for later stages once the input has ended (see
    /// [`Handle::next`]); `None` when the stream has ended and every output has been taken.
    ///
    /// ```
    /// use pipeline_core::dynamic::{build, BuildOptions, Registry};
    /// use pipeline_core::{manifest, Value};
    /// let text = r#"{"version": "v1", "metadata": {"name": "m"},
    ///   "nodes": [{"id": "add", "node_type": "CalculatorNode", "params": {"operand": 1},
    ///              "stage": true}],
    ///   "connections": []}"#;
    /// let mut p = build(manifest::load("m.json", text, &Registry::with_builtins())?, BuildOptions::default());
    /// let mut stream = p.start()?;
    /// stream.push(Value::Int(1))?;
    /// stream.close_input()?;
    /// assert_eq!(stream.next()?.map(|t| t.value), Some(Value::Int(2)));
    /// assert_eq!(stream.next()?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(clippy::should_implement_trait)] // fallible, unlike `Iterator::next`
    pub fn next(&mut self) -> Result<Option<Tagged>> {
        self.next_with(Handle::next)
    }

    /// [`try_next`](Self::try_next), a batch at a time: the rest of the batch being handed out
    /// item by item, or the next one that is ready (never an empty one). Hand it back with
    /// [`give_back`](Self::give_back) once its values are used, so its buffers are refilled
    /// instead of allocated again.
    ///
    /// ```
    /// use pipeline_core::dynamic::{build, BuildOptions, Registry};
    /// use pipeline_core::{manifest, Value};
    /// let text = r#"{"version": "v1", "metadata": {"name": "m"},
    ///   "nodes": [{"id": "add", "node_type": "CalculatorNode", "params": {"operand": 1},
    ///              "stage": true}],
    ///   "connections": []}"#;
    /// let mut p = build(manifest::load("m.json", text, &Registry::with_builtins())?, BuildOptions::default());
    /// let mut stream = p.start()?;
    /// stream.push_batch(&mut vec![Value::Int(1), Value::Int(2)])?;
    /// stream.close_input()?;
    /// let mut written = Vec::new();
    /// while let Some(batch) = stream.next_batch()? {
    ///     written.extend(batch.values.iter().cloned());
    ///     stream.give_back(batch);
    /// }
    /// assert_eq!(written, [Value::Int(2), Value::Int(3)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_next_batch(&mut self) -> Result<Option<OutputBatch>> {
        self.next_batch_with(Handle::try_next)
    }

    /// [`next`](Self::next), a batch at a time (see [`try_next_batch`](Self::try_next_batch)).
    pub fn next_batch(&mut self) -> Result<Option<OutputBatch>> {
        self.next_batch_with(Handle::next)
    }

    /// Returns an output batch whose values the caller has used: they are dropped here, and its
    /// buffers go back to the stages for the batches to come (a stage per node otherwise
    /// allocates a batch on one thread and frees it on this one, each time).
    pub fn give_back(&self, mut batch: OutputBatch) {
        // Maps no one else holds are kept, emptied, for the next lines this thread reads.
        crate::value::recycle_values(&mut batch.values);
        self.output_return.give(batch);
    }

    /// [`try_next_batch`](Self::try_next_batch) as the output index and the values.
    #[cfg_attr(not(feature = "distributed"), allow(dead_code))] // the distributed runtime's
    pub(crate) fn try_next_run(&mut self) -> Result<Option<(usize, Vec<Value>)>> {
        Ok(self
            .try_next_batch()?
            .map(|batch| (batch.output, batch.values)))
    }

    /// [`next_batch`](Self::next_batch) as the output index and the values.
    #[cfg_attr(not(feature = "distributed"), allow(dead_code))] // the distributed runtime's
    pub(crate) fn next_run(&mut self) -> Result<Option<(usize, Vec<Value>)>> {
        Ok(self.next_batch()?.map(|batch| (batch.output, batch.values)))
    }

    fn next_batch_with(
        &mut self,
        mut next_batch: impl FnMut(
            &mut Handle<'p, DynStage, Vec<OutputBatch>>,
        ) -> Result<Option<OutputBatch>>,
    ) -> Result<Option<OutputBatch>> {
        if let Some((output, values, mut origins)) = self.current.take() {
            if values.len() > 0 {
                let origins = origins.split_off(origins.len().saturating_sub(values.len()));
                return Ok(Some(OutputBatch {
                    output,
                    values: values.collect(),
                    origins,
                }));
            }
        }
        loop {
            match next_batch(&mut self.handle)? {
                Some(batch) if batch.values.is_empty() => continue,
                other => return Ok(other),
            }
        }
    }

    fn next_with(
        &mut self,
        mut next_batch: impl FnMut(
            &mut Handle<'p, DynStage, Vec<OutputBatch>>,
        ) -> Result<Option<OutputBatch>>,
    ) -> Result<Option<Tagged>> {
        loop {
            if let Some((output, values, _)) = &mut self.current {
                if let Some(value) = values.next() {
                    return Ok(Some(Tagged {
                        output: *output,
                        value,
                    }));
                }
            }
            match next_batch(&mut self.handle)? {
                Some(batch) => {
                    self.current = Some((batch.output, batch.values.into_iter(), batch.origins))
                }
                None => {
                    self.current = None;
                    return Ok(None);
                }
            }
        }
    }

    /// Whether the next [`try_next`](Self::try_next) or [`next`](Self::next) has no output at
    /// hand and would first run a node's pending work (a generator's next piece) or wait for
    /// later stages: the moment for a caller that buffers what it writes to flush it, so a slow
    /// generator's outputs show as they come.
    ///
    /// ```
    /// use pipeline_core::dynamic::{build, BuildOptions, Registry};
    /// use pipeline_core::{manifest, Value};
    /// let text = r#"{"version": "v1", "metadata": {"name": "m"},
    ///   "nodes": [{"id": "add", "node_type": "CalculatorNode", "params": {"operand": 1},
    ///              "stage": true}],
    ///   "connections": []}"#;
    /// let mut p = build(manifest::load("m.json", text, &Registry::with_builtins())?, BuildOptions::default());
    /// let mut stream = p.start()?;
    /// stream.push(Value::Int(1))?;
    /// assert!(!stream.would_wait()); // `try_next` returns at once
    /// stream.close_input()?;
    /// assert!(stream.would_wait()); // the stage thread has the item
    /// assert_eq!(stream.next()?.map(|t| t.value), Some(Value::Int(2)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn would_wait(&self) -> bool {
        let at_hand = self
            .current
            .as_ref()
            .is_some_and(|(_, values, _)| values.len() > 0);
        !at_hand && self.handle.would_wait()
    }

    /// Ends the input without waiting for the outputs: take them with [`next`](Self::next)
    /// (see [`Handle::close_input`]).
    pub fn close_input(&mut self) -> Result<()> {
        self.handle.close_input()
    }

    /// Ends the stream: `finish` runs through the graph, and every output not yet taken waits
    /// for [`try_next`](Self::try_next) — also when a node fails, then exactly the outputs of
    /// the items before the failing one ([`Error::failed_item`](crate::Error::failed_item) says
    /// which, counting pushed items from 0). A failed [`push`](Self::push) or
    /// [`flush`](Self::flush) leaves the same behind.
    ///
    /// ```
    /// use pipeline_core::dynamic::{build, BuildOptions, Registry};
    /// use pipeline_core::{manifest, Value};
    /// let text = r#"{"version": "v1", "metadata": {"name": "m"},
    ///   "nodes": [{"id": "div", "node_type": "CalculatorNode",
    ///              "params": {"operation": "divide", "operand": 0}, "stage": true}],
    ///   "connections": []}"#;
    /// let mut p = build(manifest::load("m.json", text, &Registry::with_builtins())?, BuildOptions::default());
    /// let mut stream = p.start()?;
    /// stream.push(Value::Int(1))?;
    /// // The staged node fails on the first item, and the stream ends without outputs.
    /// let err = stream.end().unwrap_err();
    /// assert_eq!(err.failed_item(), Some(0));
    /// assert_eq!(stream.try_next()?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn end(&mut self) -> Result<()> {
        self.handle.end()
    }

    /// Ends the stream: every output not yet taken, in order.
    pub fn finish(mut self) -> Result<Vec<Tagged>> {
        let mut rest: Vec<Tagged> = match self.current.take() {
            Some((output, values, _)) => values.map(|value| Tagged { output, value }).collect(),
            None => Vec::new(),
        };
        rest.extend(
            self.handle
                .finish()?
                .into_iter()
                .flat_map(OutputBatch::into_tagged),
        );
        Ok(rest)
    }
}
