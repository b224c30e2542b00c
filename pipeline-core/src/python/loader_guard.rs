//! The allowlist enforced where modules are made, not only at `__import__`.
//!
//! `builtins.__import__` is only the front door: the import machinery (`_frozen_importlib`, its
//! `BuiltinImporter` and `FrozenImporter`, reachable through `sys.modules`, any allowed module's
//! `__loader__`/`__spec__`, or any of its functions' `__globals__`) builds modules by calling the
//! `_imp` functions. Each of those that makes or hands out a module or its code
//! (`create_builtin`, `init_frozen`, `get_frozen_object`, `find_frozen`) is wrapped here to refuse
//! a name outside [`allowed_modules`](super::allowed_modules), so the allowlist holds whichever
//! Python code calls it; `exec_builtin` only initialises a module already made. Test-only hooks
//! (`_override_frozen_modules_for_tests`, `_override_multi_interp_extensions_check`) are refused
//! outright.
//!
//! `sys.modules` may still hold interpreter internals loaded before node code runs (`_imp`,
//! `_frozen_importlib`, `_io`, ...): they are host-free in this build, and the dangerous parts
//! (`marshal.loads`, the `_imp` loaders, `_thread`'s thread starters) are closed where they live.

use super::sandbox::{is_allowed, refused};
use rustpython_vm::builtins::PyStr;
use rustpython_vm::function::FuncArgs;
use rustpython_vm::{PyObjectRef, PyResult, VirtualMachine};

/// `_imp` functions that make a module (or its code) from a name, and where the name is: the
/// first argument itself, or its `name` attribute (a `ModuleSpec`).
const NAMED_LOADERS: &[(&str, NameIn)] = &[
    ("create_builtin", NameIn::SpecName),
    ("init_frozen", NameIn::Argument),
    ("get_frozen_object", NameIn::Argument),
    ("find_frozen", NameIn::Argument),
];

/// `_imp` functions node code has no use for at all.
const REFUSED: &[&str] = &[
    "_override_frozen_modules_for_tests",
    "_override_multi_interp_extensions_check",
    "create_dynamic",
];

#[derive(Clone, Copy)]
enum NameIn {
    Argument,
    SpecName,
}

/// `_thread` attributes that run a function (the single-threaded stand-in runs it at once and
/// swallows its exceptions) or end the interpreter: removed, so node code cannot start a
/// "thread". Locks, `get_ident` and `RLock` stay, for `functools` and `reprlib`.
#[cfg(feature = "python-stdlib")]
const THREAD_STARTERS: &[&str] = &[
    "start_new_thread",
    "start_new",
    "start_joinable_thread",
    "interrupt_main",
    "exit",
    "exit_thread",
    "_shutdown",
];

/// Wraps the `_imp` loaders of this interpreter and strips `_thread` of its thread starters.
pub(crate) fn install(vm: &VirtualMachine) -> PyResult<()> {
    let imp = vm.import("_imp", 0)?;
    for &(name, name_in) in NAMED_LOADERS {
        let Ok(original) = imp.get_attr(name, vm) else {
            continue;
        };
        let guarded = vm.new_function(name, move |args: FuncArgs, vm: &VirtualMachine| {
            let module = args
                .args
                .first()
                .map(|arg| module_name(arg, name_in, vm))
                .transpose()?
                .flatten();
            match module {
                Some(module) if is_allowed(&module) => original.call(args, vm),
                Some(module) => Err(refused(vm, &module)),
                None => Err(vm.new_type_error(format!(
                    "_imp.{name}() needs a module name (the pipeline's Python sandbox checks it)"
                ))),
            }
        });
        imp.set_attr(name, guarded, vm)?;
    }
    for &name in REFUSED {
        let refuse = vm.new_function(
            name,
            move |_args: FuncArgs, vm: &VirtualMachine| -> PyResult {
                Err(vm.new_import_error(
                    format!("_imp.{name} is not allowed in the pipeline's Python sandbox"),
                    vm.ctx.new_str(name),
                ))
            },
        );
        imp.set_attr(name, refuse, vm)?;
    }
    strip_thread_starters(vm)
}

