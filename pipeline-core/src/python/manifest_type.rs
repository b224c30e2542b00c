//! The `python` node type of manifests and of the run-time [`Registry`]: a [`PythonNode`] built
//! from params, run by dynamic stages one batch per interpreter entry.
//!
//! ```json
//! {"id": "scale", "node_type": "python",
//!  "params": {"file": "nodes/scale.py", "class": "Scale", "args": {"factor": 3}}}
//! ```
//!
//! `file` is read by the manifest loader ([`load_with_options`](crate::manifest::load_with_options)),
//! relative to the manifest's folder, and handed to this factory as `code` (node code itself never
//! reads files).

use super::node::PythonNode;
use crate::dynamic::{DynNode, ParamError, ParamInfo, Registry};
use crate::error::Result;
use crate::graph::PortType;
use crate::manifest::deserialize_params;
use crate::node::{Node, NodeContext};
use crate::python_params::PythonEntry;
use crate::value::Value;

pub use crate::python_params::{PythonParams, PYTHON_NODE_TYPE};

impl PythonParams {
    /// Checks the combination of params ([`PythonParams::check`]) and the source (it parses, and
    /// defines the class or function at its top level), then builds the node.
    pub fn build(self) -> Result<PythonNode, ParamError> {
        let spec = self.check()?;
        let filename = spec.filename.as_deref().unwrap_or("<code>");
        super::source_check::check(&spec.code, filename, spec.entry.param(), spec.entry.name())?;
        let node = match spec.entry {
            PythonEntry::Class(class) => {
                let args = spec.args.map_or(Value::Null, |args| {
                    Value::from(&serde_json::Value::Object(args))
                });
                PythonNode::class(spec.code, class).with_args(args)
            }
            PythonEntry::Function(function) => PythonNode::function(spec.code, function),
        };
        Ok(match spec.filename {
            Some(filename) => node.with_filename(filename),
            None => node,
        })
    }
}

/// Registers the `python` node type.
///
/// ```
/// use pipeline_core::dynamic::Registry;
/// use pipeline_core::prelude::*;
/// use serde_json::json;
///
/// let mut registry = Registry::with_builtins();
/// pipeline_core::python::register_python(&mut registry);
/// let params = json!({"code": "def double(x):\n    return 2 * x\n", "function": "double"});
/// let mut node = registry.get("python").unwrap().build(&params).unwrap();
/// let mut out = Vec::new();
/// node.process(Value::Int(21), &mut out)?;
/// assert_eq!(out, [Value::Int(42)]);
/// # Ok::<(), pipeline_core::Error>(())
/// ```
pub fn register_python(registry: &mut Registry) {
    let param = |name: &str, kind: &str| ParamInfo {
        name: name.to_string(),
        kind: kind.to_string(),
        default: None,
        required: false,
    };
    registry
        .register_dyn(
            PYTHON_NODE_TYPE,
            PortType::Any,
            PortType::Any,
            vec![
                param("file", "string (path relative to the manifest)"),
                param("code", "string (inline source)"),
                param("class", "string"),
                param("function", "string"),
                param("args", "object (constructor keyword arguments)"),
                param("filename", "string (shown in tracebacks)"),
            ],
            |params| {
                let params: PythonParams = deserialize_params(params)?;
                Ok(Box::new(PythonDyn(params.build()?)) as Box<dyn DynNode>)
            },
        )
        .describe(
            PYTHON_NODE_TYPE,
            "Runs a Python class or function on each item, in a sandboxed RustPython interpreter.",
        );
}

/// A [`PythonNode`] as a dynamic node: a whole batch per interpreter entry.
pub struct PythonDyn(pub PythonNode);

impl DynNode for PythonDyn {
    fn initialize(&mut self, ctx: &NodeContext<'_>) -> Result<()> {
        self.0.initialize(ctx)
    }

    /// One item, whole: nothing resumes a single `process`, so a generator is drained here.
    fn process(&mut self, item: Value, out: &mut Vec<Value>) -> Result<()> {
        self.0.process_dyn(item, &mut |v| {
            out.push(v);
            Ok(())
        })
    }

