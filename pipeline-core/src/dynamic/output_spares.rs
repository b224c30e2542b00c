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

use super::stage::OutputBatch;
use crate::runtime::spares::{spares, SpareReturn, Spares};
use crate::value::Value;

/// How many emptied output batches wait to be reused, at most: a stage channel's worth and one.
const LIMIT: usize = crate::runtime::DEFAULT_CHANNEL_CAPACITY + 1;

/// The caller's side: where emptied output batches go.
#[derive(Debug, Clone)]
pub(crate) struct OutputReturn {
    values: SpareReturn<Value>,
    origins: SpareReturn<u64>,
}

/// A stage's side: where it finds buffers to replace those it hands on.
#[derive(Debug, Clone)]
pub(crate) struct OutputSpares {
    values: Spares<Value>,
    origins: Spares<u64>,
}

/// A return path for output batches, and the stages' end of it.
pub(crate) fn output_spares() -> (OutputReturn, OutputSpares) {
    let (values_back, values) = spares(LIMIT);
    let (origins_back, origins) = spares(LIMIT);
    (
        OutputReturn {
            values: values_back,
            origins: origins_back,
        },
        OutputSpares { values, origins },
    )
}

impl OutputReturn {
    /// Empties `batch` (dropping its values here) and returns its buffers for reuse.
    pub(crate) fn give(&self, batch: OutputBatch) {
        self.values.give(batch.values);
        self.origins.give(batch.origins);
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
        OutputBatch {
            output,
            values: std::mem::replace(values, self.values.take_any()),
            origins: std::mem::replace(origins, self.origins.take_any()),
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
