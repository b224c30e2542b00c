//! One sandboxed RustPython interpreter per thread, shared by every Python node on that thread.
//!
//! A stage runs on one thread, so all Python nodes of a stage (a fused `->` chain) share one
//! interpreter: it is started once (~10 ms) when the first of them is initialised and dropped when
//! the last of them is dropped. Repeated runs of a pipeline reuse it; items never start one.
//! Each node still gets its own module namespace, so nodes do not see each other's globals.

use super::stack::Stack;
use super::{log, sandbox};
use crate::error::{Error, ErrorKind, Result};
use rustpython_vm::{AsObject, Interpreter, Settings, VirtualMachine};
use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::{Rc, Weak};

thread_local! {
    static CURRENT: RefCell<Weak<Runtime>> = const { RefCell::new(Weak::new()) };
}

/// A sandboxed interpreter.
pub(crate) struct Runtime {
    // Dropped before `stack`: the interpreter's objects live on the heap, but nothing may run on
    // the stack once it is unmapped.
    interp: Interpreter,
    stack: Option<Stack>,
    /// Set when RustPython panicked: its state may be inconsistent, so it is not entered again.
    poisoned: Cell<bool>,
}

impl Runtime {
    /// The interpreter of the current thread, started if no node on this thread holds one.
    pub(crate) fn shared() -> Result<Rc<Runtime>> {
        if let Some(rt) = CURRENT.with(|c| c.borrow().upgrade()) {
            return Ok(rt);
        }
        let rt = Rc::new(Runtime::new()?);
        CURRENT.with(|c| *c.borrow_mut() = Rc::downgrade(&rt));
        Ok(rt)
    }

    /// A fresh interpreter, not shared.
    pub(crate) fn new() -> Result<Runtime> {
        let stack = Stack::new();
        let build = || {
            catch_unwind(|| {
                let builder = Interpreter::builder(settings());
                #[cfg(feature = "python-stdlib")]
                let builder = {
                    let defs: Vec<_> = rustpython_stdlib::stdlib_module_defs(&builder.ctx)
                        .into_iter()
                        .filter(|def| sandbox::STDLIB_NATIVE.contains(&def.name.as_str()))
                        .collect();
                    let frozen =
                        rustpython_pylib::FROZEN_STDLIB
                            .decode()
                            .filter_map(|(name, module)| {
                                if name == "_dummy_thread" {
                                    return Some(("_thread", module));
                                }
                                let top = name.split('.').next().unwrap_or(name);
                                sandbox::FROZEN.contains(&top).then_some((name, module))
                            });
                    builder.add_native_modules(&defs).add_frozen_modules(frozen)
                };
                builder.build()
            })
        };
        let built = match &stack {
            Some(stack) => stack.run(build),
            None => build(),
        }
        .map_err(|payload| Error::from_panic(payload).with_kind(ErrorKind::Initialize))?;
        let rt = Runtime {
            interp: built,
            stack,
            poisoned: Cell::new(false),
        };
        rt.enter(|vm| {
            log::install(vm)
                .and_then(|()| sandbox::install(vm))
                // Registers the codec search function: `re` and `str.encode` need named codecs.
                .and_then(|()| {
                    if cfg!(feature = "python-stdlib") {
                        vm.import("encodings", 0).map(drop)
                    } else {
                        Ok(())
                    }
                })
                .map_err(|exc| {
                    Error::new(
                        ErrorKind::Initialize,
                        format_args!(
                            "cannot set up the Python sandbox: {}",
                            exc.as_object()
                                .str(vm)
                                .map(|s| s.to_string())
                                .unwrap_or_default()
                        ),
                    )
                })
        })??;
        Ok(rt)
    }

    /// Runs `f` with the interpreter, on the interpreter's own stack; a panic inside RustPython
    /// becomes an error (and retires the interpreter) instead of unwinding through the pipeline.
    #[inline]
    pub(crate) fn enter<R>(&self, f: impl FnOnce(&VirtualMachine) -> R) -> Result<R> {
        if self.poisoned.get() {
            return Err(Error::new(
                ErrorKind::Panic,
                "the Python interpreter of this stage panicked earlier and cannot be used",
            ));
        }
        let run = || catch_unwind(AssertUnwindSafe(|| self.interp.enter(f)));
        let outcome = match &self.stack {
            Some(stack) => stack.run(run),
            None => run(),
        };
        outcome.map_err(|payload| {
            self.poisoned.set(true);
            let err = Error::from_panic(payload);
            Error::new(
                ErrorKind::Panic,
                format_args!("the Python interpreter {}", err.message()),
            )
        })
    }
}

/// No environment, no site, no search path: nothing about the host shapes the interpreter.
fn settings() -> Settings {
    let mut settings = Settings::default();
    settings.isolated = true;
    settings.ignore_environment = true;
    settings.import_site = false;
    settings.user_site_directory = false;
    settings.safe_path = true;
    settings.install_signal_handlers = false;
    settings.write_bytecode = false;
    settings.path_list.clear();
    settings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_interpreter_per_thread_while_in_use() {
        let a = Runtime::shared().unwrap();
        let b = Runtime::shared().unwrap();
        assert!(Rc::ptr_eq(&a, &b));
        let other = std::thread::spawn(|| {
            let c = Runtime::shared().unwrap();
            &*c as *const Runtime as usize
        })
        .join()
        .unwrap();
        assert_ne!(other, &*a as *const Runtime as usize);
        drop((a, b));
        assert!(CURRENT.with(|c| c.borrow().upgrade().is_none()));
    }
}
