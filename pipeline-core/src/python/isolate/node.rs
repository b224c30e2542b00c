//! [`IsolatedPython`]: a Python node whose code runs in a worker process, with the isolated nodes
//! that follow it in a fused chain.

use super::limits::Limits;
use super::process::{Stop, Worker};
use super::protocol::{Frame, Reply, BATCH, CLEANUP, FINISH, START};
use super::IsolationConfig;
use crate::dynamic::DynNode;
use crate::error::{Error, ErrorKind, Result};
use crate::node::NodeContext;
use crate::python::thread_bound::ThreadBound;
use crate::python_params::{PythonEntry, PythonSpec};
use crate::value::Value;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

/// A worker of its own for one node and the chain it took in.
///
/// Not shared with the stage's other Python nodes (as in-process nodes share an interpreter): a
/// node's call streams its outputs in chunks while the stage hands each chunk to the next node, so
/// two nodes of one stage may have calls open at once, and one worker process answers one call at
/// a time. Consecutive isolated nodes do share one, as one chain ([`DynNode::absorb`]): the
/// worker runs the batch through all of them in one call.
fn own_worker(config: &IsolationConfig, limits: Limits) -> Result<Rc<RefCell<Worker>>> {
    Ok(Rc::new(RefCell::new(Worker::spawn(config, limits, &[])?)))
}

/// A node of the chain a worker runs.
struct Member {
    spec: Arc<PythonSpec>,
    id: String,
}

/// A Python node run in an isolated worker process: the CLI's default for manifests and scripts.
///
/// Every isolated Python node has a worker process of its own (see [`own_worker`] for why not
/// one per stage), started on its stage's thread — unless it follows another in a fused chain:
/// the first node of a chain of isolated nodes with the same limits takes the others into its
/// worker ([`DynNode::absorb`], done when a pipeline is built without per-node stats), and a
/// batch crosses to the worker and back once for the whole chain. Items go over in
/// batches and outputs come back in chunks as they are produced, so a generator streams through
/// the boundary ([`DynNode::resume`]). A crash, a limit or a timeout of the worker is an error
/// naming the node and the limit; outputs the worker sent before it are kept.
///
/// Built by the manifest loader when [`install`](super::install) was called; see
/// [`isolate`](super) for the limits and the confinement.
pub struct IsolatedPython {
    /// The node, then the nodes it took in, in chain order.
    members: Vec<Member>,
    limits: Limits,
    config: Arc<IsolationConfig>,
    live: Option<ThreadBound<Live>>,
}

/// The node once started on its stage thread.
struct Live {
    worker: Rc<RefCell<Worker>>,
    /// The worker's index of each member.
    indices: Vec<u64>,
    /// A call whose replies are not all read yet.
    replying: bool,
    /// The member a request for one node (start, cleanup) addresses: a failure without a chain
    /// position is its.
    addressed: usize,
    /// Whether a member defines `finish`: without one, ending the stream needs no round trip.
    has_finish: bool,
    /// The failure that ended the call, reported after the outputs that preceded it.
    deferred: Option<Error>,
    /// In a traced batch call: the origins of the batch's items not yet ended, the one being
    /// worked on first.
    pending_origins: std::collections::VecDeque<u64>,
}

impl IsolatedPython {
    /// A node of `spec` run under `limits` by `config`'s worker (started by `initialize`, on the
    /// stage's thread).
    ///
    /// ```
    /// use pipeline_core::python::isolate::{IsolatedPython, IsolationConfig, Limits};
    /// use pipeline_core::python_params::{PythonEntry, PythonSpec};
    /// use std::sync::Arc;
    ///
    /// let spec = PythonSpec {
    ///     code: "def f(x):\n    return x\n".into(),
    ///     entry: PythonEntry::Function("f".into()),
    ///     args: None,
    ///     filename: None,
    /// };
    /// let config = Arc::new(IsolationConfig {
    ///     program: "pipeline".into(),
    ///     args: vec!["__python-worker".into()],
    ///     limits: Limits::default(),
    /// });
    /// let limits = Limits { item_timeout_ms: 500, ..Limits::default() };
    /// let node = IsolatedPython::new(spec, limits, config);
    /// assert_eq!(node.limits().item_timeout_ms, 500);
    /// ```
    pub fn new(spec: PythonSpec, limits: Limits, config: Arc<IsolationConfig>) -> Self {
        let id = spec.entry.name().to_string();
        IsolatedPython {
            members: vec![Member {
                spec: Arc::new(spec),
                id,
            }],
            limits,
            config,
            live: None,
        }
    }

