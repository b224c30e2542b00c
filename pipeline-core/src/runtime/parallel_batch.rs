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

/// A finished chunk: its index, its outputs, the count of outputs after each item it completed,
/// and how it ended.
type Done<O> = (usize, Vec<O>, Vec<usize>, Result<()>);

/// How [`process_in_parallel`] failed: the error, and the position (in the batch it was given) of
/// the item a replica failed on — `None` when `emit` failed.
pub(crate) type Failure = (Error, Option<usize>);

/// Processes every item of `items` (leaving it empty) with `replicas` in parallel, handing each
/// output to `emit` on the calling thread with the position in `items` of the item it came from:
/// in input order if `ordered`.
///
/// The first error (from a replica, a replica's panic, or `emit`) stops the replicas after their
/// current chunk and is returned; outputs of chunks before it (in the emitting order) were
/// emitted, and so were the outputs of the items before the failing one in its own chunk — in
/// ordered mode, exactly the outputs of the items before the failing one.
pub(crate) fn process_in_parallel<R, I, O>(
    replicas: &mut [R],
    items: &mut Vec<I>,
    ordered: bool,
    process: &ProcessFn<'_, R, I, O>,
    emit: &mut dyn FnMut(O, usize) -> Result<()>,
) -> Result<(), Failure>
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
        for (position, item) in items.drain(..).enumerate() {
            let outcome = catch_unwind(AssertUnwindSafe(|| process(replica, item, &mut outputs)))
                .unwrap_or_else(|payload| {
                    let _stale = super::take_panic_site();
                    Err(Error::from_panic(payload))
                });
            if let Err(err) = outcome {
                return Err((err, Some(position)));
            }
            for output in outputs.drain(..) {
                emit(output, position).map_err(|err| (err, None))?;
            }
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
        emit_chunks(&done_rx, chunks, chunk_len, ordered, stop, emit)
    } else {
        rayon::in_place_scope(|scope| {
            spawn_replicas(scope, replicas, &work_rx, done_tx, stop, process);
            emit_chunks(&done_rx, chunks, chunk_len, ordered, stop, emit)
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
        let (mut outputs, mut ends) = (Vec::new(), Vec::with_capacity(chunk.len()));
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            chunk.into_iter().try_for_each(|item| {
                process(replica, item, &mut outputs)?;
                ends.push(outputs.len());
                Ok(())
            })
        }))
        .unwrap_or_else(|payload| {
            let _stale = super::take_panic_site(); // the parallel node's id is added by its stage
            Err(Error::from_panic(payload))
        });
        let failed = outcome.is_err();
        if failed {
            // What the failing item pushed before failing is not handed on.
            outputs.truncate(ends.last().copied().unwrap_or(0));
        }
        if done.send((index, outputs, ends, outcome)).is_err() || failed {
            return;
        }
    }
}

