//! The buffers of a dynamic pipeline's output batches, handed back by a caller that has written
//! them ([`DynamicStream::give_back`](super::DynamicStream::give_back)) to the stages that fill
//! them.
//!
//! A stage hands an output batch on whole: its node's output buffer (and the origins beside it)
//! leaves the stage, which then needs a fresh one. With a stage per node, that buffer was
//! allocated on the last stage's thread (or the one before it) and freed on the caller's, once
//! per batch: glibc gave the memory back to the kernel from the stage thread's arena and faulted
//! it in again for the next batch (`pipeline run` over 1,000,000 int lines, a stage per node:
//! ~4,600 page faults against ~900 fused). Handed back, the same few buffers go round.
//!
//! The buffers wait in one list behind a lock, shared by the caller and the stages: it costs one
//! allocation a pipeline, and none more until a batch first comes back. Two bounded channels
//! (one for each kind of buffer) cost four allocations to build and as many to free, ~2,000
//! instructions of a cold run of the benchmark's 3-node manifest (callgrind), for a path that a
//! run taking its outputs item by item never uses.

use super::stage::OutputBatch;
use crate::value::Value;
use std::sync::{Arc, Mutex, PoisonError};

/// How many emptied output batches wait to be reused, at most: a stage channel's worth and one.
const LIMIT: usize = crate::runtime::DEFAULT_CHANNEL_CAPACITY + 1;

/// The buffers given back and not yet taken.
#[derive(Debug, Default)]
struct Pool {
    values: Vec<Vec<Value>>,
    origins: Vec<Vec<u64>>,
}

/// The caller's side: where emptied output batches go.
#[derive(Debug, Clone)]
pub(crate) struct OutputReturn(Arc<Mutex<Pool>>);

/// A stage's side: where it finds buffers to replace those it hands on.
#[derive(Debug, Clone)]
pub(crate) struct OutputSpares(Arc<Mutex<Pool>>);

/// A return path for output batches, and the stages' end of it.
pub(crate) fn output_spares() -> (OutputReturn, OutputSpares) {
    let pool = Arc::new(Mutex::new(Pool::default()));
    (OutputReturn(Arc::clone(&pool)), OutputSpares(pool))
}

/// Keeps `buffer`, emptied, when it has room and fewer than [`LIMIT`] wait; drops it otherwise.
fn keep<T>(list: &mut Vec<Vec<T>>, mut buffer: Vec<T>) {
    if buffer.capacity() > 0 && list.len() < LIMIT {
        buffer.clear();
        list.push(buffer);
    }
}

impl OutputReturn {
    /// Empties `batch` (dropping its values here) and returns its buffers for reuse.
    pub(crate) fn give(&self, batch: OutputBatch) {
        let OutputBatch {
            mut values,
            origins,
            ..
        } = batch;
        if values.capacity() == 0 && origins.capacity() == 0 {
            return;
        }
        // The values are dropped before the lock is taken: a stage may be waiting for it.
        values.clear();
        let mut pool = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        keep(&mut pool.values, values);
        keep(&mut pool.origins, origins);
    }
}

impl OutputSpares {
    /// Takes `values` and `origins` whole for an output batch, leaving returned buffers (or
    /// empty ones, without allocating) in their place.
    pub(crate) fn take(
        &self,
        output: usize,
        values: &mut Vec<Value>,
        origins: &mut Vec<u64>,
    ) -> OutputBatch {
        let mut pool = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        OutputBatch {
            output,
            values: std::mem::replace(values, pool.values.pop().unwrap_or_default()),
            origins: std::mem::replace(origins, pool.origins.pop().unwrap_or_default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_back_batch_replaces_the_next_one_taken() {
        let (back, spares) = output_spares();
        let (mut values, mut origins) = (vec![Value::Int(1)], vec![0]);
        let first = spares.take(2, &mut values, &mut origins);
        assert_eq!((first.output, &first.values[..]), (2, &[Value::Int(1)][..]));
        assert_eq!(
            values.capacity(),
            0,
            "nothing given back yet: no allocation"
        );
        let address = first.values.as_ptr();
        back.give(first);
        let mut more = vec![Value::Int(2)];
        let second = spares.take(0, &mut more, &mut vec![1]);
        assert_eq!(second.values, [Value::Int(2)]);
        assert_eq!(
            (more.as_ptr(), more.len()),
            (address, 0),
            "the first batch's buffer"
        );
    }
}