    /// The limits the node runs under (see [`new`](Self::new)).
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The id of the node (the chain's first).
    fn id(&self) -> &str {
        &self.members[0].id
    }

    /// Starts the worker and every member in it.
    fn start(&mut self) -> Result<()> {
        self.live = None;
        let worker = own_worker(&self.config, self.limits)?;
        self.live = Some(ThreadBound::new(Live {
            worker,
            indices: Vec::with_capacity(self.members.len()),
            replying: false,
            addressed: 0,
            has_finish: false,
            deferred: None,
            pending_origins: std::collections::VecDeque::new(),
        }));
        for member in 0..self.members.len() {
            self.start_member(member)?;
        }
        Ok(())
    }

    fn start_member(&mut self, member: usize) -> Result<()> {
        let index = self.live()?.worker.borrow_mut().next_index();
        let Member { spec, id } = &self.members[member];
        let (kind, name) = match &spec.entry {
            PythonEntry::Class(name) => (0, name),
            PythonEntry::Function(name) => (1, name),
        };
        let args = spec.args.as_ref().map_or(Value::Null, |args| {
            Value::from(&serde_json::Value::Object(args.clone()))
        });
        let frame = Frame::new(START)
            .uint(index)
            .str(id)
            .str(&spec.code)
            .str(spec.filename.as_deref().unwrap_or(""))
            .uint(kind)
            .str(name)
            .value(&args)
            .uint(self.limits.heartbeat().as_millis() as u64)
            .finish();
        let id = id.clone();
        self.live()?.addressed = member;
        let mut out = Vec::new();
        self.call(&frame, &mut out)?;
        while self.pump(&mut out, None)? {}
        let has_finish = match out.as_slice() {
            [Value::Bool(has_finish)] => *has_finish,
            _ => {
                let stop = Stop::Invalid("a start reply without the node's description".into());
                let timeout_ms = self.limits.item_timeout_ms;
                let mut worker = self.live()?.worker.borrow_mut();
                return Err(worker.fail(stop, timeout_ms).in_node(&id));
            }
        };
        let live = self.live()?;
        live.indices.push(index);
        live.has_finish |= has_finish;
        Ok(())
    }

    /// A request for the whole chain: `tag`, the members' indices, then what `fields` adds.
    fn chain_frame(&mut self, tag: u8) -> Result<Frame> {
        let indices = &self.live()?.indices;
        let frame = Frame::new(tag).uint(indices.len() as u64);
        Ok(indices
            .iter()
            .fold(frame, |frame, &index| frame.uint(index)))
    }

    /// The node on this thread, started on first use.
    fn live(&mut self) -> Result<&mut Live> {
        if self.live.is_none() {
            self.start()?;
        }
        let id = &self.members[0].id;
        self.live
            .as_mut()
            .and_then(ThreadBound::get_mut)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Panic,
                    "an isolated Python node runs only on the thread of its stage",
                )
                .in_node(id)
            })
    }

    /// Sends a request and reads its first replies into `out`; returns whether more are pending.
    fn call(&mut self, frame: &[u8], out: &mut Vec<Value>) -> Result<bool> {
        self.call_traced(frame, out, None)
    }

    /// [`call`](Self::call) that pushes each output's origin onto `origins` (from the live
    /// state's `pending_origins`, set by the caller).
    fn call_traced(
        &mut self,
        frame: &[u8],
        out: &mut Vec<Value>,
        origins: Option<&mut Vec<u64>>,
    ) -> Result<bool> {
        let timeout_ms = self.limits.item_timeout_ms;
        let id = self.id().to_string();
        let live = self.live()?;
        if live.replying {
            return Err(Error::new(
                ErrorKind::Panic,
                "a new call before the previous one was resumed to its end",
            )
            .in_node(&id));
        }
        {
            let mut worker = live.worker.borrow_mut();
            if let Some(reason) = worker.dead() {
                return Err(stopped_earlier(reason).in_node(&id));
            }
            if let Err(stop) = worker.send(frame) {
                return Err(worker.fail(stop, timeout_ms).in_node(&id));
            }
        }
        live.replying = true;
        self.pump(out, origins)
    }

    /// Reads replies until one carries outputs or ends the call; returns whether more are pending.
    /// With `origins`, each output's origin is pushed there and a failure names the item's.
    fn pump(&mut self, out: &mut Vec<Value>, mut origins: Option<&mut Vec<u64>>) -> Result<bool> {
        let limits = self.limits;
        let ids: Vec<&str> = self.members.iter().map(|m| m.id.as_str()).collect();
        let Some(live) = self.live.as_mut().and_then(ThreadBound::get_mut) else {
            return Ok(false);
        };
        // A failure names the member the worker says failed (or was running when it died), else
        // the member the request addressed.
        let name = |member: Option<u64>, addressed: usize| {
            let member = member.map_or(addressed, |m| m as usize);
            ids.get(member).copied().unwrap_or(ids[0])
        };
        if let Some(err) = live.deferred.take() {
            return Err(err);
        }
        if !live.replying {
            return Ok(false);
        }
        let addressed = live.addressed;
        let mut worker = live.worker.borrow_mut();
        let pending_origins = &mut live.pending_origins;
        let traced = origins.is_some();
        // Attributes outputs appended from `start` on: up to each item end to that item.
        let mut attribute = |pending_origins: &mut std::collections::VecDeque<u64>,
                             out: &Vec<Value>,
                             start: usize,
                             ends: &[u64]| {
            let Some(origins) = origins.as_deref_mut() else {
                return;
            };
            let mut done = start;
            for &end in ends {
                let end = start + end as usize;
                let origin = pending_origins.front().copied().unwrap_or(u64::MAX);
                origins.extend(std::iter::repeat_n(origin, end - done));
                done = end;
                pending_origins.pop_front();
            }
            let origin = pending_origins.front().copied().unwrap_or(u64::MAX);
            origins.extend(std::iter::repeat_n(origin, out.len() - done));
        };
        let failing = |err: Error, pending: &std::collections::VecDeque<u64>| match pending.front()
        {
            Some(&origin) if traced => err.with_failed_item(origin),
            _ => err,
        };
        loop {
            // Each reply (a heartbeat included) is progress: the deadline starts again.
            let deadline = limits
                .item_timeout()
                .map(|t| Instant::now() + t + limits.heartbeat());
            let reply = worker.receive(deadline);
            match reply {
                Ok(Reply::Outputs(values, ends)) if values.is_empty() && ends.is_empty() => {
                    continue
                }
                Ok(Reply::Outputs(mut values, ends)) => {
                    let start = out.len();
                    out.append(&mut values);
                    attribute(pending_origins, out, start, &ends);
                    return Ok(true);
                }
                Ok(Reply::Done(mut values, ends)) => {
                    live.replying = false;
                    let start = out.len();
                    out.append(&mut values);
                    attribute(pending_origins, out, start, &ends);
                    return Ok(false);
                }
                Ok(Reply::Failed(err, member)) => {
                    live.replying = false;
                    let err = err.in_node(name(member, addressed));
                    return Err(failing(err, pending_origins));
                }
                Ok(Reply::Text(_) | Reply::Running(_)) => {
                    // (`Running` never comes here: `receive` keeps it for naming the node.)
                    live.replying = false;
                    let stop = Stop::Invalid("a reply of the wrong kind".into());
                    let err = worker.fail(stop, limits.item_timeout_ms);
                    return Err(err.in_node(name(None, addressed)));
                }
                Err(stop) => {
                    live.replying = false;
                    let err = worker.fail(stop, limits.item_timeout_ms);
                    let err = err.in_node(name(worker.running_when_it_died(), addressed));
                    // The outputs and item ends the worker wrote as it died: the items that
                    // ended are done, and the failure is the next one's.
                    let (mut salvaged, ends) = worker.take_salvaged();
                    let start = out.len();
                    out.append(&mut salvaged);
                    attribute(pending_origins, out, start, &ends);
                    let err = failing(err, pending_origins);
                    if out.len() == start {
                        return Err(err);
                    }
                    live.deferred = Some(err);
                    return Ok(true);
                }
            }
        }
    }

    /// A call still replying when the stage gives the node something else was given up by the
    /// stage (a node after it failed): the worker may be running an endless generator, and the
    /// protocol has no way to cancel one call, so the worker is stopped; the run is failing
    /// anyway, and a later call reports that the worker stopped.
    fn abandon_stale_call(&mut self) -> Result<()> {
        let Some(live) = self.live.as_mut().and_then(ThreadBound::get_mut) else {
            return Ok(());
        };
        if live.replying {
            live.replying = false;
            live.pending_origins.clear();
            let mut worker = live.worker.borrow_mut();
            let _ = worker.fail(Stop::Abandoned, 0);
        }
        Ok(())
    }

    /// A `Batch` request of `items` for the chain.
    fn batch_frame(&mut self, items: &mut Vec<Value>) -> Result<Vec<u8>> {
        let mut frame = self.chain_frame(BATCH)?.uint(items.len() as u64);
        for item in items.drain(..) {
            frame = frame.value(&item);
        }
        Ok(frame.finish())
    }

    /// Starts the chain's `finish` round trip if a member has one (`false` if none has).
    fn call_finish(
        &mut self,
        out: &mut Vec<Value>,
        origins: Option<&mut Vec<u64>>,
    ) -> Result<bool> {
        if !self.live()?.has_finish {
            return Ok(false);
        }
        let frame = self.chain_frame(FINISH)?.finish();
        self.call_traced(&frame, out, origins)
    }
}

