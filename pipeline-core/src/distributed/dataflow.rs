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
//! and Sum emit) once its input frontier is empty.
//!
//! Order: per pair of processes timely keeps the order of batches, and a segment emits at
//! non-decreasing epochs, so a chain keeps the input order. A spread node's batches go to its
//! processes by epoch; whatever it feeds takes its input epoch by epoch, once the frontier has
//! passed each, which puts the items back in order.

use super::batch::{Batch, Target};
use super::node_stats::NodeFigures;
use super::segment_thread::{FromSegment, SegmentThread, ToSegment};
use super::segments::{Destination, Segmentation};
use super::sub_manifest::{build_segment, SegmentPipeline};
use crate::dynamic::{BuildOptions, DynNode, Tagged};
use crate::error::{Error, ErrorKind, Result};
use crate::manifest::LoweredManifest;
use crate::Value;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use timely::communication::Pull;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::channels::Message;
use timely::dataflow::operators::generic::operator::source;
use timely::dataflow::operators::generic::{InputHandleCore, Operator, OutputBuilderSession};
use timely::dataflow::operators::vec::Filter;
use timely::dataflow::operators::{Capability, Concatenate, Probe};
use timely::dataflow::{InputHandle, ProbeHandle, Scope, Stream};
use timely::progress::frontier::MutableAntichain;
use timely::scheduling::Activator;
use timely::worker::Worker;

/// Which process runs each node.
///
/// ```
/// use pipeline_core::distributed::Assignment;
/// let mut assignment = Assignment::new(3, vec![0, 1, 0]);
/// assignment.spread[2] = vec![0, 1, 2]; // node 2, `"distribute": true`, on every process
/// assert_eq!(assignment.process_of_node, [0, 1, 0]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Processes in the run: 0 is the local process, 1.. the workers.
    pub processes: usize,
    /// By manifest node index: the process the node runs on.
    pub process_of_node: Vec<usize>,
    /// By manifest node index: for a `"distribute": true` node, the processes its replicas are
    /// spread over (`process_of_node` is then the first of them); empty for every other node.
    pub spread: Vec<Vec<usize>>,
}

impl Assignment {
    /// `process_of_node` over `processes` processes, nothing spread.
    ///
    /// ```
    /// let assignment = pipeline_core::distributed::Assignment::new(2, vec![1, 0]);
    /// assert_eq!(assignment.spread, [Vec::<usize>::new(), Vec::new()]);
    /// ```
    pub fn new(processes: usize, process_of_node: Vec<usize>) -> Assignment {
        let spread = vec![Vec::new(); process_of_node.len()];
        Assignment {
            processes,
            process_of_node,
            spread,
        }
    }

    /// Whether the assignment fits a manifest of `nodes` nodes (`id` names them) run on `peers`
    /// processes.
    fn check(&self, nodes: usize, peers: usize, id: impl Fn(usize) -> String) -> Result<()> {
        let invalid = |what: String| {
            Err(Error::new(
                ErrorKind::Graph,
                format!("invalid assignment of nodes to processes: {what}"),
            ))
        };
        if self.processes != peers {
            return invalid(format!(
                "it is for {} processes, the run has {peers}",
                self.processes
            ));
        }
        if self.process_of_node.len() != nodes || self.spread.len() != nodes {
            return invalid(format!(
                "it places {} nodes (spreads {}), the manifest has {nodes}",
                self.process_of_node.len(),
                self.spread.len()
            ));
        }
        for i in 0..nodes {
            let beyond = |p: &usize| *p >= peers;
            if beyond(&self.process_of_node[i]) || self.spread[i].iter().any(beyond) {
                return invalid(format!(
                    "node `{}` is placed on a process beyond the {peers} of the run",
                    id(i)
                ));
            }
            let mut spread = self.spread[i].clone();
            spread.sort_unstable();
            spread.dedup();
            if spread.len() != self.spread[i].len() {
                return invalid(format!("node `{}` is spread over a process twice", id(i)));
            }
        }
        Ok(())
    }
}

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
        /// The pipeline input.
        input: &'a mut dyn Iterator<Item = Result<Value>>,
        /// Where outputs go, each with its output index, as they arrive.
        sink: &'a mut dyn FnMut(usize, Value) -> Result<()>,
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

