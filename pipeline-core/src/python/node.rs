//! [`PythonNode`]: a node whose behaviour is Python source code, run in the sandboxed interpreter.

use super::batch_call::{self, BatchResult};
use super::convert::{from_py, to_py};
use super::errors::{self, Source};
use super::interpreter::Runtime;
use super::log::NODE_GLOBAL;
use super::thread_bound::ThreadBound;
use crate::error::{Error, ErrorKind, Result};
use crate::node::{Emitter, ManifestNode, Node, NodeContext};
use crate::value::Value;
use rustpython_vm::builtins::PyGenerator;
use rustpython_vm::compiler::Mode;
use rustpython_vm::function::{FuncArgs, KwArgs};
use rustpython_vm::protocol::{PyIter, PyIterReturn};
use rustpython_vm::{PyObjectRef, PyResult, VirtualMachine};
use std::rc::Rc;
use std::sync::Arc;

/// A node written in Python: a class with `process(self, item)`, or a plain function
/// `process(item)`.
///
/// What `process` returns is emitted; `None` emits nothing; a generator emits every value it
/// yields (a yielded `None` is emitted as [`Value::Null`]). A class may also define
/// `initialize(self)` (once, before the first item), `finish(self)` (at the end of each stream; it
/// may return or yield trailing items) and `cleanup(self)` (once, when the pipeline is torn down).
/// A class may define `process_batch(self, items)` instead of (or besides) `process`: dynamic
/// stages and isolated workers then call it once per batch with a list, and it returns a list or
/// tuple of outputs, `None`, or a generator (see the README's *Batches*).
/// The class is instantiated with the keyword arguments given by [`with_args`](Self::with_args).
///
/// Items cross as [`Value`]s, converted natively (see [`python`](crate::python)). For typed
/// `pipeline!` graphs use [`Python`](super::Python).
///
/// The interpreter is started in [`initialize`](Node::initialize), on the thread that runs the
/// node's stage, and shared with the other Python nodes of that stage (see
/// [`python`](crate::python) for the threading model). Used outside a pipeline, the node
/// initialises itself on the first item.
///
/// ```
/// use pipeline_core::prelude::*;
/// use pipeline_core::python::PythonNode;
///
/// let source = r#"
/// class Scale:
///     def __init__(self, factor):
///         self.factor = factor
///     def process(self, item):
///         if item >= 0:
///             return item * self.factor
/// "#;
/// let mut scale = PythonNode::class(source, "Scale").with_args(Value::map([("factor", Value::Int(3))]));
/// let mut out = Vec::new();
/// scale.process(Value::Int(2), &mut out)?;
/// scale.process(Value::Int(-1), &mut out)?; // returns None: nothing emitted
/// assert_eq!(out, vec![Value::Int(6)]);
/// # Ok::<(), pipeline_core::Error>(())
/// ```
pub struct PythonNode {
    spec: Arc<Spec>,
    id: Arc<str>,
    live: Option<ThreadBound<Live>>,
}

/// What the node is made of; shared by clones.
#[derive(Debug, Clone)]
struct Spec {
    source: String,
    filename: Option<String>,
    entry: Entry,
    args: Value,
}

#[derive(Debug, Clone)]
enum Entry {
    Class(String),
    Function(String),
}

impl Entry {
    fn name(&self) -> &str {
        match self {
            Entry::Class(name) | Entry::Function(name) => name,
        }
    }
}

/// The running node: its interpreter and the Python objects it calls.
struct Live {
    rt: Rc<Runtime>,
    filename: String,
    objects: Option<Objects>,
    /// What a dynamic stage's call left for [`resume`](crate::dynamic::DynNode::resume).
    stream: Stream,
}

/// Work a batch call left pending to keep its output bounded: a generator with more to yield, and
/// the batch's items not yet processed (`queue[next..]`).
#[derive(Default)]
struct Stream {
    generator: Option<(PyObjectRef, Call)>,
    queue: Vec<Value>,
    next: usize,
    /// The input origin of each of `queue`'s items, when the stage traces them (else empty).
    origins: Vec<u64>,
    /// The origin of the item being worked on (whose generator is pending): what its outputs,
    /// or its failure, are attributed to.
    current: u64,
}

