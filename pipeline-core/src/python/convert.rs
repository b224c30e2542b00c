//! [`Value`] ↔ Python objects, converted natively (never through JSON text).
//!
//! | `Value` | Python |
//! |---|---|
//! | `Null` | `None` |
//! | `Bool` | `bool` |
//! | `Int` | `int` (Python ints outside `i64` are an error, never wrapped) |
//! | `Float` | `float` (NaN and ±infinity are an error: JSON cannot carry them) |
//! | `Str` | `str` |
//! | `Bytes` | `bytes` (`bytearray` is accepted back) |
//! | `List` | `list` (`tuple` is accepted back) |
//! | `Map` | `dict` with `str` keys |
//!
//! Both directions stop at [`MAX_DEPTH`] levels of nesting with an error (a self-containing list
//! is one), never a native stack overflow.
//!
//! Exact built-in types are tested first (one pointer compare each), so the common case costs no
//! `isinstance` walk; subclasses (an `IntEnum`, a `dict` subclass) still convert.

use crate::error::{Error, ErrorKind, Result};
use crate::value::{Map, Value};
use rustpython_vm::builtins::{
    PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyStr, PyTuple,
};
use rustpython_vm::{AsObject, PyObject, PyObjectRef, VirtualMachine};
use std::sync::Arc;

/// Deepest nesting converted, either way; deeper (or self-referencing) containers are an error,
/// not a stack overflow. Deeper than any JSON input the manifest reader accepts.
pub(crate) const MAX_DEPTH: usize = 256;

/// Builds the Python object for `value`, or explains why not (nested deeper than [`MAX_DEPTH`]).
pub(crate) fn to_py(value: &Value, vm: &VirtualMachine) -> Result<PyObjectRef> {
    to_py_at(value, vm, 0)
}

fn to_py_at(value: &Value, vm: &VirtualMachine, depth: usize) -> Result<PyObjectRef> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    Ok(match value {
        Value::Null => vm.ctx.none(),
        Value::Bool(b) => vm.ctx.new_bool(*b).into(),
        Value::Int(i) => vm.ctx.new_int(*i).into(),
        Value::Float(f) => vm.ctx.new_float(*f).into(),
        Value::Str(s) => vm.ctx.new_str(&**s).into(),
        Value::Bytes(b) => vm.ctx.new_bytes(b.to_vec()).into(),
        Value::List(items) => vm
            .ctx
            .new_list(
                items
                    .iter()
                    .map(|item| to_py_at(item, vm, depth + 1))
                    .collect::<Result<_>>()?,
            )
            .into(),
        Value::Map(map) => {
            let dict = vm.ctx.new_dict();
            for (k, v) in map.iter() {
                // Setting a str key on a fresh dict cannot raise.
                let _ = dict.set_item(&**k, to_py_at(v, vm, depth + 1)?, vm);
            }
            dict.into()
        }
    })
}

fn too_deep() -> Error {
    conversion(format_args!(
        "value nested deeper than {MAX_DEPTH} levels (or containing itself)"
    ))
}

/// Reads a [`Value`] from a Python object, or explains (with the Python type name) why not.
pub(crate) fn from_py(obj: &PyObject, vm: &VirtualMachine) -> Result<Value> {
    from_py_at(obj, vm, 0)
}

