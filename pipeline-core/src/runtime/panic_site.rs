//! Which node a panic came from, at no cost to the per-item path.
//!
//! Dynamic stages put a [`PanicSite`] around every node call and forget it when the call returns,
//! so on the normal path nothing runs at all. (Generated stages do not: the landing pads slowed the
//! fused benchmark; their panics name the stage's nodes.) When a node panics, the unwind
//! drops the sites of the calls it leaves, innermost first: the first one records its node id in a
//! thread-local, and the runtime, which catches the panic once per batch, reads it back to name the
//! node instead of the whole stage.

use std::cell::RefCell;

thread_local! {
    static PANICKED_IN: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A guard naming the node being called, for panics; see the module docs.
///
/// ```
/// use pipeline_core::runtime::{take_panic_site, PanicSite};
/// let caught = std::panic::catch_unwind(|| {
///     let outer = PanicSite::enter("outer");
///     let inner = PanicSite::enter("inner");
///     panic!("boom");
///     #[allow(unreachable_code)]
///     { inner.leave(); outer.leave(); }
/// });
/// assert!(caught.is_err());
/// assert_eq!(take_panic_site().as_deref(), Some("inner"));
/// ```
#[must_use = "call `leave` when the node call returns"]
pub struct PanicSite<'a>(&'a str);

impl<'a> PanicSite<'a> {
    /// Marks the start of a call into node `id`.
    #[inline(always)]
    pub fn enter(id: &'a str) -> Self {
        PanicSite(id)
    }

    /// Marks the call's normal return: nothing is recorded, and nothing runs.
    #[inline(always)]
    pub fn leave(self) {
        std::mem::forget(self);
    }
}

impl Drop for PanicSite<'_> {
    /// Only reached while unwinding out of the node call: `leave` forgets the guard otherwise.
    #[cold]
    fn drop(&mut self) {
        let _ = PANICKED_IN.try_with(|site| {
            if let Ok(mut site) = site.try_borrow_mut() {
                site.get_or_insert_with(|| self.0.to_string());
            }
        });
    }
}

/// The node the last panic on this thread came from, if a [`PanicSite`] saw it; clears it.
pub fn take_panic_site() -> Option<String> {
    PANICKED_IN
        .try_with(|site| site.try_borrow_mut().ok()?.take())
        .ok()
        .flatten()
}
