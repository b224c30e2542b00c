//! A runnable pipeline: stage 0 on the caller's thread, later stages on persistent threads.

use super::channel::Message;
use super::handle::Handle;
use super::outputs::Outputs;
use super::relief::{self, Relief};
use super::spares::{spares, SpareReturn};
use super::stage::Stage;
use super::worker::{Launch, Overflow, Shared, WorkerEnv};
use crate::error::{Error, ErrorKind, Result};
use crate::graph::{Description, GraphExport};
use crossbeam_channel::{select, Receiver};
use std::cell::Cell;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Items handed to stage 0 per call on the fused path: the per-item loop runs inside the stage.
const CHUNK: usize = 256;

enum State<O> {
    /// Built; nodes not yet initialised, threads not yet started.
    Ready(Vec<Box<dyn Launch<O>>>),
    /// Initialised; worker threads running.
    Running(Running<O>),
    /// Initialised, every stage fused into stage 0: no threads and no channels to set up or
    /// tear down (a manifest built, run once and dropped pays for neither).
    Fused,
    /// Stopped by an error or a cancelled stream; holds the reason.
    Stopped(String),
}

struct Running<O> {
    threads: Vec<JoinHandle<()>>,
    /// Outputs of later stages: bounded, like every channel.
    out: Receiver<Message<O>>,
    /// Outputs moved aside while the caller was blocked sending (see `relief.rs`).
    overflow: Overflow<O>,
    /// Installed on the caller's thread while it runs stage 0.
    relief: Relief,
    failed: Receiver<()>,
    shared: Arc<Shared>,
    /// Output batches the caller has emptied, back to the workers for reuse.
    spares: SpareReturn<O>,
    /// The most output batches one look at the outputs channel takes: its capacity.
    at_most: usize,
}

impl<O> Running<O> {
    /// Stops the stage threads and joins them (stage 0's senders are already closed): stages
    /// drop the work they left pending, and the outputs channel closes first, so a stage still
    /// handing on outputs (an endless generator) does not wait for a caller that stopped
    /// listening.
    fn let_go(self) {
        let Running {
            threads,
            out,
            relief,
            shared,
            ..
        } = self;
        shared.stop();
        drop((out, relief));
        for thread in threads {
            let _ = thread.join();
        }
    }

    /// Hands every item of `batch` to `sink`, then the emptied batch back to the workers.
    ///
    /// Generic over the sink, not `dyn`, so the caller's per-item code inlines into this loop:
    /// measured on `throughput/static_threaded`, a sink called through `dyn FnMut` (one indirect
    /// call per item) made the caller's thread the slowest stage.
    fn consume<F>(&self, mut batch: Vec<O>, sink: &mut F) -> Result<()>
    where
        F: FnMut(O) -> Result<()> + ?Sized,
    {
        batch.drain(..).try_for_each(sink)?;
        self.spares.give(batch);
        Ok(())
    }
}

/// A pipeline ready to run, built by `pipeline!` or by the dynamic loader.
///
/// Node `initialize` runs on the first run; worker threads start then and live until the pipeline
/// is dropped, so repeated runs pay no thread start-up. Each run is one stream: items in, `finish`
/// through the graph, outputs back. The first error stops the pipeline for good.
///
/// ```
/// // (Uses the `pipeline` facade, which pipeline-core cannot depend on; the same code runs in
/// // tests/static_runtime.rs.)
/// use pipeline::prelude::*;
/// let mut p = pipeline! {
///     add = Calculator::add(1_i64);
///     input -> add -> output;
/// };
/// assert_eq!(p.run(1..=3)?, vec![2, 3, 4]);
/// assert_eq!(p.run([10])?, vec![11]);
/// # Ok::<(), pipeline::Error>(())
/// ```
pub struct Pipeline<H: Stage, C = Vec<<H as Stage>::Output>> {
    head: H,
    state: State<H::Output>,
    workers: usize,
    description: Description,
    /// The graph as a manifest needs it, when the builder recorded it (`pipeline!` does).
    export: Option<GraphExport>,
    /// Reused across runs: the fused path hands stage 0 its items in chunks.
    chunk: Vec<H::Input>,
    /// Items taken from the input in the current run or stream (reported with its error).
    pub(crate) accepted: u64,
    _collect: PhantomData<fn() -> C>,
}

