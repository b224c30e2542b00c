//! Process 0's feeding loop: the input, read in epochs of batches, at most a window of epochs
//! ahead of the outputs.

use super::shared::Shared;
use super::sink::deliver;
use super::{DataflowOptions, RunSummary};
use crate::distributed::batch::{Batch, Target};
use crate::distributed::segments::Segmentation;
use crate::error::Result;
use crate::Value;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::{InputHandle, ProbeHandle};
use timely::worker::Worker;

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
/// not through the outputs yet. Returns when the input ends or the run is aborted.
pub(super) fn feed(
    feeder: Feeder<'_>,
    items: &mut dyn Iterator<Item = Result<Value>>,
    sink: &mut dyn FnMut(usize, Value) -> Result<()>,
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
        for _ in 0..options.batch_items {
            match items.next() {
                Some(Ok(value)) => values.push(value),
                Some(Err(err)) => {
                    shared.fail(me, err);
                    open = false;
                    break;
                }
                None => {
                    open = false;
                    break;
                }
            }
        }
        summary.items_read += values.len() as u64;
        if !values.is_empty() && !shared.aborted.get() {
            let epoch = summary.epochs;
            for &(s, copies) in &input_segments {
                let processes = &split.segments[s].processes;
                let process = processes[(epoch % processes.len() as u64) as usize];
                let batch = Batch::encode(Target::Segment(s as u32), process, &values);
                for _ in 1..copies {
                    input.send(batch.clone());
                }
                input.send(batch);
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