impl Stream {
    fn is_pending(&self) -> bool {
        self.generator.is_some() || self.next < self.queue.len()
    }

    /// Forgets what is pending (a failed call, or a stream its stage abandoned).
    fn clear(&mut self) -> Option<PyObjectRef> {
        self.queue.clear();
        self.origins.clear();
        self.next = 0;
        self.generator.take().map(|(generator, _)| generator)
    }
}

/// Where a streaming call's outputs go, as they are made.
pub(crate) trait ItemSink {
    /// One output of the current item.
    fn output(&mut self, value: Value) -> Result<()>;
    /// The current item is done (all its outputs were handed over); an error stops the batch.
    fn item_done(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A closure takes every output and ignores item ends.
impl<F: FnMut(Value) -> Result<()>> ItemSink for F {
    fn output(&mut self, value: Value) -> Result<()> {
        self(value)
    }
}

/// Outputs a batch call hands over before it returns with the rest pending: a generator's values
/// leave in pieces of this size, so an endless generator streams in bounded memory.
pub(crate) const OUTPUTS_PER_CALL: usize = 1024;

/// A node's callables. A class has `process`, `process_batch` or both (then `process_batch` is
/// used); a function is its `process`.
struct Objects {
    process: Option<PyObjectRef>,
    process_batch: Option<PyObjectRef>,
    finish: Option<PyObjectRef>,
    cleanup: Option<PyObjectRef>,
}

impl Drop for Live {
    fn drop(&mut self) {
        // Release the Python objects inside the interpreter, so finalizers can run.
        let objects = self.objects.take();
        let generator = self.stream.clear();
        if objects.is_some() || generator.is_some() {
            let _ = self.rt.enter(move |_| drop((objects, generator)));
        }
    }
}

/// Which Python method a call is for, to name it in errors.
#[derive(Clone, Copy)]
enum Call {
    Process,
    ProcessBatch,
    Finish,
}

impl Call {
    fn name(self) -> &'static str {
        match self {
            Call::Process => "process",
            Call::ProcessBatch => "process_batch",
            Call::Finish => "finish",
        }
    }
}

impl PythonNode {
    /// A node made of class `class` defined in `source`; one instance per node.
    pub fn class(source: impl Into<String>, class: impl Into<String>) -> Self {
        Self::from_spec(source.into(), Entry::Class(class.into()))
    }

    /// A node made of function `function(item)` defined in `source`.
    ///
    /// ```
    /// use pipeline_core::prelude::*;
    /// use pipeline_core::python::PythonNode;
    ///
    /// let mut words = PythonNode::function("def words(line):\n    yield from line.split()\n", "words");
    /// let mut out = Vec::new();
    /// words.process(Value::from("a b"), &mut out)?;
    /// assert_eq!(out, vec![Value::from("a"), Value::from("b")]);
    /// # Ok::<(), pipeline_core::Error>(())
    /// ```
    pub fn function(source: impl Into<String>, function: impl Into<String>) -> Self {
        Self::from_spec(source.into(), Entry::Function(function.into()))
    }

    fn from_spec(source: String, entry: Entry) -> Self {
        let id = Arc::from(entry.name());
        PythonNode {
            spec: Arc::new(Spec {
                source,
                filename: None,
                entry,
                args: Value::Null,
            }),
            id,
            live: None,
        }
    }

    /// Keyword arguments for the class constructor: a [`Value::Map`] (or `Null` for none).
    pub fn with_args(mut self, args: Value) -> Self {
        self.spec_mut().args = args;
        self
    }

    /// The file name shown in tracebacks (e.g. the path the source was read from); by default
    /// `<node id>`.
    pub fn with_filename(mut self, filename: impl Into<String>) -> Self {
        self.spec_mut().filename = Some(filename.into());
        self
    }

    fn spec_mut(&mut self) -> &mut Spec {
        self.live = None;
        Arc::make_mut(&mut self.spec)
    }

