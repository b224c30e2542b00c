//! Python nodes: every node form, value round-trips, errors, modules, and Python nodes in
//! `pipeline!` graphs (fused and threaded).

use pipeline::prelude::*;
use pipeline::python::{PythonError, PythonNode};
use std::sync::Arc;

fn run(node: &mut PythonNode, items: impl IntoIterator<Item = Value>) -> Result<Vec<Value>> {
    node.initialize(&NodeContext::new("py", &Value::Null))?;
    let mut out = Vec::new();
    for item in items {
        node.process(item, &mut out)?;
    }
    node.finish(&mut out)?;
    node.cleanup()?;
    Ok(out)
}

fn ints(xs: impl IntoIterator<Item = i64>) -> Vec<Value> {
    xs.into_iter().map(Value::Int).collect()
}

const STATEFUL: &str = r#"
class Window:
    def __init__(self, size, label="w"):
        self.size = size
        self.label = label
        self.buffer = []
        self.log = []

    def initialize(self):
        self.log.append("init")

    def process(self, item):
        self.buffer.append(item)
        if len(self.buffer) == self.size:
            out, self.buffer = self.buffer, []
            return {"label": self.label, "items": out}

    def finish(self):
        if self.buffer:
            yield {"label": self.label, "items": self.buffer, "partial": True}
            self.buffer = []
        yield {"label": self.label, "log": self.log}

    def cleanup(self):
        print("cleanup of", self.label)
"#;

#[test]
fn class_with_args_initialize_finish_yielding_and_cleanup() {
    let mut node = PythonNode::class(STATEFUL, "Window").with_args(Value::map([
        ("size", Value::Int(2)),
        ("label", Value::from("pairs")),
    ]));
    let out = run(&mut node, ints(1..=5)).unwrap();
    let label = || ("label", Value::from("pairs"));
    assert_eq!(
        out,
        vec![
            Value::map([label(), ("items", Value::list(ints([1, 2])))]),
            Value::map([label(), ("items", Value::list(ints([3, 4])))]),
            Value::map([
                label(),
                ("items", Value::list(ints([5]))),
                ("partial", Value::Bool(true))
            ]),
            Value::map([label(), ("log", Value::list([Value::from("init")]))]),
        ]
    );
}

#[test]
fn finish_may_return_a_single_item() {
    let src = "class Total:\n    def __init__(self):\n        self.n = 0\n    def process(self, x):\n        self.n += x\n    def finish(self):\n        return self.n\n";
    let out = run(&mut PythonNode::class(src, "Total"), ints(1..=4)).unwrap();
    assert_eq!(out, ints([10]));
}

#[test]
fn function_returning_none_emits_nothing() {
    let src = "def odd(x):\n    if x % 2:\n        return x\n";
    let out = run(&mut PythonNode::function(src, "odd"), ints(0..6)).unwrap();
    assert_eq!(out, ints([1, 3, 5]));
}

#[test]
fn generator_emits_each_yield_including_none_as_null() {
    let src = "def gen(n):\n    for i in range(n):\n        yield i\n    yield None\n";
    let out = run(&mut PythonNode::function(src, "gen"), ints([3])).unwrap();
    assert_eq!(
        out,
        vec![Value::Int(0), Value::Int(1), Value::Int(2), Value::Null]
    );
}

#[test]
fn values_round_trip_natively() {
    let src = "def same(x):\n    return x\n";
    let nested = Value::map([
        (
            "list",
            Value::list([
                Value::Int(-1),
                Value::Float(2.5),
                Value::Null,
                Value::Bool(false),
            ]),
        ),
        (
            "deep",
            Value::map([("ü∂", Value::list([Value::list([Value::from("𝄞 ✓")])]))]),
        ),
        ("bytes", Value::Bytes(Arc::from(&b"\x00\x01\xfe"[..]))),
        ("max", Value::Int(i64::MAX)),
        ("min", Value::Int(i64::MIN)),
    ]);
    let out = run(&mut PythonNode::function(src, "same"), [nested.clone()]).unwrap();
    assert_eq!(out, vec![nested]);
}

