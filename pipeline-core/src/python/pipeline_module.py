"""Build a pipeline in Python; the `pipeline` CLI turns it into a manifest and runs it natively.

    import pipeline

    class Scale:
        def __init__(self, factor):
            self.factor = factor
        def process(self, item):
            return item * self.factor

    def main():
        p = pipeline.Pipeline("scaled")
        add = p.node("CalculatorNode", operation="add", operand=1)  # a built-in, runs as Rust
        scale = p.node(Scale, factor=3, stage=True)                 # a Python class, runs in the VM
        add >> scale
        return p

Nodes are built-in node types by name (with their params as keyword arguments) or classes and
functions defined at the top level of the script (keyword arguments go to the constructor).
Keyword arguments `id`, `stage`, `batch_size`, `channel_capacity`, `parallelism`, `ordered`,
`isolation` (`"in_process"` or `"process"`) and `limits` (a dict of `memory_mb`, `cpu_seconds`,
`item_timeout_ms`) are the node's manifest fields, not params. `a >> b` (or `p.connect(a, b)`) connects two nodes and
returns `b`; the strings `"input"`, `"output"` and `"output.<name>"` are the pipeline's ends.

A node with output ports (`Partition`, `Route`) is left by one of them: `split.true >> evens`
(or `split.port("true")`, or the string `"split.true"`) connects port `true` of `split`.

    split = p.node("Partition", op="even")
    split.true >> p.node("CalculatorNode", operation="divide", operand=2)
    split.false >> "output.odds"

The pipeline the CLI uses: what `main()` returns if the script defines `main`, else the last
`Pipeline` created (module-level `pipeline.node(...)` and `pipeline.connect(...)` add to it,
creating one if there is none).
"""

_NODE_FIELDS = (
    "stage", "batch_size", "channel_capacity", "parallelism", "ordered", "isolation", "limits",
)
_current = None


def _caller_line():
    """The script line that called into this module (0 if unknown)."""
    try:
        import sys
        frame = sys._getframe(2)
        while frame is not None and frame.f_globals.get("__name__") == __name__:
            frame = frame.f_back
        return frame.f_lineno if frame is not None else 0
    except Exception:
        return 0


class Node:
    """A node of a `Pipeline`; `a >> b` connects `a` to `b` and returns `b`."""

    def __init__(self, pipeline, id):
        self.pipeline = pipeline
        self.id = id

    def __rshift__(self, other):
        self.pipeline._connect(self, other, _caller_line())
        return other

    def __rrshift__(self, other):
        self.pipeline._connect(other, self, _caller_line())
        return self

    def __repr__(self):
        return "<pipeline node %r>" % self.id

    def port(self, name):
        """The node's output port `name`, as the source of a connection (`node.port("even") >> b`)."""
        if not isinstance(name, str):
            raise TypeError("a port name is a str, got %r" % (name,))
        return Port(self, name)

    def __getattr__(self, name):
        # Only names that are not attributes get here: `split.true` is port `true` of `split`.
        if name.startswith("_"):
            raise AttributeError(name)
        return Port(self, name)


class Port:
    """An output port of a node (`split.true`): where a connection leaves the node."""

    def __init__(self, node, name):
        self.node = node
        self.name = name

    def __rshift__(self, other):
        self.node.pipeline._connect(self, other, _caller_line())
        return other

    def __rrshift__(self, other):
        self.node.pipeline._connect(other, self, _caller_line())

    def __repr__(self):
        return "<pipeline port %s.%s>" % (self.node.id, self.name)