    /// The node's id (the class or function name until initialised with a graph id).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Starts the node on this thread: compile, run the module, instantiate, call `initialize`.
    fn start(&mut self) -> Result<()> {
        self.live = None;
        let rt = Runtime::shared()?;
        let spec = &*self.spec;
        let id = &*self.id;
        let filename = spec.filename.clone().unwrap_or_else(|| format!("<{id}>"));
        let source = Source {
            filename: &filename,
            text: &spec.source,
        };
        let objects = rt
            .enter(|vm| load(vm, spec, id, &filename).map_err(|e| e.into_error(vm, source)))?
            .map_err(|e| e.in_node(id))?;
        self.live = Some(ThreadBound::new(Live {
            rt,
            filename,
            objects: Some(objects),
            stream: Stream::default(),
        }));
        Ok(())
    }

    /// The running node on this thread, started on first use.
    fn live(&mut self) -> Result<&mut Live> {
        if self.live.is_none() {
            self.start()?;
        }
        let id = &self.id;
        self.live
            .as_mut()
            .and_then(ThreadBound::get_mut)
            .ok_or_else(|| {
                errors::broken(format_args!(
                    "Python node `{id}` was initialised on another thread; a Python node runs only on the thread of its stage"
                ))
                .in_node(id)
            })
    }

    /// Calls `process(item)` for each of `items`, or `finish()` once, in one interpreter entry
    /// (entering costs a stack switch and a catch-unwind frame, so a batch pays it once), and hands
    /// what each call returns or yields to `sink` as it is made.
    fn call(
        &mut self,
        call: Call,
        items: &mut dyn Iterator<Item = Value>,
        sink: &mut dyn ItemSink,
    ) -> Result<()> {
        let spec = Arc::clone(&self.spec);
        let id = Arc::clone(&self.id);
        let live = self.live()?;
        let Some(objects) = &live.objects else {
            return Err(errors::broken("Python node was cleaned up").in_node(&id));
        };
        let source = Source {
            filename: &live.filename,
            text: &spec.source,
        };
        live.rt
            .enter(
                |vm| match (call, &objects.process_batch, &objects.process) {
                    (Call::Finish, ..) => match &objects.finish {
                        Some(finish) => emit_result(vm, finish.call((), vm), call, sink, source),
                        None => Ok(()),
                    },
                    (_, Some(process_batch), _) => {
                        emit_batch_result(vm, process_batch, items, sink, source)
                    }
                    (_, None, Some(process)) => {
                        for item in items {
                            let result = process.vectorcall(vec![to_py(&item, vm)?], 1, None, vm);
                            emit_result(vm, result, call, sink, source)?;
                            sink.item_done()?;
                        }
                        Ok(())
                    }
                    (_, None, None) => Err(errors::broken("Python node has no process method")),
                },
            )
            .and_then(|r| r)
            .map_err(|e| e.in_node(&id))
    }

