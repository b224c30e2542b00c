//! A segment's operator: feeds the segment's pipeline (on its own thread) the batches routed to
//! this process and sends what it emits on, each batch to the process it is for.

use super::shared::Shared;
use crate::distributed::batch::Batch;
use crate::distributed::node_stats::NodeFigures;
use crate::distributed::segment_thread::{FromSegment, OutputRun, SegmentThread, ToSegment};
use crate::distributed::segments::{Destination, Segmentation};
use crate::distributed::sub_manifest::SegmentPipeline;
use crate::Value;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use timely::communication::Pull;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::channels::Message;
use timely::dataflow::operators::generic::{InputHandleCore, Operator, OutputBuilderSession};
use timely::dataflow::operators::Capability;
use timely::dataflow::{Scope, Stream};
use timely::progress::frontier::MutableAntichain;

/// What a segment's operator needs besides its pipeline.
pub(super) struct SegmentContext {
    pub(super) segment: usize,
    pub(super) me: usize,
    pub(super) split: Rc<Segmentation>,
    pub(super) shared: Rc<Shared>,
    pub(super) chunk: usize,
    pub(super) label: String,
}

/// The operator of segment `context.segment`: on the processes that run the segment, feeds its
/// pipeline (on a thread) and sends its outputs on, each batch to the process it is for.
pub(super) fn segment_operator<'scope>(
    scope: Scope<'scope, u64>,
    fed: Stream<'scope, u64, Vec<Batch>>,
    context: SegmentContext,
    pipeline: Option<SegmentPipeline>,
) -> Stream<'scope, u64, Vec<Batch>> {
    let exchange = Exchange::new(|b: &Batch| u64::from(b.process));
    fed.unary_frontier(exchange, &context.label.clone(), |capability, info| {
        let SegmentContext {
            segment,
            me,
            split,
            shared,
            chunk,
            label,
        } = context;
        let mut state = None;
        if let Some(SegmentPipeline {
            pipeline,
            destinations,
            threaded,
        }) = pipeline
        {
            let activator = scope.worker().sync_activator_for(info.address.to_vec());
            shared
                .segment_operators
                .borrow_mut()
                .push(scope.activator_for(std::rc::Rc::clone(&info.address)));
            match SegmentThread::start(pipeline, threaded, chunk, activator, label) {
                Ok(thread) => {
                    state = Some(SegmentState {
                        thread: Some(thread),
                        floor: Some(capability),
                        in_flight: VecDeque::new(),
                        stash: BTreeMap::new(),
                        last_emitted: 0,
                        ended_sent: false,
                        reorder: split.segments[segment].reorder,
                        destinations,
                        split: Rc::clone(&split),
                        shared: Rc::clone(&shared),
                        me,
                        chunk,
                    });
                }
                // The operator stays, without work, so the dataflow completes everywhere.
                Err(err) => shared.fail(me, err),
            }
        }
        move |(input, frontier), output| match &mut state {
            Some(state) => state.step(input, frontier, output),
            // Not run here (nothing is routed to this process), or could not start.
            None => input.for_each(|_, _| {}),
        }
    })
}

/// A running segment's operator state.
struct SegmentState {
    thread: Option<SegmentThread>,
    /// Held until the pipeline has finished: what later outputs are sent at.
    floor: Option<Capability<u64>>,
    /// One per batch the thread has not consumed yet, oldest first.
    in_flight: VecDeque<Capability<u64>>,
    /// Reordering: batches by epoch, released once the frontier has passed the epoch.
    stash: BTreeMap<u64, (Capability<u64>, Vec<Batch>)>,
    /// Batches go out at non-decreasing epochs: order along a chain is kept.
    last_emitted: u64,
    ended_sent: bool,
    reorder: bool,
    destinations: Vec<Destination>,
    split: Rc<Segmentation>,
    shared: Rc<Shared>,
    me: usize,
    chunk: usize,
}

type SegmentInput<'a, P> = &'a mut InputHandleCore<u64, Vec<Batch>, P>;
type BatchOutput<'a, 'b> =
    &'a mut OutputBuilderSession<'b, u64, CapacityContainerBuilder<Vec<Batch>>>;
/// What timely's exchange hands a segment's operator.
trait BatchPull: Pull<Message<u64, Vec<Batch>>> {}
impl<P: Pull<Message<u64, Vec<Batch>>>> BatchPull for P {}