impl<H: Stage, C: Outputs<Item = H::Output>> Pipeline<H, C> {
    /// A pipeline whose stage 0 is `head` and whose later stages are `workers`.
    pub fn new(
        head: H,
        workers: Vec<Box<dyn Launch<H::Output>>>,
        description: Description,
    ) -> Self {
        Pipeline {
            head,
            workers: workers.len(),
            state: State::Ready(workers),
            description,
            export: None,
            chunk: Vec::new(),
            accepted: 0,
            _collect: PhantomData,
        }
    }

    pub(crate) fn head_mut(&mut self) -> &mut H {
        &mut self.head
    }

    /// What the pipeline is made of; render it with `to_mermaid()` or `to_dot()`.
    pub fn describe(&self) -> &Description {
        &self.description
    }

    /// Records what [`to_manifest`](Self::to_manifest) writes; generated code calls this.
    pub fn with_export(mut self, export: GraphExport) -> Self {
        self.export = Some(export);
        self
    }

    /// The pipeline as a manifest named `name`, which the dynamic loader runs with the same
    /// results; fails naming a node a manifest cannot express (a closure).
    ///
    /// ```
    /// use pipeline::prelude::*;
    /// let mut p = pipeline! {
    ///     add = Calculator::add(1_i64);
    ///     input -> add -> output;
    /// };
    /// assert_eq!(p.run([1])?, [2]);
    /// let manifest = p.to_manifest("adder")?;
    /// assert_eq!(&*manifest.nodes[0].node_type, "Calculator");
    /// # Ok::<(), pipeline::Error>(())
    /// ```
    #[cfg(feature = "manifest-model")]
    pub fn to_manifest(&self, name: &str) -> Result<crate::manifest::Manifest> {
        match &self.export {
            Some(export) => crate::manifest::export(name, export),
            None => Err(crate::Error::msg(
                "this pipeline did not record its graph for export (built without `pipeline!`)",
            )),
        }
    }

    /// Runs one stream: every item of `items`, then end of stream; returns all outputs.
    pub fn run<I: IntoIterator<Item = H::Input>>(&mut self, items: I) -> Result<C> {
        let items = items.into_iter();
        let capacity = self.head.outputs_hint(items.size_hint().0);
        if self.workers > 0 {
            let mut collected = Vec::with_capacity(capacity);
            self.run_with(items, |item| {
                collected.push(item);
                Ok(())
            })?;
            return Ok(C::collect(collected));
        }
        // Fully fused: stage 0 pushes chunks straight into the result. The result and the chunk
        // are the guarded closure's own locals rather than borrowed into it, which leaves the
        // compiler free to keep their lengths in registers (whether it does depends on inlining).
        self.ensure_started()?;
        self.accepted = 0;
        let chunk = std::mem::take(&mut self.chunk);
        let (head, accepted) = (&mut self.head, &mut self.accepted);
        let outcome = catch_unwind(AssertUnwindSafe(move || {
            let (mut items, mut chunk) = (items, chunk);
            let mut collected = Vec::with_capacity(capacity);
            let mut fill = || -> Result<()> {
                // Work a generator left pending is finished by the next call into the stage.
                while next_chunk(&mut items, &mut chunk) {
                    let first = *accepted;
                    *accepted += chunk.len() as u64;
                    head.push_batch_at(first, &mut chunk, &mut collected)?;
                }
                head.finish(&mut collected)?;
                while head.has_pending() {
                    head.resume(u64::MAX, &mut collected)?;
                }
                Ok(())
            };
            let result = fill();
            (chunk, result.map(|()| collected))
        }));
        match outcome {
            Ok((chunk, result)) => {
                self.chunk = chunk;
                result.map(C::collect).map_err(|err| self.stop(err))
            }
            Err(payload) => {
                let err = self.stage0_panic(payload);
                Err(self.stop(err))
            }
        }
    }