/// A failure, sent to every process so that all of them stop.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Failure {
    /// The process it is sent to.
    to: u32,
    /// Where it happened.
    process: u32,
    node: Option<String>,
    kind: FailureKind,
    message: String,
}

/// [`ErrorKind`] on the wire.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum FailureKind {
    Node,
    Initialize,
    Cleanup,
    Panic,
    Conversion,
    Io,
    Other,
}

impl FailureKind {
    fn of(kind: ErrorKind) -> FailureKind {
        match kind {
            ErrorKind::Node => FailureKind::Node,
            ErrorKind::Initialize => FailureKind::Initialize,
            ErrorKind::Cleanup => FailureKind::Cleanup,
            ErrorKind::Panic => FailureKind::Panic,
            ErrorKind::Conversion => FailureKind::Conversion,
            ErrorKind::Io => FailureKind::Io,
            _ => FailureKind::Other,
        }
    }

    fn kind(self) -> ErrorKind {
        match self {
            FailureKind::Node => ErrorKind::Node,
            FailureKind::Initialize => ErrorKind::Initialize,
            FailureKind::Cleanup => ErrorKind::Cleanup,
            FailureKind::Panic => ErrorKind::Panic,
            FailureKind::Conversion => ErrorKind::Conversion,
            FailureKind::Io => ErrorKind::Io,
            FailureKind::Other => ErrorKind::Stopped,
        }
    }
}

impl Failure {
    /// The error another process reports for this failure: the node's, saying where it ran,
    /// with a [`ProcessFailure`] as its source.
    fn error(&self) -> Error {
        let err = Error::from(ProcessFailure {
            process: self.process as usize,
            node: self.node.clone(),
            message: self.message.clone(),
        })
        .with_kind(self.kind.kind());
        match &self.node {
            Some(node) => err.in_node(node),
            None => err,
        }
    }
}

/// A failure on another process of the run, as [`run_process`] reports it (the source of its
/// error): which process, which node, what it said — for a caller that names the host.
///
/// ```
/// use pipeline_core::distributed::ProcessFailure;
/// let failure = ProcessFailure { process: 2, node: Some("div".into()), message: "division by zero".into() };
/// assert_eq!(failure.to_string(), "on process 2: division by zero");
/// let err = pipeline_core::Error::from(failure.clone()).in_node("div");
/// let source = err.source_error().and_then(|e| e.downcast_ref::<ProcessFailure>());
/// assert_eq!(source, Some(&failure));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessFailure {
    /// The process it happened on (0 the local one, 1.. the workers).
    pub process: usize,
    /// The node that failed, when a node did.
    pub node: Option<String>,
    /// What failed, without the node.
    pub message: String,
}

impl std::fmt::Display for ProcessFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "on process {}: {}", self.process, self.message)
    }
}

impl std::error::Error for ProcessFailure {}

/// What the operators of one process share with its run loop.
#[derive(Default)]
struct Shared {
    /// This process's first failure.
    local_error: RefCell<Option<Error>>,
    /// Failures to send to every process.
    outgoing: RefCell<Vec<Failure>>,
    /// Failures received (this process's own included).
    received: RefCell<Vec<Failure>>,
    /// Set once a failure is known here: segments drop their work, the input stops.
    aborted: Cell<bool>,
    /// Outputs for the sink (process 0).
    delivered: RefCell<VecDeque<(usize, Value)>>,
    /// Wakes the failure source.
    failure_source: RefCell<Option<Activator>>,
    /// Wakes each segment operator (to drop its work on an abort).
    segment_operators: RefCell<Vec<Activator>>,
    /// Segment threads to join at the end.
    threads: RefCell<Vec<SegmentThread>>,
    /// Per-node counters of the segments that ended here.
    node_stats: RefCell<Vec<NodeFigures>>,
}

impl Shared {
    /// Records `err`, raised on this process, to be sent to every process.
    fn fail(&self, process: usize, err: Error) {
        self.outgoing.borrow_mut().push(Failure {
            to: 0,
            process: process as u32,
            node: err.node().map(str::to_string),
            kind: FailureKind::of(err.kind()),
            message: err.message().to_string(),
        });
        self.local_error.borrow_mut().get_or_insert(err);
        self.abort();
        if let Some(activator) = &*self.failure_source.borrow() {
            activator.activate();
        }
    }

