//! Process 0's ends of a run: where the input comes from and where the outputs go.
//!
//! Any iterator of items is an input, and any `FnMut(output, value)` a sink; an input that can
//! say "nothing yet" ([`NextItem::Pending`]) lets the run send what it has and write the outputs
//! already computed while the input pauses, instead of blocking the engine until the next item.

use crate::error::Result;
use crate::Value;

/// What a [`LocalInput`] has next.
#[derive(Debug)]
pub enum NextItem {
    /// An item (or why the input cannot go on: the run fails with it).
    Ready(Result<Value>),
    /// Nothing yet, the input is still open: the run sends the items it has, keeps going, and
    /// asks again soon (at once when [`LocalInput::waker`]'s thread is unparked).
    Pending,
    /// The input has ended.
    Ended,
}

/// The input of a run across processes, read by process 0.
///
/// An iterator is one that never pauses (its `next` may block):
///
/// ```
/// use pipeline_core::distributed::{LocalInput, NextItem};
/// use pipeline_core::Value;
/// let mut input = vec![Ok(Value::Int(1))].into_iter();
/// assert!(matches!(input.next_item(), NextItem::Ready(Ok(Value::Int(1)))));
/// assert!(matches!(input.next_item(), NextItem::Ended));
/// ```
pub trait LocalInput {
    /// The next item, without blocking if the input can tell it has none yet.
    fn next_item(&mut self) -> NextItem;

    /// Called once, on the thread that runs the dataflow, before the first
    /// [`next_item`](Self::next_item): an input fed from another thread unparks `thread` when an
    /// item becomes ready after a `Pending`, so the run need not poll.
    fn waker(&mut self, thread: std::thread::Thread) {
        let _ = thread;
    }
}

impl<I: Iterator<Item = Result<Value>> + ?Sized> LocalInput for I {
    fn next_item(&mut self) -> NextItem {
        match self.next() {
            Some(item) => NextItem::Ready(item),
            None => NextItem::Ended,
        }
    }
}

/// Where process 0 writes the outputs of a run across processes.
///
/// A closure `(output index, value) -> Result<()>` is a sink with nothing to flush:
///
/// ```
/// use pipeline_core::distributed::LocalSink;
/// use pipeline_core::Value;
/// let mut written = Vec::new();
/// let mut sink = |output: usize, value: Value| { written.push((output, value)); Ok(()) };
/// sink.write(0, Value::Int(7))?;
/// sink.flush()?;
/// assert_eq!(written, [(0, Value::Int(7))]);
/// # Ok::<(), pipeline_core::Error>(())
/// ```
pub trait LocalSink {
    /// Writes one output item (output index as in the local run's `DynamicPipeline::outputs()`).
    fn write(&mut self, output: usize, value: Value) -> Result<()>;

    /// Makes what was written visible: called when the input pauses and outputs were written
    /// since the last flush, so a reader sees them without waiting for more input.
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }
}

impl<F: FnMut(usize, Value) -> Result<()> + ?Sized> LocalSink for F {
    fn write(&mut self, output: usize, value: Value) -> Result<()> {
        self(output, value)
    }
}
