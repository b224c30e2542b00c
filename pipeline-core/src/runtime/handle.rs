//! Streaming: feed a running pipeline item by item and take outputs as they come.

use super::outputs::Outputs;
use super::pipeline::Pipeline;
use super::stage::Stage;
use crate::error::{Error, ErrorKind, Result};
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A stream in progress on a [`Pipeline`], from [`Pipeline::start`].
///
/// Stage threads are the pipeline's own: they started once and serve every handle. Dropping a
/// handle before [`finish`](Handle::finish) cancels the stream: every stage thread is stopped and
/// joined, and the pipeline cannot run again.
///
/// ```
/// // (Uses the `pipeline` facade, which pipeline-core cannot depend on; the same code runs in
/// // tests/static_runtime.rs.)
/// use pipeline::prelude::*;
/// let mut p = pipeline! {
///     double = Map::new(|x: i64| x * 2);
///     input => double -> output;
/// };
/// let mut stream = p.start()?;
/// stream.push(1)?;
/// stream.push(2)?;
/// stream.flush()?;
/// let tail = stream.finish()?;
/// assert_eq!(tail, vec![2, 4]);
/// # Ok::<(), pipeline::Error>(())
/// ```
pub struct Handle<'p, H: Stage, C: Outputs<Item = H::Output>> {
    pipeline: &'p mut Pipeline<H, C>,
    ready: VecDeque<H::Output>,
    local: Vec<H::Output>,
    /// Set by [`close_input`](Handle::close_input): later stages ending the stream is expected.
    input_ended: bool,
    /// Later stages that have finished the stream, once the input ended.
    finished: usize,
    done: bool,
}

impl<'p, H: Stage, C: Outputs<Item = H::Output>> Handle<'p, H, C> {
    pub(crate) fn new(pipeline: &'p mut Pipeline<H, C>) -> Self {
        Handle {
            pipeline,
            ready: VecDeque::new(),
            local: Vec::new(),
            input_ended: false,
            finished: 0,
            done: false,
        }
    }

    /// Ends the stream after `err` without losing output (as `Pipeline::fail` does): the outputs
    /// of the items before the failing one are waiting in `ready` for [`try_next`](Self::try_next).
    fn fail(&mut self, err: Error) -> Error {
        self.done = true;
        let ready = &mut self.ready;
        self.pipeline.fail(err, &mut self.local, &mut |item| {
            ready.push_back(item);
            Ok(())
        })
    }

    fn checked(&mut self, result: Result<()>) -> Result<()> {
        match result {
            Ok(()) => {
                self.ready.extend(self.local.drain(..));
                Ok(())
            }
            Err(err) => Err(self.fail(err)),
        }
    }

    fn ended() -> Error {
        Error::new(ErrorKind::Stopped, "the stream has ended")
    }

    fn accepting(&self) -> Result<()> {
        if self.done || self.input_ended {
            return Err(Self::ended());
        }
        Ok(())
    }

    /// Feeds one item. Blocks while later stages are full (backpressure).
    ///
    /// On failure, the stream ends: [`try_next`](Self::try_next) still hands out every output of
    /// the items before the failing one, and [`Error::failed_item`] names it (counting from 0 in
    /// the order items were pushed) when the stages trace their items.
    ///
    /// Work a node left pending (a generator with more to yield) is finished first, its outputs
    /// waiting for `try_next`: to keep memory bounded, take outputs with `try_next` until it
    /// returns `None` before pushing the next item.
    pub fn push(&mut self, item: H::Input) -> Result<()> {
        self.accepting()?;
        self.settle()?;
        let origin = self.pipeline.accepted;
        self.pipeline.accepted += 1;
        let outcome = self.pipeline.head_push(origin, item, &mut self.local);
        self.checked(outcome)?;
        self.collect_ready()
    }