    /// Calls `cleanup()` if defined and releases the interpreter.
    fn stop(&mut self) -> Result<()> {
        let Some(mut bound) = self.live.take() else {
            return Ok(());
        };
        let spec = Arc::clone(&self.spec);
        let Some(live) = bound.get_mut() else {
            return Ok(()); // another thread's interpreter: leaked, nothing we may touch here
        };
        let Some(cleanup) = live.objects.as_ref().and_then(|o| o.cleanup.clone()) else {
            return Ok(());
        };
        let source = Source {
            filename: &live.filename,
            text: &spec.source,
        };
        let outcome = live.rt.enter(|vm| {
            let result = cleanup.call((), vm).map(drop);
            drop(cleanup);
            result.map_err(|exc| errors::exception(vm, &exc, source))
        });
        outcome.and_then(|r| r).map_err(|e| e.in_node(&self.id))
    }
}

/// A Python-side failure while loading, before it is turned into an [`Error`].
enum LoadError {
    Python(rustpython_vm::builtins::PyBaseExceptionRef),
    Setup(String),
}

impl LoadError {
    fn into_error(self, vm: &VirtualMachine, source: Source<'_>) -> Error {
        match self {
            LoadError::Python(exc) => errors::exception(vm, &exc, source),
            LoadError::Setup(message) => Error::new(ErrorKind::Initialize, message),
        }
    }
}

impl From<rustpython_vm::builtins::PyBaseExceptionRef> for LoadError {
    fn from(exc: rustpython_vm::builtins::PyBaseExceptionRef) -> Self {
        LoadError::Python(exc)
    }
}

/// Runs the module source in a fresh namespace and finds the node's callables.
fn load(vm: &VirtualMachine, spec: &Spec, id: &str, filename: &str) -> Result<Objects, LoadError> {
    let code = vm
        .compile(&spec.source, Mode::Exec, filename.to_owned())
        .map_err(|err| LoadError::Python(vm.new_syntax_error(&err, Some(&spec.source))))?;
    let scope = super::sandbox::node_scope(vm)?;
    scope
        .globals
        .set_item("__name__", vm.ctx.new_str(id).into(), vm)?;
    scope
        .globals
        .set_item(NODE_GLOBAL, vm.ctx.new_str(id).into(), vm)?;
    vm.run_code_obj(code, scope.clone())?;
    let name = spec.entry.name();
    let entry = scope.globals.get_item_opt(name, vm)?.ok_or_else(|| {
        LoadError::Setup(format!(
            "the Python source defines no {} named `{name}`",
            match spec.entry {
                Entry::Class(_) => "class",
                Entry::Function(_) => "function",
            }
        ))
    })?;
    match &spec.entry {
        Entry::Function(_) => {
            if !entry.is_callable() {
                return Err(LoadError::Setup(format!("`{name}` is not a function")));
            }
            Ok(Objects {
                process: Some(entry),
                process_batch: None,
                finish: None,
                cleanup: None,
            })
        }
        Entry::Class(_) => {
            let kwargs = match &spec.args {
                Value::Null => KwArgs::default(),
                Value::Map(map) => map
                    .iter()
                    .map(|(k, v)| {
                        to_py(v, vm).map(|v| (k.to_string(), v)).map_err(|e| {
                            LoadError::Setup(format!(
                                "constructor args of `{name}`: {}",
                                e.message()
                            ))
                        })
                    })
                    .collect::<Result<_, LoadError>>()?,
                other => {
                    return Err(LoadError::Setup(format!(
                        "constructor args of `{name}` must be a map of keyword arguments, got {}",
                        other.type_name()
                    )))
                }
            };
            let instance = entry.call(FuncArgs::from(kwargs), vm)?;
            let method = |m: &'static str| -> Result<Option<PyObjectRef>, LoadError> {
                Ok(vm.get_attribute_opt(instance.clone(), m)?)
            };
            let process = method("process")?;
            let process_batch = method("process_batch")?;
            if process.is_none() && process_batch.is_none() {
                return Err(LoadError::Setup(format!(
                    "class `{name}` has no `process(self, item)` or `process_batch(self, items)` method"
                )));
            }
            if let Some(init) = method("initialize")? {
                init.call((), vm)?;
            }
            Ok(Objects {
                process,
                process_batch,
                finish: method("finish")?,
                cleanup: method("cleanup")?,
            })
        }
    }
}

/// Takes a batch call's result: nothing for `None`, a generator becomes the stream's pending one
/// (its values are pulled by [`PythonNode::drive`]), else the value itself is pushed.
fn start_result(
    vm: &VirtualMachine,
    result: PyResult,
    call: Call,
    stream: &mut Stream,
    out: &mut Vec<Value>,
    source: Source<'_>,
) -> Result<()> {
    let obj = result.map_err(|exc| errors::exception(vm, &exc, source))?;
    if vm.is_none(&obj) {
        return Ok(());
    }
    if obj.downcast_ref::<PyGenerator>().is_some() {
        stream.generator = Some((obj, call));
        return Ok(());
    }
    out.push(converted(vm, &obj, call.name(), false)?);
    Ok(())
}

