//! The timely dataflow that runs one manifest's segments across processes.
//!
//! Every process builds the same dataflow (timely requires it): the input (fed by process 0), one
//! operator per segment, the outputs (written by process 0) and a stream of failures. A segment's
//! operator runs its pipeline only on the process(es) the segment is assigned to; batches reach it
//! through an exchange that routes each to the process it names. Timestamps are epochs: process 0
//! sends the input in batches, one epoch each, and keeps at most
//! [`DataflowOptions::epochs_in_flight`] epochs in flight, measured by a probe after the outputs,
//! so memory stays bounded whichever node is slow. A segment holds a capability for every batch
//! its pipeline has not yet taken; it finishes its pipeline (`finish` runs through it, so Count
//! and Sum emit) once its input frontier is empty. When the input pauses
//! ([`NextItem::Pending`]), what was read goes as an epoch of its own and the outputs are written
//! and flushed while process 0 waits, stepping the dataflow.
//!
//! Cost: a batch is wire-encoded only when it leaves its process (timely serializes only what
//! crosses); values are decoded on the segment's thread, and a segment's outputs reach its
//! operator in runs per output, so timely's thread does little per item.
//!
//! Order: per pair of processes timely keeps the order of batches, and a segment emits at
//! non-decreasing epochs, so a chain keeps the input order. A spread node's batches go to its
//! processes by epoch; whatever it feeds takes its input epoch by epoch, once the frontier has
//! passed each, which puts the items back in order.

mod assignment;
mod failure;
mod input;
mod local;

mod segment_operator;
mod shared;
mod sink;

pub use assignment::Assignment;
pub use failure::ProcessFailure;
pub use local::{LocalInput, LocalSink, NextItem};

use super::batch::{Batch, Target};
use super::node_stats::NodeFigures;
use super::segments::{Destination, Segmentation};
use super::sub_manifest::{build_segment, SegmentPipeline};
use crate::dynamic::{BuildOptions, DynNode};
use crate::error::{Error, ErrorKind, Result};
use crate::manifest::LoweredManifest;
use failure::failure_operators;
use input::{feed, Feeder};
use segment_operator::{segment_operator, SegmentContext};
use serde::{Deserialize, Serialize};
use shared::Shared;
use sink::{deliver, sink_operator};
use std::rc::Rc;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::operators::vec::Partition;
use timely::dataflow::operators::{Concatenate, Probe};
use timely::dataflow::{InputHandle, ProbeHandle, Stream};
use timely::worker::Worker;

/// What this process is in the run (see [`run_process`] for both in use).
///
/// ```
/// use pipeline_core::distributed::Role;
/// use pipeline_core::Value;
/// let mut input = [Value::Int(1)].into_iter().map(Ok);
/// let mut sink = |_output: usize, _value: Value| Ok(());
/// let role = Role::Local { input: &mut input, sink: &mut sink };
/// assert!(matches!(role, Role::Local { .. }));
/// ```
pub enum Role<'a> {
    /// Process 0: reads the input, writes the outputs (output index as in the local run's
    /// `DynamicPipeline::outputs()`).
    Local {
        /// The pipeline input (any iterator of items is one).
        input: &'a mut dyn LocalInput,
        /// Where outputs go, each with its output index, as they arrive (any
        /// `FnMut(usize, Value) -> Result<()>` is one).
        sink: &'a mut dyn LocalSink,
    },
    /// A worker.
    Remote,
}

/// The input items per epoch when none is set: large batches are what makes crossing a process
/// boundary cheap (see `shared/notes/distributed.md`: ~3-5 M items/s at 10k, ~2.6 M/s at 1k).
pub const DEFAULT_BATCH_ITEMS: usize = 4096;

/// Epochs (input batches) in flight when none is set: the source waits while this many are not
/// through the outputs yet.
pub const DEFAULT_EPOCHS_IN_FLIGHT: usize = 4;

/// How a run across processes moves its items.
///
/// ```
/// use pipeline_core::distributed::DataflowOptions;
/// let options = DataflowOptions { epochs_in_flight: 2, ..DataflowOptions::default() };
/// assert_eq!(options.batch_items, pipeline_core::distributed::DEFAULT_BATCH_ITEMS);
/// ```
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct DataflowOptions {
    /// Input items per epoch, and at most this many items per batch between processes.
    pub batch_items: usize,
    /// Epochs in flight at most: how far the input runs ahead of the outputs.
    pub epochs_in_flight: usize,
    /// How each segment's pipeline is built (this process's choice: not sent to workers).
    #[serde(skip)]
    pub build: BuildOptions,
}