fn module_name(
    arg: &PyObjectRef,
    name_in: NameIn,
    vm: &VirtualMachine,
) -> PyResult<Option<String>> {
    let name = match name_in {
        NameIn::Argument => arg.clone(),
        NameIn::SpecName => arg.get_attr("name", vm)?,
    };
    Ok(name
        .downcast_ref::<PyStr>()
        .and_then(|s| s.to_str().map(str::to_owned)))
}

#[cfg(feature = "python-stdlib")]
fn strip_thread_starters(vm: &VirtualMachine) -> PyResult<()> {
    let thread = vm.import("_thread", 0)?;
    let dict = thread.dict().ok_or_else(|| {
        vm.new_runtime_error("sandbox setup: the `_thread` module has no namespace")
    })?;
    for &name in THREAD_STARTERS {
        if dict.get_item_opt(name, vm)?.is_some() {
            dict.del_item(name, vm)?;
        }
    }
    Ok(())
}

#[cfg(not(feature = "python-stdlib"))]
fn strip_thread_starters(_vm: &VirtualMachine) -> PyResult<()> {
    Ok(())
}

#[cfg(all(test, feature = "python-stdlib"))]
mod tests {
    use crate::python::PythonNode;
    use crate::{Node, Value};

    fn run(body: &str) -> Result<Vec<Value>, String> {
        let body: String = body.lines().map(|l| format!("    {l}\n")).collect();
        let mut node = PythonNode::function(format!("def attempt(item):\n{body}"), "attempt");
        let mut out = Vec::new();
        node.process(Value::Null, &mut out)
            .map(|()| out)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn no_route_loads_a_module_outside_the_allowlist() {
        let prelude = "import sys, itertools\nimp = sys.modules['_imp']\nSpec = type(sys.__spec__)\nboot = sys.modules['_frozen_importlib']\n";
        for (attempt, module) in [
            ("imp.create_builtin(Spec('gc', None))", "gc"),
            ("imp.create_builtin(Spec('marshal', None))", "marshal"),
            ("imp.create_builtin(Spec('atexit', None))", "atexit"),
            ("imp.init_frozen('os')", "os"),
            ("imp.get_frozen_object('os')", "os"),
            ("imp.find_frozen('os')", "os"),
            ("itertools.__loader__.create_module(Spec('gc', None))", "gc"),
            ("boot.__import__('gc')", "gc"),
            ("boot._bootstrap._gcd_import('marshal') if hasattr(boot, '_bootstrap') else boot._gcd_import('marshal')", "marshal"),
            ("boot.BuiltinImporter.create_module(Spec('atexit', None))", "atexit"),
            ("sys.__spec__.loader.create_module(Spec('gc', None))", "gc"),
        ] {
            let err = run(&format!("{prelude}{attempt}")).expect_err(attempt);
            assert!(
                err.contains(&format!("import of '{module}' is not allowed in the pipeline's Python sandbox")),
                "{attempt}\n=> {err}"
            );
        }
    }

    #[test]
    fn thread_starts_nothing_but_its_locks_work() {
        let err = run("import _thread\n_thread.start_new_thread(print, ('x',))").unwrap_err();
        assert!(err.contains("has no attribute 'start_new_thread'"), "{err}");
        let out = run(concat!(
            "import _thread, functools, reprlib\n",
            "lock = _thread.allocate_lock()\n",
            "with lock:\n    pass\n",
            "return [hasattr(_thread, n) for n in ('start_joinable_thread', 'interrupt_main', 'exit')]\n",
        ))
        .unwrap();
        assert_eq!(out, [Value::list([false, false, false].map(Value::Bool))]);
    }
}