fn stopped_earlier(reason: &str) -> Error {
    Error::new(
        ErrorKind::Node,
        format_args!("the Python worker of this stage stopped earlier: {reason}"),
    )
}

impl DynNode for IsolatedPython {
    fn initialize(&mut self, ctx: &NodeContext<'_>) -> Result<()> {
        self.members[0].id = ctx.id().to_string();
        self.start()
    }

    fn process(&mut self, item: Value, out: &mut Vec<Value>) -> Result<()> {
        self.process_batch(&mut vec![item], out)?;
        while self.resume(out)? {}
        Ok(())
    }

    fn process_batch(&mut self, items: &mut Vec<Value>, out: &mut Vec<Value>) -> Result<()> {
        let frame = self.batch_frame(items)?;
        self.call(&frame, out).map(drop)
    }

    fn finish(&mut self, out: &mut Vec<Value>) -> Result<()> {
        self.call_finish(out, None).map(drop)
    }

    fn resume(&mut self, out: &mut Vec<Value>) -> Result<bool> {
        if self.live.is_none() {
            return Ok(false);
        }
        self.pump(out, None)
    }

    /// A call still streaming its reply has more to give.
    fn may_resume(&mut self) -> bool {
        self.live
            .as_mut()
            .and_then(ThreadBound::get_mut)
            .is_some_and(|live| live.replying || live.deferred.is_some())
    }

