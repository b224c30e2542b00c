//! A segment's pipeline on a thread of its own, fed batches by the segment's timely operator.
//!
//! A pipeline stream borrows its pipeline and may block (backpressure between its stages), while
//! timely operators must return promptly and live for the whole dataflow: the thread owns both
//! and talks to the operator over channels, waking it (a [`SyncActivator`]) whenever it has sent
//! something.

use super::batch::Batch;
use super::node_stats::NodeFigures;
use crate::dynamic::DynamicPipeline;
use crate::error::{Error, Result};
use crate::Value;
use crossbeam_channel::{bounded, unbounded, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;
use timely::scheduling::SyncActivator;

/// How often a segment with stage threads looks for outputs while no batch comes.
const POLL: Duration = Duration::from_millis(2);

/// Messages at most waiting for the operator before the thread waits: with the operator's
/// epochs in flight, what bounds a segment's memory.
const OUTPUT_MESSAGES: usize = 16;

/// From the operator.
pub(crate) enum ToSegment {
    /// The next batches of the segment's input (one epoch's, from one or more processes),
    /// decoded here, off timely's thread.
    Batches(Vec<Batch>),
    /// The input has ended: finish the stream.
    End,
}

/// To the operator, in the order things happened.
pub(crate) enum FromSegment {
    /// Outputs in runs, each with its pipeline output index, in order.
    Outputs(Vec<OutputRun>),
    /// The pipeline took the oldest batch sent and handed out every output it had ready.
    Consumed,
    /// The stream finished; every output was sent. With the pipeline's per-node counters when
    /// it was built with stats (their `process` is left 0: the operator knows where it runs).
    Ended(Vec<NodeFigures>),
    /// A node failed (every output of the items before the failing one was sent first).
    Failed(Error),
}

/// Consecutive outputs of one pipeline output: its index and the values.
pub(crate) type OutputRun = (usize, Vec<Value>);

/// The operator's end of a running segment.
pub(crate) struct SegmentThread {
    pub(crate) to: Sender<ToSegment>,
    pub(crate) from: Receiver<FromSegment>,
    pub(crate) thread: Option<JoinHandle<()>>,
}

impl SegmentThread {
    /// Starts `pipeline` on a thread named after `label`; outputs are sent in messages of at most
    /// `chunk` items; `threaded`: the pipeline has stage threads, so outputs are looked for while
    /// no batch comes.
    pub(crate) fn start(
        pipeline: DynamicPipeline,
        threaded: bool,
        chunk: usize,
        activator: SyncActivator,
        label: String,
    ) -> Result<SegmentThread> {
        let (to, inbox) = unbounded();
        let (outbox, from) = bounded(OUTPUT_MESSAGES);
        let thread = std::thread::Builder::new()
            .name(label)
            .spawn(move || {
                let mut runner = Runner {
                    outbox,
                    activator,
                    chunk: chunk.max(1),
                };
                let outcome = runner.run(pipeline, &inbox, threaded);
                if let Err(Some(err)) = outcome {
                    runner.send(FromSegment::Failed(err));
                }
            })
            .map_err(|err| {
                Error::new(
                    crate::ErrorKind::Io,
                    format!("cannot start a segment thread: {err}"),
                )
            })?;
        Ok(SegmentThread {
            to,
            from,
            thread: Some(thread),
        })
    }

    /// Waits for the thread (after the operator dropped its channels or the stream ended).
    pub(crate) fn join(mut self) {
        let SegmentThread { to, from, thread } = &mut self;
        drop(std::mem::replace(to, unbounded().0));
        drop(std::mem::replace(from, bounded(0).1));
        if let Some(thread) = thread.take() {
            let _ = thread.join();
        }
    }
}

struct Runner {
    outbox: Sender<FromSegment>,
    activator: SyncActivator,
    chunk: usize,
}

impl Drop for Runner {
    /// However the thread ends (a panic included), the operator looks again and finds out.
    fn drop(&mut self) {
        // The channel closes first, so the operator, woken, sees it closed.
        drop(std::mem::replace(&mut self.outbox, bounded(0).0));
        let _ = self.activator.activate();
    }
}

/// `Err(None)`: the operator went away (the run was aborted), nothing to report.
type Outcome = std::result::Result<(), Option<Error>>;

impl Runner {
    /// Sends `message` and wakes the operator; false if the operator is gone.
    fn send(&self, message: FromSegment) -> bool {
        let sent = self.outbox.send(message).is_ok();
        let _ = self.activator.activate();
        sent
    }

    fn run(
        &mut self,
        mut pipeline: DynamicPipeline,
        inbox: &Receiver<ToSegment>,
        threaded: bool,
    ) -> Outcome {
        let mut stream = pipeline.start().map_err(Some)?;
        loop {
            let message = if threaded {
                match inbox.recv_timeout(POLL) {
                    Ok(message) => Some(message),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return Err(None),
                }
            } else {
                Some(inbox.recv().map_err(|_| None)?)
            };
            match message {
                None => self.forward(|| stream.try_next_run())?,
                Some(ToSegment::Batches(mut batches)) => {
                    let mut items = match batches.pop() {
                        // One batch (the common case): its values as they are, no copy.
                        Some(batch) if batches.is_empty() => batch.into_values().map_err(Some)?,
                        last => {
                            let total = batches.iter().map(Batch::len).sum::<usize>();
                            let mut items =
                                Vec::with_capacity(total + last.as_ref().map_or(0, Batch::len));
                            for batch in batches.into_iter().chain(last) {
                                batch.move_into(&mut items).map_err(Some)?;
                            }
                            items
                        }
                    };
                    let pushed = stream.push_batch(&mut items).and_then(|()| stream.flush());
                    // After a failure the stream hands out the outputs of the items before it.
                    self.forward(|| stream.try_next_run())?;
                    pushed.map_err(Some)?;
                    if !self.send(FromSegment::Consumed) {
                        return Err(None);
                    }
                }
                Some(ToSegment::End) => {
                    let closed = stream.close_input();
                    self.forward(|| stream.next_run())?;
                    closed.map_err(Some)?;
                    drop(stream);
                    let figures = NodeFigures::of_pipeline(&pipeline, 0);
                    pipeline.close().map_err(Some)?;
                    self.send(FromSegment::Ended(figures));
                    return Ok(());
                }
            }
        }
    }

    /// Sends every output `next` hands out, in messages of about `chunk` items at most (a run
    /// is not split: the operator cuts batches to size).
    fn forward(&self, mut next: impl FnMut() -> Result<Option<OutputRun>>) -> Outcome {
        let mut outputs = Vec::new();
        let mut items = 0;
        let failure = loop {
            match next() {
                Ok(Some(run)) => {
                    items += run.1.len();
                    outputs.push(run);
                    if items >= self.chunk {
                        items = 0;
                        if !self.send(FromSegment::Outputs(std::mem::take(&mut outputs))) {
                            return Err(None);
                        }
                    }
                }
                Ok(None) => break None,
                Err(err) => break Some(err),
            }
        };
        if !outputs.is_empty() && !self.send(FromSegment::Outputs(outputs)) {
            return Err(None);
        }
        match failure {
            Some(err) => Err(Some(err)),
            None => Ok(()),
        }
    }
}