#[test]
fn python_types_map_to_values() {
    let src = r#"
def kinds(_):
    return {
        "tuple": (1, "a"),
        "bytearray": bytearray(b"xy"),
        "bool_is_not_int": True,
        "float": 1e300,
        "text": "naïve",
        "int_from_str": int("12"),
        "types": [type(x).__name__ for x in (None, True, 1, 1.0, "s", b"b", [], {})],
    }
"#;
    let out = run(&mut PythonNode::function(src, "kinds"), [Value::Null]).unwrap();
    let m = &out[0];
    assert_eq!(
        m.get("tuple"),
        Some(&Value::list([Value::Int(1), Value::from("a")]))
    );
    assert_eq!(
        m.get("bytearray"),
        Some(&Value::Bytes(Arc::from(&b"xy"[..])))
    );
    assert_eq!(m.get("bool_is_not_int"), Some(&Value::Bool(true)));
    assert_eq!(m.get("float"), Some(&Value::Float(1e300)));
    assert_eq!(m.get("text"), Some(&Value::from("naïve")));
    assert_eq!(m.get("int_from_str"), Some(&Value::Int(12)));
    let src = "def types(x):\n    return [type(v).__name__ for v in x]\n";
    let all = Value::list([
        Value::Null,
        Value::Bool(true),
        Value::Int(1),
        Value::Float(1.0),
        Value::from("s"),
        Value::Bytes(Arc::from(&b"b"[..])),
        Value::list([]),
        Value::map::<&str>([]),
    ]);
    let out = run(&mut PythonNode::function(src, "types"), [all]).unwrap();
    let names: Vec<Value> = [
        "NoneType", "bool", "int", "float", "str", "bytes", "list", "dict",
    ]
    .into_iter()
    .map(Value::from)
    .collect();
    assert_eq!(out, vec![Value::list(names)]);
}

#[test]
fn big_ints_are_an_error_naming_the_node() {
    let src = "def big(x):\n    return x * 2**64\n";
    let err = run(&mut PythonNode::function(src, "big"), ints([3])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conversion);
    assert_eq!(err.node(), Some("py"));
    assert_eq!(
        err.to_string(),
        "node `py`: process() returned: Python int 55340232221128654848 does not fit in a 64-bit integer"
    );
    // Big ints computed and reduced inside Python are fine.
    let src = "def fits(x):\n    return (x * 2**64) // 2**64\n";
    assert_eq!(
        run(&mut PythonNode::function(src, "fits"), ints([3])).unwrap(),
        ints([3])
    );
}

#[test]
fn unconvertible_results_are_errors() {
    let src = "def s(x):\n    yield {1, 2}\n";
    let err = run(&mut PythonNode::function(src, "s"), ints([1])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conversion);
    assert!(
        err.to_string()
            .contains("process() yielded: cannot pass a Python `set`"),
        "{err}"
    );
}

#[test]
fn exceptions_carry_the_traceback_and_name_the_node() {
    let src = "def helper(x):\n    return {'a': 1}[x]\n\ndef lookup(x):\n    return helper(x)\n";
    let err = run(&mut PythonNode::function(src, "lookup"), [Value::from("b")]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Node);
    assert_eq!(err.node(), Some("py"));
    let py = err
        .source_error()
        .unwrap()
        .downcast_ref::<PythonError>()
        .unwrap();
    assert_eq!(py.exception_type(), "KeyError");
    assert_eq!(py.message(), "'b'");
    assert_eq!(
        py.traceback(),
        "Traceback (most recent call last):\n  File \"<py>\", line 5, in lookup\n    return helper(x)\n  File \"<py>\", line 2, in helper\n    return {'a': 1}[x]\n"
    );
    assert!(
        err.to_string()
            .starts_with("node `py`: KeyError: 'b'\nTraceback"),
        "{err}"
    );
}

#[test]
fn exception_chains_are_shown() {
    let src = "def f(x):\n    try:\n        1 / 0\n    except ZeroDivisionError as e:\n        raise ValueError('bad item') from e\n";
    let err = run(
        &mut PythonNode::function(src, "f").with_filename("nodes/f.py"),
        ints([1]),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("ZeroDivisionError: division by zero"),
        "{text}"
    );
    assert!(text.contains("direct cause"), "{text}");
    assert!(text.contains("ValueError: bad item"), "{text}");
    assert!(text.contains("File \"nodes/f.py\", line 5, in f"), "{text}");
}