    /// The whole batch in one request; the worker marks where each item's outputs end, so every
    /// output keeps its own item's origin and a failure names the failing item.
    fn process_batch_traced(
        &mut self,
        items: &mut Vec<Value>,
        item_origins: &mut Vec<u64>,
        out: &mut Vec<Value>,
        origins: &mut Vec<u64>,
    ) -> Result<()> {
        let frame = self.batch_frame(items)?;
        self.live()?.pending_origins = item_origins.iter().copied().collect();
        self.call_traced(&frame, out, Some(origins)).map(drop)
    }

    fn resume_traced(
        &mut self,
        out: &mut Vec<Value>,
        origins: &mut Vec<u64>,
        latest: u64,
    ) -> Result<bool> {
        let _ = latest; // the worker marks each item's end
        if self.live.is_none() {
            return Ok(false);
        }
        self.pump(out, Some(origins))
    }

    fn finish_traced(
        &mut self,
        out: &mut Vec<Value>,
        origins: &mut Vec<u64>,
        end: u64,
    ) -> Result<()> {
        self.abandon_stale_call()?;
        self.live()?.pending_origins = std::iter::once(end).collect();
        self.call_finish(out, Some(origins)).map(drop)
    }

    /// A flush gives the node nothing new, but a call its stage stopped resuming (after a
    /// failure further down) must not go on: see [`abandon_stale_call`](Self::abandon_stale_call).
    fn flush(&mut self, out: &mut Vec<Value>) -> Result<()> {
        let _ = out;
        self.abandon_stale_call()
    }

