//! A stage on its own persistent thread.

use super::channel::{Message, StageReceiver};
use super::relief::Relief;
use super::spares::Spares;
use super::stage::Stage;
use crate::error::{earlier, Error, ErrorKind, Result};
use crossbeam_channel::{Receiver, Sender};
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// What every worker thread of one pipeline shares: the first error, where a failure cuts the
/// stream, and a way to wake the caller.
#[derive(Debug)]
pub(crate) struct Shared {
    first_error: Mutex<Option<Error>>,
    failed_tx: Sender<()>,
    /// Set once any stage has failed: stages skip `finish` (its outputs would come from a stream
    /// cut short).
    failed: AtomicBool,
    /// The earliest input item a failure came from (`u64::MAX`: none named): traced items
    /// derived from it or later items are dropped wherever they are met.
    cut: AtomicU64,
    /// Set by the caller when it drains a failed run: a stage whose input closes then hands on
    /// what it holds before ending.
    draining: AtomicBool,
    /// Set when the caller stops listening (the pipeline shuts down, or the caller's sink
    /// failed): stages drop the work they left pending (an endless generator) instead of going
    /// on with it.
    stopping: AtomicBool,
}

impl Shared {
    pub(crate) fn new(failed_tx: Sender<()>) -> Arc<Self> {
        Arc::new(Shared {
            first_error: Mutex::new(None),
            failed_tx,
            failed: AtomicBool::new(false),
            cut: AtomicU64::new(u64::MAX),
            draining: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
        })
    }

    /// Records `err` unless an error of an earlier input item is recorded, lowers the cut to its
    /// item, and wakes the caller.
    pub(crate) fn fail(&self, err: Error) {
        if let Some(item) = err.failed_item() {
            self.cut.fetch_min(item, Ordering::SeqCst);
        }
        self.failed.store(true, Ordering::SeqCst);
        let mut slot = self.first_error.lock().unwrap_or_else(|p| p.into_inner());
        *slot = Some(earlier(slot.take(), err));
        drop(slot);
        let _ = self.failed_tx.send(());
    }

    /// The first recorded error, if any.
    pub(crate) fn take_error(&self) -> Option<Error> {
        self.first_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// Whether a stage has failed in this pipeline.
    pub(crate) fn has_failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    /// The earliest failing input item so far; `u64::MAX` if none.
    pub(crate) fn cut(&self) -> u64 {
        self.cut.load(Ordering::SeqCst)
    }

    /// Marks the run as draining after a failure (see [`Shared::draining`]).
    pub(crate) fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Tells every stage that nobody takes outputs any more (see [`Shared::stopping`]).
    pub(crate) fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// Where a stage cuts the work it left pending: everything once the caller stopped
    /// listening, else what derives from the earliest failing item or later.
    fn pending_cut(&self) -> u64 {
        if self.stopping.load(Ordering::SeqCst) {
            0
        } else {
            self.cut()
        }
    }
}

/// What a worker needs from its pipeline when it starts.
#[doc(hidden)]
pub struct WorkerEnv<O> {
    pub(crate) out: Sender<Message<O>>,
    /// Output batches the caller has emptied and given back.
    pub(crate) out_spares: Spares<O>,
    pub(crate) ready: Sender<Result<()>>,
    pub(crate) shared: Arc<Shared>,
}

/// A stage that the pipeline will start on its own thread; object-safe so one pipeline can hold stages
/// of different types.
pub trait Launch<O>: Send {
    /// Starts the thread.
    #[doc(hidden)]
    fn launch(self: Box<Self>, env: WorkerEnv<O>) -> std::io::Result<JoinHandle<()>>;

