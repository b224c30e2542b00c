//! Nodes written in Python, run in an embedded, sandboxed [RustPython] interpreter (feature
//! `python`).
//!
//! - [`PythonNode`]: a class with `process(self, item)` (optional `initialize`, `finish`,
//!   `cleanup`; constructor keyword arguments) or a function `process(item)`, with [`Value`] items.
//! - [`Python<I, O>`](Python): the same with typed items, for `pipeline!` graphs.
//! - [`PythonError`]: a Python exception (type, message, traceback) behind a node [`Error`].
//!
//! ```
//! use pipeline_core::prelude::*;
//! use pipeline_core::python::PythonNode;
//!
//! let mut evens = PythonNode::function("def evens(n):\n    yield from range(0, n, 2)\n", "evens");
//! let mut out = Vec::new();
//! evens.process(Value::Int(5), &mut out)?;
//! assert_eq!(out, [Value::Int(0), Value::Int(2), Value::Int(4)]);
//! # Ok::<(), pipeline_core::Error>(())
//! ```
//!
//! # Values
//!
//! Items cross natively, never through JSON text: `None`/`bool`/`int`/`float`/`str`/`bytes`/
//! `list`/`dict` ↔ `Null`/`Bool`/`Int`/`Float`/`Str`/`Bytes`/`List`/`Map`; `tuple` and `bytearray`
//! are accepted from Python as `List` and `Bytes`. A Python int outside `i64`, a dict with non-`str`
//! keys, or any other type (a `set`, an object) is an error naming the node, never a wrap or a
//! `repr`.
//!
//! # Errors
//!
//! A Python exception becomes an [`Error`] of kind [`ErrorKind::Node`](crate::ErrorKind::Node)
//! naming the node, whose message is `ExceptionType: message` followed by the traceback (file,
//! line, function, and the line of the node's source). A syntax error shows the line and a caret
//! under the column. Panics inside the interpreter are caught and reported as errors.
//!
//! # Threads and interpreter lifecycle
//!
//! RustPython is built without its `threading` feature: its objects are then not `Send`, but a
//! call from Rust into Python costs ~230 ns instead of ~390 ns. Instead:
//!
//! - A Python node is `Send` while it holds only its definition (source, names, arguments), so the
//!   runtime can move it into the thread of a `=>` stage.
//! - [`initialize`](crate::Node::initialize) runs on that thread and starts the node there; from
//!   then on the node's interpreter state is pinned to the thread (a node used from another thread
//!   reports an error, it never touches the state). For that reason a manifest's `"parallelism"`
//!   is refused on a `python` node when the manifest is loaded or compiled.
//! - Each thread has at most one interpreter, shared by all Python nodes started on it and dropped
//!   with the last of them: consecutive Python nodes in one stage share one interpreter (each with
//!   its own module namespace), and the interpreter is started once per pipeline, not per item or
//!   per run.
//!
//! # Sandbox
//!
//! Node code has no host access: no files (`open` raises), no `os`/`posix`, no sockets, no
//! subprocess, no imports from disk, no environment, no threads, no hand-made bytecode. See
//! [`sandbox`] for how, and [`allowed_modules`] for exactly what can be imported (the README lists
//! the same, checked by a test). `print` goes to the pipeline's log (stderr), prefixed with the
//! node id: `[python scale] ...`.
//!
//! Each node has its own `builtins` module (a copy of the interpreter's), so a node that reassigns
//! `builtins.len` changes it for itself only. What the nodes of one stage still share is their
//! interpreter: the library modules they import (`json`, `re`, `sys`, ...) are one object each, so
//! a node that patches a module attribute changes it for the other nodes of its stage.
//!
//! Not available, because they import `os` or need host access: `random` (use `_random.Random`),
//! `statistics`, `dataclasses`, `inspect`, `typing`, `datetime`, `decimal`, `logging`, `io`,
//! `pathlib`, `tempfile`, `socket`, `subprocess`, `threading`. The `python-stdlib` feature adds
//! about a minute of cold (debug) compile time and freezes RustPython's whole pure-Python library
//! into the binary (only the allowed modules are exposed).
//!
//! # Streaming
//!
//! A generator's values leave as they are produced: through the [`Emitter`](crate::Emitter) for
//! typed graphs, and in pieces of at most 1024 per call for dynamic stages, which
//! [`resume`](crate::dynamic::DynNode::resume) the generator (and the rest of the batch) after
//! routing each piece; `finish` may yield the same way.
//!
//! [RustPython]: https://rustpython.github.io
//! [`Value`]: crate::Value
//! [`Error`]: crate::Error

mod batch_call;
mod convert;
mod errors;
mod forging;
mod interpreter;
#[cfg(feature = "manifest")]
pub mod isolate;
mod loader_guard;
mod log;
#[cfg(feature = "manifest")]
mod manifest_type;
mod node;
mod pipeline_module;
pub mod sandbox;
#[cfg(feature = "manifest")]
mod script;
#[cfg(feature = "manifest")]
mod source_check;
mod stack;
mod thread_bound;
mod typed;

pub use errors::PythonError;
#[cfg(feature = "manifest")]
pub use manifest_type::{register_python, PythonDyn, PythonParams, PYTHON_NODE_TYPE};
pub use node::PythonNode;
pub use sandbox::allowed_modules;
#[cfg(feature = "manifest")]
pub use script::{describe_script, ScriptPipeline};
pub use typed::Python;