/// Receives finished chunks until every replica has ended, emitting their outputs.
fn emit_chunks<O>(
    done: &Receiver<Done<O>>,
    chunks: usize,
    chunk_len: usize,
    ordered: bool,
    stop: &AtomicBool,
    emit: &mut dyn FnMut(O, usize) -> Result<()>,
) -> Result<(), Failure> {
    type Held<O> = (Vec<O>, Vec<usize>, Result<()>);
    let mut held: Vec<Option<Held<O>>> = Vec::new();
    if ordered {
        held.resize_with(chunks, || None);
    }
    let mut next = 0;
    let mut first_error = None;
    let mut hand_on = |index: usize, (outputs, ends, outcome): Held<O>| -> Result<(), Failure> {
        let start = index * chunk_len;
        let mut item = 0;
        for (k, output) in outputs.into_iter().enumerate() {
            while ends.get(item).is_some_and(|&end| end <= k) {
                item += 1;
            }
            emit(output, start + item).map_err(|err| (err, None))?;
        }
        outcome.map_err(|err| (err, Some(start + ends.len())))
    };
    // Ends when every replica task has dropped its sender.
    for (index, outputs, ends, outcome) in done.iter() {
        if !ordered {
            // A chunk before the failing item still hands on its outputs when its replica
            // finishes it after the failure (one descheduled under load does): they are outputs
            // of items before the failing one. Chunks after it were stopped or are dropped.
            let before_failure = match &first_error {
                None => true,
                Some((_, Some(failed_at))) => index * chunk_len < *failed_at,
                Some((_, None)) => false,
            };
            if before_failure {
                if let Err(failure) = hand_on(index, (outputs, ends, outcome)) {
                    stop.store(true, Ordering::Relaxed);
                    // This chunk starts before the recorded failure: its failure is earlier.
                    first_error = Some(failure);
                }
            }
            continue;
        }
        if first_error.is_some() {
            continue;
        }
        held[index] = Some((outputs, ends, outcome));
        while next < chunks && first_error.is_none() {
            let Some(chunk) = held[next].take() else {
                break;
            };
            if let Err(failure) = hand_on(next, chunk) {
                stop.store(true, Ordering::Relaxed);
                first_error = Some(failure);
            }
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
        process_in_parallel(&mut replicas, &mut items, true, &double, &mut |x, at| {
            assert_eq!(x, at as u32 * 2, "each output names the item it came from");
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
        process_in_parallel(&mut replicas, &mut items, false, &double, &mut |x, at| {
            assert_eq!(x, at as u32 * 2, "each output names the item it came from");
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
            out.push(x);
            assert!(x != 50, "fifty");
            Ok(())
        };
        let (err, at) = process_in_parallel(&mut replicas, &mut items, true, &boom, &mut |x, _| {
            got.push(x);
            Ok(())
        })
        .unwrap_err();
        assert!(err.message().contains("fifty"), "{err}");
        assert_eq!(at, Some(50), "the failing item's position");
        // Ordered: exactly the items before the failing one got out (not what 50 pushed first).
        assert_eq!(got, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn an_unordered_chunk_finished_after_a_later_failure_is_still_handed_on() {
        // Two replicas, eight chunks of 10: item 0 waits until item 79 (the last chunk's last
        // item) has failed, so the first chunk is finished after the failure is known.
        let (failed_tx, failed_rx) = crossbeam_channel::bounded::<()>(1);
        let process = move |_: &mut (), x: u32, out: &mut Vec<u32>| {
            if x == 0 {
                // A bound only so a pool of one thread cannot hang the test; not a timing check.
                let _ = failed_rx.recv_timeout(std::time::Duration::from_secs(20));
            }
            if x == 79 {
                let _ = failed_tx.try_send(());
                return Err(Error::msg("no 79"));
            }
            out.push(x);
            Ok(())
        };
        let mut replicas = [(), ()];
        let mut items: Vec<u32> = (0..80).collect();
        let mut got = Vec::new();
        let (err, at) =
            process_in_parallel(&mut replicas, &mut items, false, &process, &mut |x, _| {
                got.push(x);
                Ok(())
            })
            .unwrap_err();
        assert_eq!((err.message(), at), ("no 79", Some(79)));
        got.sort_unstable();
        assert_eq!(got, (0..79).collect::<Vec<_>>());
    }

    #[test]
    fn unordered_failures_name_the_failing_item_and_keep_its_chunk_prefix() {
        for replicas in [1, 3] {
            let mut replicas = vec![(); replicas];
            let mut items: Vec<u32> = (0..300).collect();
            let mut got = Vec::new();
            let fail = |_: &mut (), x: u32, out: &mut Vec<u32>| {
                if x == 123 {
                    return Err(Error::msg("no 123"));
                }
                out.extend([x, x]);
                Ok(())
            };
            let (err, at) =
                process_in_parallel(&mut replicas, &mut items, false, &fail, &mut |x, at| {
                    assert_eq!(x, at as u32);
                    got.push(x);
                    Ok(())
                })
                .unwrap_err();
            assert_eq!((err.message(), at), ("no 123", Some(123)));
            got.sort_unstable();
            got.dedup();
            // Every item before 123 in its chunk got out; later chunks may have been cut short.
            assert!(got.contains(&122) && !got.contains(&123), "{got:?}");
        }
    }
}
