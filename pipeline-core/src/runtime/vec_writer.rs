//! Appending to a stage's output `Vec` with its length in a register.
//!
//! A fused stage pushes each item through `Vec::push` on a `&mut Vec` it was lent. The push's
//! growth path is a call that may read the `Vec`, so the compiler stores the length back and loads
//! it again for every item: a store-to-load chain of ~5 cycles per item that the hand-written loop
//! (a local `Vec`) does not have. The writer keeps the length as its own local and passes the
//! `Vec` and the length by value to a cold growth function, so nothing about the writer escapes
//! and the length stays in a register; it is written back when the writer is dropped (also on
//! unwinding, so a panicking node loses no item already pushed).
//!
//! The buffer's address and capacity are the writer's own copies too: read through the `Vec`,
//! they were loaded again after every item's store, which for all the compiler knows may have
//! changed them (`perf annotate` of the static `simple` workload: two loads an item in its loop).

/// Pushes onto a borrowed `Vec`, writing the length back once, at the end.
///
/// ```
/// use pipeline_core::runtime::VecWriter;
/// let mut out = vec![1];
/// {
///     let mut writer = VecWriter::new(&mut out);
///     for x in 2..=100 {
///         writer.push(x);
///     }
/// }
/// assert_eq!(out.len(), 100);
/// assert_eq!(out[99], 100);
/// ```
pub struct VecWriter<'a, T> {
    vec: &'a mut Vec<T>,
    /// The `Vec`'s buffer, as of the last growth (the writer holds the only borrow of it).
    buffer: *mut T,
    /// The buffer's capacity.
    capacity: usize,
    /// The length the `Vec` will have: items `vec.len()..len` are written but not yet counted.
    len: usize,
}

impl<'a, T> VecWriter<'a, T> {
    /// A writer appending to `vec`.
    #[inline(always)]
    pub fn new(vec: &'a mut Vec<T>) -> Self {
        let len = vec.len();
        let (buffer, capacity) = (vec.as_mut_ptr(), vec.capacity());
        VecWriter {
            vec,
            buffer,
            capacity,
            len,
        }
    }

    /// Appends `item`.
    #[inline(always)]
    pub fn push(&mut self, item: T) {
        if self.len == self.capacity {
            grow(self.vec, self.len);
            (self.buffer, self.capacity) = (self.vec.as_mut_ptr(), self.vec.capacity());
        }
        // SAFETY: `len < capacity` (just ensured), `buffer` is the `Vec`'s since its last growth
        // (only `grow` moves it, and the writer's borrow keeps anything else from touching it),
        // and slot `len` is past every initialised item.
        unsafe { self.buffer.add(self.len).write(item) };
        self.len += 1;
    }
}

impl<T> Drop for VecWriter<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: items `..len` are initialised: the `Vec`'s own and those `push` wrote.
        unsafe { self.vec.set_len(self.len) };
    }
}

/// Counts the written items, then makes room: by value, so the writer never escapes.
#[cold]
#[inline(never)]
fn grow<T>(vec: &mut Vec<T>, len: usize) {
    // SAFETY: the writer initialised items `..len`, and `len <= capacity`.
    unsafe { vec.set_len(len) };
    vec.reserve(1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    #[test]
    fn grows_from_empty_and_keeps_what_was_there() {
        let mut out: Vec<String> = vec!["a".into()];
        {
            let mut writer = VecWriter::new(&mut out);
            for i in 0..1000 {
                writer.push(i.to_string());
            }
        }
        assert_eq!(out.len(), 1001);
        assert_eq!((out[0].as_str(), out[1000].as_str()), ("a", "999"));
    }

    #[test]
    fn a_panic_keeps_the_items_pushed_before_it() {
        let mut out = Vec::new();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let mut writer = VecWriter::new(&mut out);
            for i in 0..10 {
                if i == 7 {
                    panic!("node failed");
                }
                writer.push(Box::new(i));
            }
        }));
        assert!(outcome.is_err());
        assert_eq!(
            out.iter().map(|b| **b).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4, 5, 6]
        );
    }
}
