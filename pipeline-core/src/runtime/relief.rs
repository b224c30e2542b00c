//! Keeping the caller's thread from deadlocking on bounded channels.
//!
//! The caller's thread runs stage 0, which sends into later stages, and also receives the
//! pipeline's outputs from them. With every channel bounded that is a cycle: the caller can block
//! sending into a full stage whose thread is blocked handing outputs to the caller. So while the
//! caller runs its part of a pipeline, a *relief* is installed on its thread: a send that finds its
//! channel full moves the outputs that are waiting into the pipeline's overflow queue (which the
//! caller drains right after), until the send goes through. Memory stays bounded: the caller only
//! relieves while blocked, and it is blocked only while every channel behind it is full.

use crossbeam_channel::{SendTimeoutError, Sender, TrySendError};
use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

/// Moves waiting outputs aside so a blocked send can make progress.
pub(crate) type Relief = Arc<dyn Fn() + Send + Sync>;

/// How long a blocked send waits between reliefs.
const POLL: Duration = Duration::from_micros(200);

thread_local! {
    static RELIEF: RefCell<Option<Relief>> = const { RefCell::new(None) };
}

/// Installs `relief` on this thread until the guard drops (restoring what was there before, for
/// pipelines run inside a node of another pipeline).
pub(crate) fn install(relief: Option<&Relief>) -> Installed {
    let previous = RELIEF.with(|slot| slot.replace(relief.cloned()));
    Installed { previous }
}

/// Uninstalls the relief on drop.
pub(crate) struct Installed {
    previous: Option<Relief>,
}

impl Drop for Installed {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = RELIEF.try_with(|slot| slot.replace(previous));
    }
}

/// Sends `message`, relieving the caller's own outputs while the channel is full; `Err` gives the
/// message back if the receiving stage is gone.
pub(crate) fn send<T>(tx: &Sender<T>, message: T) -> Result<(), T> {
    let message = match tx.try_send(message) {
        Ok(()) => return Ok(()),
        Err(TrySendError::Disconnected(message)) => return Err(message),
        Err(TrySendError::Full(message)) => message,
    };
    let relief = RELIEF.with(|slot| slot.borrow().clone());
    let Some(relief) = relief else {
        // A stage thread: blocking is backpressure.
        return tx.send(message).map_err(|e| e.into_inner());
    };
    let mut message = message;
    loop {
        relief();
        match tx.send_timeout(message, POLL) {
            Ok(()) => return Ok(()),
            Err(SendTimeoutError::Disconnected(m)) => return Err(m),
            Err(SendTimeoutError::Timeout(m)) => message = m,
        }
    }
}