    /// At most [`OUTPUTS_PER_CALL`](super::node::OUTPUTS_PER_CALL) outputs, the rest left for
    /// [`resume`](DynNode::resume): a generator streams in bounded pieces.
    fn process_batch(&mut self, items: &mut Vec<Value>, out: &mut Vec<Value>) -> Result<()> {
        self.0.process_batch(items, out).map(drop)
    }

    /// One interpreter entry per batch; each output is attributed to the item whose call made
    /// it, also across [`resume`](DynNode::resume_traced).
    fn process_batch_traced(
        &mut self,
        items: &mut Vec<Value>,
        item_origins: &mut Vec<u64>,
        out: &mut Vec<Value>,
        origins: &mut Vec<u64>,
    ) -> Result<()> {
        self.0
            .process_batch_traced(items, item_origins, out, Some(origins))
            .map(drop)
    }

    fn finish_traced(
        &mut self,
        out: &mut Vec<Value>,
        origins: &mut Vec<u64>,
        end: u64,
    ) -> Result<()> {
        self.0.finish_batch(out, Some(origins), end).map(drop)
    }

    /// A flush gives the node nothing new; a stream its stage stopped resuming (a later node
    /// failed) is dropped, so an endless generator cannot go on.
    fn flush(&mut self, out: &mut Vec<Value>) -> Result<()> {
        let _ = out;
        self.0.abandon_pending();
        Ok(())
    }

    fn resume_traced(
        &mut self,
        out: &mut Vec<Value>,
        origins: &mut Vec<u64>,
        latest: u64,
    ) -> Result<bool> {
        let _ = latest; // the node knows each output's own origin
        self.0.resume_batch(out, Some(origins))
    }

    fn finish(&mut self, out: &mut Vec<Value>) -> Result<()> {
        self.0.finish_batch(out, None, 0).map(drop)
    }

    fn resume(&mut self, out: &mut Vec<Value>) -> Result<bool> {
        self.0.resume_batch(out, None)
    }

    fn may_resume(&mut self) -> bool {
        self.0.has_pending()
    }