/// Emits a call's result: nothing for `None`, each item of a generator, else the value itself.
fn emit_result(
    vm: &VirtualMachine,
    result: PyResult,
    call: Call,
    sink: &mut dyn ItemSink,
    source: Source<'_>,
) -> Result<()> {
    let obj = result.map_err(|exc| errors::exception(vm, &exc, source))?;
    if vm.is_none(&obj) {
        return Ok(());
    }
    let what = call.name();
    if obj.downcast_ref::<PyGenerator>().is_some() {
        let iter = obj
            .get_iter(vm)
            .map_err(|exc| errors::exception(vm, &exc, source))?;
        loop {
            match iter
                .next(vm)
                .map_err(|exc| errors::exception(vm, &exc, source))?
            {
                PyIterReturn::Return(item) => sink.output(converted(vm, &item, what, true)?)?,
                PyIterReturn::StopIteration(_) => return Ok(()),
            }
        }
    }
    sink.output(converted(vm, &obj, what, false)?)
}

/// Calls `process_batch` once over `items` and emits its outputs, marking item ends as
/// [`batch_call`] attributes them: after each output when there is one per item, else all at the
/// end.
fn emit_batch_result(
    vm: &VirtualMachine,
    process_batch: &PyObjectRef,
    items: &mut dyn Iterator<Item = Value>,
    sink: &mut dyn ItemSink,
    source: Source<'_>,
) -> Result<()> {
    let items: Vec<Value> = items.collect();
    let count = items.len();
    if count == 0 {
        return Ok(());
    }
    let result = batch_call::call(vm, process_batch, items.into_iter())?
        .map_err(|exc| errors::exception(vm, &exc, source))?;
    let mut ended = 0;
    match batch_call::classify(vm, result, count)? {
        BatchResult::Nothing => {}
        BatchResult::Outputs { values, per_item } => {
            for value in &values {
                sink.output(converted(vm, value, Call::ProcessBatch.name(), false)?)?;
                if per_item {
                    sink.item_done()?;
                    ended += 1;
                }
            }
        }
        BatchResult::Generator(generator) => {
            emit_result(vm, Ok(generator), Call::ProcessBatch, sink, source)?
        }
    }
    (ended..count).try_for_each(|_| sink.item_done())
}

fn converted(vm: &VirtualMachine, obj: &PyObjectRef, what: &str, yielded: bool) -> Result<Value> {
    from_py(obj, vm).map_err(|e| {
        let how = if yielded { "yielded" } else { "returned" };
        Error::new(
            ErrorKind::Conversion,
            format_args!("{what}() {how}: {}", e.message()),
        )
    })
}

impl Clone for PythonNode {
    /// A node of the same definition, not yet started (it gets its own instance).
    fn clone(&self) -> Self {
        PythonNode {
            spec: Arc::clone(&self.spec),
            id: Arc::clone(&self.id),
            live: None,
        }
    }
}

impl std::fmt::Debug for PythonNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PythonNode")
            .field("id", &self.id)
            .field("entry", &self.spec.entry)
            .field("started", &self.live.is_some())
            .finish()
    }
}

impl Node for PythonNode {
    type Input = Value;
    type Output = Value;

    fn initialize(&mut self, ctx: &NodeContext<'_>) -> Result<()> {
        self.id = Arc::from(ctx.id());
        self.start()
    }

    fn process<E: Emitter<Value> + ?Sized>(&mut self, item: Value, out: &mut E) -> Result<()> {
        self.call(Call::Process, &mut std::iter::once(item), &mut |v| {
            out.emit(v)
        })
    }

    fn finish<E: Emitter<Value> + ?Sized>(&mut self, out: &mut E) -> Result<()> {
        self.call(Call::Finish, &mut std::iter::empty(), &mut |v| out.emit(v))
    }

    fn cleanup(&mut self) -> Result<()> {
        self.stop()
    }

    /// A `python` manifest node with the source inline as `code`, the entry point, the
    /// constructor `args` and the traceback `filename`, when set: the loader rebuilds this node
    /// from it.
    fn manifest_node(&self) -> Option<ManifestNode> {
        Some(self.manifest_entry())
    }
}