class Pipeline:
    """A graph of nodes under construction; the last one created is the script's pipeline."""

    def __init__(self, name=None, description=None):
        global _current
        self.name = name
        self.description = description
        self._nodes = []
        self._objects = []
        self._node_lines = []
        self._connections = []
        self._connection_lines = []
        self._ids = set()
        _current = self

    def node(self, kind, id=None, **params):
        """Adds a node: a built-in type name with its params, or a top-level class or function."""
        line = _caller_line()
        fields = {}
        for field in _NODE_FIELDS:
            if field in params:
                fields[field] = params.pop(field)
        if isinstance(kind, str):
            node_type, obj = kind, None
            spec_params = params
            default_id = kind
        elif isinstance(kind, type) or callable(kind):
            name = getattr(kind, "__name__", None)
            if not isinstance(name, str):
                raise TypeError("a Python node is a class or a function, got %r" % (kind,))
            node_type, obj = "python", kind
            if isinstance(kind, type):
                spec_params = {"class": name}
                if params:
                    spec_params["args"] = params
            else:
                if params:
                    raise TypeError(
                        "function node %r takes no arguments (got %s); use a class for parameters"
                        % (name, ", ".join(sorted(params)))
                    )
                spec_params = {"function": name}
            default_id = name
        else:
            raise TypeError(
                "node() takes a node type name, a class or a function, got %r" % (kind,)
            )
        if id is None:
            id = self._fresh_id(default_id)
        elif not isinstance(id, str):
            raise TypeError("node id must be a str, got %r" % (id,))
        self._ids.add(id)
        spec = {"id": id, "node_type": node_type}
        if spec_params:
            spec["params"] = spec_params
        spec.update(fields)
        self._nodes.append(spec)
        self._objects.append(obj)
        self._node_lines.append(line)
        return Node(self, id)

    def connect(self, a, b):
        """Connects `a` to `b` (nodes, or `"input"` / `"output"` / `"output.<name>"`); returns `b`."""
        self._connect(a, b, _caller_line())
        return b

    def _connect(self, a, b, line):
        if isinstance(b, Port):
            raise TypeError(
                "%r is an output port: items leave %r by it; connect into the node itself (`a >> %s`)"
                % (b, b.node.id, b.node.id)
            )
        self._connections.append({"from": _endpoint(a), "to": _endpoint(b)})
        self._connection_lines.append(line)

    def _fresh_id(self, base):
        base = "".join(c if c.isalnum() or c in "_-" else "_" for c in base) or "node"
        if base not in self._ids:
            return base
        n = 2
        while "%s_%d" % (base, n) in self._ids:
            n += 1
        return "%s_%d" % (base, n)

    def __repr__(self):
        return "<pipeline %r: %d nodes>" % (self.name, len(self._nodes))


def _endpoint(x):
    if isinstance(x, Node):
        return x.id
    if isinstance(x, Port):
        return "%s.%s" % (x.node.id, x.name)
    if isinstance(x, str):
        return x
    raise TypeError("connect nodes, their ports (or 'input' / 'output'), not %r" % (x,))


def current():
    """The pipeline that module-level `node` and `connect` add to."""
    global _current
    if _current is None:
        Pipeline()
    return _current


def node(kind, id=None, **params):
    """`current().node(...)`."""
    return current().node(kind, id, **params)


def connect(a, b):
    """`current().connect(a, b)`."""
    current()._connect(a, b, _caller_line())
    return b


def _describe(script_globals):
    """The script's pipeline as a dict (called by the CLI after running the script)."""
    main = script_globals.get("main")
    p = None
    if callable(main):
        p = main()
        if p is not None and not isinstance(p, Pipeline):
            raise TypeError("main() must return a pipeline.Pipeline, got %r" % (p,))
    if p is None:
        p = _current
    if p is None:
        return None
    for spec, obj in zip(p._nodes, p._objects):
        if obj is None:
            continue
        name = obj.__name__
        if script_globals.get(name) is not obj:
            raise ValueError(
                "node %r: %s %r must be defined at the top level of the script "
                "(a Python node's source is the script, looked up by name)"
                % (spec["id"], "class" if isinstance(obj, type) else "function", name)
            )
    return {
        "name": p.name,
        "description": p.description,
        "nodes": p._nodes,
        "connections": p._connections,
        "node_lines": p._node_lines,
        "connection_lines": p._connection_lines,
    }