    fn cleanup(&mut self) -> Result<()> {
        Node::cleanup(&mut self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn build(params: serde_json::Value) -> Result<Box<dyn DynNode>, ParamError> {
        let mut registry = Registry::new();
        register_python(&mut registry);
        registry.get("python").unwrap().build(&params)
    }

    #[test]
    fn bad_combinations_name_the_param() {
        let err = build(json!({"code": "x", "file": "a.py", "class": "A"}))
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "param `file`: give either `file` or `code`, not both"
        );
        let err = build(json!({"class": "A"})).err().unwrap();
        assert!(err.message.contains("needs `file`"), "{err}");
        let err = build(json!({"code": "x"})).err().unwrap();
        assert!(err.message.contains("needs `class`"), "{err}");
        let err =
            build(json!({"code": "def f(x):\n    return x\n", "function": "f", "args": {"a": 1}}))
                .err()
                .unwrap();
        assert_eq!(err.param.as_deref(), Some("args"));
        let err = build(json!({"code": "x", "function": "f", "klass": "A"}))
            .err()
            .unwrap();
        assert!(err.message.contains("unknown field `klass`"), "{err}");
    }

    #[test]
    fn an_endless_generator_streams_in_bounded_pieces() {
        use crate::python::node::OUTPUTS_PER_CALL;
        let mut node = build(json!({
            "code": "import itertools\ndef forever(x):\n    yield from itertools.count(x)\n",
            "function": "forever"
        }))
        .unwrap();
        let mut items = vec![Value::Int(0), Value::Int(100)];
        let mut out = Vec::new();
        node.process_batch(&mut items, &mut out).unwrap();
        assert!(items.is_empty());
        assert_eq!(out.len(), OUTPUTS_PER_CALL);
        out.clear();
        assert!(node.resume(&mut out).unwrap());
        assert_eq!(out.len(), OUTPUTS_PER_CALL);
        assert_eq!(out[0], Value::Int(OUTPUTS_PER_CALL as i64));
        // A new batch abandons the stream the stage gave up on (after a downstream error).
        let mut items = vec![Value::Int(7)];
        out.clear();
        node.process_batch(&mut items, &mut out).unwrap();
        assert_eq!(out[..2], [Value::Int(7), Value::Int(8)]);
    }

    #[test]
    fn a_batch_left_pending_keeps_its_later_items_in_order() {
        use crate::python::node::OUTPUTS_PER_CALL;
        let mut node = build(json!({
            "code": "def spread(n):\n    for i in range(n):\n        yield n\n",
            "function": "spread"
        }))
        .unwrap();
        let sizes = [OUTPUTS_PER_CALL as i64 + 3, 2, 0, 1];
        let mut items: Vec<Value> = sizes.iter().copied().map(Value::Int).collect();
        let mut out = Vec::new();
        node.process_batch(&mut items, &mut out).unwrap();
        assert_eq!(out.len(), OUTPUTS_PER_CALL);
        while node.resume(&mut out).unwrap() {}
        let expected: Vec<Value> = sizes
            .iter()
            .flat_map(|&n| std::iter::repeat_n(Value::Int(n), n as usize))
            .collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn finish_that_yields_streams_too() {
        use crate::python::node::OUTPUTS_PER_CALL;
        let mut node = build(json!({
            "code": "class Tail:\n    def process(self, x):\n        pass\n    def finish(self):\n        yield from range(3000)\n",
            "class": "Tail"
        }))
        .unwrap();
        let mut out = Vec::new();
        node.finish(&mut out).unwrap();
        assert_eq!(out.len(), OUTPUTS_PER_CALL);
        while node.resume(&mut out).unwrap() {}
        assert_eq!(out, (0..3000).map(Value::Int).collect::<Vec<_>>());
    }

    #[test]
    fn values_json_cannot_carry_are_errors() {
        for (code, expected) in [
            ("def f(x):\n    return float('nan')\n", "process() returned: Python float nan"),
            ("def f(x):\n    yield [1, float('inf')]\n", "process() yielded: Python float inf"),
            ("def f(x):\n    return {'a': -float('inf')}\n", "Python float -inf"),
            ("def f(x):\n    return 2 ** 64\n", "does not fit in a 64-bit integer"),
            (
                "def f(x):\n    y = []\n    for _ in range(10 ** 5):\n        y = [y]\n    return y\n",
                "nested deeper than 256 levels",
            ),
        ] {
            let mut node = build(json!({"code": code, "function": "f"})).unwrap();
            let mut items = vec![Value::Null];
            let err = node.process_batch(&mut items, &mut Vec::new()).unwrap_err();
            assert!(err.to_string().contains(expected), "{code}\n=> {err}");
        }
    }

    #[test]
    fn a_value_nested_too_deep_for_python_is_an_error() {
        let mut deep = Value::Null;
        for _ in 0..1000 {
            deep = Value::list([deep]);
        }
        let mut node =
            build(json!({"code": "def f(x):\n    return 1\n", "function": "f"})).unwrap();
        let err = node
            .process_batch(&mut vec![deep], &mut Vec::new())
            .unwrap_err();
        assert!(
            err.to_string().contains("nested deeper than 256 levels"),
            "{err}"
        );
    }

    #[test]
    fn a_batch_enters_the_interpreter_once_and_keeps_order() {
        let mut node = build(json!({
            "code": "def spread(x):\n    if x % 2:\n        yield x\n        yield -x\n",
            "function": "spread"
        }))
        .unwrap();
        let mut items: Vec<Value> = (0..5).map(Value::Int).collect();
        let mut out = Vec::new();
        node.process_batch(&mut items, &mut out).unwrap();
        assert!(items.is_empty());
        assert_eq!(out, [1, -1, 3, -3].map(Value::Int));
    }
}
