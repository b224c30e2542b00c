//! A stage on its own persistent thread.

use super::channel::{Message, StageReceiver};
use super::relief::Relief;
use super::spares::Spares;
use super::stage::Stage;
use crate::error::{Error, ErrorKind, Result};
use crossbeam_channel::{Receiver, Sender};
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// What every worker thread of one pipeline shares: the first error, and a way to wake the caller.
#[derive(Debug)]
pub(crate) struct Shared {
    first_error: Mutex<Option<Error>>,
    failed_tx: Sender<()>,
}

impl Shared {
    pub(crate) fn new(failed_tx: Sender<()>) -> Arc<Self> {
        Arc::new(Shared {
            first_error: Mutex::new(None),
            failed_tx,
        })
    }

    /// Records `err` unless an earlier one is recorded, and wakes the caller.
    pub(crate) fn fail(&self, err: Error) {
        let mut slot = self.first_error.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(err);
        }
        let _ = self.failed_tx.send(());
    }

    /// The first recorded error, if any.
    pub(crate) fn take_error(&self) -> Option<Error> {
        self.first_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
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
            overflow.extend(out.try_iter());
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

    /// Serves batches until the input closes (Ok) or something fails (Err).
    fn serve(&mut self, env: &WorkerEnv<S::Output>) -> Result<()> {
        let mut finishes = 0;
        let mut out: Vec<S::Output> = Vec::new();
        let send_out = |out: &mut Vec<S::Output>| -> Result<()> {
            if !out.is_empty() {
                // Sized for the next batch up front: growing from empty costs a dozen reallocations.
                let batch = std::mem::replace(out, env.out_spares.take(out.len()));
                super::relief::send(&env.out, Message::Batch(batch)).map_err(|_| {
                    Error::new(ErrorKind::Stopped, "the pipeline's caller went away")
                })?;
            }
            Ok(())
        };
        while let Some(message) = self.input.recv() {
            match message {
                Message::Batch(mut items) => {
                    let stage = &mut self.stage;
                    guarded(&self.label, &mut || {
                        stage.push_batch(&mut items, &mut out)?;
                        stage.flush(&mut out)
                    })
                    .map_err(|e| e.in_node(&self.label))?;
                    self.input.give_back(items);
                    send_out(&mut out)?;
                }
                Message::Finish => {
                    finishes += 1;
                    if finishes == self.inbound {
                        finishes = 0;
                        let stage = &mut self.stage;
                        guarded(&self.label, &mut || stage.finish(&mut out))?;
                        send_out(&mut out)?;
                        super::relief::send(&env.out, Message::Finish).map_err(|_| {
                            Error::new(ErrorKind::Stopped, "the pipeline's caller went away")
                        })?;
                    }
                }
            }
        }
        Ok(())
    }
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