    /// Runs one stream, handing each output to `sink` as it is produced, so memory stays bounded
    /// however long the input is. An error from `sink` stops the pipeline like a node error.
    ///
    /// When a node fails, every output of the input items before the failing one still reaches
    /// `sink` before the error is returned: each stage hands on what it produced and holds, in
    /// every mode (see [`fail`](Pipeline::fail)); [`Error::failed_item`] names the failing item
    /// when the stages trace their items (dynamic pipelines do).
    ///
    /// Items enter in chunks of up to 256 (one call into stage 0 per chunk); for item-by-item
    /// latency on a slow source, use [`start`](Pipeline::start).
    pub fn run_with<I, F>(&mut self, items: I, sink: F) -> Result<()>
    where
        I: IntoIterator<Item = H::Input>,
        F: FnMut(H::Output) -> Result<()>,
    {
        self.ensure_started()?;
        self.accepted = 0;
        let _relief = relief::install(self.relief());
        // As in `run`: the buffers and the sink move into the guarded closure and are its locals,
        // not memory the unwind guard has seen (perf annotate: a summing sink now vectorises).
        let chunk = std::mem::take(&mut self.chunk);
        let this = &mut *self;
        let sink_failed = Cell::new(false);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let (mut chunk, mut sink, mut items) = (chunk, sink, items.into_iter());
            let mut local = Vec::new();
            let mut sink = |item| sink(item).inspect_err(|_| sink_failed.set(true));
            let mut stream = || -> Result<()> {
                while next_chunk(&mut items, &mut chunk) {
                    let first = this.accepted;
                    this.accepted += chunk.len() as u64;
                    this.head.push_batch_at(first, &mut chunk, &mut local)?;
                    this.hand_on_pending(&mut local, &mut sink, false)?;
                }
                this.head.finish(&mut local)?;
                this.hand_on_pending(&mut local, &mut sink, true)?;
                this.wait_for_workers(&mut sink)
            };
            let result = stream();
            match result {
                Err(err) if !sink_failed.get() => {
                    (chunk, Err(this.fail(err, &mut local, &mut sink)))
                }
                Err(err) => {
                    let mut discard = |_| Ok(());
                    (chunk, Err(this.fail(err, &mut local, &mut discard)))
                }
                Ok(()) => (chunk, Ok(())),
            }
        }));
        match outcome {
            Ok((chunk, result)) => {
                self.chunk = chunk;
                result
            }
            Err(payload) => {
                let err = self.stage0_panic(payload);
                Err(self.stop(err))
            }
        }
    }

    /// Hands `local` (stage 0's outputs) and what later stages have ready to `sink`, then goes
    /// on with the work stage 0 left pending, piece by piece, handing each piece on: a generator
    /// on the caller's thread streams in bounded memory. One check per call, not per item.
    ///
    /// After stage 0's `finish` (`finishing`), later stages are looked at only while stage 0
    /// still has work pending: once it has none it has sent them the end of the stream, and
    /// their ends are for [`wait_for_workers`](Self::wait_for_workers) to count.
    fn hand_on_pending<F>(
        &mut self,
        local: &mut Vec<H::Output>,
        sink: &mut F,
        finishing: bool,
    ) -> Result<()>
    where
        F: FnMut(H::Output) -> Result<()>,
    {
        loop {
            local.drain(..).try_for_each(&mut *sink)?;
            let pending = self.head.has_pending();
            if self.workers > 0 && (pending || !finishing) {
                self.drain_ready(sink)?;
            }
            if !pending {
                return Ok(());
            }
            self.head.resume(u64::MAX, local)?;
        }
    }

    /// How many stages run on threads of their own.
    pub(crate) fn stage_threads(&self) -> usize {
        self.workers
    }

    /// Whether stage 0 left work pending (see [`Stage::has_pending`]).
    pub(crate) fn head_has_pending(&self) -> bool {
        self.head.has_pending()
    }

    /// Starts a stream fed item by item: see [`Handle`].
    pub fn start(&mut self) -> Result<Handle<'_, H, C>> {
        self.ensure_started()?;
        self.accepted = 0;
        Ok(Handle::new(self))
    }

    /// Stops the threads and cleans up every node, returning the first cleanup error.
    pub fn close(mut self) -> Result<()> {
        self.shut_down()
    }

    pub(crate) fn ensure_started(&mut self) -> Result<()> {
        match &mut self.state {
            State::Running(_) | State::Fused => Ok(()),
            State::Stopped(reason) => Err(Error::new(
                ErrorKind::Stopped,
                format_args!("the pipeline was stopped earlier ({reason}); build a new one"),
            )),
            State::Ready(launchers) => {
                let launchers = std::mem::take(launchers);
                self.launch(launchers)
            }
        }
    }

    fn launch(&mut self, launchers: Vec<Box<dyn Launch<H::Output>>>) -> Result<()> {
        if let Err(err) = guard(|| self.head.initialize()) {
            self.state = State::Stopped(err.to_string());
            return Err(err.with_kind(ErrorKind::Initialize));
        }
        if launchers.is_empty() {
            self.state = State::Fused;
            return Ok(());
        }
        let out_capacity = super::DEFAULT_CHANNEL_CAPACITY * launchers.len().max(1);
        let (out_tx, out_rx) = crossbeam_channel::bounded(out_capacity);
        let (spares_back, out_spares) = spares(out_capacity + 1);
        let overflow = Overflow::default();
        let relief = match launchers.first() {
            Some(worker) => worker.relief(out_rx.clone(), Arc::clone(&overflow)),
            None => Arc::new(|| ()),
        };
        let (failed_tx, failed_rx) = crossbeam_channel::unbounded();
        let (ready_tx, ready_rx) = crossbeam_channel::unbounded();
        let shared = Shared::new(failed_tx);
        let mut threads = Vec::with_capacity(launchers.len());
        let mut spawn_error = None;
        for launcher in launchers {
            let env = WorkerEnv {
                out: out_tx.clone(),
                out_spares: out_spares.clone(),
                ready: ready_tx.clone(),
                shared: shared.clone(),
            };
            match launcher.launch(env) {
                Ok(thread) => threads.push(thread),
                Err(err) => {
                    spawn_error = Some(Error::new(
                        ErrorKind::Initialize,
                        format_args!("cannot start a stage thread: {err}"),
                    ));
                    break;
                }
            }
        }
        drop((out_tx, ready_tx));
        let mut first_error = spawn_error;
        for _ in 0..threads.len() {
            match ready_rx.recv() {
                Ok(Ok(())) => {}
                Ok(Err(err)) => {
                    first_error.get_or_insert(err.with_kind(ErrorKind::Initialize));
                }
                Err(_) => break,
            }
        }
        self.state = State::Running(Running {
            threads,
            out: out_rx,
            overflow,
            relief,
            failed: failed_rx,
            shared,
            spares: spares_back,
            at_most: out_capacity,
        });
        match first_error {
            None => Ok(()),
            Some(err) => Err(self.stop(err)),
        }
    }

    /// Hands over whatever later stages have finished, without waiting.
    pub(crate) fn drain_ready<F>(&mut self, sink: &mut F) -> Result<()>
    where
        F: FnMut(H::Output) -> Result<()> + ?Sized,
    {
        let State::Running(running) = &self.state else {
            return Ok(());
        };
        if !running.failed.is_empty() {
            return Err(Error::new(ErrorKind::Stopped, "a stage failed"));
        }
        let moved_aside = std::mem::take(&mut *lock(&running.overflow));
        // At most a channel's worth: a stage streaming a generator keeps the channel filled,
        // and taking its outputs as they come would never end. (The capacity, not the length:
        // reading the length touches the counters the stages write, once more per call.)
        let arrived = running.out.try_iter().take(running.at_most);
        for message in moved_aside.into_iter().chain(arrived) {
            match message {
                Message::Batch(items) | Message::Traced(items, _) => {
                    running.consume(items, sink)?
                }
                Message::Finish => {
                    return Err(Error::new(
                        ErrorKind::Stopped,
                        "a stage finished before its input ended",
                    ))
                }
            }
        }
        Ok(())
    }

    /// After stage 0 has finished: hands over what later stages have sent, waiting for one
    /// message if `wait` and nothing was waiting; returns how many stages have finished the
    /// stream in what was handed over.
    pub(crate) fn take_outputs<F>(&mut self, wait: bool, sink: &mut F) -> Result<usize>
    where
        F: FnMut(H::Output) -> Result<()> + ?Sized,
    {
        let State::Running(running) = &self.state else {
            return Ok(0);
        };
        if !running.failed.is_empty() {
            return Err(Error::new(ErrorKind::Stopped, "a stage failed"));
        }
        let mut finished = 0;
        let mut taken = |message: Message<H::Output>| -> Result<()> {
            match message {
                Message::Batch(items) | Message::Traced(items, _) => running.consume(items, sink),
                Message::Finish => {
                    finished += 1;
                    Ok(())
                }
            }
        };
        let moved_aside = std::mem::take(&mut *lock(&running.overflow));
        // At most a channel's worth (see `drain_ready`).
        let arrived = running.out.try_iter().take(running.at_most);
        let mut messages = 0;
        for message in moved_aside.into_iter().chain(arrived) {
            taken(message)?;
            messages += 1;
        }
        if wait && messages == 0 {
            select! {
                recv(running.out) -> message => match message {
                    Ok(message) => taken(message)?,
                    Err(_) => return Err(Error::new(ErrorKind::Stopped, "every stage stopped")),
                },
                recv(running.failed) -> _ => {
                    return Err(Error::new(ErrorKind::Stopped, "a stage failed"));
                }
            }
        }
        Ok(finished)
    }

    /// After stage 0 has finished: collects outputs until every worker has finished the stream.
    pub(crate) fn wait_for_workers<F>(&mut self, sink: &mut F) -> Result<()>
    where
        F: FnMut(H::Output) -> Result<()> + ?Sized,
    {
        let State::Running(running) = &self.state else {
            return Ok(());
        };
        let mut finished = 0;
        let moved_aside = std::mem::take(&mut *lock(&running.overflow));
        for message in moved_aside {
            match message {
                Message::Batch(items) | Message::Traced(items, _) => {
                    running.consume(items, sink)?
                }
                Message::Finish => finished += 1,
            }
        }
        while finished < self.workers {
            select! {
                recv(running.out) -> message => match message {
                    Ok(Message::Batch(items) | Message::Traced(items, _)) => {
                        running.consume(items, sink)?
                    }
                    Ok(Message::Finish) => finished += 1,
                    Err(_) => return Err(Error::new(ErrorKind::Stopped, "every stage stopped")),
                },
                recv(running.failed) -> _ => {
                    return Err(Error::new(ErrorKind::Stopped, "a stage failed"));
                }
            }
        }
        Ok(())
    }

    /// The relief to install on the caller's thread while it runs stage 0, if threads run.
    pub(crate) fn relief(&self) -> Option<&Relief> {
        match &self.state {
            State::Running(running) => Some(&running.relief),
            _ => None,
        }
    }

    /// A panic of a stage-0 node as an error naming the node (or stage 0's nodes).
    pub(crate) fn stage0_panic(&self, payload: Box<dyn std::any::Any + Send>) -> Error {
        let site = super::take_panic_site().unwrap_or_else(|| {
            let ids: Vec<&str> = self
                .description
                .nodes
                .iter()
                .filter(|n| n.stage == 0)
                .map(|n| &*n.id)
                .collect();
            ids.join(",")
        });
        Error::from_panic(payload).in_node(&site)
    }

    /// Ends a run that failed with `err` without losing output: stage 0 hands on what it holds
    /// (`local` holds what it already produced), every later stage hands on what it holds as its
    /// input closes, and `sink` gets every output derived from the input items before the
    /// failing one — those derived from it or later are dropped where they are met. Then the
    /// pipeline stops; returns the error of the earliest failing item (what a run item by item
    /// would have met), with the items accepted.
    ///
    /// The guarantee: every output derived from the input items before the failing one is
    /// handed to `sink`. Stages trace each item to its input item (dynamic pipelines do), so
    /// outputs of the failing item or later ones are dropped once the failure is known; a
    /// parallel branch that ran ahead may have handed on outputs of later items before that.
    /// Stages that do not trace (`pipeline!` stage threads) stop at the failing item along its
    /// own branch.
    pub(crate) fn fail<F>(&mut self, err: Error, local: &mut Vec<H::Output>, sink: &mut F) -> Error
    where
        F: FnMut(H::Output) -> Result<()> + ?Sized,
    {
        let shared = match &self.state {
            State::Running(running) => Arc::clone(&running.shared),
            // No threads: the failure's bookkeeping (the earliest failing item) is this call's.
            State::Fused => Shared::new(crossbeam_channel::unbounded().0),
            State::Ready(_) | State::Stopped(_) => return self.stop(err),
        };
        // A `Stopped` seen by the caller only says that some stage failed: that stage recorded
        // the error itself.
        let stopped = if err.kind() == ErrorKind::Stopped {
            Some(err)
        } else {
            shared.fail(err);
            None
        };
        shared.start_draining();
        // Stage 0's sends below may find a stage full whose thread waits for the caller.
        let relief = self.relief().cloned();
        let _relief = relief::install(relief.as_ref());
        let mut delivering = true;
        let mut deliver = |outputs: &mut Vec<H::Output>, delivering: &mut bool| {
            let cut = shared.cut();
            if cut != u64::MAX {
                H::retain_before(outputs, cut);
            }
            for output in outputs.drain(..) {
                if *delivering && sink(output).is_err() {
                    *delivering = false;
                    // Nobody takes outputs any more: stages drop what they left pending.
                    shared.stop();
                }
            }
        };
        // Work stage 0 left pending goes on, piece by piece, while it derives from items before
        // the failing one and someone takes its outputs; otherwise it is dropped.
        while self.head.has_pending() {
            deliver(local, &mut delivering);
            let cut = match shared.cut() {
                _ if !delivering => 0,
                u64::MAX => 0, // a failure no item is named for: nothing is known to be before it
                cut => cut,
            };
            if let Err(err) = guard(|| self.head.resume(cut, local)) {
                if err.kind() != ErrorKind::Stopped {
                    shared.fail(err);
                }
                let _ = guard(|| self.head.resume(0, local));
            }
        }
        // Stage 0 hands on what it holds: partial batches for later stages, a parallel node's
        // items before the failing one.
        if let Err(flushed) = guard(|| self.head.flush(local)) {
            if flushed.kind() != ErrorKind::Stopped {
                shared.fail(flushed);
            }
        }
        deliver(local, &mut delivering);
        // Closing stage 0's channels closes every later stage in turn, each handing on what it
        // holds first; the outputs channel closes once the last has ended.
        self.head.disconnect();
        if let State::Running(running) = &self.state {
            let moved_aside = std::mem::take(&mut *lock(&running.overflow));
            let arrived = moved_aside.into_iter().chain(running.out.iter());
            for message in arrived {
                if let Message::Batch(mut outputs) | Message::Traced(mut outputs, _) = message {
                    deliver(&mut outputs, &mut delivering);
                    running.spares.give(outputs);
                }
            }
        }
        let first = shared
            .take_error()
            .or(stopped)
            .unwrap_or_else(|| Error::new(ErrorKind::Stopped, "the run failed"));
        self.stop(first)
    }

    /// Stops the pipeline after `err`; returns the error to report: the first one any stage
    /// recorded, with the count of items accepted so far.
    pub(crate) fn stop(&mut self, err: Error) -> Error {
        let accepted = self.accepted;
        self.stop_unaccounted(err).with_items_accepted(accepted)
    }

    fn stop_unaccounted(&mut self, err: Error) -> Error {
        let reason = err.to_string();
        let recorded = match &self.state {
            State::Running(running) => running.shared.take_error(),
            _ => None,
        };
        let _ = self.shut_down();
        // A stage's own error explains a `Stopped` seen by the caller; a node error of stage 0
        // is the first error itself.
        let first = match (err.kind(), recorded) {
            (ErrorKind::Stopped, Some(recorded)) => recorded,
            (_, _) => err,
        };
        self.state = State::Stopped(if first.kind() == ErrorKind::Stopped {
            reason
        } else {
            first.to_string()
        });
        first
    }

    /// Closes stage 0's channels, joins every thread (each cleans up its own nodes), cleans up stage 0.
    fn shut_down(&mut self) -> Result<()> {
        let mut first_error = None;
        match std::mem::replace(
            &mut self.state,
            State::Stopped("the pipeline was closed".into()),
        ) {
            State::Ready(_) => return Ok(()), // never initialised: nothing to clean up
            State::Stopped(reason) => {
                self.state = State::Stopped(reason);
                return Ok(());
            }
            State::Running(running) => {
                self.head.disconnect();
                let shared = Arc::clone(&running.shared);
                running.let_go();
                if let Some(err) = shared.take_error() {
                    if err.kind() == ErrorKind::Cleanup {
                        first_error = Some(err);
                    }
                }
            }
            State::Fused => {}
        }
        if let Err(err) = guard(|| self.head.cleanup()) {
            first_error.get_or_insert(err.with_kind(ErrorKind::Cleanup));
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl<H: Stage, C> Drop for Pipeline<H, C> {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.state, State::Stopped(String::new())) {
            State::Running(running) => {
                self.head.disconnect();
                running.let_go();
                let _ = guard(|| self.head.cleanup());
            }
            State::Fused => {
                let _ = guard(|| self.head.cleanup());
            }
            State::Ready(_) | State::Stopped(_) => {}
        }
    }
}

/// Refills `chunk` with up to [`CHUNK`] items; false when the input is exhausted.
#[inline]
fn next_chunk<T>(items: &mut impl Iterator<Item = T>, chunk: &mut Vec<T>) -> bool {
    chunk.clear();
    chunk.extend(items.by_ref().take(CHUNK));
    !chunk.is_empty()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `f`, turning a panic into an error.
fn guard(f: impl FnOnce() -> Result<()>) -> Result<()> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| Err(Error::from_panic(payload)))
}
