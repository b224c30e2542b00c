//! A value pinned to the thread that created it, so a node holding interpreter state can still be
//! `Send`.
//!
//! RustPython without its `threading` feature has non-`Send` objects (plain `Rc` reference counts),
//! which is also what makes a call cost ~230 ns instead of ~390 ns. The runtime moves the nodes of a
//! `=>` stage into the stage's thread *before* `initialize`, and never moves them again; a Python
//! node therefore builds its interpreter state in `initialize`, on that thread, and keeps it in a
//! [`ThreadBound`]. Any other thread gets an error instead of access.

use std::mem::ManuallyDrop;
use std::thread::{self, ThreadId};

/// `T`, usable only on the thread that created it.
pub(crate) struct ThreadBound<T> {
    owner: ThreadId,
    value: ManuallyDrop<T>,
}

// SAFETY: `value` is only reachable through `get_mut`, which checks that the caller is the owner
// thread, and is dropped only on the owner thread (elsewhere it is leaked, never touched). Moving
// the bytes of a `T` to another thread without using them is sound; `T`'s non-atomic reference
// counts are only ever read or written on the owner thread.
unsafe impl<T> Send for ThreadBound<T> {}

impl<T> ThreadBound<T> {
    /// Pins `value` to the current thread.
    pub(crate) fn new(value: T) -> Self {
        ThreadBound {
            owner: thread::current().id(),
            value: ManuallyDrop::new(value),
        }
    }

    /// The value, if called on the owner thread.
    #[inline]
    pub(crate) fn get_mut(&mut self) -> Option<&mut T> {
        if thread::current().id() == self.owner {
            Some(&mut self.value)
        } else {
            None
        }
    }
}

impl<T> Drop for ThreadBound<T> {
    fn drop(&mut self) {
        if thread::current().id() == self.owner {
            // SAFETY: dropped once, here, on the owner thread; never used again.
            unsafe { ManuallyDrop::drop(&mut self.value) }
        }
        // On any other thread the value is leaked: touching it there would be a data race.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn usable_on_owner_refused_elsewhere_and_leaked_not_dropped_there() {
        let marker = Rc::new(());
        let mut bound = ThreadBound::new(marker.clone());
        assert!(bound.get_mut().is_some());
        let mut bound = thread::spawn(move || {
            assert!(bound.get_mut().is_none());
            bound
        })
        .join()
        .unwrap();
        assert_eq!(Rc::strong_count(bound.get_mut().unwrap()), 2);
        drop(bound);
        assert_eq!(Rc::strong_count(&marker), 1);

        let bound = ThreadBound::new(marker.clone());
        thread::spawn(move || drop(bound)).join().unwrap();
        // Dropped on a foreign thread: leaked, so the count stays raised.
        assert_eq!(Rc::strong_count(&marker), 2);
    }
}
