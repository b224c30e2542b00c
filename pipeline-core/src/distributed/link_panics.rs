//! Timely's panics on a broken link, kept off stderr.
//!
//! Timely is fail-stop: when a link between processes closes, its send and receive threads
//! panic, and so does the process's worker the next time it touches a link. A run across
//! processes expects that, catches the worker's panic and reports the run's error (naming the
//! lost process), so the panic messages themselves say nothing new. The CLI installs a panic
//! hook that prints no caught panic; a program using the library has the default hook, which
//! printed `thread 'timely:recv-0' panicked at ...` for every broken link. So while a run is on
//! a mesh, a hook in front of the program's own drops panics raised inside timely's
//! communication crate (or on its threads) and passes every other panic on unchanged.

use std::cell::Cell;
use std::panic::PanicHookInfo;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

/// Runs on a mesh in this process now.
static RUNS_ON_A_MESH: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Whether the last panic on this thread during a run on a mesh was timely's.
    static LAST_WAS_TIMELYS: Cell<Option<bool>> = const { Cell::new(None) };
}

/// While alive, timely's panics on this process's links are not printed; see the module docs.
pub(crate) struct QuietLinkPanics(());

impl QuietLinkPanics {
    /// Installs the hook (once per process, in front of whatever hook is set then) and counts
    /// this run in.
    pub(crate) fn start() -> QuietLinkPanics {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            let program_hook = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if RUNS_ON_A_MESH.load(Ordering::SeqCst) == 0 {
                    return program_hook(info);
                }
                let timelys = raised_by_timely(info);
                let _ = LAST_WAS_TIMELYS.try_with(|last| last.set(Some(timelys)));
                if !timelys {
                    program_hook(info);
                }
            }));
        });
        RUNS_ON_A_MESH.fetch_add(1, Ordering::SeqCst);
        QuietLinkPanics(())
    }
}

/// Whether the last panic on this thread (during a run on a mesh) was raised by timely rather
/// than by the run's own code; `None` when not known (the program replaced the hook since).
pub(crate) fn last_panic_was_timelys() -> Option<bool> {
    LAST_WAS_TIMELYS.try_with(|last| last.take()).ok().flatten()
}

impl Drop for QuietLinkPanics {
    fn drop(&mut self) {
        RUNS_ON_A_MESH.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether a panic comes from timely's networking: raised in its communication crate (its
/// threads, the worker touching a poisoned queue, joining the threads), or on its threads.
fn raised_by_timely(info: &PanicHookInfo<'_>) -> bool {
    let in_timely = info
        .location()
        .is_some_and(|place| place.file().contains("timely_communication"));
    let on_timelys_thread = std::thread::current()
        .name()
        .is_some_and(|name| name.starts_with("timely:"));
    in_timely || on_timelys_thread
}