    /// The caller's relief for a pipeline whose outputs arrive on `out`: moves waiting outputs to
    /// `overflow` (see `relief.rs`). On the worker because only it knows its items are `'static`.
    #[doc(hidden)]
    fn relief(&self, out: Receiver<Message<O>>, overflow: Overflow<O>) -> Relief;
}

/// Output batches the caller moved aside while blocked, oldest first.
#[doc(hidden)]
pub type Overflow<O> = Arc<Mutex<VecDeque<Message<O>>>>;

/// A stage with its input channel, ready to start.
///
/// ```no_run
/// # // Constructed by generated code and the dynamic builder; see `Pipeline`.
/// ```
pub struct Worker<S: Stage> {
    stage: S,
    input: StageReceiver<S::Input>,
    inbound: usize,
    label: String,
}

impl<S: Stage> Worker<S> {
    /// `stage` fed by `input`, whose end of stream arrives from `inbound` senders; `label` names the
    /// stage's nodes in thread names and panic reports.
    pub fn new(
        stage: S,
        input: StageReceiver<S::Input>,
        inbound: usize,
        label: impl Into<String>,
    ) -> Self {
        Worker {
            stage,
            input,
            inbound: inbound.max(1),
            label: label.into(),
        }
    }
}

impl<S> Worker<S>
where
    S: Stage + Send + 'static,
    S::Input: Send + 'static,
    S::Output: Send + 'static,
{
    /// Boxes the worker for a [`Pipeline`](super::Pipeline), which holds stages of different types.
    pub fn boxed(self) -> Box<dyn Launch<S::Output>> {
        Box::new(self)
    }
}

impl<S> Launch<S::Output> for Worker<S>
where
    S: Stage + Send + 'static,
    S::Input: Send + 'static,
    S::Output: Send + 'static,
{
    fn launch(self: Box<Self>, env: WorkerEnv<S::Output>) -> std::io::Result<JoinHandle<()>> {
        let name = format!("pipeline:{}", self.label);
        std::thread::Builder::new()
            .name(name)
            .spawn(move || self.run(env))
    }

    fn relief(&self, out: Receiver<Message<S::Output>>, overflow: Overflow<S::Output>) -> Relief {
        Arc::new(move || {
            let mut overflow = overflow.lock().unwrap_or_else(|p| p.into_inner());
            // At most a channel's worth, not all a streaming stage sends meanwhile.
            let at_most = out.capacity().unwrap_or(usize::MAX);
            overflow.extend(out.try_iter().take(at_most));
        })
    }
}

impl<S: Stage> Worker<S> {
    fn run(mut self, env: WorkerEnv<S::Output>) {
        let init = guarded(&self.label, &mut || self.stage.initialize());
        let initialised = init.is_ok();
        let _ = env.ready.send(init);
        if !initialised {
            return;
        }
        if let Err(err) = self.serve(&env) {
            env.shared.fail(err);
        }
        // Close our outbound channels before cleaning up, so later stages can finish too.
        self.stage.disconnect();
        drop(self.input);
        let stage = &mut self.stage;
        if let Err(err) = guarded(&self.label, &mut || stage.cleanup()) {
            env.shared.fail(err.with_kind(ErrorKind::Cleanup));
        }
    }

    /// Serves batches until the input closes. A failure of the stage is recorded (lowering the
    /// pipeline's cut to the failing item) and the stage goes on serving the items before the
    /// cut, so items of parallel branches that lag behind still get through; a failure it cannot
    /// trace to an item makes it drop the rest of its input. `Err` only when the caller is gone.
    ///
    /// When the caller drains a failed run it closes the stage inputs one after the other; each
    /// stage then hands on what it holds (its partial batches) before ending, so every output of
    /// the items before the failing one reaches the caller.
    fn serve(&mut self, env: &WorkerEnv<S::Output>) -> Result<()> {
        let mut finishes = 0;
        let mut out: Vec<S::Output> = Vec::new();
        // Set when the stage failed on an item it cannot name: it processes nothing more.
        let mut dropping = false;
        while let Some(message) = self.input.recv() {
            match message {
                Message::Batch(mut items) => {
                    if !dropping {
                        let stage = &mut self.stage;
                        let pushed =
                            guarded(&self.label, &mut || stage.push_batch(&mut items, &mut out));
                        let served = match pushed {
                            Ok(()) => {
                                self.serve_pending(env, &mut out, &mut dropping)?;
                                let stage = &mut self.stage;
                                guarded(&self.label, &mut || stage.flush(&mut out))
                            }
                            Err(err) => Err(err),
                        };
                        if let Err(err) = served {
                            dropping = err.failed_item().is_none();
                            env.shared.fail(err.in_node(&self.label));
                        }
                        self.serve_pending(env, &mut out, &mut dropping)?;
                    }
                    self.input.give_back(items);
                    send_out::<S>(env, &mut out)?;
                }
                Message::Traced(mut items, mut origins) => {
                    let cut = env.shared.cut();
                    if cut != u64::MAX {
                        retain_before(&mut items, &mut origins, cut);
                    }
                    if !dropping && !items.is_empty() {
                        let stage = &mut self.stage;
                        let pushed = guarded(&self.label, &mut || {
                            stage.push_traced(&mut items, &mut origins, &mut out)
                        });
                        if pushed.is_ok() {
                            self.serve_pending(env, &mut out, &mut dropping)?;
                        }
                        // The items before a failing one were processed: flush them on too.
                        let stage = &mut self.stage;
                        let flushed = guarded(&self.label, &mut || stage.flush(&mut out));
                        let served = match (pushed, flushed) {
                            (Err(err), Err(later)) => Err(earlier(Some(err), later)),
                            (pushed, flushed) => pushed.and(flushed),
                        };
                        if let Err(err) = served {
                            dropping = err.failed_item().is_none();
                            env.shared.fail(err.in_node(&self.label));
                        }
                        self.serve_pending(env, &mut out, &mut dropping)?;
                    }
                    self.input.give_back(items);
                    self.input.give_back_origins(origins);
                    send_out::<S>(env, &mut out)?;
                }
                Message::Finish => {
                    finishes += 1;
                    if finishes == self.inbound {
                        finishes = 0;
                        if env.shared.has_failed() {
                            // The stream was cut short: no `finish`, whose outputs would come from
                            // the whole stream. The caller is draining, not counting ends.
                            continue;
                        }
                        let stage = &mut self.stage;
                        if let Err(err) = guarded(&self.label, &mut || stage.finish(&mut out)) {
                            env.shared.fail(err);
                            continue;
                        }
                        if !self.serve_pending(env, &mut out, &mut dropping)? {
                            continue;
                        }
                        send_out::<S>(env, &mut out)?;
                        super::relief::send(&env.out, Message::Finish).map_err(|_| gone())?;
                    }
                }
            }
        }
        if env.shared.is_draining() {
            self.serve_pending(env, &mut out, &mut dropping)?;
            let stage = &mut self.stage;
            if let Err(err) = guarded(&self.label, &mut || stage.flush(&mut out)) {
                env.shared.fail(err.in_node(&self.label));
            }
            send_out::<S>(env, &mut out)?;
        }
        Ok(())
    }