impl PythonNode {
    /// Checks the source as the manifest loader does before any interpreter starts: it parses
    /// (a syntax error shows the line and a caret) and binds the class or function at its top
    /// level. The error names the param (`code`, `class` or `function`).
    ///
    /// ```
    /// use pipeline_core::python::PythonNode;
    /// let node = PythonNode::class("class Scale:\n    pass\n", "Scal").with_filename("scale.py");
    /// assert_eq!(
    ///     node.check_source().unwrap_err().to_string(),
    ///     "param `class`: the source (scale.py) defines no class `Scal` at its top level (it defines: Scale)"
    /// );
    /// ```
    #[cfg(feature = "manifest")]
    pub fn check_source(&self) -> Result<(), crate::manifest::ParamError> {
        let spec = &*self.spec;
        let filename = spec.filename.as_deref().unwrap_or("<code>");
        let param = match spec.entry {
            Entry::Class(_) => "class",
            Entry::Function(_) => "function",
        };
        super::source_check::check(&spec.source, filename, param, spec.entry.name())
    }

    /// The node as a `python` manifest entry; see [`Node::manifest_node`].
    ///
    /// ```
    /// use pipeline_core::prelude::*;
    /// use pipeline_core::python::PythonNode;
    ///
    /// let node = PythonNode::function("def f(x):\n    return x\n", "f").with_filename("f.py");
    /// let entry = node.manifest_node().unwrap();
    /// assert_eq!(entry.node_type, "python");
    /// assert_eq!(entry.params.get("function"), Some(&Value::from("f")));
    /// assert_eq!(entry.params.get("code"), Some(&Value::from("def f(x):\n    return x\n")));
    /// assert_eq!(entry.params.get("filename"), Some(&Value::from("f.py")));
    /// ```
    pub(crate) fn manifest_entry(&self) -> ManifestNode {
        let spec = &*self.spec;
        let entry = match &spec.entry {
            Entry::Class(name) => ("class", Value::from(name.as_str())),
            Entry::Function(name) => ("function", Value::from(name.as_str())),
        };
        let mut params = vec![("code", Value::from(spec.source.as_str())), entry];
        if !matches!(spec.args, Value::Null) {
            params.push(("args", spec.args.clone()));
        }
        if let Some(filename) = &spec.filename {
            params.push(("filename", Value::from(filename.as_str())));
        }
        ManifestNode::new("python", params)
    }
}

impl PythonNode {
    /// Whether the started node defines `finish` (a node not started yet is started first; one
    /// that cannot start has none).
    pub(crate) fn has_finish(&mut self) -> bool {
        self.live()
            .is_ok_and(|live| live.objects.as_ref().is_some_and(|o| o.finish.is_some()))
    }

    /// `process` with any emitter of converted items: the typed wrapper's entry point.
    pub(crate) fn process_dyn(
        &mut self,
        item: Value,
        mut emit: &mut dyn FnMut(Value) -> Result<()>,
    ) -> Result<()> {
        self.call(Call::Process, &mut std::iter::once(item), &mut emit)
    }

    /// `process` over each of `items` in one interpreter entry, every output handed to `sink` as
    /// it is made and [`ItemSink::item_done`] called after each item: what an isolated worker
    /// runs, streaming a whole batch without re-entering the interpreter per item.
    pub(crate) fn process_each(
        &mut self,
        items: Vec<Value>,
        sink: &mut dyn ItemSink,
    ) -> Result<()> {
        self.call(Call::Process, &mut items.into_iter(), sink)
    }

    /// `finish` (if the node has one), its outputs handed to `sink` as they are made: what an
    /// isolated worker runs.
    pub(crate) fn finish_each(&mut self, sink: &mut dyn ItemSink) -> Result<()> {
        self.call(Call::Finish, &mut std::iter::empty(), sink)
    }