    /// Feeds every item of `items` (leaving it empty) in one call through stage 0, which runs its
    /// nodes over the whole batch: what a reader that gets many items at once (a chunk of input
    /// lines) uses instead of [`push`](Self::push) per item. Failures and pending work are as for
    /// `push`; the items count from 0 across pushes of either kind.
    ///
    /// With later stages, what the batch made is then sent on at once (a [`flush`](Self::flush)),
    /// as a stage thread hands on each batch it gets: the caller's batch is the unit that crosses
    /// stage boundaries. Waiting for the stage channel's own batches to fill (up to 16384 items)
    /// kept that many items alive between being made and written: for JSON objects of a few
    /// allocations each, megabytes that fell out of the cache, and a heap growing and shrinking
    /// with each batch (`pipeline run` over 300,000 object lines: ~6,000 page faults before,
    /// ~1,800 since; the fused run ~950).
    /// So push batches worth a handoff between threads (hundreds of items or more); push item by
    /// item to let the channel's batches grow instead. (While a node of stage 0 has work pending,
    /// the flush waits for the next push or flush.)
    ///
    /// ```
    /// use pipeline::prelude::*;
    /// let mut p = pipeline! {
    ///     double = Map::new(|x: i64| x * 2);
    ///     input -> double -> output;
    /// };
    /// let mut stream = p.start()?;
    /// let mut batch = vec![1, 2, 3];
    /// stream.push_batch(&mut batch)?;
    /// assert!(batch.is_empty());
    /// stream.end()?;
    /// let mut out = Vec::new();
    /// while let Some(x) = stream.try_next()? {
    ///     out.push(x);
    /// }
    /// assert_eq!(out, [2, 4, 6]);
    /// # Ok::<(), pipeline::Error>(())
    /// ```
    pub fn push_batch(&mut self, items: &mut Vec<H::Input>) -> Result<()> {
        self.accepting()?;
        if items.is_empty() {
            return Ok(());
        }
        self.settle()?;
        let first = self.pipeline.accepted;
        self.pipeline.accepted += items.len() as u64;
        let outcome = self.pipeline.head_push_batch(first, items, &mut self.local);
        self.checked(outcome)?;
        // Not while stage 0 has work pending: flushing would finish it at once (a generator that
        // never ends would never return); it is flushed with the next push or flush instead.
        if self.pipeline.stage_threads() > 0 && !self.pipeline.head_has_pending() {
            let outcome = self.pipeline.head_flush(&mut self.local);
            self.checked(outcome)?;
        }
        self.collect_ready()
    }

    /// Sends buffered items on to later stages now instead of when their batch fills (after
    /// finishing pending work, as [`push`](Self::push) does).
    pub fn flush(&mut self) -> Result<()> {
        self.accepting()?;
        self.settle()?;
        let outcome = self.pipeline.head_flush(&mut self.local);
        self.checked(outcome)?;
        self.collect_ready()
    }

    /// Goes on with stage 0's pending work by one bounded piece, its outputs into `ready`.
    fn resume_head(&mut self) -> Result<()> {
        let outcome = self.pipeline.head_resume(&mut self.local);
        self.checked(outcome)?;
        self.collect_ready()
    }

    /// Finishes stage 0's pending work at once.
    fn settle(&mut self) -> Result<()> {
        while !self.done && self.pipeline.head_has_pending() {
            self.resume_head()?;
        }
        Ok(())
    }

    /// Hands over whatever later stages have ready, without waiting (`wait`: waiting for one
    /// message, once the input has ended).
    fn collect_ready(&mut self) -> Result<()> {
        self.collect(false)
    }

    fn collect(&mut self, wait: bool) -> Result<()> {
        if self.done {
            return Ok(());
        }
        let ready = &mut self.ready;
        let mut sink = |item| {
            ready.push_back(item);
            Ok(())
        };
        if !self.input_ended {
            let outcome = self.pipeline.drain_ready(&mut sink);
            return outcome.map_err(|err| self.fail(err));
        }
        let stages = self.pipeline.stage_threads();
        let outcome = match self.finished < stages {
            true => self.pipeline.take_outputs(wait, &mut sink),
            false => Ok(0),
        };
        match outcome {
            Ok(finished) => {
                self.finished += finished;
                // Stage threads finish only after stage 0 has: with none, stage 0 decides.
                self.done = self.finished >= stages && !self.pipeline.head_has_pending();
                Ok(())
            }
            Err(err) => Err(self.fail(err)),
        }
    }

    /// One step towards the next output: a piece of stage 0's pending work, or what later
    /// stages have (waiting for it if `wait` and the input has ended). False once nothing more
    /// can come without waiting, or at all.
    fn advance(&mut self, wait: bool) -> Result<bool> {
        if self.done {
            return Ok(false);
        }
        if self.pipeline.head_has_pending() {
            self.resume_head()?;
            return Ok(true);
        }
        self.collect(wait && self.input_ended)?;
        Ok(wait && self.input_ended && !self.done)
    }

    /// Whether the next [`try_next`](Self::try_next) or [`next`](Self::next) has no output at
    /// hand and would first run a node's pending work (a generator's next piece) or wait for
    /// later stages: the moment for a caller that buffers what it writes to flush it.
    #[cfg_attr(not(feature = "manifest"), allow(dead_code))] // the dynamic stream's
    pub(crate) fn would_wait(&self) -> bool {
        self.ready.is_empty()
            && !self.done
            && (self.input_ended || self.pipeline.head_has_pending())
    }