#[test]
fn syntax_errors_show_line_and_caret() {
    let src = "def ok(x):\n    return x\n\ndef broken(x):\n    return x +* 2\n";
    let err = run(&mut PythonNode::function(src, "ok"), ints([1])).unwrap_err();
    assert_eq!(err.node(), Some("py"));
    let py = err
        .source_error()
        .unwrap()
        .downcast_ref::<PythonError>()
        .unwrap();
    assert_eq!(py.exception_type(), "SyntaxError");
    let tb = py.traceback();
    assert!(
        tb.contains("File \"<py>\", line 5\n    return x +* 2\n"),
        "{tb}"
    );
    // The caret sits under the `*` (column 14 of the line, 10 after its indentation).
    assert!(
        tb.ends_with("    return x +* 2\n              ^\n"),
        "{tb:?}"
    );
}

#[test]
fn missing_entry_points_are_explained() {
    let err = run(&mut PythonNode::function("x = 1\n", "f"), ints([1])).unwrap_err();
    assert!(
        err.to_string().contains("defines no function named `f`"),
        "{err}"
    );
    let err = run(
        &mut PythonNode::class("class C:\n    pass\n", "C"),
        ints([1]),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains(
            "class `C` has no `process(self, item)` or `process_batch(self, items)` method"
        ),
        "{err}"
    );
    let err = run(
        &mut PythonNode::class(
            "class C:\n    def process(self, x):\n        return x\n",
            "C",
        )
        .with_args(Value::Int(3)),
        ints([1]),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("must be a map of keyword arguments"),
        "{err}"
    );
    let err = run(&mut PythonNode::class("class C:\n    def __init__(self):\n        raise RuntimeError('no')\n    def process(self, x):\n        pass\n", "C"), ints([1])).unwrap_err();
    assert!(err.to_string().contains("RuntimeError: no"), "{err}");
    assert!(err.to_string().contains("line 3, in __init__"), "{err}");
}

#[test]
fn pure_modules_are_available() {
    let src = r#"
import math, json, re, itertools, functools, collections, heapq, bisect, string, textwrap
import operator, enum, fractions, copy, struct, base64, types, abc, cmath, unicodedata
from collections import Counter, deque, namedtuple, OrderedDict, defaultdict
def f(_):
    P = namedtuple("P", "x y")
    class Color(enum.Enum):
        RED = 1
    return {
        "math": math.sqrt(16.0) + math.pi - math.pi,
        "json": json.loads(json.dumps({"k": [1, 2]})),
        "re": re.findall(r"\d+", "a1b22c333"),
        "itertools": list(itertools.accumulate([1, 2, 3])),
        "functools": functools.reduce(operator.add, [1, 2, 3]),
        "counter": Counter("abca").most_common(1)[0][0],
        "deque": list(deque([1, 2, 3], maxlen=2)),
        "namedtuple": P(1, 2).y,
        "heapq": heapq.nsmallest(2, [5, 1, 4]),
        "bisect": bisect.bisect([1, 2, 4], 3),
        "unicodedata": unicodedata.name("é"),
        "enum": Color.RED.name,
        "fraction": str(fractions.Fraction(1, 3) * 3),
        "struct": struct.unpack("<i", struct.pack("<i", -7))[0],
        "base64": base64.b64encode(b"hi").decode(),
        "cmath": cmath.sqrt(-1).imag,
        "textwrap": textwrap.shorten("a b c d e f", 7),
    }
"#;
    let out = run(&mut PythonNode::function(src, "f"), [Value::Null]).unwrap();
    let m = &out[0];
    assert_eq!(m.get("math"), Some(&Value::Float(4.0)));
    assert_eq!(
        m.get("json"),
        Some(&Value::map([("k", Value::list(ints([1, 2])))]))
    );
    assert_eq!(
        m.get("re"),
        Some(&Value::list(["1", "22", "333"].map(Value::from)))
    );
    assert_eq!(m.get("itertools"), Some(&Value::list(ints([1, 3, 6]))));
    assert_eq!(m.get("functools"), Some(&Value::Int(6)));
    assert_eq!(m.get("counter"), Some(&Value::from("a")));
    assert_eq!(m.get("deque"), Some(&Value::list(ints([2, 3]))));
    assert_eq!(m.get("namedtuple"), Some(&Value::Int(2)));
    assert_eq!(m.get("heapq"), Some(&Value::list(ints([1, 4]))));
    assert_eq!(m.get("bisect"), Some(&Value::Int(2)));
    assert_eq!(
        m.get("unicodedata"),
        Some(&Value::from("LATIN SMALL LETTER E WITH ACUTE"))
    );
    assert_eq!(m.get("enum"), Some(&Value::from("RED")));
    assert_eq!(m.get("fraction"), Some(&Value::from("1")));
    assert_eq!(m.get("struct"), Some(&Value::Int(-7)));
    assert_eq!(m.get("base64"), Some(&Value::from("aGk=")));
    assert_eq!(m.get("cmath"), Some(&Value::Float(1.0)));
    assert_eq!(m.get("textwrap"), Some(&Value::from("a [...]")));
}