    fn abort(&self) {
        if !self.aborted.replace(true) {
            for activator in self.segment_operators.borrow().iter() {
                activator.activate();
            }
        }
    }
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
        let source = input.to_stream(scope);
        let segments = split.segments.len();
        let mut feeds: Vec<Vec<Stream<u64, Vec<Batch>>>> = vec![Vec::new(); segments];
        for (s, segment) in split.segments.iter().enumerate() {
            if segment.input_copies > 0 {
                let target = Target::Segment(s as u32);
                feeds[s].push(source.clone().filter(move |b: &Batch| b.target == target));
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
            let mut outputs_too = false;
            for &destination in &split.segments[s].destinations {
                match destination {
                    Destination::Segment(k) => {
                        let target = Target::Segment(k as u32);
                        feeds[k].push(out.clone().filter(move |b: &Batch| b.target == target));
                    }
                    Destination::Output(_) => outputs_too = true,
                }
            }
            if outputs_too {
                to_outputs.push(out.filter(|b: &Batch| matches!(b.target, Target::Output(_))));
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
                deliver(&shared, sink, &mut summary, me);
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
            summary.max_epochs_in_flight =
                summary.max_epochs_in_flight.max(summary.epochs - oldest);
            worker.step();
            deliver(&shared, sink, &mut summary, me);
        }
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

/// Hands every output that arrived to `sink`; a failing sink fails the run.
fn deliver(
    shared: &Shared,
    sink: &mut dyn FnMut(usize, Value) -> Result<()>,
    summary: &mut RunSummary,
    me: usize,
) {
    loop {
        let next = shared.delivered.borrow_mut().pop_front();
        let Some((output, value)) = next else { break };
        if shared.local_error.borrow().is_some() {
            continue;
        }
        match sink(output, value) {
            Ok(()) => summary.items_written += 1,
            Err(err) => shared.fail(me, err),
        }
    }
}

/// What a segment's operator needs besides its pipeline.
struct SegmentContext {
    segment: usize,
    me: usize,
    split: Rc<Segmentation>,
    shared: Rc<Shared>,
    chunk: usize,
    label: String,
}

/// The operator of segment `context.segment`: on the processes that run the segment, feeds its
/// pipeline (on a thread) and sends its outputs on, each batch to the process it is for.
fn segment_operator<'scope>(
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
    stash: BTreeMap<u64, (Capability<u64>, Vec<Value>)>,
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
        let mut failure = None;
        input.for_each(|cap, data| {
            let Some(cap) = cap.retain_least(0) else {
                return;
            };
            let mut values = Vec::new();
            for batch in data.iter() {
                if let Err(err) = batch.decode_into(&mut values) {
                    failure.get_or_insert(err);
                }
            }
            if self.reorder {
                let time = *cap.time();
                self.stash
                    .entry(time)
                    .or_insert_with(|| (cap, Vec::new()))
                    .1
                    .append(&mut values);
            } else {
                self.send(cap, values);
            }
        });
        if let Some(err) = failure {
            self.shared.fail(self.me, err);
            return self.abandon(input);
        }
        // Whole epochs, oldest first, once no process can send more of them.
        while let Some(entry) = self.stash.first_entry() {
            if frontier.less_equal(entry.key()) {
                break;
            }
            let (cap, values) = entry.remove();
            self.send(cap, values);
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

    fn send(&mut self, cap: Capability<u64>, values: Vec<Value>) {
        if let Some(thread) = &self.thread {
            if thread.to.send(ToSegment::Batch(values)).is_ok() {
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
                FromSegment::Outputs(tagged) => self.emit(tagged, output),
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

    /// Sends `tagged` on, grouped by where each output goes, at the epoch of the oldest batch in
    /// the pipeline (never below an epoch already sent at).
    fn emit(&mut self, tagged: Vec<Tagged>, output: BatchOutput<'_, '_>) {
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
        // Runs of one destination keep their order; each run is one or more batches.
        let mut run: Vec<Value> = Vec::new();
        let mut current: Option<Destination> = None;
        let mut flush = |destination: Option<Destination>, run: &mut Vec<Value>| {
            let Some(destination) = destination else {
                return;
            };
            if run.is_empty() {
                return;
            }
            let process = match destination {
                Destination::Segment(k) => {
                    let processes = &self.split.segments[k].processes;
                    processes[(at % processes.len() as u64) as usize]
                }
                Destination::Output(_) => 0,
            };
            for part in run.chunks(self.chunk) {
                session.give(Batch::encode(destination.into(), process, part));
            }
            run.clear();
        };
        for Tagged { output, value } in tagged {
            let destination = self.destinations[output];
            if current != Some(destination) {
                flush(current, &mut run);
                current = Some(destination);
            }
            run.push(value);
        }
        flush(current, &mut run);
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

/// An output item with its output index.
type Delivered = (usize, Value);

/// Process 0's end of the outputs: items go to the sink in arrival order, or epoch by epoch for
/// an output fed by a spread segment.
fn sink_operator<'scope>(
    outputs: Stream<'scope, u64, Vec<Batch>>,
    me: usize,
    split: Rc<Segmentation>,
    shared: Rc<Shared>,
) -> Stream<'scope, u64, Vec<()>> {
    let exchange = Exchange::new(|b: &Batch| u64::from(b.process));
    outputs.unary_frontier(exchange, "outputs", move |capability, _info| {
        drop(capability);
        let mut stash: BTreeMap<u64, (Capability<u64>, Vec<Delivered>)> = BTreeMap::new();
        move |(input, frontier), _output: &mut OutputBuilderSession<'_, u64, CapacityContainerBuilder<Vec<()>>>| {
            let mut failure = None;
            input.for_each(|cap, data| {
                for batch in data.iter() {
                    let Target::Output(o) = batch.target else { continue };
                    let o = o as usize;
                    let values = match batch.decode() {
                        Ok(values) => values,
                        Err(err) => {
                            failure.get_or_insert(err);
                            continue;
                        }
                    };
                    if split.reorder_output.get(o).copied().unwrap_or(false) {
                        let Some(cap) = cap.retain_least(0) else { continue };
                        let time = *cap.time();
                        let entry = stash.entry(time).or_insert_with(|| (cap, Vec::new()));
                        entry.1.extend(values.into_iter().map(|v| (o, v)));
                    } else {
                        let mut delivered = shared.delivered.borrow_mut();
                        delivered.extend(values.into_iter().map(|v| (o, v)));
                    }
                }
            });
            if let Some(err) = failure {
                shared.fail(me, err);
            }
            while let Some(entry) = stash.first_entry() {
                if frontier.less_equal(entry.key()) {
                    break;
                }
                let (_cap, values) = entry.remove();
                shared.delivered.borrow_mut().extend(values);
            }
        }
    })
}

/// The failure stream: each process's failures go to every process, which then stops. The
/// source holds its capability until the data is complete, so a failure raised at the last
/// moment still reaches everyone.
fn failure_operators<'scope>(
    scope: Scope<'scope, u64>,
    me: usize,
    peers: usize,
    probe: &ProbeHandle<u64>,
    shared: Rc<Shared>,
) {
    let data = probe.clone();
    let sender = Rc::clone(&shared);
    let failures = source(scope, "failures", move |capability, info| {
        *sender.failure_source.borrow_mut() = Some(scope.activator_for(info.address));
        let mut capability = Some(capability);
        move |output| {
            if let Some(cap) = &capability {
                let outgoing: Vec<Failure> = sender.outgoing.borrow_mut().drain(..).collect();
                let mut session = output.session(cap);
                for failure in outgoing {
                    for to in 0..peers {
                        session.give(Failure {
                            to: to as u32,
                            ..failure.clone()
                        });
                    }
                }
            }
            if data.done() && sender.outgoing.borrow().is_empty() {
                capability = None;
            }
        }
    });
    let exchange = Exchange::new(|f: &Failure| u64::from(f.to));
    failures.sink(exchange, "failures received", move |(input, _frontier)| {
        input.for_each(|_, data| {
            for failure in data.drain(..) {
                if failure.process as usize != me {
                    shared.received.borrow_mut().push(failure);
                }
                shared.abort();
            }
        });
    });
}
