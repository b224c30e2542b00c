//! Vectors the plain reader needs only while it reads, kept per thread between reads: the
//! tables and lists of a small manifest then cost no allocation after the first (callgrind,
//! the benchmark's 3-node manifest: each one taken and freed was ~200 instructions).

use std::cell::Cell;
use std::thread::LocalKey;

/// The most elements a vector may hold capacity for and still be kept: a huge manifest's
/// lists are given back to the allocator, not held by the thread.
const MAX_KEPT: usize = 256;

/// The vector kept in `slot` (empty; a new one if none is kept or a read on this thread has it).
#[inline]
pub(crate) fn take<T: 'static>(slot: &'static LocalKey<Cell<Vec<T>>>) -> Vec<T> {
    slot.try_with(Cell::take).unwrap_or_default()
}

/// Empties `spare` and keeps it in `slot` for the next read, unless it has grown too big.
#[inline]
pub(crate) fn give_back<T: 'static>(slot: &'static LocalKey<Cell<Vec<T>>>, mut spare: Vec<T>) {
    spare.clear();
    if spare.capacity() <= MAX_KEPT {
        // Once the thread's locals are gone, the vector is simply dropped.
        let _ = slot.try_with(|kept| kept.set(spare));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! { static SPARE: Cell<Vec<u32>> = const { Cell::new(Vec::new()) }; }

    #[test]
    fn a_vector_given_back_is_taken_again_empty_unless_it_grew_too_big() {
        let mut first = take(&SPARE);
        first.extend([1, 2, 3]);
        let address = first.as_ptr();
        give_back(&SPARE, first);
        let again = take(&SPARE);
        assert!(again.is_empty());
        assert_eq!(again.as_ptr(), address, "the same allocation");
        // Taken, it is not there for another reader.
        assert_eq!(take(&SPARE).capacity(), 0);
        give_back(&SPARE, Vec::with_capacity(MAX_KEPT + 1));
        assert_eq!(take(&SPARE).capacity(), 0);
        give_back(&SPARE, again);
    }
}