    fn cleanup(&mut self) -> Result<()> {
        let Some(live) = self.live.as_mut().and_then(ThreadBound::get_mut) else {
            self.live = None;
            return Ok(());
        };
        if live.replying {
            // A call still streaming (a generator whose outputs nobody takes any more): the
            // worker cannot clean up in the middle of it, so it is stopped now rather than
            // after the grace a worker gets to exit.
            let _ = live.worker.borrow_mut().fail(Stop::Abandoned, 0);
            self.live = None;
            return Ok(());
        }
        if live.worker.borrow().dead().is_some() {
            self.live = None;
            return Ok(()); // already reported; nothing left to clean in a dead worker
        }
        // Each member's `cleanup`, in chain order; the first failure is reported.
        let indices = live.indices.clone();
        let mut outcome = Ok(());
        for (member, index) in indices.into_iter().enumerate() {
            let mut out = Vec::new();
            let cleaned = self.live().map(|live| live.addressed = member);
            let cleaned = cleaned
                .and_then(|()| self.call(&Frame::new(CLEANUP).uint(index).finish(), &mut out))
                .and_then(|mut more| {
                    while more {
                        more = self.pump(&mut out, None)?;
                    }
                    Ok(())
                });
            if outcome.is_ok() {
                outcome = cleaned;
            }
        }
        self.live = None;
        outcome
    }

    /// Takes an isolated successor with the same limits into this node's worker.
    fn absorb(
        &mut self,
        mut next: Box<dyn DynNode>,
        next_id: &str,
    ) -> std::result::Result<(), Box<dyn DynNode>> {
        let Some(other) = next
            .as_any_mut()
            .and_then(|any| any.downcast_mut::<IsolatedPython>())
        else {
            return Err(next);
        };
        let same_worker = Arc::ptr_eq(&self.config, &other.config) && self.limits == other.limits;
        if !same_worker || self.live.is_some() || other.live.is_some() {
            return Err(next);
        }
        other.members[0].id = next_id.to_string();
        self.members.append(&mut other.members);
        Ok(())
    }

    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}

impl std::fmt::Debug for IsolatedPython {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let members: Vec<(&str, &PythonEntry)> = self
            .members
            .iter()
            .map(|m| (m.id.as_str(), &m.spec.entry))
            .collect();
        f.debug_struct("IsolatedPython")
            .field("members", &members)
            .field("limits", &self.limits)
            .finish()
    }
}