#[test]
fn nodes_have_separate_namespaces_in_one_interpreter() {
    let a = "counter = 0\ndef f(x):\n    global counter\n    counter += 1\n    return counter\n";
    let mut n1 = PythonNode::function(a, "f");
    let mut n2 = PythonNode::function(a, "f");
    let mut out = Vec::new();
    n1.process(Value::Null, &mut out).unwrap();
    n1.process(Value::Null, &mut out).unwrap();
    n2.process(Value::Null, &mut out).unwrap();
    assert_eq!(out, ints([1, 2, 1]));
}

const ADD_ONE: &str = "class PassThrough:\n    def process(self, x):\n        return x\n\nclass Add:\n    def __init__(self, n):\n        self.n = n\n    def process(self, x):\n        return x + self.n\n";

#[test]
fn typed_python_nodes_in_a_fused_graph() {
    use pipeline::python::Python;
    let mut p = pipeline! {
        pass_in = Python::<i64, i64>::class(ADD_ONE, "PassThrough");
        add = Python::<i64, i64>::class(ADD_ONE, "Add").with_args(Value::map([("n", Value::Int(1))]));
        pass_out = Python::<i64, i64>::class(ADD_ONE, "PassThrough");
        input -> pass_in -> add -> pass_out -> output;
    };
    let out: Vec<i64> = p.run(0..100).unwrap();
    assert_eq!(out, (1..101).collect::<Vec<i64>>());
    // A second run reuses the started nodes.
    assert_eq!(p.run([41]).unwrap(), vec![42]);
}

#[test]
fn python_nodes_in_threaded_stages() {
    let mut p = pipeline! {
        pass_in = PassThrough::<i64>::new();
        add = Python::<i64, i64>::class(ADD_ONE, "Add").with_args(Value::map([("n", Value::Int(1))]));
        scale = Python::<i64, f64>::function("def half(x):\n    return x / 2\n", "half");
        input => pass_in => add => scale -> output;
    };
    let out: Vec<f64> = p.run(0..1000).unwrap();
    assert_eq!(out, (1..1001).map(|x| x as f64 / 2.0).collect::<Vec<f64>>());
    assert_eq!(p.run([1]).unwrap(), vec![1.0]);
}

#[test]
fn errors_in_a_threaded_stage_name_the_graph_node() {
    let mut p = pipeline! {
        checked = Python::<i64, i64>::function("def check(x):\n    if x == 3:\n        raise ValueError(f'bad {x}')\n    return x\n", "check");
        input => checked -> output;
    };
    let err = p.run(0..10).unwrap_err();
    assert_eq!(err.node(), Some("checked"));
    assert!(err.to_string().contains("ValueError: bad 3"), "{err}");
    assert!(
        err.to_string()
            .contains("File \"<checked>\", line 3, in check"),
        "{err}"
    );
}

#[test]
fn typed_results_that_do_not_convert_are_errors() {
    let mut p = pipeline! {
        wrong = Python::<i64, i64>::function("def f(x):\n    return str(x)\n", "f");
        input -> wrong -> output;
    };
    let err = p.run([1]).unwrap_err();
    assert_eq!(err.node(), Some("wrong"));
    assert_eq!(err.kind(), ErrorKind::Conversion);
    assert!(
        err.to_string()
            .contains("Python result: expected int, got string"),
        "{err}"
    );
}

#[test]
fn dynamic_python_nodes_in_a_graph_with_finish() {
    let mut p = pipeline! {
        window = PythonNode::class(STATEFUL, "Window").with_args(Value::map([("size", Value::Int(3))]));
        input => window -> output;
    };
    let out: Vec<Value> = p.run(ints(0..7)).unwrap();
    assert_eq!(out.len(), 4);
    assert_eq!(out[2].get("partial"), Some(&Value::Bool(true)));
}

#[test]
fn every_allowed_module_imports() {
    let names: Vec<Value> = pipeline::python::allowed_modules()
        .map(Value::from)
        .collect();
    assert!(names.len() > 30);
    let src = "def load(name):\n    __import__(name)\n    return name\n";
    let out = run(&mut PythonNode::function(src, "load"), names.clone()).unwrap();
    assert_eq!(out, names);
}
