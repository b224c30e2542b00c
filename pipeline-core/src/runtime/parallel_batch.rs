//! The engine of data-parallel nodes: one batch of items split into chunks, the chunks processed by
//! node replicas on rayon's global pool, the outputs handed on by the calling thread.
//!
//! The pool is rayon's global one (one thread per core; `RAYON_NUM_THREADS` overrides it): shared by
//! every parallel node of every pipeline, so several parallel nodes never oversubscribe the cores,
//! and started once per process, so no run pays for thread start-up. A node's degree is how many
//! replicas (and so at most how many pool threads) work on each of its batches.
//!
//! The calling thread does not process items itself: it receives finished chunks and emits their
//! outputs downstream (on its own thread, as fused nodes expect) while the pool works on the rest of
//! the batch. Ordered mode emits chunks in input order, holding back chunks that finish early;
//! unordered mode emits each chunk as soon as it is done.

use crate::error::{Error, Result};
use crossbeam_channel::{Receiver, Sender};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

/// Chunks per replica in one batch: more than one, so a replica that gets cheap items takes more
/// chunks (load balance), and so ordered mode can emit the first chunk before the batch ends.
const CHUNKS_PER_REPLICA: usize = 4;

/// How one replica processes one item, pushing its outputs.
pub(crate) type ProcessFn<'a, R, I, O> = dyn Fn(&mut R, I, &mut Vec<O>) -> Result<()> + Sync + 'a;

/// A finished chunk: its index, its outputs, and how it ended.
type Done<O> = (usize, Vec<O>, Result<()>);

/// Processes every item of `items` (leaving it empty) with `replicas` in parallel, handing each
/// output to `emit` on the calling thread: in input order if `ordered`.
///
/// The first error (from a replica, a replica's panic, or `emit`) stops the replicas after their
/// current chunk and is returned; outputs of chunks before it (in the emitting order) were emitted.
pub(crate) fn process_in_parallel<R, I, O>(
    replicas: &mut [R],
    items: &mut Vec<I>,
    ordered: bool,
    process: &ProcessFn<'_, R, I, O>,
    emit: &mut dyn FnMut(O) -> Result<()>,
) -> Result<()>
where
    R: Send,
    I: Send,
    O: Send,
{
    if replicas.len() <= 1 || items.len() <= 1 {
        let Some(replica) = replicas.first_mut() else {
            return Ok(());
        };
        let mut outputs = Vec::new();
        for item in items.drain(..) {
            process(replica, item, &mut outputs)?;
            outputs.drain(..).try_for_each(&mut *emit)?;
        }
        return Ok(());
    }
    let chunk_count = (replicas.len() * CHUNKS_PER_REPLICA).min(items.len());
    let chunk_len = items.len().div_ceil(chunk_count);
    let (work_tx, work_rx) = crossbeam_channel::unbounded();
    let mut drain = items.drain(..);
    let mut chunks = 0;
    loop {
        let chunk: Vec<I> = drain.by_ref().take(chunk_len).collect();
        if chunk.is_empty() {
            break;
        }
        work_tx
            .send((chunks, chunk))
            .expect("the receiver is alive");
        chunks += 1;
    }
    drop((drain, work_tx));
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<Done<O>>();
    let stop = AtomicBool::new(false);
    let stop = &stop;
    if rayon::current_thread_index().is_some() {
        // On a pool thread: blocking on the results could starve the pool, so this thread takes
        // part in the work, and emits once every chunk is done.
        rayon::scope(|scope| spawn_replicas(scope, replicas, &work_rx, done_tx, stop, process));
        emit_chunks(&done_rx, chunks, ordered, stop, emit)
    } else {
        rayon::in_place_scope(|scope| {
            spawn_replicas(scope, replicas, &work_rx, done_tx, stop, process);
            emit_chunks(&done_rx, chunks, ordered, stop, emit)
        })
    }
}

/// Starts one task per replica in `scope`; each holds a clone of `done` until it ends.
fn spawn_replicas<'s, R: Send, I: Send, O: Send>(
    scope: &rayon::Scope<'s>,
    replicas: &'s mut [R],
    work: &Receiver<(usize, Vec<I>)>,
    done: Sender<Done<O>>,
    stop: &'s AtomicBool,
    process: &'s ProcessFn<'_, R, I, O>,
) {
    for replica in replicas.iter_mut() {
        let (work, done) = (work.clone(), done.clone());
        scope.spawn(move |_| serve_chunks(replica, &work, &done, stop, process));
    }
}

