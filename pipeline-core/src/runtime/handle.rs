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

    fn checked<T>(&mut self, result: Result<T>) -> Result<T> {
        result.map_err(|err| {
            self.done = true;
            self.pipeline.stop(err)
        })
    }

    /// Feeds one item. Blocks while later stages are full (backpressure).
    pub fn push(&mut self, item: H::Input) -> Result<()> {
        self.pipeline.accepted += 1;
        let outcome = self.pipeline.head_push(item, &mut self.local);
        self.ready.extend(self.local.drain(..));
        self.checked(outcome)?;
        self.collect_ready()
    }

    /// Sends buffered items on to later stages now instead of when their batch fills.
    pub fn flush(&mut self) -> Result<()> {
        let outcome = self.pipeline.head_flush(&mut self.local);
        self.ready.extend(self.local.drain(..));
        self.checked(outcome)?;
        self.collect_ready()
    }

    fn collect_ready(&mut self) -> Result<()> {
        let ready = &mut self.ready;
        let outcome = self.pipeline.drain_ready(&mut |item| {
            ready.push_back(item);
            Ok(())
        });
        self.checked(outcome)
    }

    /// The next output that is ready, without waiting.
    pub fn try_next(&mut self) -> Result<Option<H::Output>> {
        if self.ready.is_empty() {
            self.collect_ready()?;
        }
        Ok(self.ready.pop_front())
    }

    /// Ends the stream: `finish` runs through the graph; returns every output not yet taken.
    pub fn finish(mut self) -> Result<C> {
        let mut rest: Vec<H::Output> = self.ready.drain(..).collect();
        let outcome = self.pipeline.head_finish(&mut rest);
        self.checked(outcome)?;
        let outcome = self.pipeline.wait_for_workers(&mut |item| {
            rest.push(item);
            Ok(())
        });
        self.checked(outcome)?;
        self.done = true;
        Ok(C::collect(rest))
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
    pub(crate) fn head_push(&mut self, item: H::Input, out: &mut Vec<H::Output>) -> Result<()> {
        self.head_guarded(|head| head.push(item, out))
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