    /// Goes on with the work the stage left pending (a generator with more to give), one
    /// bounded piece at a time, handing each piece's outputs on before the next: so they leave
    /// as they are produced and memory stays bounded. Work derived from a failing item or later
    /// is dropped ([`Shared::pending_cut`]). A failure is recorded like a push's; returns
    /// whether none happened, `Err` only when the caller is gone.
    fn serve_pending(
        &mut self,
        env: &WorkerEnv<S::Output>,
        out: &mut Vec<S::Output>,
        dropping: &mut bool,
    ) -> Result<bool> {
        while self.stage.has_pending() {
            send_out::<S>(env, out)?;
            let cut = env.shared.pending_cut();
            let stage = &mut self.stage;
            if let Err(err) = guarded(&self.label, &mut || stage.resume(cut, out)) {
                *dropping = err.failed_item().is_none();
                env.shared.fail(err.in_node(&self.label));
                // After a panic, what is left pending is not worth going on with.
                let _ = guarded(&self.label, &mut || stage.resume(0, out));
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// The error of a stage whose caller stopped listening.
fn gone() -> Error {
    Error::new(ErrorKind::Stopped, "the pipeline's caller went away")
}

/// Sends what the stage produced on to the caller, without the outputs of items at or after
/// the pipeline's cut.
fn send_out<S: Stage>(env: &WorkerEnv<S::Output>, out: &mut Vec<S::Output>) -> Result<()> {
    let cut = env.shared.cut();
    if cut != u64::MAX {
        S::retain_before(out, cut);
    }
    if !out.is_empty() {
        // Sized for the next batch up front: growing from empty costs a dozen reallocations.
        let batch = std::mem::replace(out, env.out_spares.take(out.len()));
        super::relief::send(&env.out, Message::Batch(batch)).map_err(|_| gone())?;
    }
    Ok(())
}

/// Drops the items (and their origins) derived from input items at or after `cut`.
fn retain_before<T>(items: &mut Vec<T>, origins: &mut Vec<u64>, cut: u64) {
    let mut kept = origins.iter();
    items.retain(|_| kept.next().is_some_and(|&origin| origin < cut));
    origins.retain(|&origin| origin < cut);
}

/// Runs `f`, turning a panic into an error attributed to the node it came from, or to the stage's
/// nodes (`label`) when no [`PanicSite`](super::PanicSite) saw it.
pub(crate) fn guarded(label: &str, f: &mut dyn FnMut() -> Result<()>) -> Result<()> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let site = super::take_panic_site();
            Err(Error::from_panic(payload).in_node(site.as_deref().unwrap_or(label)))
        }
    }
}