/// A replica's task: takes chunks until none is left or `stop` is set.
fn serve_chunks<R, I, O>(
    replica: &mut R,
    work: &Receiver<(usize, Vec<I>)>,
    done: &Sender<Done<O>>,
    stop: &AtomicBool,
    process: &ProcessFn<'_, R, I, O>,
) {
    while !stop.load(Ordering::Relaxed) {
        let Ok((index, chunk)) = work.try_recv() else {
            return;
        };
        let mut outputs = Vec::new();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            chunk
                .into_iter()
                .try_for_each(|item| process(replica, item, &mut outputs))
        }))
        .unwrap_or_else(|payload| {
            let _stale = super::take_panic_site(); // the parallel node's id is added by its stage
            Err(Error::from_panic(payload))
        });
        let failed = outcome.is_err();
        if done.send((index, outputs, outcome)).is_err() || failed {
            return;
        }
    }
}

/// Receives finished chunks until every replica has ended, emitting their outputs.
fn emit_chunks<O>(
    done: &Receiver<Done<O>>,
    chunks: usize,
    ordered: bool,
    stop: &AtomicBool,
    emit: &mut dyn FnMut(O) -> Result<()>,
) -> Result<()> {
    let mut held: Vec<Option<(Vec<O>, Result<()>)>> = Vec::new();
    if ordered {
        held.resize_with(chunks, || None);
    }
    let mut next = 0;
    let mut first_error = None;
    let mut hand_on = |outputs: Vec<O>, outcome: Result<()>, first_error: &mut Option<Error>| {
        let emitted = outputs.into_iter().try_for_each(&mut *emit);
        if let Err(err) = outcome.and(emitted) {
            stop.store(true, Ordering::Relaxed);
            *first_error = Some(err);
        }
    };
    // Ends when every replica task has dropped its sender.
    for (index, outputs, outcome) in done.iter() {
        if first_error.is_some() {
            continue;
        }
        if !ordered {
            hand_on(outputs, outcome, &mut first_error);
            continue;
        }
        held[index] = Some((outputs, outcome));
        while next < chunks && first_error.is_none() {
            let Some((outputs, outcome)) = held[next].take() else {
                break;
            };
            hand_on(outputs, outcome, &mut first_error);
            next += 1;
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Runs every step (all of them, even after a failure, as cleanup must) and returns the first error.
pub(crate) fn first_failure(steps: impl Iterator<Item = Result<()>>) -> Result<()> {
    let mut first = Ok(());
    for outcome in steps {
        if first.is_ok() {
            first = outcome;
        }
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    fn double(_: &mut (), x: u32, out: &mut Vec<u32>) -> Result<()> {
        out.push(x * 2);
        Ok(())
    }

    #[test]
    fn ordered_output_follows_the_input() {
        let mut replicas = [(), (), ()];
        let mut items: Vec<u32> = (0..1000).collect();
        let mut got = Vec::new();
        process_in_parallel(&mut replicas, &mut items, true, &double, &mut |x| {
            got.push(x);
            Ok(())
        })
        .unwrap();
        assert!(items.is_empty());
        assert_eq!(got, (0..1000).map(|x| x * 2).collect::<Vec<_>>());
    }

    #[test]
    fn unordered_output_has_every_item() {
        let mut replicas = [(), ()];
        let mut items: Vec<u32> = (0..1000).collect();
        let mut got = Vec::new();
        process_in_parallel(&mut replicas, &mut items, false, &double, &mut |x| {
            got.push(x);
            Ok(())
        })
        .unwrap();
        got.sort_unstable();
        assert_eq!(got, (0..1000).map(|x| x * 2).collect::<Vec<_>>());
    }

    #[test]
    fn a_panicking_replica_is_an_error_and_earlier_chunks_are_emitted() {
        let mut replicas = [(), ()];
        let mut items: Vec<u32> = (0..100).collect();
        let mut got = Vec::new();
        let boom = |_: &mut (), x: u32, out: &mut Vec<u32>| {
            assert!(x != 50, "fifty");
            out.push(x);
            Ok(())
        };
        let err = process_in_parallel(&mut replicas, &mut items, true, &boom, &mut |x| {
            got.push(x);
            Ok(())
        })
        .unwrap_err();
        assert!(err.message().contains("fifty"), "{err}");
        // Ordered: exactly the items before the failing one got out.
        assert_eq!(got, (0..50).collect::<Vec<_>>());
    }
}