    /// `process` over a whole batch (leaving `items` empty) in one interpreter entry: what dynamic
    /// stages call, so the cost of entering the interpreter is paid once per batch, not per item.
    ///
    /// Hands over at most [`OUTPUTS_PER_CALL`] outputs: whatever is left (the rest of a generator,
    /// the batch's later items) stays pending for [`resume_batch`](Self::resume_batch). Returns
    /// whether something is pending.
    pub(crate) fn process_batch(
        &mut self,
        items: &mut Vec<Value>,
        out: &mut Vec<Value>,
    ) -> Result<bool> {
        self.process_batch_traced(items, &[], out, None)
    }

    /// [`process_batch`](Self::process_batch) that says where each output came from: the origin
    /// (`item_origins`, one per item) of the item whose call made it is pushed onto `origins`,
    /// and a failure names the failing item's origin. What the failing item made in this call
    /// is not handed on.
    pub(crate) fn process_batch_traced(
        &mut self,
        items: &mut Vec<Value>,
        item_origins: &[u64],
        out: &mut Vec<Value>,
        origins: Option<&mut Vec<u64>>,
    ) -> Result<bool> {
        let live = self.live()?;
        let abandoned = live.stream.clear();
        // The batch's buffer changes hands: the stage gets the node's empty one back.
        std::mem::swap(items, &mut live.stream.queue);
        live.stream.origins.extend_from_slice(item_origins);
        self.drive(out, abandoned, None, origins)
    }

    /// `finish` for a dynamic stage: like [`process_batch`](Self::process_batch), a generator
    /// `finish` returns is handed over in pieces, its outputs attributed to `end`.
    pub(crate) fn finish_batch(
        &mut self,
        out: &mut Vec<Value>,
        origins: Option<&mut Vec<u64>>,
        end: u64,
    ) -> Result<bool> {
        let live = self.live()?;
        let abandoned = live.stream.clear();
        live.stream.current = end;
        self.drive(out, abandoned, Some(Call::Finish), origins)
    }

    /// Drops what a batch call left pending (the stage stopped resuming it after a later node
    /// failed), releasing a pending generator inside the interpreter.
    pub(crate) fn abandon_pending(&mut self) {
        if let Some(live) = self.live.as_mut().and_then(ThreadBound::get_mut) {
            if let Some(generator) = live.stream.clear() {
                let _ = live.rt.enter(move |_| drop(generator));
            }
        }
    }

    /// Whether a batch call left work pending (for [`resume_batch`](Self::resume_batch)).
    pub(crate) fn has_pending(&mut self) -> bool {
        self.live
            .as_mut()
            .and_then(ThreadBound::get_mut)
            .is_some_and(|live| live.stream.is_pending())
    }

    /// Continues what a batch call left pending; returns whether more is still pending.
    pub(crate) fn resume_batch(
        &mut self,
        out: &mut Vec<Value>,
        origins: Option<&mut Vec<u64>>,
    ) -> Result<bool> {
        match self.live.as_mut().and_then(ThreadBound::get_mut) {
            Some(live) if live.stream.is_pending() => self.drive(out, None, None, origins),
            _ => Ok(false),
        }
    }