impl SegmentState {
    fn step<P: BatchPull>(
        &mut self,
        input: SegmentInput<'_, P>,
        frontier: &MutableAntichain<u64>,
        output: BatchOutput<'_, '_>,
    ) {
        if self.shared.aborted.get() {
            return self.abandon(input);
        }
        input.for_each(|cap, data| {
            let Some(cap) = cap.retain_least(0) else {
                return;
            };
            // Decoded by the segment's thread, not here on timely's.
            let batches = std::mem::take(data);
            if self.reorder {
                let time = *cap.time();
                self.stash
                    .entry(time)
                    .or_insert_with(|| (cap, Vec::new()))
                    .1
                    .extend(batches);
            } else {
                self.send(cap, batches);
            }
        });
        // Whole epochs, oldest first, once no process can send more of them.
        while let Some(entry) = self.stash.first_entry() {
            if frontier.less_equal(entry.key()) {
                break;
            }
            let (cap, batches) = entry.remove();
            self.send(cap, batches);
        }
        self.take_from_thread(output);
        if self.shared.aborted.get() {
            return self.abandon(input);
        }
        if frontier.is_empty() && self.stash.is_empty() && !self.ended_sent {
            self.ended_sent = true;
            if let Some(thread) = &self.thread {
                let _ = thread.to.send(ToSegment::End);
            }
        }
        // Hold the floor at the oldest epoch still to come or still in the pipeline.
        let oldest = [
            frontier.frontier().first().copied(),
            self.in_flight.front().map(|c| *c.time()),
            self.stash.keys().next().copied(),
        ]
        .into_iter()
        .flatten()
        .min();
        if let (Some(floor), Some(oldest)) = (&mut self.floor, oldest) {
            if oldest > *floor.time() {
                floor.downgrade(&oldest);
            }
        }
    }

    fn send(&mut self, cap: Capability<u64>, batches: Vec<Batch>) {
        if let Some(thread) = &self.thread {
            if thread.to.send(ToSegment::Batches(batches)).is_ok() {
                self.in_flight.push_back(cap);
            }
        }
    }

    /// Everything the thread has sent so far.
    fn take_from_thread(&mut self, output: BatchOutput<'_, '_>) {
        loop {
            let Some(thread) = &self.thread else { return };
            let Ok(message) = thread.from.try_recv() else {
                return;
            };
            match message {
                FromSegment::Outputs(runs) => self.emit(runs, output),
                FromSegment::Consumed => {
                    self.in_flight.pop_front();
                }
                FromSegment::Ended(figures) => {
                    let me = self.me;
                    let figures = figures
                        .into_iter()
                        .map(|f| NodeFigures { process: me, ..f });
                    self.shared.node_stats.borrow_mut().extend(figures);
                    self.floor = None;
                    self.in_flight.clear();
                    if let Some(thread) = self.thread.take() {
                        self.shared.threads.borrow_mut().push(thread);
                    }
                }
                FromSegment::Failed(err) => {
                    self.shared.fail(self.me, err);
                    return;
                }
            }
        }
    }

    /// Sends `runs` on, in batches of at most `chunk` items each to where its output goes, at
    /// the epoch of the oldest batch in the pipeline (never below an epoch already sent at).
    fn emit(&mut self, runs: Vec<OutputRun>, output: BatchOutput<'_, '_>) {
        let Some(floor) = &self.floor else { return };
        let at = self
            .in_flight
            .front()
            .map_or(*floor.time(), |c| *c.time())
            .max(self.last_emitted)
            .max(*floor.time());
        self.last_emitted = at;
        let cap = floor.delayed(&at);
        let mut session = output.session(&cap);
        let me = self.me;
        // Consecutive runs to one destination are merged, so batches stay large.
        let mut current: Option<(Destination, Vec<Value>)> = None;
        let mut flush = |current: Option<(Destination, Vec<Value>)>| {
            let Some((destination, mut run)) = current else {
                return;
            };
            let process = match destination {
                Destination::Segment(k) => {
                    let processes = &self.split.segments[k].processes;
                    processes[(at % processes.len() as u64) as usize]
                }
                Destination::Output(_) => 0,
            };
            while !run.is_empty() {
                let rest = run.split_off(run.len().min(self.chunk));
                let part = std::mem::replace(&mut run, rest);
                session.give(Batch::new(destination.into(), process, me, part));
            }
        };
        for (output, mut values) in runs {
            let destination = self.destinations[output];
            match &mut current {
                Some((d, run)) if *d == destination => run.append(&mut values),
                _ => flush(current.replace((destination, values))),
            }
        }
        flush(current);
    }

    /// Drops the segment's work after a failure: the thread stops, capabilities go, input is
    /// read and discarded until the dataflow ends.
    fn abandon<P: BatchPull>(&mut self, input: SegmentInput<'_, P>) {
        input.for_each(|_, _| {});
        self.floor = None;
        self.in_flight.clear();
        self.stash.clear();
        if let Some(thread) = self.thread.take() {
            self.shared.threads.borrow_mut().push(thread);
        }
    }
}
