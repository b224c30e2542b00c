//! [`IsolatedPython`]: a Python node whose code runs in a worker process of its stage.

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
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::Instant;

thread_local! {
    /// This thread's workers, one per set of process limits, shared by the nodes started here.
    static WORKERS: RefCell<Vec<Weak<RefCell<Worker>>>> = const { RefCell::new(Vec::new()) };
}

/// The worker of this thread for `limits`, started if no live node holds one.
fn shared_worker(config: &IsolationConfig, limits: Limits) -> Result<Rc<RefCell<Worker>>> {
    let found = WORKERS.with(|workers| {
        let mut workers = workers.borrow_mut();
        workers.retain(|w| w.strong_count() > 0);
        workers.iter().filter_map(Weak::upgrade).find(|w| {
            let w = w.borrow();
            w.dead().is_none() && w.limits().process() == limits.process()
        })
    });
    if let Some(worker) = found {
        return Ok(worker);
    }
    let worker = Rc::new(RefCell::new(Worker::spawn(config, limits, &[])?));
    WORKERS.with(|w| w.borrow_mut().push(Rc::downgrade(&worker)));
    Ok(worker)
}

/// A Python node run in an isolated worker process: the CLI's default for manifests and scripts.
///
/// Every Python node started on a stage thread with the same memory and CPU limits shares one
/// worker (as in-process nodes share one interpreter), addressed by an index. Items go over in
/// batches and outputs come back in chunks as they are produced, so a generator streams through
/// the boundary ([`DynNode::resume`]). A crash, a limit or a timeout of the worker is an error
/// naming the node and the limit; outputs the worker sent before it are kept.
///
/// Built by the manifest loader when [`install`](super::install) was called; see
/// [`isolate`](super) for the limits and the confinement.
pub struct IsolatedPython {
    spec: Arc<PythonSpec>,
    limits: Limits,
    config: Arc<IsolationConfig>,
    id: String,
    live: Option<ThreadBound<Live>>,
}

/// The node once started on its stage thread.
struct Live {
    worker: Rc<RefCell<Worker>>,
    index: u64,
    /// A call whose replies are not all read yet.
    replying: bool,
    /// The failure that ended the call, reported after the outputs that preceded it.
    deferred: Option<Error>,
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
            spec: Arc::new(spec),
            limits,
            config,
            id,
            live: None,
        }
    }

    /// The limits the node runs under (see [`new`](Self::new)).
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn start(&mut self) -> Result<()> {
        self.live = None;
        let worker = shared_worker(&self.config, self.limits)?;
        let index = worker.borrow_mut().next_index();
        let spec = &*self.spec;
        let (kind, name) = match &spec.entry {
            PythonEntry::Class(name) => (0, name),
            PythonEntry::Function(name) => (1, name),
        };
        let args = spec.args.as_ref().map_or(Value::Null, |args| {
            Value::from(&serde_json::Value::Object(args.clone()))
        });
        let frame = Frame::new(START)
            .uint(index)
            .str(&self.id)
            .str(&spec.code)
            .str(spec.filename.as_deref().unwrap_or(""))
            .uint(kind)
            .str(name)
            .value(&args)
            .uint(self.limits.heartbeat().as_millis() as u64)
            .finish();
        self.live = Some(ThreadBound::new(Live {
            worker,
            index,
            replying: false,
            deferred: None,
        }));
        let mut out = Vec::new();
        self.call(&frame, &mut out)?;
        while self.pump(&mut out)? {}
        Ok(())
    }

    /// The node on this thread, started on first use.
    fn live(&mut self) -> Result<&mut Live> {
        if self.live.is_none() {
            self.start()?;
        }
        let id = &self.id;
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
        let timeout_ms = self.limits.item_timeout_ms;
        let id = self.id.clone();
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
        self.pump(out)
    }

    /// Reads replies until one carries outputs or ends the call; returns whether more are pending.
    fn pump(&mut self, out: &mut Vec<Value>) -> Result<bool> {
        let limits = self.limits;
        let id = self.id.clone();
        let live = self.live()?;
        if let Some(err) = live.deferred.take() {
            return Err(err);
        }
        if !live.replying {
            return Ok(false);
        }
        let mut worker = live.worker.borrow_mut();
        loop {
            // Each reply (a heartbeat included) is progress: the deadline starts again.
            let deadline = limits
                .item_timeout()
                .map(|t| Instant::now() + t + limits.heartbeat());
            let reply = worker.receive(deadline);
            match reply {
                Ok(Reply::Outputs(values)) if values.is_empty() => continue,
                Ok(Reply::Outputs(mut values)) => {
                    out.append(&mut values);
                    return Ok(true);
                }
                Ok(Reply::Done(mut values)) => {
                    live.replying = false;
                    out.append(&mut values);
                    return Ok(false);
                }
                Ok(Reply::Failed(err)) => {
                    live.replying = false;
                    return Err(err.in_node(&id));
                }
                Ok(Reply::Text(_)) => {
                    live.replying = false;
                    let stop = Stop::Invalid("text where outputs were expected".into());
                    return Err(worker.fail(stop, limits.item_timeout_ms).in_node(&id));
                }
                Err(stop) => {
                    live.replying = false;
                    let err = worker.fail(stop, limits.item_timeout_ms).in_node(&id);
                    let mut salvaged = worker.take_salvaged();
                    if salvaged.is_empty() {
                        return Err(err);
                    }
                    out.append(&mut salvaged);
                    live.deferred = Some(err);
                    return Ok(true);
                }
            }
        }
    }

    fn index(&mut self) -> Result<u64> {
        Ok(self.live()?.index)
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
        self.id = ctx.id().to_string();
        self.start()
    }

    fn process(&mut self, item: Value, out: &mut Vec<Value>) -> Result<()> {
        self.process_batch(&mut vec![item], out)?;
        while self.resume(out)? {}
        Ok(())
    }

    fn process_batch(&mut self, items: &mut Vec<Value>, out: &mut Vec<Value>) -> Result<()> {
        let index = self.index()?;
        let mut frame = Frame::new(BATCH).uint(index).uint(items.len() as u64);
        for item in items.drain(..) {
            frame = frame.value(&item);
        }
        self.call(&frame.finish(), out).map(drop)
    }

    fn finish(&mut self, out: &mut Vec<Value>) -> Result<()> {
        let index = self.index()?;
        self.call(&Frame::new(FINISH).uint(index).finish(), out)
            .map(drop)
    }

    fn resume(&mut self, out: &mut Vec<Value>) -> Result<bool> {
        if self.live.is_none() {
            return Ok(false);
        }
        self.pump(out)
    }

    fn cleanup(&mut self) -> Result<()> {
        let Some(mut bound) = self.live.take() else {
            return Ok(());
        };
        let Some(live) = bound.get_mut() else {
            return Ok(());
        };
        if live.worker.borrow().dead().is_some() || live.replying {
            return Ok(()); // already reported; nothing left to clean in a dead worker
        }
        let index = live.index;
        self.live = Some(bound);
        let mut out = Vec::new();
        let outcome = self
            .call(&Frame::new(CLEANUP).uint(index).finish(), &mut out)
            .and_then(|mut more| {
                while more {
                    more = self.pump(&mut out)?;
                }
                Ok(())
            });
        self.live = None;
        outcome
    }
}

impl std::fmt::Debug for IsolatedPython {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IsolatedPython")
            .field("id", &self.id)
            .field("entry", &self.spec.entry)
            .field("limits", &self.limits)
            .finish()
    }
}
