//! No bytecode but the compiler's: node code cannot build, edit or swap in a code object.
//!
//! RustPython's interpreter trusts its compiler: it reads operands and downcasts stack values
//! unchecked, so hand-made `co_code` (or an AST the compiler was never meant to see) crashes the
//! process (SIGSEGV, SIGILL) instead of raising. The only code objects node code may run are
//! therefore those the compiler made from *source*. Refused, each with a Python exception saying
//! the sandbox refuses it:
//!
//! - constructing a code object (`types.CodeType(...)`, `type(f.__code__)(...)`, its `__new__`,
//!   `copyreg`/`__reduce__` reconstruction, `object.__new__(CodeType)` is refused by RustPython);
//! - `code.replace(...)` and `code.__replace__` (`copy.replace`);
//! - constructing a function (`types.FunctionType(code, globals)`, `type(f)(...)`, its `__new__`);
//!   `def` and `lambda` make functions without this route;
//! - assigning a function's `__code__`, and a frame's `f_lineno` (a jump that can leave the value
//!   stack in a shape the compiler never produced); a function's `__defaults__` longer than its
//!   positional parameters (RustPython subtracts the two unchecked);
//! - `compile()` of anything but source text (an AST object) or with `PyCF_ONLY_AST`;
//! - `exec`/`eval` of a code object that is not a module or expression body (a function's,
//!   generator's or class body's code run outside its function, without its closure cells);
//! - `marshal.loads`/`marshal.load` on every copy of `marshal` the import machinery holds.
//!
//! The built-in types are shared by every interpreter of a thread (RustPython keeps one type zoo
//! per thread), so their patches are applied once per thread; module patches once per interpreter.

use rustpython_vm::builtins::{
    PyBaseExceptionRef, PyByteArray, PyBytes, PyCode, PyGetSet, PyStr, PyTuple, PyType,
};
use rustpython_vm::bytecode::CodeFlags;
use rustpython_vm::function::{FuncArgs, PySetterValue};
use rustpython_vm::{Py, PyObjectRef, PyRef, PyResult, VirtualMachine};
use std::cell::{Cell, RefCell};

thread_local! {
    /// Whether this thread's built-in types are patched.
    static TYPES_PATCHED: Cell<bool> = const { Cell::new(false) };
    /// The original descriptors behind read-only replacements, by index.
    static ORIGINAL_DESCRIPTORS: RefCell<Vec<PyObjectRef>> = const { RefCell::new(Vec::new()) };
}

/// `compile()` flag asking for an AST instead of a code object.
const PYCF_ONLY_AST: i64 = 0x0400;
/// `compile()` flag asking for an optimized AST.
const PYCF_OPTIMIZED_AST: i64 = 0x8000 | PYCF_ONLY_AST;

/// The exception every refusal raises.
pub(crate) fn refusal(vm: &VirtualMachine, what: &str) -> PyBaseExceptionRef {
    vm.new_runtime_error(format!(
        "the pipeline's Python sandbox refuses {what}: node code may only run code compiled from source"
    ))
}

/// Installs every guard of this module into `vm` (types once per thread).
pub(crate) fn install(vm: &VirtualMachine) -> PyResult<()> {
    if !TYPES_PATCHED.with(Cell::get) {
        patch_types(vm)?;
        TYPES_PATCHED.with(|p| p.set(true));
    }
    patch_builtins(vm)?;
    patch_marshal(vm)
}

fn patch_types(vm: &VirtualMachine) -> PyResult<()> {
    let types = &vm.ctx.types;
    types.code_type.slots.new.store(Some(refuse_code_new));
    types
        .function_type
        .slots
        .new
        .store(Some(refuse_function_new));
    for name in ["replace", "__replace__"] {
        let refuse = vm.new_function(
            name,
            move |_args: FuncArgs, vm: &VirtualMachine| -> PyResult {
                Err(refusal(vm, "editing a code object (code.replace)"))
            },
        );
        types
            .code_type
            .set_attr(vm.ctx.intern_str(name), refuse.into());
    }
    read_only(
        vm,
        types.function_type,
        "__code__",
        "assigning a function's `__code__`",
    )?;
    read_only(
        vm,
        types.frame_type,
        "f_lineno",
        "assigning a frame's `f_lineno`",
    )?;
    guard_descriptor(vm, types.function_type, "__defaults__", Ok(defaults_fit))?;
    Ok(())
}