    /// The next output that is ready, without waiting for other threads. After the stream
    /// ended (by [`end`](Self::end) or a failure), the outputs still waiting, then `None`.
    ///
    /// A node on the caller's thread that left work pending (a generator with more to yield)
    /// goes on here, one bounded piece at a time: each output is handed out as it is produced,
    /// so an endless generator streams in bounded memory (and `try_next` never returns `None`
    /// while it runs).
    pub fn try_next(&mut self) -> Result<Option<H::Output>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Ok(Some(item));
            }
            if !self.advance(false)? {
                return Ok(self.ready.pop_front());
            }
        }
    }

    /// The next output, waiting for later stages once the input has ended
    /// ([`close_input`](Self::close_input)); `None` when the stream has ended and every output
    /// has been taken. Before the input ends it waits for nothing, like
    /// [`try_next`](Self::try_next). Outputs are handed out as they are produced, in bounded
    /// memory, also while a node streams an endless generator.
    ///
    /// ```
    /// use pipeline::prelude::*;
    /// let mut p = pipeline! {
    ///     double = Map::new(|x: i64| x * 2);
    ///     input => double -> output;
    /// };
    /// let mut stream = p.start()?;
    /// stream.push(1)?;
    /// stream.push(2)?;
    /// stream.close_input()?;
    /// let mut outputs = Vec::new();
    /// while let Some(output) = stream.next()? {
    ///     outputs.push(output);
    /// }
    /// assert_eq!(outputs, [2, 4]);
    /// # Ok::<(), pipeline::Error>(())
    /// ```
    #[allow(clippy::should_implement_trait)] // fallible, unlike `Iterator::next`
    pub fn next(&mut self) -> Result<Option<H::Output>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Ok(Some(item));
            }
            if !self.advance(true)? {
                return Ok(self.ready.pop_front());
            }
        }
    }

    /// Ends the input without waiting for the outputs: `finish` runs through stage 0 (a node
    /// that has more to give than one bounded piece goes on in [`next`](Self::next) and
    /// [`try_next`](Self::try_next)), and later stages finish the stream as their turn comes.
    /// Take the outputs with `next` until it returns `None`. A failure shows there, as it does
    /// here; either way, the outputs of the items before the failing one are handed out.
    pub fn close_input(&mut self) -> Result<()> {
        self.accepting()?;
        self.settle()?;
        let outcome = self.pipeline.head_finish(&mut self.local);
        self.checked(outcome)?;
        self.input_ended = true;
        Ok(())
    }

    /// Ends the stream: `finish` runs through the graph, and every output not yet taken waits
    /// for [`try_next`](Self::try_next) — also when it fails: then the outputs of the items
    /// before the failing one. Every output is held in memory until taken: to stream them,
    /// use [`close_input`](Self::close_input) and [`next`](Self::next).
    ///
    /// ```
    /// use pipeline::prelude::*;
    /// let mut p = pipeline! {
    ///     double = Map::new(|x: i64| x * 2);
    ///     input => double -> output;
    /// };
    /// let mut stream = p.start()?;
    /// stream.push(1)?;
    /// stream.end()?;
    /// assert_eq!(stream.try_next()?, Some(2));
    /// assert_eq!(stream.try_next()?, None);
    /// # Ok::<(), pipeline::Error>(())
    /// ```
    pub fn end(&mut self) -> Result<()> {
        self.close_input()?;
        while self.advance(true)? {}
        Ok(())
    }

    /// Ends the stream: `finish` runs through the graph; returns every output not yet taken.
    pub fn finish(mut self) -> Result<C> {
        self.end()?;
        Ok(C::collect(self.ready.drain(..).collect()))
    }
}

impl<H: Stage, C: Outputs<Item = H::Output>> Drop for Handle<'_, H, C> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.pipeline.stop(Error::new(
                ErrorKind::Stopped,
                "a stream was dropped before it finished",
            ));
        }
    }
}

impl<H: Stage, C: Outputs<Item = H::Output>> Pipeline<H, C> {
    pub(crate) fn head_push(
        &mut self,
        origin: u64,
        item: H::Input,
        out: &mut Vec<H::Output>,
    ) -> Result<()> {
        self.head_guarded(|head| head.push_at(origin, item, out))
    }
    pub(crate) fn head_push_batch(
        &mut self,
        first: u64,
        items: &mut Vec<H::Input>,
        out: &mut Vec<H::Output>,
    ) -> Result<()> {
        self.head_guarded(|head| head.push_batch_at(first, items, out))
    }
    pub(crate) fn head_flush(&mut self, out: &mut Vec<H::Output>) -> Result<()> {
        self.head_guarded(|head| head.flush(out))
    }
    pub(crate) fn head_finish(&mut self, out: &mut Vec<H::Output>) -> Result<()> {
        self.head_guarded(|head| head.finish(out))
    }
    pub(crate) fn head_resume(&mut self, out: &mut Vec<H::Output>) -> Result<()> {
        self.head_guarded(|head| head.resume(u64::MAX, out))
    }
    /// Runs `f` on stage 0, turning a panic into an error naming the node.
    fn head_guarded(&mut self, f: impl FnOnce(&mut H) -> Result<()>) -> Result<()> {
        let relief = self.relief().cloned();
        let _relief = super::relief::install(relief.as_ref());
        let head = self.head_mut();
        catch_unwind(AssertUnwindSafe(|| f(head)))
            .unwrap_or_else(|payload| Err(self.stage0_panic(payload)))
    }
}
