//! Python exceptions and syntax errors as pipeline [`Error`]s, with the traceback as text.
//!
//! The traceback is formatted here rather than by RustPython's `write_exception`, because that one
//! reads source lines from the *file system* by the code object's file name — which node code
//! chooses (`compile(src, "/etc/hostname", "exec")`), so it would leak host files into error
//! messages. Source lines are only ever taken from the node's own source text.

use crate::error::{Error, ErrorKind};
use rustpython_vm::builtins::{PyBaseExceptionRef, PyStr};
use rustpython_vm::{AsObject, PyObjectRef, VirtualMachine};
use std::fmt;

/// A Python exception raised by node code, as text.
///
/// The pipeline [`Error`] for it has kind [`ErrorKind::Node`], names the node, and carries this as
/// its [`source_error`](Error::source_error):
///
/// ```
/// use pipeline_core::prelude::*;
/// use pipeline_core::python::{PythonError, PythonNode};
///
/// let mut node = PythonNode::function("def f(x):\n    return 1 // x\n", "f");
/// let err = node.process(Value::Int(0), &mut Vec::new()).unwrap_err();
/// let py = err.source_error().unwrap().downcast_ref::<PythonError>().unwrap();
/// assert_eq!(py.exception_type(), "ZeroDivisionError");
/// assert!(py.traceback().contains("line 2, in f"));
/// assert!(py.traceback().contains("return 1 // x"));
/// ```
#[derive(Debug, Clone)]
pub struct PythonError {
    exception_type: String,
    message: String,
    traceback: String,
}

impl PythonError {
    /// An exception described by its parts (an isolated worker sends them as text).
    pub(crate) fn new(exception_type: &str, message: &str, traceback: &str) -> Self {
        PythonError {
            exception_type: exception_type.to_string(),
            message: message.to_string(),
            traceback: traceback.to_string(),
        }
    }

    /// The exception class name, e.g. `ValueError` or `SyntaxError`.
    pub fn exception_type(&self) -> &str {
        &self.exception_type
    }

    /// `str(exception)`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `Traceback (most recent call last): ...` (file, line, function and, for the node's own
    /// source, the line of code), or for a syntax error the offending line with a caret.
    pub fn traceback(&self) -> &str {
        &self.traceback
    }
}

/// `ValueError: bad item` then the traceback on the following lines.
impl fmt::Display for PythonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            write!(f, "{}", self.exception_type)?;
        } else {
            write!(f, "{}: {}", self.exception_type, self.message)?;
        }
        if !self.traceback.is_empty() {
            write!(f, "\n{}", self.traceback.trim_end())?;
        }
        Ok(())
    }
}

impl std::error::Error for PythonError {}

/// The node's source text and the file name its code objects carry, for quoting source lines.
#[derive(Clone, Copy)]
pub(crate) struct Source<'a> {
    pub(crate) filename: &'a str,
    pub(crate) text: &'a str,
}

impl Source<'_> {
    fn line(&self, filename: &str, lineno: usize) -> Option<&str> {
        if filename != self.filename || lineno == 0 {
            return None;
        }
        self.text.lines().nth(lineno - 1)
    }
}

/// Converts a raised exception into a node error.
pub(crate) fn exception(
    vm: &VirtualMachine,
    exc: &PyBaseExceptionRef,
    source: Source<'_>,
) -> Error {
    let exception_type = exc.class().name().to_string();
    let is_syntax = exc.fast_isinstance(vm.ctx.exceptions.syntax_error);
    let mut traceback = String::new();
    write_chain(vm, exc, source, &mut traceback, 0);
    if is_syntax {
        write_syntax_location(vm, exc, &mut traceback);
    }
    let message = if is_syntax {
        attr_str(vm, exc.as_object(), "msg").unwrap_or_else(|| str_of(vm, exc.as_object()))
    } else {
        str_of(vm, exc.as_object())
    };
    Error::from(PythonError {
        exception_type,
        message,
        traceback,
    })
}

/// Causes and contexts first (as Python prints them), bounded so a cyclic chain terminates.
fn write_chain(
    vm: &VirtualMachine,
    exc: &PyBaseExceptionRef,
    source: Source<'_>,
    out: &mut String,
    depth: usize,
) {
    if depth < 8 {
        let earlier = exc
            .__cause__()
            .map(|c| {
                (
                    c,
                    "The above exception was the direct cause of the following exception:",
                )
            })
            .or_else(|| {
                exc.__context__().map(|c| {
                    (
                        c,
                        "During handling of the above exception, another exception occurred:",
                    )
                })
            });
        if let Some((earlier, joint)) = earlier {
            if !earlier.is(exc) {
                write_chain(vm, &earlier, source, out, depth + 1);
                out.push_str(&format!(
                    "{}: {}\n\n{joint}\n\n",
                    earlier.class().name(),
                    str_of(vm, earlier.as_object())
                ));
            }
        }
    }
    if let Some(tb) = exc.__traceback__() {
        out.push_str("Traceback (most recent call last):\n");
        for entry in tb.iter().take(64) {
            let code = &entry.frame.code;
            let filename = code.source_path().as_str();
            let lineno = entry.lineno.get();
            out.push_str(&format!(
                "  File \"{filename}\", line {lineno}, in {}\n",
                code.obj_name.as_str()
            ));
            if let Some(line) = source.line(filename, lineno) {
                out.push_str(&format!("    {}\n", line.trim()));
            }
        }
    }
}

/// `File "...", line N` / the offending line / a caret under the column, from the SyntaxError's
/// own attributes (RustPython fills `text` from the source it compiled, not from disk).
fn write_syntax_location(vm: &VirtualMachine, exc: &PyBaseExceptionRef, out: &mut String) {
    let obj = exc.as_object();
    let filename = attr_str(vm, obj, "filename").unwrap_or_else(|| "<unknown>".to_owned());
    let lineno = attr_int(vm, obj, "lineno").unwrap_or(0);
    out.push_str(&format!("  File \"{filename}\", line {lineno}\n"));
    if let Some(text) = attr_str(vm, obj, "text") {
        let line = text.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim_start();
        let indent = line.chars().count() - trimmed.chars().count();
        out.push_str(&format!("    {trimmed}\n"));
        if let Some(offset) = attr_int(vm, obj, "offset").filter(|&o| o > 0) {
            let column = (offset as usize - 1).saturating_sub(indent);
            out.push_str(&format!("    {}^\n", " ".repeat(column)));
        }
    }
}

fn str_of(vm: &VirtualMachine, obj: &rustpython_vm::PyObject) -> String {
    obj.str(vm)
        .map(|s| s.to_string())
        .unwrap_or_else(|_| "<exception str() failed>".to_owned())
}

fn attr_str(
    vm: &VirtualMachine,
    obj: &rustpython_vm::PyObject,
    name: &'static str,
) -> Option<String> {
    let value: PyObjectRef = obj.get_attr(name, vm).ok()?;
    value.downcast_ref::<PyStr>().map(|s| s.to_string())
}

fn attr_int(vm: &VirtualMachine, obj: &rustpython_vm::PyObject, name: &'static str) -> Option<i64> {
    obj.get_attr(name, vm).ok()?.try_into_value::<i64>(vm).ok()
}

/// An error for a node whose Python side is unusable (e.g. after a panic inside the interpreter).
pub(crate) fn broken(what: impl fmt::Display) -> Error {
    Error::new(ErrorKind::Node, what)
}
