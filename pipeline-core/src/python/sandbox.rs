//! What Python node code may reach: host access compiled out, imports allowlisted, the recursion
//! limit capped.
//!
//! Four layers, strongest first:
//!
//! 1. **Compiled out.** RustPython is built without its `host_env` and `stdio` features, so the
//!    interpreter contains no `posix`/`os` module, no file objects (`open()` raises), no sockets, no
//!    subprocess, no path-based importer (nothing is ever imported from disk), no
//!    `sys.stdin/stdout/stderr`. No Python trick can reach code that is not in the binary.
//! 2. **Import allowlist.** `builtins.__import__` is replaced by a guard that refuses every module
//!    not listed in [`allowed_modules`], including interpreter internals that *are* in the binary
//!    but have no business in node code (`marshal` can build arbitrary bytecode; `_imp`, `_io`,
//!    `gc`, `importlib` internals). Every import, also those made by allowed library modules, goes
//!    through the guard, so allowed modules must only need allowed modules.
//!    The same allowlist guards the `_imp` functions that make modules (`python/loader_guard.rs`), so it
//!    holds for every route into the import machinery, not only `import`.
//! 3. **Only compiled bytecode.** Code objects cannot be built, edited or swapped in
//!    (`python/forging.rs`): RustPython trusts its compiler, and forged bytecode would crash the process.
//! 4. **Limits.** `sys.setrecursionlimit` cannot raise the limit above the interpreter's default, so
//!    deep recursion is a `RecursionError`, never a native stack overflow. There is no CPU or memory
//!    quota in process: an endless loop in a node hangs its stage.
//!
//! Each node runs in a namespace of its own with its own `builtins` module (`node_scope`).
//!
//! Host access is not offered at all: there is no opt-in, because a build with `host_env` would be
//! one binary-wide switch, not a per-node flag.

use rustpython_vm::builtins::{PyDict, PyModule, PyStr};
use rustpython_vm::function::FuncArgs;
use rustpython_vm::scope::Scope;
use rustpython_vm::{AsObject, PyObjectRef, PyResult, VirtualMachine};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Interpreter-provided (Rust) modules that node code may import.
///
/// `sys` is here because allowed library modules need it; in this build it carries no host access
/// (`sys.modules` lists modules that were allowed to load, plus interpreter internals that are
/// equally host-free and whose module-making functions are guarded).
const NATIVE: &[&str] = &[
    "_abc",
    "_codecs",
    "_collections",
    "_functools",
    "_operator",
    "_sre",
    "_stat",
    "_string",
    "_typing",
    "_types",
    "_warnings",
    "_weakref",
    "builtins",
    "errno",
    "itertools",
    "sys",
    "time",
];

/// Rust modules of `rustpython-stdlib` that are pure computation, registered with the interpreter.
#[cfg(feature = "python-stdlib")]
pub(crate) const STDLIB_NATIVE: &[&str] = &[
    "_bisect",
    "_contextvars",
    "_json",
    "_random",
    "_statistics",
    "_struct",
    "array",
    "binascii",
    "cmath",
    "math",
    "unicodedata",
];

/// Pure-Python modules (and packages, with their submodules) frozen into the binary and exposed.
#[cfg(feature = "python-stdlib")]
pub(crate) const FROZEN: &[&str] = &[
    "__future__",
    // The single-threaded stand-in `_dummy_thread`, frozen under this name: `functools` and
    // `reprlib` import `_thread`, which RustPython only has with its `threading` feature.
    "_thread",
    "_collections_abc",
    "_weakrefset",
    "abc",
    "base64",
    "bisect",
    "codecs",
    "collections",
    "copy",
    "copyreg",
    "encodings",
    "enum",
    "fractions",
    "functools",
    "heapq",
    "json",
    "keyword",
    "numbers",
    "operator",
    "re",
    "reprlib",
    "string",
    "struct",
    "textwrap",
    "types",
    "weakref",
];

/// Modules this crate provides: `pipeline`, the builder of Python-defined pipelines.
const PROVIDED: &[&str] = &["pipeline"];