    /// Runs the pending stream (after calling `start`, if given) until it is done or has pushed
    /// [`OUTPUTS_PER_CALL`] outputs. `abandoned` is a stale generator to release inside the
    /// interpreter. On error nothing stays pending. With `traced`, each output's origin is
    /// pushed there, and an error names the origin of the item it came from.
    fn drive(
        &mut self,
        out: &mut Vec<Value>,
        abandoned: Option<PyObjectRef>,
        start: Option<Call>,
        mut traced: Option<&mut Vec<u64>>,
    ) -> Result<bool> {
        let spec = Arc::clone(&self.spec);
        let id = Arc::clone(&self.id);
        let live = self.live()?;
        let rt = Rc::clone(&live.rt);
        let Some(objects) = &live.objects else {
            live.stream.clear();
            return Err(errors::broken("Python node was cleaned up").in_node(&id));
        };
        let source = Source {
            filename: &live.filename,
            text: &spec.source,
        };
        let stream = &mut live.stream;
        // Outputs before `attributed` have their origins pushed; the current item's outputs of
        // this call start at `item_start`.
        let (mut attributed, mut item_start) = (out.len(), out.len());
        let outcome = rt.enter(|vm| {
            drop(abandoned);
            let limit = out.len() + OUTPUTS_PER_CALL;
            let mut attribute = |out: &Vec<Value>, current: u64| {
                if let Some(origins) = traced.as_deref_mut() {
                    origins.extend(std::iter::repeat_n(current, out.len() - attributed));
                }
                attributed = out.len();
            };
            let outcome = (|| {
                if let Some(Call::Finish) = start {
                    if let Some(finish) = &objects.finish {
                        let result = finish.call((), vm);
                        start_result(vm, result, Call::Finish, stream, out, source)?;
                    }
                }
                loop {
                    if let Some((generator, call)) = &stream.generator {
                        while out.len() < limit {
                            match PyIter::new(&**generator)
                                .next(vm)
                                .map_err(|exc| errors::exception(vm, &exc, source))?
                            {
                                PyIterReturn::Return(item) => {
                                    out.push(converted(vm, &item, call.name(), true)?)
                                }
                                PyIterReturn::StopIteration(_) => break,
                            }
                        }
                        if out.len() >= limit {
                            return Ok(true);
                        }
                        stream.generator = None;
                    }
                    if out.len() >= limit {
                        return Ok(stream.is_pending());
                    }
                    if stream.next >= stream.queue.len() {
                        stream.queue.clear();
                        stream.next = 0;
                        return Ok(false);
                    }
                    if let Some(process_batch) = &objects.process_batch {
                        attribute(out, stream.current);
                        item_start = out.len();
                        let first = stream.next;
                        let batch_origins = stream.origins.get(first..).unwrap_or_default();
                        if let Some(&origin) = batch_origins.first() {
                            stream.current = origin;
                        }
                        let count = stream.queue.len() - first;
                        stream.next = stream.queue.len();
                        let items = stream.queue.drain(first..);
                        let result = batch_call::call(vm, process_batch, items)?
                            .map_err(|exc| errors::exception(vm, &exc, source))?;
                        match batch_call::classify(vm, result, count)? {
                            BatchResult::Nothing => {}
                            BatchResult::Outputs { values, per_item } => {
                                for (k, value) in values.iter().enumerate() {
                                    let what = Call::ProcessBatch.name();
                                    out.push(converted(vm, value, what, false)?);
                                    if let (true, Some(&origin)) = (per_item, batch_origins.get(k))
                                    {
                                        attribute(out, origin);
                                    }
                                }
                            }
                            BatchResult::Generator(generator) => {
                                stream.generator = Some((generator, Call::ProcessBatch));
                            }
                        }
                        continue;
                    }
                    let Some(process) = &objects.process else {
                        return Err(errors::broken("Python node has no process method"));
                    };
                    let item = &mut stream.queue[stream.next];
                    let item = std::mem::replace(item, Value::Null);
                    attribute(out, stream.current);
                    item_start = out.len();
                    if let Some(&origin) = stream.origins.get(stream.next) {
                        stream.current = origin;
                    }
                    stream.next += 1;
                    let result = process.vectorcall(vec![to_py(&item, vm)?], 1, None, vm);
                    start_result(vm, result, Call::Process, stream, out, source)?;
                }
            })();
            match outcome {
                Ok(_) => attribute(out, stream.current),
                Err(_) => {
                    out.truncate(item_start);
                    drop(stream.clear());
                }
            }
            outcome
        });
        let traced_failure = traced.is_some().then_some(stream.current);
        outcome.and_then(|r| r).map_err(|e| {
            let e = e.in_node(&id);
            match traced_failure {
                Some(origin) => e.with_failed_item(origin),
                None => e,
            }
        })
    }

    /// `finish` with any emitter: the typed wrapper's entry point.
    pub(crate) fn finish_dyn(
        &mut self,
        mut emit: &mut dyn FnMut(Value) -> Result<()>,
    ) -> Result<()> {
        self.call(Call::Finish, &mut std::iter::empty(), &mut emit)
    }
}
