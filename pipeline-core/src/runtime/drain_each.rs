//! Handing each item of a batch on by value, with the loop's position in a register.
//!
//! A fused stage ran its batch as `for item in items.drain(..)`. `Drain` is dropped on the way out
//! by a call that needs its position, so that position lived in memory, and every output the loop
//! stored through a pointer could, for all the compiler knew, have changed it: the position was
//! stored and loaded again each item, a chain through memory the hand-written loop does not have
//! (`perf annotate` of the static `simple` workload). Here the position is a local whose only
//! other reader is an inlined guard, so it stays in a register.

use std::ptr;

/// Calls `each` with every item of `items` in order, by value, leaving `items` empty (its
/// capacity kept); stops at the first error, dropping the items after the one that failed (also
/// when `each` panics).
///
/// ```
/// use pipeline_core::runtime::drain_each;
/// let mut items = vec![String::from("a"), String::from("b"), String::from("c")];
/// let mut seen = Vec::new();
/// let outcome = drain_each(&mut items, |item| {
///     if item == "c" {
///         return Err(item);
///     }
///     seen.push(item);
///     Ok(())
/// });
/// assert_eq!((seen, outcome), (vec!["a".to_string(), "b".to_string()], Err("c".to_string())));
/// assert!(items.is_empty() && items.capacity() >= 3);
/// ```
#[inline(always)]
pub fn drain_each<T, E>(
    items: &mut Vec<T>,
    mut each: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E> {
    /// The items not yet handed on, dropped with it (on an error or a panic).
    struct Rest<T> {
        base: *mut T,
        next: usize,
        len: usize,
    }
    impl<T> Drop for Rest<T> {
        #[inline(always)]
        fn drop(&mut self) {
            // SAFETY: items `next..len` are initialised and no longer the `Vec`'s (its length is
            // zero), and each is read out at most once: `next` passes it first.
            unsafe {
                ptr::drop_in_place(ptr::slice_from_raw_parts_mut(
                    self.base.add(self.next),
                    self.len - self.next,
                ));
            }
        }
    }
    let len = items.len();
    // SAFETY: the `Vec` forgets its items, which `Rest` now owns; it keeps its buffer, which
    // nothing else touches while `items` is borrowed here.
    unsafe { items.set_len(0) };
    let mut rest = Rest {
        base: items.as_mut_ptr(),
        next: 0,
        len,
    };
    while rest.next < rest.len {
        // SAFETY: item `next` is initialised and read once: `next` moves past it at once.
        let item = unsafe { rest.base.add(rest.next).read() };
        rest.next += 1;
        each(item)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::rc::Rc;

    #[test]
    fn an_error_or_a_panic_drops_the_items_after_it_once() {
        let token = Rc::new(());
        for fail in ["error", "panic"] {
            let mut items: Vec<Rc<()>> = (0..5).map(|_| Rc::clone(&token)).collect();
            let mut kept = Vec::new();
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                drain_each(&mut items, |item| {
                    if kept.len() == 2 {
                        if fail == "panic" {
                            panic!("node failed");
                        }
                        return Err(());
                    }
                    kept.push(item);
                    Ok(())
                })
            }));
            assert_eq!(outcome.is_err(), fail == "panic");
            assert!(items.is_empty());
            // The two kept, and the token itself: the failing item and those after it are gone.
            assert_eq!(Rc::strong_count(&token), 3, "{fail}");
            drop(kept);
            assert_eq!(Rc::strong_count(&token), 1, "{fail}");
            // The buffer is kept for the next batch.
            assert!(items.capacity() >= 5);
        }
    }
}