/// Every top-level module name node code may import.
pub fn allowed_modules() -> impl Iterator<Item = &'static str> {
    let native = NATIVE.iter().chain(PROVIDED).copied();
    #[cfg(feature = "python-stdlib")]
    let native = native
        .chain(STDLIB_NATIVE.iter().copied())
        .chain(FROZEN.iter().copied());
    native
}

/// Whether `name` (dotted, absolute) may be imported.
pub(crate) fn is_allowed(name: &str) -> bool {
    let top = name.split('.').next().unwrap_or(name);
    allowed_modules().any(|m| m == top)
}

/// Installs the import guard and the recursion cap. Called once per interpreter.
pub(crate) fn install(vm: &VirtualMachine) -> PyResult<()> {
    DEFAULT_RECURSION_LIMIT.store(vm.recursion_limit.get(), Ordering::Relaxed);
    // Before the import guard: these import interpreter internals node code may not.
    super::forging::install(vm)?;
    super::loader_guard::install(vm)?;
    let guard = vm.new_function("__import__", guarded_import);
    vm.builtins.set_attr("__import__", guard, vm)?;
    let cap = vm.new_function("setrecursionlimit", capped_recursion_limit);
    vm.sys_module.set_attr("setrecursionlimit", cap, vm)?;
    scrub_host_paths(vm)
}

/// A fresh module namespace for node code, with a `builtins` module of its own: a copy of the
/// interpreter's, so a node that assigns `builtins.len` (through `import builtins` or
/// `__builtins__.len`) changes `len` for itself only, not for the other nodes of its stage.
///
/// ```ignore
/// let scope = node_scope(vm)?; // globals: {"__builtins__": <module 'builtins'> (this node's)}
/// ```
pub(crate) fn node_scope(vm: &VirtualMachine) -> PyResult<Scope> {
    let shared = vm.builtins.dict();
    let own = vm
        .call_method(shared.as_object(), "copy", ())?
        .downcast::<PyDict>()
        .map_err(|_| vm.new_runtime_error("sandbox setup: dict.copy() returned no dict"))?;
    let module = vm.new_module("builtins", own, None);
    let globals = vm.ctx.new_dict();
    globals.set_item("__builtins__", module.into(), vm)?;
    Ok(Scope::with_builtins(None, globals, vm))
}

/// The node's own `builtins` module, when `globals` (the importing frame's) has one: what
/// `import builtins` gives node code.
fn own_builtins(args: &FuncArgs, vm: &VirtualMachine) -> Option<PyObjectRef> {
    let globals = args.args.get(1).or_else(|| args.kwargs.get("globals"))?;
    let globals = globals.downcast_ref::<PyDict>()?;
    let builtins = globals.get_item_opt("__builtins__", vm).ok()??;
    let module = builtins.downcast_ref::<PyModule>()?;
    (!module.is(&vm.builtins)).then(|| builtins.clone())
}

/// `sys` is filled from the host at start-up (the executable's path, a computed search path):
/// node code learns nothing about the host from it.
fn scrub_host_paths(vm: &VirtualMachine) -> PyResult<()> {
    let sys = &vm.sys_module;
    for name in [
        "executable",
        "_base_executable",
        "prefix",
        "base_prefix",
        "exec_prefix",
        "base_exec_prefix",
        "platlibdir",
    ] {
        sys.set_attr(name, vm.ctx.new_str(""), vm)?;
    }
    for name in ["path", "argv", "orig_argv", "warnoptions"] {
        sys.set_attr(name, vm.ctx.new_list(Vec::new()), vm)?;
    }
    for name in ["_stdlib_dir", "pycache_prefix"] {
        sys.set_attr(name, vm.ctx.none(), vm)?;
    }
    Ok(())
}

