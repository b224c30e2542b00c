//! A class's optional `process_batch(self, items)`: called once per batch with a list of items
//! instead of `process` once per item, so a node written as a comprehension pays the
//! interpreter's call overhead once per batch.
//!
//! It may return a list or tuple (its elements are the outputs), a generator (streamed like a
//! `process` generator), or `None` (no outputs). Where outputs came from, for naming a failing
//! input line: a list as long as the batch is read as one output per item, in order; any other
//! result belongs to the batch's first item, so a failure caused by it, or inside the call, stops
//! the stream before the whole batch (the call is all or nothing).

use super::convert::to_py;
use crate::error::{Error, ErrorKind, Result};
use crate::value::Value;
use rustpython_vm::builtins::{PyGenerator, PyList, PyTuple};
use rustpython_vm::{PyObjectRef, PyResult, VirtualMachine};

/// What a `process_batch` call returned.
pub(crate) enum BatchResult {
    /// `None`: no outputs.
    Nothing,
    /// A list's or tuple's elements; `per_item` when there is one per input item.
    Outputs {
        values: Vec<PyObjectRef>,
        per_item: bool,
    },
    /// A generator to stream.
    Generator(PyObjectRef),
}

/// Calls `process_batch(items)` with the items as a Python list.
pub(crate) fn call(
    vm: &VirtualMachine,
    process_batch: &PyObjectRef,
    items: impl Iterator<Item = Value>,
) -> Result<PyResult> {
    let list = items
        .map(|item| to_py(&item, vm))
        .collect::<Result<Vec<_>>>()?;
    let list: PyObjectRef = vm.ctx.new_list(list).into();
    Ok(process_batch.vectorcall(vec![list], 1, None, vm))
}

/// Sorts out what `process_batch` returned for a batch of `count` items.
pub(crate) fn classify(
    vm: &VirtualMachine,
    result: PyObjectRef,
    count: usize,
) -> Result<BatchResult> {
    if vm.is_none(&result) {
        return Ok(BatchResult::Nothing);
    }
    if result.downcast_ref::<PyGenerator>().is_some() {
        return Ok(BatchResult::Generator(result));
    }
    let values = if let Some(list) = result.downcast_ref::<PyList>() {
        list.borrow_vec().to_vec()
    } else if let Some(tuple) = result.downcast_ref::<PyTuple>() {
        tuple.as_slice().to_vec()
    } else {
        return Err(Error::new(
            ErrorKind::Node,
            format_args!(
                "process_batch must return a list, a tuple, a generator or None, not {}",
                result.class().name()
            ),
        ));
    };
    let per_item = values.len() == count;
    Ok(BatchResult::Outputs { values, per_item })
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;
    use crate::python::PythonNode;

    fn run(source: &str, items: &[i64]) -> Result<Vec<Value>> {
        let mut node = PythonNode::class(source, "N");
        let mut out = Vec::new();
        for &item in items {
            node.process(Value::Int(item), &mut out)?;
        }
        Ok(out)
    }

    #[test]
    fn lists_tuples_generators_and_none_are_outputs() {
        let list = "class N:\n    def process_batch(self, items):\n        return [x * 2 for x in items]\n";
        assert_eq!(run(list, &[1, 2]).unwrap(), [Value::Int(2), Value::Int(4)]);
        let tuple = "class N:\n    def process_batch(self, items):\n        return tuple(items)\n";
        assert_eq!(run(tuple, &[7]).unwrap(), [Value::Int(7)]);
        let generator = "class N:\n    def process_batch(self, items):\n        for x in items:\n            yield x\n            yield -x\n";
        assert_eq!(
            run(generator, &[3]).unwrap(),
            [Value::Int(3), Value::Int(-3)]
        );
        let none = "class N:\n    def process_batch(self, items):\n        return None\n";
        assert!(run(none, &[1, 2]).unwrap().is_empty());
    }

    #[test]
    fn anything_else_is_an_error_naming_what_came_back() {
        let text = "class N:\n    def process_batch(self, items):\n        return 'abc'\n";
        let err = run(text, &[1]).unwrap_err();
        assert!(
            err.message().contains(
                "process_batch must return a list, a tuple, a generator or None, not str"
            ),
            "{err}"
        );
    }
}