impl Default for DataflowOptions {
    fn default() -> Self {
        DataflowOptions {
            batch_items: DEFAULT_BATCH_ITEMS,
            epochs_in_flight: DEFAULT_EPOCHS_IN_FLIGHT,
            build: BuildOptions::default(),
        }
    }
}

/// What one process did in a run.
///
/// ```
/// let summary = pipeline_core::distributed::RunSummary::default();
/// assert_eq!((summary.items_read, summary.max_epochs_in_flight), (0, 0));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Segments this process ran.
    pub segments: usize,
    /// Items read from the input (process 0).
    pub items_read: u64,
    /// Items handed to the sink (process 0).
    pub items_written: u64,
    /// Epochs the input was sent in (process 0).
    pub epochs: u64,
    /// The most epochs that were in flight at once (process 0).
    pub max_epochs_in_flight: u64,
    /// Per-node counters of the nodes this process ran, when built with stats
    /// ([`DataflowOptions::build`]`.stats`).
    pub node_stats: Vec<NodeFigures>,
}

/// Runs this process's part of `lowered` split by `assignment`, stepping `worker` until the whole
/// run is complete on every process. Every process calls it with the same manifest and
/// assignment; worker index 0 is the local process ([`Role::Local`]).
///
/// A node error is returned on the process where it happened as the node's error; the other
/// processes stop too (without hanging) and return it as `node <id>: on process <p>: <message>`,
/// with a [`ProcessFailure`] as its [source](Error::source_error).
///
/// ```
/// use pipeline_core::distributed::{run_process, Assignment, DataflowOptions, Role};
/// use pipeline_core::{dynamic::Registry, manifest, Value};
/// const M: &str = r#"{"version": "v1", "metadata": {"name": "m"},
///   "nodes": [{"id": "add", "node_type": "Calculator", "params": {"operand": 1}},
///             {"id": "double", "node_type": "Calculator", "params": {"operation": "multiply", "operand": 2}}],
///   "connections": [{"from": "add", "to": "double"}]}"#;
/// let guards = timely::execute(timely::Config::process(2), |worker| {
///     let lowered = manifest::load("m.json", M, &Registry::with_builtins()).unwrap();
///     let assignment = Assignment::new(2, vec![1, 0]); // `add` on the worker
///     let options = DataflowOptions::default();
///     let mut outputs = Vec::new();
///     if worker.index() == 0 {
///         let mut input = (1..=3).map(|i| Ok(Value::Int(i)));
///         let mut sink = |_output: usize, value: Value| { outputs.push(value); Ok(()) };
///         let role = Role::Local { input: &mut input, sink: &mut sink };
///         run_process(worker, lowered, &assignment, role, &options).unwrap();
///     } else {
///         run_process(worker, lowered, &assignment, Role::Remote, &options).unwrap();
///     }
///     outputs
/// }).unwrap();
/// let outputs: Vec<Vec<Value>> = guards.join().into_iter().map(Result::unwrap).collect();
/// assert_eq!(outputs[0], [Value::Int(4), Value::Int(6), Value::Int(8)]);
/// ```
pub fn run_process(
    worker: &mut Worker,
    lowered: LoweredManifest,
    assignment: &Assignment,
    role: Role<'_>,
    options: &DataflowOptions,
) -> Result<RunSummary> {
    let me = worker.index();
    let peers = worker.peers();
    if options.batch_items == 0 || options.epochs_in_flight == 0 {
        return Err(Error::new(
            ErrorKind::Graph,
            "a distributed run needs at least 1 item per batch and 1 epoch in flight",
        ));
    }
    match (&role, me) {
        (Role::Local { .. }, 0) | (Role::Remote, 1..) => {}
        _ => {
            return Err(Error::new(
                ErrorKind::Graph,
                format!("process {me} has the wrong role: process 0, and only it, is local"),
            ))
        }
    }
    let LoweredManifest { parsed, graph, .. } = lowered;
    // Each segment takes its nodes (the graph's payloads) as it is built.
    let mut built: Vec<Option<Box<dyn DynNode>>> = Vec::with_capacity(graph.graph.nodes.len());
    let graph = graph.map_payloads(|_, node| built.push(Some(node)));
    let n = built.len();
    assignment.check(n, peers, |i| graph.graph.nodes[i].id.to_string())?;
    let split = Segmentation::split(
        n,
        &graph.topo,
        &graph.edges,
        graph.outputs.len(),
        assignment,
    );

    let shared = Rc::new(Shared::default());
    let mut pipelines: Vec<Option<SegmentPipeline>> = Vec::with_capacity(split.segments.len());
    for s in 0..split.segments.len() {
        let here = split.segments[s].processes.contains(&me);
        let pipeline =
            here.then(|| build_segment(&parsed, &graph, &split, s, &mut built, options.build));
        pipelines.push(match pipeline {
            Some(Ok(pipeline)) => Some(pipeline),
            // The dataflow is built all the same (every process must build it), without the
            // segment; the failure stops every process.
            Some(Err(err)) => {
                shared.fail(me, err);
                None
            }
            None => None,
        });
    }
    drop(built);
    let labels: Vec<String> = split
        .segments
        .iter()
        .map(|segment| {
            let ids: Vec<&str> = segment.nodes.iter().map(|&i| graph.id(i)).collect();
            ids.join(",")
        })
        .collect();
    let mut summary = RunSummary {
        segments: pipelines.iter().filter(|p| p.is_some()).count(),
        ..RunSummary::default()
    };

    let split = Rc::new(split);
    let mut input: InputHandle<u64, CapacityContainerBuilder<Vec<Batch>>> = InputHandle::new();
    let probe = ProbeHandle::new();
    worker.dataflow::<u64, _, _>(|scope| {
        let segments = split.segments.len();
        let mut feeds: Vec<Vec<Stream<u64, Vec<Batch>>>> = vec![Vec::new(); segments];
        let mut from_input = by_target(input.to_stream(scope), segments);
        for (s, segment) in split.segments.iter().enumerate() {
            if segment.input_copies > 0 {
                feeds[s].extend(from_input[s].take());
            }
        }
        let mut to_outputs = Vec::new();
        for s in 0..segments {
            let fed = scope.concatenate(std::mem::take(&mut feeds[s]));
            let context = SegmentContext {
                segment: s,
                me,
                split: Rc::clone(&split),
                shared: Rc::clone(&shared),
                chunk: options.batch_items,
                label: format!("segment {s} ({})", labels[s]),
            };
            let out = segment_operator(scope, fed, context, pipelines[s].take());
            let mut parts = by_target(out, segments);
            for &destination in &split.segments[s].destinations {
                match destination {
                    Destination::Segment(k) => feeds[k].extend(parts[k].take()),
                    Destination::Output(_) => to_outputs.extend(parts[segments].take()),
                }
            }
        }
        let outputs = scope.concatenate(to_outputs);
        sink_operator(outputs, me, Rc::clone(&split), Rc::clone(&shared)).probe_with(&probe);
        failure_operators(scope, me, peers, &probe, Rc::clone(&shared));
    });
    if !shared.outgoing.borrow().is_empty() {
        // Failed while the dataflow was being built: send it now.
        if let Some(activator) = &*shared.failure_source.borrow() {
            activator.activate();
        }
    }

    let local = match role {
        Role::Local { input: items, sink } => Some((items, sink)),
        Role::Remote => None,
    };
    if let Some((items, sink)) = local {
        feed(
            Feeder {
                worker,
                input: &mut input,
                probe: &probe,
                shared: &shared,
                split: &split,
                options,
                me,
            },
            items,
            sink,
            &mut summary,
        );
        drop(input);
        run_to_completion(worker, &probe, &shared, |shared| {
            deliver(shared, sink, &mut summary, me)
        });
    } else {
        drop(input);
        run_to_completion(worker, &probe, &shared, |_| {});
    }
    for thread in shared.threads.borrow_mut().drain(..) {
        thread.join();
    }
    if let Some(err) = shared.local_error.borrow_mut().take() {
        return Err(err);
    }
    if let Some(failure) = shared.received.borrow().first() {
        return Err(failure.error());
    }
    summary.node_stats = shared.node_stats.take();
    Ok(summary)
}

/// `stream`'s batches split by target: one stream per segment's entry, the last for the outputs.
/// Batches are moved, never copied, to where they go.
fn by_target(
    stream: Stream<'_, u64, Vec<Batch>>,
    segments: usize,
) -> Vec<Option<Stream<'_, u64, Vec<Batch>>>> {
    let parts = stream.partition(segments as u64 + 1, move |b: Batch| {
        let part = match b.target {
            Target::Segment(k) => k as u64,
            Target::Output(_) => segments as u64,
        };
        (part, b)
    });
    parts.into_iter().map(Some).collect()
}

/// Steps `worker` until the dataflow is complete everywhere, handing outputs on with `deliver`.
fn run_to_completion(
    worker: &mut Worker,
    probe: &ProbeHandle<u64>,
    shared: &Shared,
    mut deliver: impl FnMut(&Shared),
) {
    loop {
        deliver(shared);
        if probe.done() {
            // The failure stream may end once the data has: nothing can fail any more.
            if let Some(activator) = &*shared.failure_source.borrow() {
                activator.activate();
            }
        }
        if !worker.step_or_park(None) {
            break;
        }
    }
    deliver(shared);
}
