//! `print` in node code goes to the pipeline's log (stderr), one line per printed line, prefixed
//! with the node id: `[python scale] hello`.
//!
//! The sandboxed interpreter has no `sys.stdout` (it is built without `stdio`), so the built-in
//! `print` would raise. It is replaced by this one, which finds the node through the
//! `__pipeline_node__` global that every node's module namespace carries; code without one (a
//! library module) logs as `[python]`.

use rustpython_vm::builtins::PyStr;
use rustpython_vm::function::FuncArgs;
use rustpython_vm::{PyObjectRef, PyResult, VirtualMachine};
use std::fmt::Write as _;
use std::io::Write;

/// The global holding the node id in each node's namespace.
pub(crate) const NODE_GLOBAL: &str = "__pipeline_node__";

/// Replaces `builtins.print`.
pub(crate) fn install(vm: &VirtualMachine) -> PyResult<()> {
    let print = vm.new_function("print", print);
    vm.builtins.set_attr("print", print, vm)
}

/// `print(*objects, sep=' ', end='\n', file=None, flush=False)`; a `file` other than `None` gets
/// the text through its `write` method, as in CPython.
fn print(mut args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
    let sep = text_kwarg(&mut args, "sep", " ", vm)?;
    let end = text_kwarg(&mut args, "end", "\n", vm)?;
    let file = args.kwargs.swap_remove("file").filter(|f| !vm.is_none(f));
    args.kwargs.swap_remove("flush");
    if let Some(unexpected) = args.kwargs.keys().next() {
        return Err(vm.new_type_error(format!(
            "'{unexpected}' is an invalid keyword argument for print()"
        )));
    }
    let mut text = String::new();
    for (i, obj) in args.args.iter().enumerate() {
        if i > 0 {
            text.push_str(&sep);
        }
        let _ = write!(text, "{}", obj.str(vm)?);
    }
    text.push_str(&end);
    if let Some(file) = file {
        vm.call_method(&file, "write", (vm.ctx.new_str(text),))?;
        return Ok(());
    }
    let node = vm
        .current_globals()
        .get_item_opt(NODE_GLOBAL, vm)
        .ok()
        .flatten()
        .and_then(|n| {
            n.downcast_ref::<PyStr>()
                .and_then(|s| s.to_str().map(str::to_owned))
        });
    write_log(node.as_deref(), &text);
    Ok(())
}

/// A `str` keyword argument, `None` meaning the default.
fn text_kwarg(
    args: &mut FuncArgs,
    name: &str,
    default: &str,
    vm: &VirtualMachine,
) -> PyResult<String> {
    match args.kwargs.swap_remove(name) {
        None => Ok(default.to_owned()),
        Some(obj) if vm.is_none(&obj) => Ok(default.to_owned()),
        Some(obj) => obj
            .downcast_ref::<PyStr>()
            .map(|s| s.to_string())
            .ok_or_else(|| type_error(vm, name, &obj)),
    }
}

fn type_error(
    vm: &VirtualMachine,
    name: &str,
    obj: &PyObjectRef,
) -> rustpython_vm::builtins::PyBaseExceptionRef {
    vm.new_type_error(format!(
        "{name} must be None or a string, not {}",
        obj.class().name()
    ))
}

/// Writes `text` to stderr, each line prefixed; one lock for the whole call, so lines of
/// concurrent stages do not interleave mid-line.
fn write_log(node: Option<&str>, text: &str) {
    let prefix = match node {
        Some(id) => format!("[python {id}] "),
        None => "[python] ".to_owned(),
    };
    let mut err = std::io::stderr().lock();
    for line in text.split_inclusive('\n') {
        let _ = err.write_all(prefix.as_bytes());
        let _ = err.write_all(line.as_bytes());
        if !line.ends_with('\n') {
            let _ = err.write_all(b"\n");
        }
    }
}