/// `__import__(name, globals=None, locals=None, fromlist=(), level=0)`, refusing what is not
/// allowlisted. Relative imports (`level > 0`) are resolved by the original import first and then
/// checked by their absolute name.
fn guarded_import(args: FuncArgs, vm: &VirtualMachine) -> PyResult {
    let name = args
        .args
        .first()
        .or_else(|| args.kwargs.get("name"))
        .and_then(|n| n.downcast_ref::<PyStr>())
        .and_then(|s| s.to_str().map(str::to_owned))
        .ok_or_else(|| vm.new_type_error("__import__() argument 'name' must be str"))?;
    let level = args
        .args
        .get(4)
        .or_else(|| args.kwargs.get("level"))
        .map(|l| l.clone().try_into_value::<i64>(vm))
        .transpose()?
        .unwrap_or(0);
    if level == 0 && !is_allowed(&name) {
        return Err(refused(vm, &name));
    }
    if level == 0 && name == "builtins" {
        if let Some(own) = own_builtins(&args, vm) {
            return Ok(own);
        }
    }
    if level == 0 && name == super::pipeline_module::NAME {
        super::pipeline_module::module(vm)?;
    }
    let module = vm.import_func.call(args, vm)?;
    if level > 0 {
        let resolved = module
            .get_attr("__name__", vm)
            .ok()
            .and_then(|n| {
                n.downcast_ref::<PyStr>()
                    .and_then(|s| s.to_str().map(str::to_owned))
            })
            .unwrap_or_default();
        if !is_allowed(&resolved) {
            return Err(refused(vm, &resolved));
        }
    }
    Ok(module)
}

pub(crate) fn refused(
    vm: &VirtualMachine,
    name: &str,
) -> rustpython_vm::builtins::PyBaseExceptionRef {
    vm.new_import_error(
        format!("import of '{name}' is not allowed in the pipeline's Python sandbox"),
        vm.ctx.new_str(name),
    )
}

/// `sys.setrecursionlimit` that may lower the limit but never raise it past the default: deeper
/// recursion would overflow the native stack of the stage thread and abort the process.
fn capped_recursion_limit(limit: i64, vm: &VirtualMachine) -> PyResult<()> {
    let max = default_recursion_limit();
    if limit < 1 || limit as u64 > max as u64 {
        return Err(vm.new_value_error(format!(
            "the pipeline's Python sandbox allows recursion limits from 1 to {max}"
        )));
    }
    if (limit as usize) <= vm.current_recursion_depth() {
        return Err(vm.new_recursion_error(format!(
            "cannot set the recursion limit to {limit} at the current recursion depth"
        )));
    }
    vm.recursion_limit.set(limit as usize);
    Ok(())
}

/// The interpreter's own default limit (256 frames in debug builds of RustPython, whose native
/// frames are bigger; 1000 in release), recorded when the first interpreter is built.
static DEFAULT_RECURSION_LIMIT: AtomicUsize = AtomicUsize::new(0);

fn default_recursion_limit() -> usize {
    DEFAULT_RECURSION_LIMIT.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_node_has_its_own_builtins() {
        use crate::python::PythonNode;
        use crate::{Node, Value};
        let mut meddler = PythonNode::function(
            concat!(
                "import builtins\n",
                "def meddle(x):\n",
                "    builtins.len = lambda x: 42\n",
                "    __builtins__.abs = lambda x: -1\n",
                "    import builtins as again\n",
                "    return [len([]), abs(5), again is builtins]\n",
            ),
            "meddle",
        );
        let mut bystander = PythonNode::function(
            "def count(x):\n    import builtins\n    return [len(x), abs(-3), builtins.len(x)]\n",
            "count",
        );
        let mut out = Vec::new();
        meddler.process(Value::Null, &mut out).unwrap();
        // Started on the same thread while the meddler lives: one interpreter for both.
        bystander
            .process(Value::list([Value::Int(1)]), &mut out)
            .unwrap();
        assert_eq!(
            out,
            [
                Value::list([Value::Int(42), Value::Int(-1), Value::Bool(true)]),
                Value::list([Value::Int(1), Value::Int(3), Value::Int(1)]),
            ]
        );
    }

    #[test]
    fn allowlist_checks_the_top_level_name() {
        assert!(is_allowed("itertools"));
        assert!(!is_allowed("os"));
        assert!(!is_allowed("posix"));
        assert!(!is_allowed("marshal"));
        assert!(!is_allowed("importlib.util"));
        assert!(!is_allowed("itertoolsx"));
    }
}