fn from_py_at(obj: &PyObject, vm: &VirtualMachine, depth: usize) -> Result<Value> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    let types = &vm.ctx.types;
    let class = obj.class();
    if vm.is_none(obj) {
        return Ok(Value::Null);
    }
    // `bool` before `int`: bool is an int subclass.
    if class.is(types.bool_type) {
        return Ok(Value::Bool(obj.is(&vm.ctx.true_value)));
    }
    if let Some(int) = obj.downcast_ref::<PyInt>() {
        return int
            .try_to_primitive::<i64>(vm)
            .map(Value::Int)
            .map_err(|_| {
                conversion(format_args!(
                    "Python int {} does not fit in a 64-bit integer",
                    int.as_bigint()
                ))
            });
    }
    if let Some(f) = obj.downcast_ref::<PyFloat>() {
        let f = f.to_f64();
        if !f.is_finite() {
            let name = if f.is_nan() {
                "nan"
            } else if f > 0.0 {
                "inf"
            } else {
                "-inf"
            };
            return Err(conversion(format_args!(
                "Python float {name}, which JSON cannot carry (not a pipeline value)"
            )));
        }
        return Ok(Value::Float(f));
    }
    if let Some(s) = obj.downcast_ref::<PyStr>() {
        return match s.to_str() {
            Some(text) => Ok(Value::Str(Arc::from(text))),
            None => Err(conversion(
                "Python str with lone surrogates is not valid UTF-8",
            )),
        };
    }
    if let Some(b) = obj.downcast_ref::<PyBytes>() {
        return Ok(Value::Bytes(Arc::from(b.as_bytes())));
    }
    if let Some(list) = obj.downcast_ref::<PyList>() {
        // Copy the references out first: converting may not run Python code, but keeping the
        // borrow short is cheap insurance.
        let items: Vec<PyObjectRef> = list.borrow_vec().to_vec();
        return items
            .iter()
            .map(|item| from_py_at(item, vm, depth + 1))
            .collect::<Result<Arc<[Value]>>>()
            .map(Value::List);
    }
    if let Some(tuple) = obj.downcast_ref::<PyTuple>() {
        return tuple
            .as_slice()
            .iter()
            .map(|item| from_py_at(item, vm, depth + 1))
            .collect::<Result<Arc<[Value]>>>()
            .map(Value::List);
    }
    if let Some(dict) = obj.downcast_ref::<PyDict>() {
        let items = dict.items_vec();
        let mut entries = Vec::with_capacity(items.len());
        for (k, v) in items {
            let Some(key) = k.downcast_ref::<PyStr>().and_then(|s| s.to_str()) else {
                return Err(conversion(format_args!(
                    "dict keys must be str to become a map, got {}",
                    k.class().name()
                )));
            };
            entries.push((Arc::from(key), from_py_at(&v, vm, depth + 1)?));
        }
        return Ok(Value::Map(Arc::new(Map::from_unsorted(entries))));
    }
    if let Some(b) = obj.downcast_ref::<PyByteArray>() {
        return Ok(Value::Bytes(Arc::from(&*b.borrow_buf())));
    }
    Err(conversion(format_args!(
        "cannot pass a Python `{}` on as a pipeline value (use None, bool, int, float, str, bytes, list, tuple or dict)",
        class.name()
    )))
}

fn conversion(message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Conversion, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::interpreter::Runtime;

    fn round_trip(value: &Value) -> Value {
        let rt = Runtime::new().unwrap();
        rt.enter(|vm| from_py(&to_py(value, vm).unwrap(), vm))
            .unwrap()
            .unwrap()
    }

    #[test]
    fn scalars_round_trip() {
        for v in [
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::Int(i64::MIN),
            Value::Int(i64::MAX),
            Value::Float(-0.5),
            Value::from("héllo ✓ 𝄞"),
            Value::Bytes(Arc::from(&b"\x00\xffab"[..])),
        ] {
            assert_eq!(round_trip(&v), v);
        }
    }

    #[test]
    fn nested_containers_round_trip() {
        let v = Value::map([
            (
                "list",
                Value::list([Value::Int(1), Value::list([Value::Null])]),
            ),
            ("map", Value::map([("ü", Value::Float(1.5))])),
            ("empty", Value::list([])),
        ]);
        assert_eq!(round_trip(&v), v);
    }

    #[test]
    fn unsupported_types_and_keys_are_errors() {
        let rt = Runtime::new().unwrap();
        let err = rt
            .enter(|vm| {
                let set = vm
                    .run_block_expr(vm.new_scope_with_builtins(), "{1, 2}")
                    .unwrap();
                from_py(&set, vm)
            })
            .unwrap()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conversion);
        assert!(err.message().contains("`set`"), "{err}");
        let err = rt
            .enter(|vm| {
                let d = vm
                    .run_block_expr(vm.new_scope_with_builtins(), "{1: 2}")
                    .unwrap();
                from_py(&d, vm)
            })
            .unwrap()
            .unwrap_err();
        assert!(err.message().contains("keys must be str"), "{err}");
    }

    #[test]
    fn self_containing_list_is_an_error_not_a_crash() {
        let rt = Runtime::new().unwrap();
        let err = rt
            .enter(|vm| {
                let scope = vm.new_scope_with_builtins();
                vm.run_block_expr(scope.clone(), "[]").unwrap();
                let l = vm
                    .run_block_expr(scope, "(lambda l: (l.append(l), l)[1])([])")
                    .unwrap();
                from_py(&l, vm)
            })
            .unwrap()
            .unwrap_err();
        assert!(err.message().contains("nested deeper"), "{err}");
    }
}
