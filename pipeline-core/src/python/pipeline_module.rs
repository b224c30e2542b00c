//! The `pipeline` module Python code can import: the builder of Python-defined pipelines (see
//! `pipeline_module.py`). Pure Python, compiled into the interpreter the first time it is
//! imported, so interpreters that never import it pay nothing.

use rustpython_vm::compiler::Mode;
use rustpython_vm::scope::Scope;
use rustpython_vm::{PyObjectRef, PyResult, VirtualMachine};

/// The module's name.
pub(crate) const NAME: &str = "pipeline";

/// The module's source.
const SOURCE: &str = include_str!("pipeline_module.py");

/// `sys.modules["pipeline"]`, created on first use.
pub(crate) fn module(vm: &VirtualMachine) -> PyResult<PyObjectRef> {
    let modules = vm.sys_module.get_attr("modules", vm)?;
    if let Ok(module) = modules.get_item(NAME, vm) {
        return Ok(module);
    }
    let code = vm
        .compile(SOURCE, Mode::Exec, format!("<{NAME}>"))
        .map_err(|err| vm.new_syntax_error(&err, Some(SOURCE)))?;
    let dict = vm.ctx.new_dict();
    let module = vm.new_module(NAME, dict.clone(), None);
    vm.run_code_obj(code, Scope::with_builtins(None, dict, vm))?;
    modules.set_item(NAME, module.clone().into(), vm)?;
    Ok(module.into())
}
