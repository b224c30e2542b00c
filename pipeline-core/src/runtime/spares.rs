//! Emptied batch buffers handed back to the side that fills them, so a long stream reuses a few
//! batch allocations instead of allocating (and page-faulting) one per batch.
//!
//! Measured on these machines: with batches of 16384 `Value`s (384 KiB), freeing each batch on
//! the receiving thread and allocating the next on the sending one gave the memory back to the
//! kernel and faulted it in again, ~40% of a three-stage dynamic pipeline's time (an A/B run with
//! glibc's trimming turned off). Reused: batches on every stage channel, and the worker-to-caller
//! batches of a pipeline's outputs, and the `Value` buffers inside a dynamic pipeline's output
//! batches when the caller takes them a batch at a time and gives them back
//! (`dynamic/output_spares.rs`; taken item by item they are not: draining them on the caller to
//! give them back cost ~7 instructions per item, more than the allocation it saved).

use crossbeam_channel::{Receiver, Sender};

/// The giving side: where a consumer returns a batch it has emptied.
#[derive(Debug)]
pub(crate) struct SpareReturn<T>(Sender<Vec<T>>);

/// The taking side: where a producer finds a buffer for its next batch.
#[derive(Debug)]
pub(crate) struct Spares<T>(Receiver<Vec<T>>);

impl<T> Clone for Spares<T> {
    fn clone(&self) -> Self {
        Spares(self.0.clone())
    }
}

impl<T> Clone for SpareReturn<T> {
    fn clone(&self) -> Self {
        SpareReturn(self.0.clone())
    }
}

/// A return path holding at most `limit` spare buffers (more are dropped), so spares never add
/// more than `limit` batches of memory.
pub(crate) fn spares<T>(limit: usize) -> (SpareReturn<T>, Spares<T>) {
    let (tx, rx) = crossbeam_channel::bounded(limit.max(1));
    (SpareReturn(tx), Spares(rx))
}

impl<T> SpareReturn<T> {
    /// Returns `batch`, emptied, for reuse; dropped when enough spares wait already.
    pub(crate) fn give(&self, mut batch: Vec<T>) {
        if batch.capacity() == 0 {
            return;
        }
        batch.clear();
        let _ = self.0.try_send(batch);
    }
}

impl<T> Spares<T> {
    /// An empty buffer with room for `capacity` items: a returned one if any waits and has the
    /// room.
    ///
    /// A smaller one is freed rather than grown: growing copies its whole old capacity (the
    /// allocator cannot know it is empty) into fresh memory, faulting in pages a new buffer
    /// only touches as it fills — `pipeline run` over 100,000 int lines through a stage per
    /// node took a sixth of its page faults growing spares that way.
    pub(crate) fn take(&self, capacity: usize) -> Vec<T> {
        match self.0.try_recv() {
            Ok(spare) if spare.capacity() >= capacity => spare,
            _ => Vec::with_capacity(capacity),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_returned_buffer_is_reused_emptied_and_extras_are_dropped() {
        let (back, spares) = spares::<u8>(1);
        let batch = Vec::with_capacity(64);
        let address = batch.as_ptr();
        let mut used = batch;
        used.extend([1, 2, 3]);
        back.give(used);
        back.give(vec![9; 8]); // over the limit: dropped
        let reused = spares.take(16);
        assert_eq!((reused.as_ptr(), reused.len()), (address, 0));
        assert!(
            spares.take(16).capacity() >= 16,
            "nothing waits: a fresh buffer"
        );
        back.give(Vec::with_capacity(4));
        let fresh = spares.take(32);
        assert!(fresh.capacity() >= 32, "a spare too small is not used");
        assert_eq!(spares.0.len(), 0, "nor kept");
    }
}
