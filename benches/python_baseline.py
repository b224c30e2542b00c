#!/usr/bin/env python3
"""CPython baseline for `pipeline bench`: the seed's Python method, made honest.

The same node classes as the Rust built-ins (PassThrough, Calculator with a real add), `process`
called directly item by item, no framework in between -- exactly how the seed's Python benchmark
timed its nodes, except that its Calculator never added.

Prints one JSON document: medians in microseconds per run and the checksum (sum of outputs) of every
workload, so the Rust side can verify them before printing a figure.

    python3 benches/python_baseline.py [--quick]

With `--cli KIND INPUT OUTPUT` it instead runs the `simple` nodes once as a JSON-lines program
would: read INPUT line by line, parse, process, write compact JSON lines to OUTPUT (KIND `ints` or
`objects`). `pipeline bench` times that whole process beside `pipeline run` over the same file.
"""
import json
import platform
import sys
import time


class PassThrough:
    def process(self, item):
        return item


class Calculator:
    def __init__(self, operation="add", operand=0):
        self.operation = operation
        self.operand = operand

    def process(self, item):
        if self.operation == "add":
            return item + self.operand
        if self.operation == "subtract":
            return item - self.operand
        if self.operation == "multiply":
            return item * self.operand
        if self.operand == 0:
            raise ZeroDivisionError("division by zero")
        return item / self.operand


def simple():
    return [PassThrough(), Calculator("add", 1), PassThrough()]


def complex_():
    return [PassThrough() if i % 2 == 0 else Calculator("add", 1) for i in range(10)]


class JsonCalculator(Calculator):
    """The Calculator as the pipeline's built-in treats JSON: numbers are computed on, anything else
    (an object line) passes through unchanged."""

    def process(self, item):
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            return Calculator.process(self, item)
        return item


def json_lines(kind, input_path, output_path):
    """The `simple` nodes over a JSON-lines file, one line at a time, compact JSON out."""
    calculator = Calculator("add", 1) if kind == "ints" else JsonCalculator("add", 1)
    nodes = [PassThrough(), calculator, PassThrough()]
    loads, dumps = json.loads, json.dumps
    with open(input_path, encoding="utf-8") as lines, open(output_path, "w", encoding="utf-8") as out:
        for line in lines:
            item = loads(line)
            for node in nodes:
                item = node.process(item)
            out.write(dumps(item, separators=(",", ":"), ensure_ascii=False))
            out.write("\n")


def run(nodes, items):
    out = []
    for item in items:
        for node in nodes:
            item = node.process(item)
        out.append(item)
    return out


def median_us(fn, budget_s):
    """Median time of one call of `fn`, in microseconds, over samples filling `budget_s`."""
    start = time.perf_counter()
    fn()
    one = max(time.perf_counter() - start, 1e-7)
    per_sample = max(1, int(50e-6 / one))  # calls per sample: at least ~50 µs each
    samples = []
    deadline = time.perf_counter() + budget_s
    while len(samples) < 5 or (time.perf_counter() < deadline and len(samples) < 10_000):
        t0 = time.perf_counter_ns()
        for _ in range(per_sample):
            fn()
        samples.append((time.perf_counter_ns() - t0) / per_sample / 1000.0)
    samples.sort()
    return samples[len(samples) // 2]


def main():
    if "--cli" in sys.argv:
        kind, input_path, output_path = sys.argv[sys.argv.index("--cli") + 1 :][:3]
        json_lines(kind, input_path, output_path)
        return
    quick = "--quick" in sys.argv
    budget = 0.2 if quick else 1.0
    workloads = {
        "simple": (simple, 100),
        "complex": (complex_, 100),
        "scaling_10": (simple, 10),
        "scaling_1000": (simple, 1000),
        "throughput": (simple, 1_000_000),
    }
    results = {}
    for name, (build, n) in workloads.items():
        nodes = build()
        items = list(range(n))
        out = run(nodes, items)
        entry = {"checksum": sum(out), "items": n}
        if name == "throughput":
            us = median_us(lambda: run(nodes, items), 0.0 if quick else 2.0)
            entry["items_per_s"] = n / (us / 1e6)
        else:
            entry["us"] = median_us(lambda: run(nodes, items), budget)
        results[name] = entry
    print(json.dumps({"python": platform.python_version(), "workloads": results}))


if __name__ == "__main__":
    main()