fn refuse_code_new(_cls: PyRef<PyType>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult {
    Err(refusal(vm, "constructing a code object"))
}

fn refuse_function_new(_cls: PyRef<PyType>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult {
    Err(refusal(
        vm,
        "constructing a function from a code object (types.FunctionType)",
    ))
}

/// A check on an assignment to a guarded attribute: `Err` refuses it.
type AssignCheck = fn(&PyObjectRef, &PySetterValue<PyObjectRef>, &VirtualMachine) -> PyResult<()>;

/// Replaces the data descriptor `name` of `typ` by one that refuses every assignment and deletion.
fn read_only(
    vm: &VirtualMachine,
    typ: &'static Py<PyType>,
    name: &'static str,
    what: &'static str,
) -> PyResult<()> {
    guard_descriptor(vm, typ, name, Err(what))
}

/// Replaces the data descriptor `name` of `typ` by one that reads through the original and either
/// refuses every assignment (`Err(what)`) or passes those the check accepts on to the original.
fn guard_descriptor(
    vm: &VirtualMachine,
    typ: &'static Py<PyType>,
    name: &'static str,
    assign: Result<AssignCheck, &'static str>,
) -> PyResult<()> {
    let interned = vm.ctx.intern_str(name);
    let original = typ.get_direct_attr(interned).ok_or_else(|| {
        vm.new_runtime_error(format!("sandbox setup: `{}` has no `{name}`", typ.name()))
    })?;
    let index = ORIGINAL_DESCRIPTORS.with(|d| {
        let mut d = d.borrow_mut();
        d.push(original);
        d.len() - 1
    });
    let original = move || ORIGINAL_DESCRIPTORS.with(|d| d.borrow()[index].clone());
    let getter = move |obj: PyObjectRef, vm: &VirtualMachine| -> PyResult {
        let class: PyObjectRef = obj.class().to_owned().into();
        vm.call_method(&original(), "__get__", (obj, class))
    };
    let setter = move |obj: PyObjectRef,
                       value: PySetterValue<PyObjectRef>,
                       vm: &VirtualMachine|
          -> PyResult<()> {
        let check = assign.map_err(|what| refusal(vm, what))?;
        check(&obj, &value, vm)?;
        match value {
            PySetterValue::Assign(value) => vm.call_method(&original(), "__set__", (obj, value)),
            PySetterValue::Delete => vm.call_method(&original(), "__delete__", (obj,)),
        }
        .map(drop)
    };
    let getset = PyGetSet::new(name.to_owned(), typ)
        .with_get(getter)
        .with_set(setter);
    let getset = PyRef::new_ref(getset, vm.ctx.types.getset_type.to_owned(), None);
    typ.set_attr(interned, getset.into());
    Ok(())
}

/// `__defaults__` may not hold more values than the function has positional parameters:
/// RustPython computes `parameters - defaults` unchecked when the function is called.
fn defaults_fit(
    func: &PyObjectRef,
    value: &PySetterValue<PyObjectRef>,
    vm: &VirtualMachine,
) -> PyResult<()> {
    let PySetterValue::Assign(defaults) = value else {
        return Ok(());
    };
    let Some(defaults) = defaults.downcast_ref::<PyTuple>() else {
        return Ok(()); // the original setter refuses a non-tuple
    };
    let code = func.get_attr("__code__", vm)?;
    let parameters = code
        .downcast_ref::<PyCode>()
        .map_or(0, |code| code.code.arg_count as usize);
    if defaults.len() > parameters {
        return Err(vm.new_value_error(format!(
            "the pipeline's Python sandbox refuses {} defaults for a function of {parameters} positional parameters",
            defaults.len()
        )));
    }
    Ok(())
}

/// Wraps `compile`, `exec` and `eval` of this interpreter's `builtins`.
fn patch_builtins(vm: &VirtualMachine) -> PyResult<()> {
    let builtins = &vm.builtins;
    let compile = builtins.get_attr("compile", vm)?;
    let guarded = vm.new_function("compile", move |args: FuncArgs, vm: &VirtualMachine| {
        check_compile_args(&args, vm)?;
        compile.call(args, vm)
    });
    builtins.set_attr("compile", guarded, vm)?;
    for name in ["exec", "eval"] {
        let original = builtins.get_attr(name, vm)?;
        let guarded = vm.new_function(name, move |args: FuncArgs, vm: &VirtualMachine| {
            if let Some(code) = args
                .args
                .first()
                .or_else(|| args.kwargs.get("source"))
                .and_then(|s| s.downcast_ref::<PyCode>())
            {
                check_runnable(code, vm)?;
            }
            original.call(args, vm)
        });
        builtins.set_attr(name, guarded, vm)?;
    }
    Ok(())
}

/// `compile(source, filename, mode, flags=0, ...)`: source text only, never an AST in or out.
fn check_compile_args(args: &FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
    if let Some(source) = args.args.first().or_else(|| args.kwargs.get("source")) {
        let text = source.downcast_ref::<PyStr>().is_some()
            || source.downcast_ref::<PyBytes>().is_some()
            || source.downcast_ref::<PyByteArray>().is_some();
        if !text {
            return Err(refusal(vm, "compiling anything but source text (an AST)"));
        }
    }
    if let Some(flags) = args.args.get(3).or_else(|| args.kwargs.get("flags")) {
        let flags: i64 = flags.clone().try_into_value(vm)?;
        if flags & PYCF_OPTIMIZED_AST != 0 {
            return Err(refusal(vm, "compiling to an AST (PyCF_ONLY_AST)"));
        }
    }
    Ok(())
}

/// `exec`/`eval` run a code object as a module or expression body: refuse a function's,
/// generator's or class body's code, which expects arguments, closure cells or a frame of its
/// own.
fn check_runnable(code: &Py<PyCode>, vm: &VirtualMachine) -> PyResult<()> {
    let function_like = CodeFlags::OPTIMIZED
        | CodeFlags::GENERATOR
        | CodeFlags::COROUTINE
        // CO_ASYNC_GENERATOR, which RustPython's bytecode crate does not name.
        | CodeFlags::from_bits_retain(0x0200)
        | CodeFlags::ITERABLE_COROUTINE
        | CodeFlags::VARARGS
        | CodeFlags::VARKEYWORDS;
    let code = &code.code;
    if code.flags.intersects(function_like)
        || code.arg_count > 0
        || code.kwonlyarg_count > 0
        || !code.freevars.is_empty()
        || !code.cellvars.is_empty()
    {
        return Err(refusal(
            vm,
            "running a function's or class body's code object with exec/eval",
        ));
    }
    Ok(())
}

/// `marshal` turns bytes into code objects: the import guard keeps node code from importing it,
/// and this refuses `loads`/`load` on the copy the import machinery may hold in `sys.modules`
/// (reachable through any of its functions' `__globals__`).
fn patch_marshal(vm: &VirtualMachine) -> PyResult<()> {
    let modules = vm.sys_module.get_attr("modules", vm)?;
    let Ok(marshal) = modules.get_item("marshal", vm) else {
        return Ok(());
    };
    for name in ["loads", "load"] {
        let refuse = vm.new_function(name, |_args: FuncArgs, vm: &VirtualMachine| -> PyResult {
            Err(refusal(vm, "marshal.loads (bytecode from bytes)"))
        });
        marshal.set_attr(name, refuse, vm)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::python::PythonNode;
    use crate::{Node, Value};

    /// Runs `body` as the body of `def attempt(item)` and returns the error text, if any.
    fn run(body: &str) -> Result<Vec<Value>, String> {
        let body: String = body.lines().map(|l| format!("    {l}\n")).collect();
        let mut node = PythonNode::function(format!("def attempt(item):\n{body}"), "attempt");
        let mut out = Vec::new();
        node.process(Value::Null, &mut out)
            .map(|()| out)
            .map_err(|e| e.to_string())
    }

    fn assert_refused(body: &str, expected: &str) {
        match run(body) {
            Ok(out) => panic!("not refused (emitted {out:?}):\n{body}"),
            Err(err) => assert!(err.contains(expected), "{body}\n=> {err}"),
        }
    }

    const SANDBOX: &str = "the pipeline's Python sandbox refuses";

    #[test]
    fn every_route_to_a_forged_code_object_is_refused() {
        let prelude = "import types, copy, copyreg\ndef f(x=1):\n    return x\nc = f.__code__\n";
        for attempt in [
            "types.CodeType(0, 0, 0, 0, 0, 0, b'', (), (), (), '', '', '', 0, b'', b'')",
            "type(c)(0, 0, 0, 0, 0, 0, b'', (), (), (), '', '', '', 0, b'', b'')",
            "type(c).__new__(type(c), 0, 0, 0, 0, 0, 0, b'', (), (), (), '', '', '', 0, b'', b'')",
            "c.replace(co_code=b'\\xff\\x00' * 8)",
            "c.__replace__(co_code=b'\\xff\\x00' * 8)",
            "type(c).replace(c, co_code=b'\\x00')",
            "copy.replace(c, co_code=b'\\x00')",
            "types.FunctionType(c, {})",
            "type(f)(c, {})",
            "types.FunctionType.__new__(types.FunctionType, c, {})",
            "f.__code__ = (lambda: 2).__code__",
            "object.__setattr__(f, '__code__', (lambda: 2).__code__)",
            "def g():\n    yield 1\ngen = g()\ngen.gi_frame.f_lineno = 1",
            "exec(c)",
            "eval(c)",
            "exec((lambda: (yield)).__code__)",
            "exec(c.co_consts[0] if c.co_consts and hasattr(c.co_consts[0], 'co_code') else c)",
            "compile(compile('1', '<x>', 'eval', 0x400), '<x>', 'eval')",
            "compile('1', '<x>', 'eval', flags=0x400)",
            "f.__defaults__ = (1, 2, 3)\nf()",
        ] {
            assert_refused(&format!("{prelude}{attempt}"), SANDBOX);
        }
        // Refused by RustPython itself, still never a crash.
        for attempt in [
            "object.__new__(types.FunctionType)",
            "object.__new__(types.CodeType)",
            "f.__class__ = type(len)",
            "copyreg._reconstructor(types.CodeType, object, None)",
            "c.__reduce_ex__(2)",
            "import marshal",
        ] {
            assert!(run(&format!("{prelude}{attempt}")).is_err(), "{attempt}");
        }
    }

    #[test]
    fn code_compiled_from_source_still_runs() {
        let out = run(concat!(
            "import collections\n",
            "Point = collections.namedtuple('Point', 'x y')\n",
            "scope = {}\n",
            "exec(compile('z = 6 * 7', '<x>', 'exec'), scope)\n",
            "def f(a, b=1):\n    return a + b\n",
            "f.__defaults__ = (10, 20)\n",
            "return [scope['z'], eval('1 + 1'), eval(compile('2 * 3', '<x>', 'eval')), Point(1, 2).y,\n",
            "        f(), len(attempt.__code__.co_name)]\n",
        ))
        .unwrap();
        assert_eq!(out, [Value::list([42, 2, 6, 2, 30, 7].map(Value::Int))]);
    }
}
