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
    done: bool,
}

impl<'p, H: Stage, C: Outputs<Item = H::Output>> Handle<'p, H, C> {
    pub(crate) fn new(pipeline: &'p mut Pipeline<H, C>) -> Self {
        Handle {
            pipeline,
            ready: VecDeque::new(),
            local: Vec::new(),
            done: false,
        }
    }

    /// Ends the stream after `err` without losing output (see [`Pipeline::fail`]): the outputs
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

    /// Feeds one item. Blocks while later stages are full (backpressure).
    ///
    /// On failure, the stream ends: [`try_next`](Self::try_next) still hands out every output of
    /// the items before the failing one, and [`Error::failed_item`] names it (counting from 0 in
    /// the order items were pushed) when the stages trace their items.
    pub fn push(&mut self, item: H::Input) -> Result<()> {
        if self.done {
            return Err(Self::ended());
        }
        let origin = self.pipeline.accepted;
        self.pipeline.accepted += 1;
        let outcome = self.pipeline.head_push(origin, item, &mut self.local);
        self.checked(outcome)?;
        self.collect_ready()
    }

    /// Feeds every item of `items` (leaving it empty) in one call through stage 0, which runs its
    /// nodes over the whole batch: what a reader that gets many items at once (a chunk of input
    /// lines) uses instead of [`push`](Self::push) per item. Failures are as for `push`; the
    /// items count from 0 across pushes of either kind.
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
        if self.done {
            return Err(Self::ended());
        }
        if items.is_empty() {
            return Ok(());
        }
        let first = self.pipeline.accepted;
        self.pipeline.accepted += items.len() as u64;
        let outcome = self.pipeline.head_push_batch(first, items, &mut self.local);
        self.checked(outcome)?;
        self.collect_ready()
    }

    /// Sends buffered items on to later stages now instead of when their batch fills.
    pub fn flush(&mut self) -> Result<()> {
        if self.done {
            return Err(Self::ended());
        }
        let outcome = self.pipeline.head_flush(&mut self.local);
        self.checked(outcome)?;
        self.collect_ready()
    }

    fn collect_ready(&mut self) -> Result<()> {
        if self.done {
            return Ok(());
        }
        let ready = &mut self.ready;
        let outcome = self.pipeline.drain_ready(&mut |item| {
            ready.push_back(item);
            Ok(())
        });
        outcome.map_err(|err| self.fail(err))
    }

    /// The next output that is ready, without waiting. After the stream ended (by
    /// [`end`](Self::end) or a failure), the outputs still waiting, then `None`.
    pub fn try_next(&mut self) -> Result<Option<H::Output>> {
        if self.ready.is_empty() {
            self.collect_ready()?;
        }
        Ok(self.ready.pop_front())
    }

    /// Ends the stream: `finish` runs through the graph, and every output not yet taken waits
    /// for [`try_next`](Self::try_next) — also when it fails: then the outputs of the items
    /// before the failing one.
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
        if self.done {
            return Err(Self::ended());
        }
        let outcome = self.pipeline.head_finish(&mut self.local);
        self.checked(outcome)?;
        let ready = &mut self.ready;
        let outcome = self.pipeline.wait_for_workers(&mut |item| {
            ready.push_back(item);
            Ok(())
        });
        outcome.map_err(|err| self.fail(err))?;
        self.done = true;
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
    /// Runs `f` on stage 0, turning a panic into an error naming the node.
    fn head_guarded(&mut self, f: impl FnOnce(&mut H) -> Result<()>) -> Result<()> {
        let relief = self.relief().cloned();
        let _relief = super::relief::install(relief.as_ref());
        let head = self.head_mut();
        catch_unwind(AssertUnwindSafe(|| f(head)))
            .unwrap_or_else(|payload| Err(self.stage0_panic(payload)))
    }
}
