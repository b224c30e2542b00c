//! Process 0's feeding loop: the input, read in epochs of batches, at most a window of epochs
//! ahead of the outputs.

use super::local::{LocalInput, LocalSink, NextItem};
use super::shared::Shared;
use super::sink::deliver;
use super::{DataflowOptions, RunSummary};
use crate::distributed::batch::{Batch, Target};
use crate::distributed::segments::Segmentation;
use std::time::Duration;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::{InputHandle, ProbeHandle};
use timely::worker::Worker;

/// How long the loop waits for a paused input before it looks again, when the input does not
/// wake it ([`LocalInput::waker`]); the dataflow wakes it sooner whenever it has work.
const IDLE_PARK: Duration = Duration::from_millis(5);

/// What the feeding loop drives: this process's worker, the dataflow's input and its probe.
pub(super) struct Feeder<'a> {
    pub(super) worker: &'a mut Worker,
    pub(super) input: &'a mut InputHandle<u64, CapacityContainerBuilder<Vec<Batch>>>,
    pub(super) probe: &'a ProbeHandle<u64>,
    pub(super) shared: &'a Shared,
    pub(super) split: &'a Segmentation,
    pub(super) options: &'a DataflowOptions,
    pub(super) me: usize,
}

/// Sends `items` into the dataflow in epochs of [`DataflowOptions::batch_items`], stepping the
/// worker (and handing outputs to `sink`) while [`DataflowOptions::epochs_in_flight`] epochs are
/// not through the outputs yet. When the input pauses, what was read so far goes as an epoch of
/// its own, and outputs are handed to `sink` (and flushed) while it waits. Returns when the input
/// ends or the run is aborted.
pub(super) fn feed(
    feeder: Feeder<'_>,
    items: &mut dyn LocalInput,
    sink: &mut dyn LocalSink,
    summary: &mut RunSummary,
) {
    let Feeder {
        worker,
        input,
        probe,
        shared,
        split,
        options,
        me,
    } = feeder;
    let input_segments: Vec<(usize, usize)> = split
        .segments
        .iter()
        .enumerate()
        .filter(|(_, segment)| segment.input_copies > 0)
        .map(|(s, segment)| (s, segment.input_copies))
        .collect();
    let window = options.epochs_in_flight as u64;
    let mut values = Vec::with_capacity(options.batch_items);
    let mut open = true;
    let mut written_at_flush = summary.items_written;
    items.waker(std::thread::current());
    while open && !shared.aborted.get() {
        // At most `window` epochs in flight: the oldest must be through before the next goes.
        while !shared.aborted.get()
            && summary.epochs >= window
            && probe.less_than(&(summary.epochs + 1 - window))
        {
            worker.step_or_park(None);
            deliver(shared, sink, summary, me);
        }
        if shared.aborted.get() {
            break;
        }
        let mut paused = false;
        while values.len() < options.batch_items {
            match items.next_item() {
                NextItem::Ready(Ok(value)) => values.push(value),
                NextItem::Ready(Err(err)) => {
                    shared.fail(me, err);
                    open = false;
                    break;
                }
                NextItem::Ended => {
                    open = false;
                    break;
                }
                NextItem::Pending => {
                    paused = true;
                    break;
                }
            }
        }
        if paused && values.is_empty() {
            // Nothing to send: keep the dataflow going and show what it computed meanwhile.
            deliver(shared, sink, summary, me);
            if summary.items_written != written_at_flush {
                written_at_flush = summary.items_written;
                if let Err(err) = sink.flush() {
                    shared.fail(me, err);
                }
            }
            worker.step_or_park(Some(IDLE_PARK));
            continue;
        }
        // A paused input sends what it has: its outputs should not wait for more input.
        summary.items_read += values.len() as u64;
        if !values.is_empty() && !shared.aborted.get() {
            let epoch = summary.epochs;
            let mut targets = Vec::new();
            for &(s, copies) in &input_segments {
                let processes = &split.segments[s].processes;
                let process = processes[(epoch % processes.len() as u64) as usize];
                targets.extend(std::iter::repeat_n((s, process), copies));
            }
            // Every target but the last gets a copy; the last takes the values.
            let last = targets.pop();
            for &(s, process) in &targets {
                let target = Target::Segment(s as u32);
                input.send(Batch::new(target, process, me, values.clone()));
            }
            if let Some((s, process)) = last {
                let target = Target::Segment(s as u32);
                let values =
                    std::mem::replace(&mut values, Vec::with_capacity(options.batch_items));
                input.send(Batch::new(target, process, me, values));
            }
        }
        values.clear();
        summary.epochs += 1;
        input.advance_to(summary.epochs);
        let oldest = probe
            .with_frontier(|f| f.first().copied())
            .unwrap_or(summary.epochs);
        summary.max_epochs_in_flight = summary.max_epochs_in_flight.max(summary.epochs - oldest);
        worker.step();
        deliver(shared, sink, summary, me);
    }
}
